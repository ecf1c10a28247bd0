"""An automated accessibility check: axe-core (the npm package of package.json, installed into node_modules/ by
.ci/system-deps) is loaded into every main page, as a manager (who sees them all) at desk width, and no serious
or critical violation may remain. The keyboard: the header search's results are walked with the arrow keys and
Enter opens one, and the appointment page's actions are reached with Tab, each with a visible focus ring.

Run it alone with ``.venv/bin/pytest tests/e2e/test_accessibility.py`` (after ``npm ci``, or ``make test``)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import AppointmentType, WorkingHours
from appointments.services import appointment_book
from clinical.services import consultation_open
from invoicing.models import Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime

PASSWORD = "correct-horse-battery"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        message = "node_modules/axe-core is missing: run `npm ci` (make test does it through .ci/system-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture
def practice(transactional_db):
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    vet = UserFactory(username="victor", first_name="Victor", last_name="Vet", role=Role.VET).vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)]
    )
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3d7dca")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=(7 - today.weekday()) or 7)
    pet = AnimalFactory(name="Bramble", alerts="Bites when muzzled", owner__last_name="Hawthorn")
    appointment = appointment_book(
        animal=pet, vet=vet, type=consult, start=local_datetime(monday, dt.time(9, 5)), minutes=20, by=manager
    )
    product = Product.objects.create(
        code="CONS",
        name="Consultation",
        category="consultation",
        unit_price=Decimal("45.00"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    invoice = invoice_draft_for(client=pet.owner, by=manager)
    invoice_add_line(invoice=invoice, by=manager, product=product, quantity=Decimal(1), animal=pet)
    invoice = invoice_finalise(invoice=invoice, by=manager)
    consultation = consultation_open(animal=pet, by=vet.user)
    return {
        "vet": vet,
        "pet": pet,
        "monday": monday,
        "appointment": appointment,
        "invoice": invoice,
        "consultation": consultation,
    }


def _serious(page, axe_source: str) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def _main_pages(practice) -> list[str]:
    vet, pet, monday, appointment = practice["vet"], practice["pet"], practice["monday"], practice["appointment"]
    return [
        "/",
        "/search/?q=Bramble",
        "/clients/",
        f"/clients/{pet.owner_id}/",
        "/clients/new/",
        f"/animals/{pet.pk}/",
        f"/appointments/book/?date={monday}",
        f"/appointments/week/?vet={vet.pk}&date={monday}",
        f"/appointments/day/?vet={vet.pk}&date={monday}",
        f"/appointments/{appointment.pk}/",
        f"/appointments/{appointment.pk}/reschedule/",
        f"/appointments/new/{pet.pk}/?vet={vet.pk}&date={monday}",
        f"/appointments/setup/vets/{vet.pk}/exceptions/",
        "/appointments/setup/",
        "/invoices/",
        f"/invoices/{practice['invoice'].pk}/",
        f"/clients/{pet.owner_id}/account/",
        f"/clients/{pet.owner_id}/pay/",
        "/payments/cash-up/",
        "/claims/",
        f"/clinical/consultations/{practice['consultation'].pk}/",
        "/catalogue/",
        "/reminders/",
        "/reports/",
        "/reports/revenue/",
        "/reports/receivables/",
        "/reports/appointments/",
        "/reports/day_sheet/",
        "/staff/",
    ]


def test_main_pages_have_no_serious_accessibility_violations(page, log_in, practice, axe_source):
    log_in("mona", PASSWORD)
    found = {}
    for url in _main_pages(practice):
        page.goto(url)
        page.wait_for_load_state("load")
        problems = _serious(page, axe_source)
        if problems:
            found[url] = problems
    assert not found, "\n".join(f"{url}:\n  " + "\n  ".join(p) for url, p in found.items())


def test_open_menus_and_tick_box_filters_have_no_serious_accessibility_violations(page, log_in, practice, axe_source):
    """What only shows after a click: the Money and Set-up menus open, the reports' tick boxes ticked."""
    log_in("mona", PASSWORD)
    found = {}
    page.goto("/clients/")
    for menu in ("Money", "Set-up"):
        page.get_by_role("button", name=menu, exact=True).click()
        expect(page.locator(".dropdown-menu.show")).to_be_visible()
        if problems := _serious(page, axe_source):
            found[f"{menu} menu"] = problems
        page.keyboard.press("Escape")
    for report in ("revenue", "appointments"):
        page.goto(f"/reports/{report}/")
        boxes = page.locator(".check-list input[type=checkbox]")
        expect(boxes.first).to_be_visible()
        boxes.first.check()
        page.get_by_role("button", name="Show report").click()
        page.wait_for_load_state("load")
        expect(page.locator(".check-list input[type=checkbox]:checked").first).to_be_visible()
        if problems := _serious(page, axe_source):
            found[f"{report} with a box ticked"] = problems
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(p) for where, p in found.items())


def test_main_pages_fit_a_phone_without_sideways_scrolling(page, log_in, practice):
    """At 390 px (a vet's phone) and 768 px (a tablet at the desk) no page is wider than the screen: wide tables
    scroll inside their card."""
    log_in("mona", PASSWORD)
    wide = []
    for width, height in ((390, 844), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        wide += [
            f"{url} at {width} px"
            for url in _main_pages(practice)
            if page.goto(url) and not page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
        ]
    assert not wide, f"wider than the screen: {wide}"


def test_keyboard_walks_the_search_results_and_reaches_every_action(page, log_in, practice):
    pet, appointment = practice["pet"], practice["appointment"]
    log_in("mona", PASSWORD)
    page.goto("/clients/")
    page.wait_for_load_state("load")
    page.locator("#global-q").press_sequentially("Bramble", delay=20)
    results = page.locator("#global-search-results a.list-group-item-action")
    expect(results.first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#global-q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/animals/{pet.pk}/")

    page.goto(f"/appointments/{appointment.pk}/")
    wanted = {"Confirm", "Arrived", "No-show", "Reschedule", "Cancel appointment"}
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.innerText.trim()")
        if name in wanted:
            reached.add(name)
            # a visible ring: an outline of at least 2 px, or Bootstrap's focus shadow
            ring = page.evaluate(
                "(() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 || s.boxShadow !== 'none'; })()"
            )
            assert ring, f"{name} has no visible focus ring"
    assert reached == wanted
