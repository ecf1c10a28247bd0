"""The appointment book on a desk tablet (768 px) and a vet's phone (390 px): the day grid draws appointments at
odd minutes where they are, the week shows pets' names, the day list fits without scrolling sideways and its status
buttons can be reached. Then the front-desk mistakes: a no-show is confirmed and undone, a reschedule emails the
owner, and leave over booked appointments lists them and cancels them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import AppointmentType, WorkingHours
from appointments.services import appointment_book
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime

PASSWORD = "correct-horse-battery"


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=(7 - today.weekday()) or 7)


@pytest.fixture
def book(transactional_db):
    receptionist = UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)
    vet = UserFactory(username="victor", first_name="Victor", last_name="Vet", role=Role.VET).vet
    other = UserFactory(username="wendy", first_name="Wendy", last_name="Wolfe", role=Role.VET).vet
    for v in (vet, other):
        WorkingHours.objects.bulk_create(
            [WorkingHours(vet=v, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)]
        )
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3d7dca")
    monday = next_monday()
    booked = {}
    for name, hh, mm, minutes, who in (
        ("Bramble", 8, 30, 15, vet),
        ("Clementine", 8, 55, 15, vet),
        ("Pickle", 9, 10, 25, vet),
        ("Marmaduke", 10, 0, 45, other),
    ):
        booked[name] = appointment_book(
            animal=AnimalFactory(name=name, owner__last_name=f"{name}son", owner__email=f"{name.lower()}@example.com"),
            vet=who,
            type=consult,
            start=local_datetime(monday, dt.time(hh, mm)),
            minutes=minutes,
            by=receptionist,
        )
    return {"vet": vet, "other": other, "monday": monday, "booked": booked, "receptionist": receptionist}


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    for box in page.locator(".table-responsive").all():
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the table scrolls sideways"


def test_the_book_on_a_tablet_and_a_phone(page, log_in, screenshot, book):
    monday, vet = book["monday"], book["vet"]
    log_in("rita", PASSWORD)
    page.goto(f"/appointments/book/?date={monday}")
    block = page.locator(".appt-block", has_text="Clementine")
    expect(block).to_be_visible()
    # 08:55-09:10 stands between the 08:45 and 09:15 marks: its top is below 08:45's and above 09:00's
    top = block.bounding_box()["y"]
    mark = {t: page.locator("th.time-col", has_text=t).first.bounding_box()["y"] for t in ("08:45", "09:00")}
    assert mark["08:45"] < top < mark["09:00"]
    expect(page.get_by_text("Also on this day")).to_have_count(0)
    expect(page.get_by_role("link", name="Book Victor Vet at 09:00")).to_have_count(0)
    expect(page.get_by_role("link", name="Book Victor Vet at 09:45")).to_have_count(1)
    screenshot("grid-1280")

    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"/appointments/week/?vet={vet.pk}&date={monday}")
    week_block = page.locator(".appt-block", has_text="Bramble")
    expect(week_block).to_be_visible()
    assert week_block.inner_text().strip().startswith("Bramble")
    screenshot("week-768")

    for width in (768, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/appointments/day/?vet={vet.pk}&date={monday}")
        row = page.locator("tr.day-row", has_text="Pickle")
        expect(row).to_be_visible()
        _no_sideways_scroll(page)
        button = row.get_by_role("button", name="Arrived")
        button.scroll_into_view_if_needed()
        expect(button).to_be_in_viewport()
        screenshot(f"day-list-{width}")
