"""The reminders journey in a real browser: a receptionist filters the due list down to what is overdue, completes
one reminder from its row, opens the follow-up list of owners to phone, prints it (print stylesheet: no navigation)
and marks an owner as phoned; a manager edits a reminder type's subject, watches the htmx preview follow what is
typed (and name an unknown placeholder), and saves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderType
from tests.factories import AnimalFactory, ClientFactory, UserFactory
from vetpms.models import Role

PASSWORD = "correct-horse-battery"
TEXT = "Dear {owner_name},\n{items}\nCall us on {practice_phone}."


def _day(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


@pytest.fixture
def practice(transactional_db):
    UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)
    UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    dhpp = ReminderType.objects.create(
        name="DHPP booster", interval=12, stages=[-14, 0, 30], subject="{pets}: booster due", body_text=TEXT
    )
    bramble = AnimalFactory(name="Bramble", owner__last_name="Hawthorn")
    pip = AnimalFactory(name="Pip", owner__last_name="Ivy")
    moss_owner = ClientFactory(
        first_name="Morag", last_name="Mossley", reminder_consent=False, mobile_phone="+447700900456"
    )
    moss = AnimalFactory(name="Moss", owner=moss_owner)
    overdue = Reminder.objects.create(animal=bramble, type=dhpp, due_on=_day(-10))
    Reminder.objects.create(animal=pip, type=dhpp, due_on=_day(20))
    moss_reminder = Reminder.objects.create(animal=moss, type=dhpp, due_on=_day(-3))
    # What the sending job leaves for an owner without consent: a delivery on the follow-up list.
    delivery = ReminderDelivery.objects.create(
        client=moss_owner, channel="none", status="no_channel", reason="no consent to reminder emails"
    )
    ReminderNotice.objects.create(
        reminder=moss_reminder, stage=0, send_on=moss_reminder.due_on, delivery=delivery, status="no_channel"
    )
    return {"type": dhpp, "overdue": overdue, "delivery": delivery, "owner": moss_owner}


def test_receptionist_completes_an_overdue_reminder_and_works_the_follow_up_list(page, log_in, screenshot, practice):
    log_in("rita", PASSWORD)
    page.get_by_role("link", name="Reminders", exact=True).click()
    expect(page.get_by_role("heading", name="Reminders")).to_be_visible()
    table = page.locator("table.reminder-table")
    expect(table.get_by_role("link", name="Pip", exact=True)).to_be_visible()

    # Only what is overdue: Bramble and Moss, not Pip (due in 20 days).
    page.get_by_label("Status").select_option("overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(table.get_by_role("link", name="Bramble", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="Moss", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="Pip", exact=True)).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(2)
    screenshot("overdue")

    # Complete Bramble's from its row; the list comes back, filtered as it was, without it.
    page.get_by_role("button", name="Complete DHPP booster for Bramble").click()
    expect(page.get_by_text("DHPP booster for Bramble marked done.")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_label("Status")).to_have_value("overdue")
    practice["overdue"].refresh_from_db()
    assert practice["overdue"].status == "completed"

    # The follow-up list: Moss's owner, with the phone number, pet, item and due date.
    page.get_by_role("link", name="Follow-up calls").click()
    row = page.locator("table.follow-up-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Morag Mossley")
    expect(row).to_contain_text("7700 900456")
    expect(row).to_contain_text("Moss: DHPP booster, due")
    screenshot("follow-up")

    # Printed: the print stylesheet drops the navigation and the buttons, and adds a notes column.
    page.emulate_media(media="print")
    expect(page.locator(".app-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Mark as phoned")).to_be_hidden()
    expect(page.locator("th.print-only")).to_be_visible()
    screenshot("print")
    page.emulate_media(media="screen")

    page.get_by_label(f"What was said to {practice['owner'].display_name}").fill("Booked for Tuesday")
    page.get_by_role("button", name="Mark as phoned").click()
    expect(page.get_by_text("marked as phoned")).to_be_visible()
    expect(page.get_by_text("Nobody to phone")).to_be_visible()
    practice["delivery"].refresh_from_db()
    assert practice["delivery"].follow_up_note == "Booked for Tuesday"


def test_manager_edits_a_type_and_previews_its_email(page, log_in, screenshot, practice):
    log_in("mona", PASSWORD)
    page.goto("/reminders/types/")
    page.get_by_role("link", name="DHPP booster").click()
    expect(page.get_by_role("heading", name="Edit DHPP booster")).to_be_visible()
    page.wait_for_load_state("load")  # htmx listens only once the page has loaded
    preview = page.locator("#preview")
    # The preview loads with the page, for a sample owner with two pets.
    expect(preview.locator(".preview-subject")).to_have_text("Rex and Bella & Co: booster due")
    expect(page.get_by_text("{owner_first_name}")).to_be_visible()  # the placeholder list beside the editor

    page.get_by_label("Email subject").fill("{pets}: the yearly booster is due")
    expect(preview.locator(".preview-subject")).to_have_text("Rex and Bella & Co: the yearly booster is due")
    page.get_by_label("Email text").fill("Hello {owner_first_name}, {petz} are due.")
    expect(preview.get_by_role("alert")).to_contain_text("Unknown placeholder {petz}")
    screenshot("preview-error")
    page.get_by_label("Email text").fill("Hello {owner_first_name},\n{items}\nCall {practice_phone}.")
    expect(preview.locator(".preview-text")).to_contain_text("Hello Jane,")
    # The HTML part, in a sandboxed frame: the owner's name escaped, the footer from the practice's details.
    html = page.frame_locator("iframe.preview-html")
    expect(html.locator("body")).to_contain_text("Hello Jane,")
    expect(html.locator("body")).to_contain_text("Unsubscribe from reminder emails")
    screenshot("preview")

    # Saving a stage beyond a year is refused beside the field; a good one saves.
    page.get_by_label("Notice stages").fill("-14, 0, 400")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("A stage is at most 365 days")).to_be_visible()
    page.get_by_label("Notice stages").fill("-14, 0, 30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("DHPP booster saved.")).to_be_visible()
    saved = ReminderType.objects.get(pk=practice["type"].pk)
    assert saved.subject == "{pets}: the yearly booster is due" and saved.stages == [-14, 0, 30]
