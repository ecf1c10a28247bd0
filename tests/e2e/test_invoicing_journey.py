"""The invoicing journey in a real browser: a vet opens an appointment that is in consultation, completes it and
charges a consultation and a rabies vaccine; a receptionist opens the client's draft, checks the lines and the
live totals, finalises it, takes a card payment of the full amount and downloads the PDF, which pdftotext reads
back (client's name and total)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import AppointmentStatus, AppointmentType, WorkingHours
from appointments.services import appointment_book, appointment_transition
from invoicing.models import Invoice, Payment, Product, TaxCategory
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime

PASSWORD = "correct-horse-battery"


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=(7 - today.weekday()) or 7)


@pytest.fixture
def practice(transactional_db):
    receptionist = UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)
    vet_user = UserFactory(username="victor", first_name="Victor", last_name="Vet", role=Role.VET)
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)]
    )
    kind = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3d7dca")
    standard = TaxCategory.objects.get(code="standard")
    Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"), tax_category=standard
    )
    Product.objects.create(
        code="VAC-RAB", name="Rabies vaccine", category="vaccine", unit_price=Decimal("38.50"), tax_category=standard
    )
    pet = AnimalFactory(name="Bramble", owner__first_name="Hélène", owner__last_name="Hawthorn")
    appointment = appointment_book(
        animal=pet, vet=vet, type=kind, start=local_datetime(next_monday(), dt.time(10)), by=receptionist
    )
    appointment_transition(appointment=appointment, to=AppointmentStatus.ARRIVED, by=receptionist)
    appointment_transition(appointment=appointment, to=AppointmentStatus.IN_CONSULTATION, by=vet_user)
    return {"appointment": appointment, "pet": pet}


def test_vet_charges_and_receptionist_finalises_takes_payment_and_downloads_the_pdf(page, log_in, screenshot, practice):
    appointment, pet = practice["appointment"], practice["pet"]
    client = pet.owner

    # The vet opens the appointment, completes it and charges a consultation and a rabies vaccine.
    log_in("victor", PASSWORD)
    page.goto(f"/appointments/{appointment.pk}/")
    page.get_by_role("button", name="Completed").click()
    expect(page.get_by_text("Bramble: completed.")).to_be_visible()
    page.get_by_role("link", name="Charge").click()
    expect(page.get_by_role("heading", name="Charge Bramble")).to_be_visible()
    page.get_by_label("Quantity of Consultation (CONS)").fill("1")
    page.get_by_label("Quantity of Rabies vaccine (VAC-RAB)").fill("1")
    screenshot("charge")
    page.get_by_role("button", name="Charge to the draft invoice").click()
    expect(page.get_by_text("2 charges for Bramble added")).to_be_visible()
    expect(page.get_by_test_id("invoice-total")).to_have_text("£100.20")
    page.get_by_role("button", name="Sign out").click()

    # The receptionist finds the draft from the client's page, adds nothing, sees the lines and live totals.
    log_in("rita", PASSWORD)
    page.goto(f"/clients/{client.pk}/")
    page.locator(".account-card").get_by_role("link", name="Draft invoice").click()
    expect(page.get_by_role("heading", name=f"Draft invoice · {client.display_name}")).to_be_visible()
    lines = page.locator("#invoice-lines .lines-table tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Consultation")
    expect(lines.nth(1)).to_contain_text("Rabies vaccine")
    # The htmx search shows results as she types (she closes it without adding anything).
    page.wait_for_load_state("load")  # htmx (a deferred script) must be listening before she types
    page.fill("#product-q", "rab")
    expect(page.locator("#product-results")).to_contain_text("Rabies vaccine")
    screenshot("editor-with-lines")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Finalise invoice").click()
    invoice = Invoice.objects.get(client=client)
    expect(page.get_by_text(f"Invoice {invoice.reference} issued for £100.20")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Invoice {invoice.reference}")).to_be_visible()
    expect(page.get_by_test_id("outstanding")).to_have_text("£100.20")
    screenshot("finalised-invoice")

    # Card payment of the full amount: the amount and allocation are already filled in.
    page.get_by_role("link", name="Take payment").click()
    expect(page.locator("#id_amount")).to_have_value("100.20")
    page.select_option("#id_method", "card")
    page.fill("#id_reference", "slip 0042")
    screenshot("payment-form")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment of £100.20 (card) recorded.")).to_be_visible()
    expect(page.get_by_test_id("outstanding")).to_have_text("£0.00")
    expect(page.locator(".badge", has_text="Paid")).to_be_visible()
    screenshot("after-payment")
    payment = Payment.objects.get()
    assert payment.method == "card" and payment.amount == Decimal("100.20")

    # The PDF downloads, starts as a PDF should, and says who it is for and how much.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"journey-{invoice.reference}.pdf"
    download.save_as(str(target))
    assert download.suggested_filename == f"{invoice.reference}.pdf"
    assert target.read_bytes().startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is needed to read the invoice back"
    command = [pdftotext, "-layout", str(target), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own file
    assert client.display_name in text
    assert "£100.20" in text

    # The client's account shows nothing owed and the payment.
    page.goto(f"/clients/{client.pk}/account/")
    expect(page.get_by_test_id("balance")).to_have_text("£0.00")
    expect(page.locator(".statement-table")).to_contain_text(invoice.reference)
    screenshot("account")
