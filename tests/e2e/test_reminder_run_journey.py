"""The whole reminder pipeline as people meet it: a manager presses "Run now", a real django-q2 worker
(`manage.py qcluster`, database broker) picks the run up and emails the owner through a local SMTP server, the
progress card follows it to "Finished"; then the owner opens the unsubscribe link from that email and
unsubscribes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Client
from reminders.models import Reminder, ReminderRun, ReminderType
from tests.factories import AnimalFactory, ClientFactory, UserFactory
from tests.reminders.workers import worker_env
from vetpms.models import Role

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def qcluster(smtp_server, live_server, tmp_path):
    """A django-q2 cluster on the test database, sending to the test's SMTP server (its log in tmp_path)."""
    env = worker_env(smtp_server.port, SITE_URL=live_server.url, Q_WORKERS="1")
    log = (tmp_path / "qcluster.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:  # pragma: no cover - a cluster that ignores SIGTERM
        process.kill()
    log.close()


def test_a_manager_runs_the_job_and_the_owner_unsubscribes_from_the_email(
    page, log_in, screenshot, smtp_server, qcluster
):
    UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    rabies = ReminderType.objects.create(
        name="Rabies vaccination",
        interval=12,
        stages=[-14, 0, 30],
        subject="{pets}: rabies vaccination due",
        body_text="Dear {owner_first_name},\n{items}\nTo book, {booking_contact}.",
    )
    owner = ClientFactory(first_name="Olive", last_name="Owner", email="olive@example.com", reminder_consent=True)
    Reminder.objects.create(animal=AnimalFactory(name="Biscuit", owner=owner), type=rabies, due_on=timezone.localdate())

    log_in("mona", PASSWORD)
    page.get_by_role("link", name="Reminders", exact=True).click()
    page.get_by_role("link", name="Runs").click()
    page.once("dialog", lambda dialog: dialog.accept())  # "Send today's due reminders now?"
    page.get_by_role("button", name="Run now").click()
    progress = page.locator("#run-progress")
    expect(progress.locator(".run-status")).to_have_text("Finished", timeout=60_000)  # htmx polls every 2 s
    expect(progress).to_contain_text("Sent")
    screenshot("run-finished")
    run = ReminderRun.objects.get()
    assert (run.trigger, run.status, run.emails_sent, run.notices_planned) == ("manual", "finished", 1, 1)

    (message,) = smtp_server.messages
    assert message["To"] == "olive@example.com"
    assert message["Subject"] == "Biscuit: rabies vaccination due"
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"To stop them, open: (\S+)", text).group(1)
    assert link.startswith(page.url.split("/reminders/")[0])

    # The owner, signed out, in their own browser: the link asks first, the button unsubscribes.
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile("Reminder emails"))).to_be_visible()
    page.get_by_role("button", name="Unsubscribe from reminder emails").click()
    expect(page.get_by_role("status")).to_contain_text("You are unsubscribed")
    screenshot("unsubscribed")
    assert Client.objects.get(pk=owner.pk).reminder_consent is False
