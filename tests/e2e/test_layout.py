"""The desk's pages at a phone's, a tablet's and a desktop's width (390, 768 and 1280 px): the day grid, the week,
the day list, a client, an invoice and the menu. Screenshots of each go to test-artifacts/layout/ for a person to
look at; the tests assert the layout facts, not pixels:

- the page never scrolls sideways (the grid scrolls inside its own box, and only there);
- below 1200 px the menu is behind its button, which opens it with every link on screen; from 1200 px (checked
  at 1200, 1280, 1400 and 1600) every link of a manager's menu and the sign-out button are on one line on screen;
- the week at 768 px shows each appointment's pet name in full, not its time;
- the day list's status buttons and an invoice's line totals are on screen at every width.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import AppointmentType, WorkingHours
from appointments.services import appointment_book
from invoicing.models import Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime

PASSWORD = "correct-horse-battery"
WIDTHS = {390: 844, 768: 1024, 1024: 768, 1280: 900}
FITS = "document.scrollingElement.scrollWidth <= window.innerWidth"
ON_SCREEN = "e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth; }"


@pytest.fixture
def practice(transactional_db):
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    vets = [
        UserFactory(username=name.lower(), first_name=name, last_name="Vet", role=Role.VET).vet
        for name in ("Victor", "Wendy")
    ]
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=v, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for v in vets for d in range(7)]
    )
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3d7dca")
    today = timezone.localdate()
    monday = today + dt.timedelta(days=(7 - today.weekday()) or 7)
    pets = [
        AnimalFactory(name=name, owner__first_name="Hazel", owner__last_name=surname)
        for name, surname in (("Bramble", "Hawthorn"), ("Pippin", "Quillfeather"), ("Mo", "Li"))
    ]
    for offset in range(5):
        day = monday + dt.timedelta(days=offset)
        for i, pet in enumerate(pets):
            appointment_book(
                animal=pet,
                vet=vets[0],
                type=consult,
                start=local_datetime(day, dt.time(9 + i, 5 * offset)),
                minutes=15 + 5 * i,
                by=manager,
            )
    appointment_book(
        animal=pets[0], vet=vets[1], type=consult, start=local_datetime(monday, dt.time(9, 55)), minutes=40, by=manager
    )
    product = Product.objects.create(
        code="CONS",
        name="Consultation and a long description of the examination",
        category="consultation",
        unit_price=Decimal("45.00"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    invoice = invoice_draft_for(client=pets[0].owner, by=manager)
    invoice_add_line(invoice=invoice, by=manager, product=product, quantity=Decimal(1), animal=pets[0])
    invoice = invoice_finalise(invoice=invoice, by=manager)
    vet = vets[0]
    return {
        "names": [p.name for p in pets],
        "pages": {
            "day-grid": f"/appointments/book/?date={monday}",
            "week": f"/appointments/week/?vet={vet.pk}&date={monday}",
            "day-list": f"/appointments/day/?vet={vet.pk}&date={monday}",
            "client": f"/clients/{pets[0].owner_id}/",
            "invoice": f"/invoices/{invoice.pk}/",
        },
    }


def _shot(page, width: int, name: str) -> None:
    folder = ARTIFACTS / "layout"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{width}-{name}.png"), full_page=True)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_desk_pages_fit_the_screen_and_the_menu_works(page, log_in, practice, width):
    log_in("mona", PASSWORD)
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    wide = []
    for name, url in practice["pages"].items():
        page.goto(url)
        page.wait_for_load_state("load")
        _shot(page, width, name)
        if not page.evaluate(FITS):
            wide.append(f"{name}: {page.evaluate('document.scrollingElement.scrollWidth')} px")
    assert not wide, f"wider than {width} px: {wide}"

    # The grid is the one thing allowed to be wider than the screen, and it scrolls inside its own box.
    page.goto(practice["pages"]["day-grid"])
    wrap = page.locator(".appt-grid-wrap")
    assert wrap.evaluate("e => getComputedStyle(e).overflowX") in {"auto", "scroll"}
    assert wrap.evaluate(ON_SCREEN)

    # An invoice's line total is on screen without scrolling its table sideways.
    page.goto(practice["pages"]["invoice"])
    total = page.locator(".lines-table tbody td[data-label=Total]").first
    expect(total).to_contain_text("54.00")
    assert total.evaluate(ON_SCREEN), f"the line total is off screen at {width} px"

    # The menu.
    page.goto(practice["pages"]["client"])
    toggler = page.locator(".navbar-toggler")
    links = page.locator("#main-nav .navbar-nav > .nav-item > .nav-link")
    if width < 1200:
        expect(toggler).to_be_visible()
        expect(page.locator("#main-nav")).to_be_hidden()
        toggler.click()
        expect(page.locator("#main-nav")).to_be_visible()
        expect(page.locator("#main-nav.show")).to_have_count(1)
        page.locator("#main-nav.collapsing").wait_for(state="detached")
        _shot(page, width, "nav-open")
    else:
        expect(toggler).to_be_hidden()
        _shot(page, width, "nav")
    assert links.count() >= 6
    off = [links.nth(i).inner_text() for i in range(links.count()) if not links.nth(i).evaluate(ON_SCREEN)]
    assert not off, f"menu items off screen at {width} px: {off}"
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    assert sign_out.evaluate(ON_SCREEN)
    page.get_by_role("button", name="Money", exact=True).click()
    money = page.locator(".dropdown-menu.show")
    expect(money).to_be_visible()
    assert money.evaluate(ON_SCREEN)
    _shot(page, width, "nav-money")
    assert page.evaluate(FITS)


def test_the_whole_menu_is_on_one_line_from_1200_px(page, log_in, practice):
    log_in("mona", PASSWORD)  # a manager: the longest menu
    for width in (1200, 1280, 1400, 1600):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(practice["pages"]["client"])
        expect(page.locator(".navbar-toggler")).to_be_hidden()
        items = page.locator("#main-nav .nav-link, #main-nav .global-search, #main-nav .user-box .btn")
        tops = {
            round(items.nth(i).bounding_box()["y"] + items.nth(i).bounding_box()["height"] / 2)
            for i in range(items.count())
        }
        assert max(tops) - min(tops) <= 4, f"the menu wraps at {width} px"
        off = [items.nth(i).inner_text() for i in range(items.count()) if not items.nth(i).evaluate(ON_SCREEN)]
        assert not off and page.evaluate(FITS), f"off screen at {width} px: {off}"
        if width == 1200:
            _shot(page, width, "nav")


def test_week_at_tablet_width_shows_the_names(page, log_in, practice):
    log_in("mona", PASSWORD)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(practice["pages"]["week"])
    blocks = page.locator(".appt-block")
    assert blocks.count() == 15
    for i in range(blocks.count()):
        block = blocks.nth(i)
        first_line = block.locator(".appt-line").first
        name = first_line.locator("strong")
        assert name.inner_text() in practice["names"]
        # The whole name is inside the block's first line (not cut off), and the time is not what shows.
        assert name.evaluate(
            "n => { const l = n.closest('.appt-line').getBoundingClientRect(), r = n.getBoundingClientRect();"
            " return r.width > 0 && r.left >= l.left - 1 && r.right <= l.right + 1; }"
        ), f"the name in block {i} is cut"
        expect(first_line.locator(".appt-time")).to_be_hidden()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_day_list_status_buttons_are_on_screen(page, log_in, practice, width):
    log_in("mona", PASSWORD)
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    page.goto(practice["pages"]["day-list"])
    buttons = page.locator(".day-list tr.day-row button")
    assert buttons.count() >= 3
    off = [buttons.nth(i).inner_text() for i in range(buttons.count()) if not buttons.nth(i).evaluate(ON_SCREEN)]
    assert not off, f"status buttons off screen at {width} px: {off}"
