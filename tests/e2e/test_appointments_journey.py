"""The appointment journey in a real browser: a receptionist finds a pet with the global search, books the first
free slot with a vet next Monday (a future day, so the journey does not depend on the time it runs); the vet signs
in, lands on their day list, finds the appointment and marks it arrived, then completed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment, AppointmentStatus, AppointmentType, WorkingHours
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
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3d7dca")
    AppointmentType.objects.create(name="Dental", default_minutes=45, colour="#c0563b")
    pet = AnimalFactory(name="Bramble", alerts="Bites when muzzled", owner__last_name="Hawthorn")
    return {"receptionist": receptionist, "vet": vet, "consult": consult, "pet": pet}


def test_receptionist_books_and_vet_completes_the_appointment(page, log_in, screenshot, practice):
    vet, pet = practice["vet"], practice["pet"]
    monday = next_monday()
    first_slot = local_datetime(monday, dt.time(8)).astimezone(dt.UTC).isoformat()

    # The receptionist finds the pet from the global search and books the first free slot with the vet.
    log_in("rita", PASSWORD)
    page.fill("#global-q", "Bramble")
    page.press("#global-q", "Enter")
    page.wait_for_url("**/search/?q=Bramble")
    page.get_by_role("link", name="Book Bramble").click()
    expect(page.get_by_role("heading", name="Book Bramble")).to_be_visible()
    page.wait_for_load_state("load")  # htmx (a deferred script) listens for changes only once the page has loaded
    expect(page.get_by_text("Bites when muzzled").first).to_be_visible()
    page.select_option("#id_vet", label=vet.display_name)
    page.fill("#id_date", monday.isoformat())
    page.press("#id_date", "Tab")  # leave the field, as a person does: the change reloads the free slots
    expect(page.locator("#slots")).to_contain_text("08:00", timeout=15_000)
    slot = page.locator(f'button[name=slot][value="{vet.pk}|{first_slot}"]')
    expect(slot).to_be_visible()
    expect(slot).to_have_text("08:00")
    screenshot("booking-slots")
    slot.click()
    expect(page.get_by_text("Bramble is booked with Victor Vet")).to_be_visible()
    appointment = Appointment.objects.get()
    assert appointment.animal == pet and appointment.vet == vet and appointment.start.isoformat() == first_slot

    page.goto(f"/appointments/book/?date={monday.isoformat()}")
    expect(page.locator(".appt-block", has_text="Bramble")).to_be_visible()
    screenshot("day-grid")
    page.get_by_role("button", name="Sign out").click()

    # The vet signs in, lands on their own day list, goes to Monday and moves the appointment along.
    log_in("victor", PASSWORD)
    expect(page.get_by_role("heading", name="Victor Vet")).to_be_visible()
    page.fill("#day-date", monday.isoformat())
    page.get_by_role("button", name="Go").click()
    row = page.locator("tr.day-row", has_text="Bramble")
    expect(row).to_contain_text("08:00")
    expect(row).to_contain_text("Hawthorn")
    expect(row).to_contain_text("Bites when muzzled")
    row.get_by_role("button", name="Arrived").click()
    expect(page.locator("tr.day-row", has_text="Bramble")).to_contain_text("Arrived")
    page.locator("tr.day-row", has_text="Bramble").get_by_role("button", name="Completed").click()
    expect(page.locator("tr.day-row", has_text="Bramble")).to_contain_text("Completed")
    screenshot("day-list")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    assert [e.to_status for e in appointment.events.order_by("at", "id")] == ["booked", "arrived", "completed"]
