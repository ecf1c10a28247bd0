"""The clinical journey in a real browser: the vet opens today's day list, starts the consultation of the first
arrived patient in one click, records vitals, a note (saved as she types), a diagnosis, a vaccination with its
batch and a dispensed medicine, charges a consultation from the panel and signs; the dispensing label downloads
as an 89 x 36 mm PDF. The receptionist then finds the charges on the client's draft, finalises it and takes the
payment, and the animal's reminder for next year's vaccine is there."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment, AppointmentStatus, AppointmentType, WorkingHours
from appointments.services import appointment_transition
from clinical.models import Consultation, Diagnosis, Prescription, Vaccination
from invoicing.models import Invoice, Payment, Product, TaxCategory
from reminders.models import Reminder, ReminderType
from reminders.services import reminder_type_save
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AnimalFactory, UserFactory, breed, species
from vetpms.models import Role
from vetpms.timeutils import local_day_bounds

PASSWORD = "correct-horse-battery"


@pytest.fixture
def practice(transactional_db):
    receptionist = UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)
    vet_user = UserFactory(username="victoria", first_name="Victoria", last_name="Hale", role=Role.VET)
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(0), end_time=dt.time(23, 59)) for d in range(7)]
    )
    kind = AppointmentType.objects.create(name="Vaccination", default_minutes=15, colour="#2e9d5b")
    standard = TaxCategory.objects.get(code="standard")
    Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"), tax_category=standard
    )
    rabies = Product.objects.create(
        code="VAC-RAB", name="Rabies vaccine", category="vaccine", unit_price=Decimal("38.50"), tax_category=standard
    )
    Product.objects.create(
        code="MED-MELOX", name="Meloxicam 1.5 mg/ml oral suspension", category="medication", unit="ml",
        unit_price=Decimal("0.85"), tax_category=standard,
    )  # fmt: skip
    reminder_type_save(
        by=manager,
        data={
            "name": "Rabies vaccination",
            "interval": 12,
            "interval_unit": ReminderType.Unit.MONTHS,
            "stages": [-14, 0, 30],
            "subject": "{pets}: vaccination due",
            "body_text": "Dear {owner_name}, {items} Call {practice_phone}.",
        },
        products=[rabies],
    )
    Diagnosis.objects.create(name="Otitis externa", code="1234", code_system="VeNom")
    Diagnosis.objects.create(name="Healthy animal")
    pet = AnimalFactory(
        name="Bramble", species=species("Dog"), breed=breed("Dog", "Labrador Retriever"),
        owner__first_name="Hélène", owner__last_name="Hawthorn",
    )  # fmt: skip
    # Booked earlier today (the booking service refuses the past, so the row is written as the seeder does) and
    # checked in by reception through the service.
    start = max(local_day_bounds(timezone.localdate())[0], timezone.now() - dt.timedelta(minutes=30))
    appointment = Appointment.objects.create(
        animal=pet, client=pet.owner, vet=vet, type=kind, start=start, end=start + dt.timedelta(minutes=15),
        reason="Annual booster", booked_by=receptionist,
    )  # fmt: skip
    appointment_transition(appointment=appointment, to=AppointmentStatus.ARRIVED, by=receptionist)
    return {"appointment": appointment, "pet": pet}


def test_vet_records_signs_and_prints_then_reception_takes_payment(page, log_in, screenshot, practice):
    appointment, pet = practice["appointment"], practice["pet"]
    client = pet.owner

    # The vet lands on today's day list and starts the consultation in one click.
    log_in("victoria", PASSWORD)
    expect(page.get_by_role("heading", name="Victoria Hale")).to_be_visible()
    screenshot("day-list")
    page.get_by_role(
        "button", name=f"Start consultation: Bramble at {timezone.localtime(appointment.start):%H:%M}"
    ).click()
    expect(page.get_by_role("heading", name="Bramble · consultation")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_CONSULTATION
    consultation = Consultation.objects.get(appointment=appointment)
    page.wait_for_load_state("load")  # htmx must be listening before she types

    # Vitals.
    page.fill("#id_weight_kg", "31.5")
    page.fill("#id_temperature_c", "38.6")
    page.fill("#id_heart_rate", "92")
    page.fill("#id_respiratory_rate", "24")
    page.fill("#id_body_condition_score", "5")
    page.get_by_role("button", name="Save vitals").click()
    expect(page.locator("#vitals")).to_contain_text("Saved")

    # The note saves itself as she types.
    page.locator("#id_complaint").press_sequentially("Annual booster; owner reports head shaking", delay=5)
    expect(page.locator("#save-status")).to_contain_text("Saved")
    page.locator("#id_examination").fill("Left ear canal red with brown wax. Otherwise healthy.")
    page.locator("#id_examination").dispatch_event("change")
    expect(page.locator("#save-status")).to_contain_text("Saved")

    # A diagnosis from the practice's list, searched as she types.
    page.fill("#diagnosis-q", "otit")
    page.get_by_role("button", name="Add diagnosis Otitis externa").click()
    expect(page.locator("#diagnoses")).to_contain_text("Otitis externa")

    # The vaccination: the next due date comes from the vaccine's interval.
    page.locator("#vaccinations summary").click()
    page.select_option("#id_vaccine_product", label="Rabies vaccine")
    next_year = timezone.localdate().replace(year=timezone.localdate().year + 1)
    expect(page.locator("#id_next_due_on")).to_have_value(next_year.isoformat())
    page.fill("#id_manufacturer", "MSD Animal Health")
    page.fill("#id_batch", "RB-2291A")
    page.fill("#id_batch_expiry", (timezone.localdate() + dt.timedelta(days=200)).isoformat())
    page.fill("#id_site", "scruff")
    screenshot("vaccination-form")
    page.get_by_role("button", name="Record vaccination").click()
    expect(page.get_by_text("Rabies vaccine (batch RB-2291A) recorded")).to_be_visible()

    # A medicine dispensed (and charged in the same step).
    page.locator("#medicines summary").click()
    page.fill("#medicine-q", "melox")
    page.locator("#medicine-results").get_by_role("button", name="Meloxicam").click()
    expect(page.locator("#id_product_label")).to_have_text("Meloxicam 1.5 mg/ml oral suspension")
    page.fill("#id_dose", "2 ml")
    page.fill("#id_frequency", "once daily with food")
    page.fill("#id_duration", "5 days")
    page.fill("#id_quantity", "10")
    page.fill("#id_instructions", "Shake well.")
    page.get_by_role("button", name="Dispense").click()
    expect(page.get_by_text("dispensed.")).to_be_visible()

    # A consultation fee from the charges panel (the species' most used items are offered without searching).
    page.wait_for_load_state("load")
    page.fill("#charge-q", "cons")
    page.locator("#charge-results").get_by_role("button", name="Charge Consultation").click()
    expect(page.locator("#charges")).to_contain_text("Consultation")
    expect(page.locator("#charges tbody tr")).to_have_count(3)
    screenshot("consultation-before-signing")

    # Sign (after a confirm): the record is read-only from now on.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#signed-badge")).to_contain_text("Signed")
    expect(page.locator("#id_complaint")).to_have_count(0)
    expect(page.locator("#notes")).to_contain_text("owner reports head shaking")
    screenshot("signed")
    consultation.refresh_from_db()
    assert consultation.is_signed and consultation.weight.kg == Decimal("31.5")
    assert consultation.temperature_c == Decimal("38.6")

    # The dispensing label downloads as a PDF of 89 x 36 mm with the medicine and the warnings.
    prescription = Prescription.objects.get()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Label (PDF)").click()
    target = ARTIFACTS / "journey-dispensing-label.pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    download_info.value.save_as(str(target))
    body = target.read_bytes()
    assert body.startswith(b"%PDF")
    text = subprocess.run(  # noqa: S603 - our own file
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(target), "-"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert "Meloxicam" in text and "Bramble" in text and "Keep out of reach of children" in text
    assert prescription.invoice_line is not None
    page.get_by_role("button", name="Sign out").click()

    # The receptionist finds the visit's charges on the draft, finalises it and takes the payment.
    log_in("rita", PASSWORD)
    page.goto(f"/clients/{client.pk}/")
    page.locator(".account-card").get_by_role("link", name="Draft invoice").click()
    lines = page.locator("#invoice-lines .lines-table tbody tr")
    expect(lines).to_have_count(3)
    expect(page.locator("#invoice-lines")).to_contain_text("Rabies vaccine")
    expect(page.locator("#invoice-lines")).to_contain_text("Meloxicam")
    screenshot("draft-with-the-visit")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Finalise invoice").click()
    invoice = Invoice.objects.get(client=client)
    # 45.00 + 38.50 + 10 x 0.85 = 92.00 net, 20 % tax: 110.40
    expect(page.get_by_test_id("outstanding")).to_have_text("£110.40")
    page.get_by_role("link", name="Take payment").click()
    page.select_option("#id_method", "card")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment of £110.40 (card) recorded.")).to_be_visible()
    assert Payment.objects.get().amount == Decimal("110.40") and invoice.pk

    # Next year's rabies reminder is on the animal's page, once.
    page.goto(f"/animals/{pet.pk}/")
    reminders = Reminder.objects.filter(animal=pet, status="pending")
    assert [(r.type.name, r.due_on) for r in reminders] == [("Rabies vaccination", next_year)]
    assert Vaccination.objects.get().next_due_on == next_year
    expect(page.locator(".animal-reminders")).to_contain_text("Rabies vaccination")
    expect(page.locator(".animal-reminders")).to_contain_text(f"{next_year.day} {next_year:%b %Y}")
    expect(page.locator("#clinical-history")).to_contain_text("Vaccination:")
    screenshot("animal-page")
