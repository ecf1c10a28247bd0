"""The daily journeys by keyboard alone, in a real browser: no click, no mouse. The receptionist skips the menu,
registers a client and their pet, books the pet from the pet search with the arrow keys, opens the Money menu,
adds a line to a draft invoice and takes a payment; the vet works through a consultation's sections (notes,
diagnosis, charge, vitals, medicine). Every control the journey lands on shows a focus ring, and when a section
is redrawn (htmx) the keyboard is put where the work carries on, never back at the top of the page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from animals.models import Animal
from appointments.models import Appointment, AppointmentType, WorkingHours
from clients.models import Client
from clinical.models import ConsultationDiagnosis, Diagnosis
from clinical.services import consultation_open
from invoicing.models import InvoiceLine, Payment, Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role

PASSWORD = "correct-horse-battery"

# A ring a person can see: an outline of at least 2 px, or Bootstrap's focus shadow.
RING = (
    "(() => { const e = document.activeElement; if (!e || e === document.body) return false;"
    " const s = getComputedStyle(e);"
    " return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none'; })()"
)


@pytest.fixture
def practice(transactional_db):
    receptionist = UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)
    vet_user = UserFactory(username="victoria", first_name="Victoria", last_name="Hale", role=Role.VET)
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(0), end_time=dt.time(23, 59)) for d in range(7)]
    )
    AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3d7dca")
    standard = TaxCategory.objects.get(code="standard")
    consult = Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"), tax_category=standard
    )
    Product.objects.create(
        code="MED-MELOX", name="Meloxicam 1.5 mg/ml oral suspension", category="medication", unit="ml",
        unit_price=Decimal("0.85"), tax_category=standard,
    )  # fmt: skip
    Diagnosis.objects.create(name="Otitis externa", code="1234", code_system="VeNom")
    pet = AnimalFactory(name="Bramble", owner__first_name="Hazel", owner__last_name="Hawthorn")
    owed = invoice_draft_for(client=pet.owner, by=receptionist)
    invoice_add_line(invoice=owed, by=receptionist, product=consult, quantity=Decimal(1), animal=pet)
    owed.refresh_from_db()
    owed = invoice_finalise(invoice=owed, by=UserFactory(username="mona", role=Role.MANAGER))
    draft = invoice_draft_for(client=pet.owner, by=receptionist)
    return {"vet": vet, "vet_user": vet_user, "pet": pet, "owed": owed, "draft": draft}


def _active(page) -> str:
    """What has the keyboard focus: its id, else its name, else its text."""
    return page.evaluate(
        "(() => { const e = document.activeElement; return e.id || e.getAttribute('name') || e.innerText.trim(); })()"
    )


def tab_to(page, selector: str, *, limit: int = 120, backwards: bool = False) -> None:
    """Press Tab until the element ``selector`` names has the focus, and check it shows a ring."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            assert page.evaluate(RING), f"{selector} has the focus but no visible ring"
            return
    raise AssertionError(f"Tab never reached {selector} (stopped on {_active(page)!r})")


def type_here(page, text: str) -> None:
    page.keyboard.type(text, delay=15)


def pick_first_result(page, results: str, text: str, *, shows: str = "") -> None:
    """In the search box that has the focus: type ``text``, arrow down to the first of the ``results`` (it takes
    the focus, with a ring; it reads ``shows`` when given) and press Enter on it."""
    type_here(page, text)
    first = page.locator(results).first
    if shows:
        expect(first).to_contain_text(shows)
    else:
        expect(first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    assert page.evaluate(RING), f"the first of {results} has the focus but no visible ring"
    page.keyboard.press("Enter")


def test_skip_link_goes_past_the_menu_to_the_page(page, log_in, practice):
    log_in("rita", PASSWORD)
    page.goto("/clients/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    assert page.evaluate(RING)
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), _active(page)


def test_receptionist_registers_a_client_and_pet_and_books_it_by_keyboard(page, log_in, practice):
    log_in("rita", PASSWORD)

    # A new client: the fields in order, Enter saves.
    page.goto("/clients/new/")
    tab_to(page, "input[name=first_name]")
    type_here(page, "Rowan")
    tab_to(page, "input[name=last_name]")
    type_here(page, "Quillfeather")
    tab_to(page, "input[name=email]")
    type_here(page, "rowan@example.org")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    client = Client.objects.get(last_name="Quillfeather")

    # Their pet: the first button of the client page, the species chosen with the arrow keys.
    tab_to(page, "a[href*='/animals/new']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/animals/new"))
    page.wait_for_load_state()
    tab_to(page, "input[name=name]")
    type_here(page, "Pippin")
    tab_to(page, "select[name=species]")
    page.keyboard.press("ArrowDown")
    tab_to(page, "select[name=sex]")
    page.keyboard.press("ArrowDown")
    tab_to(page, "button[type=submit].btn-primary")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/animals/\d+/$"))
    pet = Animal.objects.get(owner=client, name="Pippin")

    # Booking: the pet search walks with the arrow keys, Enter opens the pet's booking page; a slot is a button.
    page.goto("/appointments/new/")
    expect(page.locator("#pet-q")).to_be_focused()
    pick_first_result(page, "#pet-results a.list-group-item-action", "Pippin")
    page.wait_for_url(re.compile(rf"/appointments/new/{pet.pk}/"))
    # Tomorrow's book: late in the evening today has no free time left.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.goto(f"/appointments/new/{pet.pk}/?date={tomorrow.isoformat()}")
    expect(page.locator(".slot-btn").first).to_be_visible()
    tab_to(page, ".slot-btn")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    assert Appointment.objects.filter(animal=pet).count() == 1


def test_money_menu_opens_and_walks_by_keyboard(page, log_in, practice):
    log_in("rita", PASSWORD)
    page.goto("/clients/")
    tab_to(page, "a.dropdown-toggle")
    assert _active(page) == "Money"
    page.keyboard.press("Enter")
    menu = page.locator(".dropdown-menu.show")
    expect(menu).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(menu.locator(".dropdown-item").first).to_be_focused()
    assert page.evaluate(RING)
    page.keyboard.press("ArrowDown")
    expect(menu.locator(".dropdown-item").nth(1)).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".dropdown-menu.show")).to_have_count(0)
    assert _active(page) == "Money"


def test_invoice_line_and_payment_by_keyboard(page, log_in, practice):
    draft, owed = practice["draft"], practice["owed"]
    log_in("rita", PASSWORD)

    # A line on the draft: search, arrow to the product, Enter; the quantity has the focus; Enter adds the line and
    # the keyboard is back in the search for the next one.
    page.goto(f"/invoices/{draft.pk}/")
    tab_to(page, "#product-q")
    pick_first_result(page, "#product-results .list-group-item-action", "Cons")
    quantity = page.locator("#line-form input[name=quantity]")
    expect(quantity).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#line-form [role=status]")).to_contain_text("Added")
    expect(page.locator("#product-q")).to_be_focused()
    assert InvoiceLine.objects.filter(invoice=draft).count() == 1

    # A payment: the amount, Enter records it against the invoice owed.
    page.goto(f"/clients/{owed.client_id}/pay/")
    tab_to(page, "input[name=amount]")
    type_here(page, "20.00")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Payment of £20.00")).to_be_visible()
    payment = Payment.objects.get(client_id=owed.client_id)
    assert payment.amount == Decimal("20.00")

    # A refused payment puts the keyboard on the field to correct.
    page.goto(f"/clients/{owed.client_id}/pay/")
    tab_to(page, "input[name=amount]")
    type_here(page, "-5")
    page.keyboard.press("Enter")
    expect(page.locator("input[name=amount].is-invalid")).to_be_visible()
    expect(page.locator("input[name=amount]")).to_be_focused()
    assert Payment.objects.filter(client_id=owed.client_id).count() == 1


def test_vet_works_through_a_consultation_by_keyboard(page, log_in, practice):
    pet = practice["pet"]
    consultation = consultation_open(animal=pet, by=practice["vet_user"])
    log_in("victoria", PASSWORD)
    page.goto(f"/clinical/consultations/{consultation.pk}/")

    # Notes: typed, saved as she types.
    tab_to(page, "textarea[data-autosave]")
    type_here(page, "Scratching the left ear for a week.")
    expect(page.locator("#save-status")).to_contain_text("Saved", timeout=10_000)

    # A diagnosis: search, arrow, Enter; the section is redrawn and the keyboard is back in its search box.
    tab_to(page, "#diagnosis-q")
    pick_first_result(page, "#diagnosis-results .list-group-item-action", "Otit")
    expect(page.locator("#diagnoses")).to_contain_text("VeNom 1234")
    expect(page.locator("#diagnosis-q")).to_be_focused()
    assert ConsultationDiagnosis.objects.filter(consultation=consultation).count() == 1

    # Vitals: Enter saves; the keyboard stays in the section.
    tab_to(page, "#vitals input[name=weight_kg]")
    type_here(page, "31.5")
    page.keyboard.press("Enter")
    expect(page.locator("#vitals [role=status]")).to_contain_text("Saved")
    assert page.evaluate("document.getElementById('vitals').contains(document.activeElement)"), _active(page)

    # A charge: search, arrow, Enter; back in the charge search.
    tab_to(page, "#charge-q")
    pick_first_result(page, "#charge-results .list-group-item-action", "Consult", shows="Consultation")
    expect(page.locator("#charges table")).to_contain_text("Consultation")
    expect(page.locator("#charge-q")).to_be_focused()

    # A medicine: the section opens from its summary; the chosen result fills the form and the keyboard goes back
    # to the medicine search.
    tab_to(page, "#medicines summary", backwards=True)
    page.keyboard.press("Enter")
    tab_to(page, "#medicine-q")
    pick_first_result(page, "#medicine-results .list-group-item-action", "Melox")
    expect(page.locator("#id_product_label")).to_contain_text("Meloxicam")
    expect(page.locator("#medicine-q")).to_be_focused()
