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

    # The other appointment pages on the phone: nothing wider than the screen (the grids scroll inside their card).
    pickle = book["booked"]["Pickle"]
    for url in (
        f"/appointments/{pickle.pk}/",
        f"/appointments/{pickle.pk}/reschedule/",
        f"/appointments/new/{pickle.animal_id}/?vet={vet.pk}&date={monday}",
        f"/appointments/book/?date={monday}",
        f"/appointments/week/?vet={vet.pk}&date={monday}",
    ):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url
    page.goto(f"/appointments/{pickle.pk}/")
    expect(page.get_by_role("button", name="Arrived")).to_be_visible()
    screenshot("detail-390")


def test_front_desk_mistakes_are_undone_and_owners_are_told(page, log_in, screenshot, book, smtp_server):
    monday, vet, booked = book["monday"], book["vet"], book["booked"]
    log_in("rita", PASSWORD)

    # A no-show clicked on the wrong row asks first, then is undone from the day list.
    page.goto(f"/appointments/day/?vet={vet.pk}&date={monday}")
    row = page.locator("tr.day-row", has_text="Pickle")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="No-show").click()
    expect(page.locator("tr.day-row", has_text="Pickle")).to_contain_text("No-show")
    assert asked and "no-show" in asked[0]
    page.locator("tr.day-row", has_text="Pickle").get_by_role("button", name="Undo no-show").click()
    expect(page.locator("tr.day-row", has_text="Pickle")).to_contain_text("Booked")
    screenshot("no-show-undone")

    # Rescheduling Bramble emails the owner the new time with the calendar update.
    page.goto(f"/appointments/{booked['Bramble'].pk}/reschedule/")
    page.wait_for_load_state("load")
    expect(page.get_by_label("Email the owner the new time")).to_be_checked()
    page.get_by_role("button", name="Book 14:00 with Victor Vet").click()
    expect(page.get_by_text("Moved to")).to_be_visible()
    expect(page.locator(".event-reschedule")).to_contain_text("Rita Reception")
    screenshot("rescheduled")
    (message,) = [m for m in smtp_server.messages if m["To"] == "bramble@example.com"]
    assert "moved" in message["Subject"] and "14:00" in message.get_body(("plain",)).get_content()

    # Leave over Clementine and Pickle lists them first; cancelling them tells their owners.
    page.get_by_role("button", name="Sign out").click()
    UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    log_in("mona", PASSWORD)
    page.goto(f"/appointments/setup/vets/{vet.pk}/exceptions/")
    page.fill("input[name=date]", monday.isoformat())
    page.fill("input[name=until]", (monday + dt.timedelta(days=1)).isoformat())
    page.select_option("select[name=kind]", "leave")
    page.fill("input[name=start_time]", "08:45")
    page.fill("input[name=end_time]", "10:00")
    page.get_by_role("button", name="Add to the book").click()
    affected = page.locator("#leave-affected")
    expect(affected).to_contain_text("2 booked appointments")
    expect(affected).to_contain_text("Clementine")
    expect(affected).to_contain_text("Pickle")
    screenshot("leave-affected")
    affected.get_by_role("button", name="Save the leave and cancel them").click()
    expect(page.get_by_text("The appointments in it are cancelled")).to_be_visible()
    told = sorted(m["To"] for m in smtp_server.messages if "cancelled" in m["Subject"])
    assert told == ["clementine@example.com", "pickle@example.com"]
