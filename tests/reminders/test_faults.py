"""Faults, each ending with every (reminder, stage) received at the SMTP server exactly once.

The workers here are real processes (`manage.py reminders_run`, the same code the django-q2 task runs) on the test
database, sending to a real aiosmtpd server in this process. Kept here: a worker killed with SIGKILL in the middle
of a batch of 1,000 and restarted; the same run executed by two workers at once. (The server down then up, three
missed days and a permanent rejection are in test_sending.py.)
"""

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from animals.models import Animal, Species
from clients.models import Client
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderType
from tests.reference_data import ensure_reference_data
from tests.reminders.workers import worker_env

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2027, 6, 1)
OWNERS = 1000


def make_owners(count: int) -> list[Reminder]:
    """``count`` owners, each with one dog whose rabies reminder is due today (bulk: the rules are tested
    elsewhere; here only the sending matters)."""
    reminder_type = ReminderType.objects.create(
        name="Rabies vaccination",
        interval=12,
        interval_unit="months",
        stages=[-14, 0, 30],
        subject="{pets}: rabies vaccination due",
        body_text="Dear {owner_name},\n{items}\nCall {practice_phone}.",
    )
    dog = Species.objects.get(name="Dog")
    clients = Client.objects.bulk_create(
        Client(first_name=f"Owner{i}", last_name="Fault", email=f"owner{i}@example.com", reminder_consent=True)
        for i in range(count)
    )
    animals = Animal.objects.bulk_create(Animal(name=f"Dog{i}", owner=c, species=dog) for i, c in enumerate(clients))
    return Reminder.objects.bulk_create(Reminder(animal=a, type=reminder_type, due_on=TODAY) for a in animals)


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "reminders_run", "--date", TODAY.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def received(inbox) -> list[tuple[int, int]]:
    keys = []
    for message in inbox.messages:
        for key in message["X-VetPMS-Notices"].split():
            reminder_id, stage = key.split(":")
            keys.append((int(reminder_id), int(stage)))
    return keys


class HoldAt:
    """Makes the server stop answering when the ``nth`` message arrives (before accepting it), so the test can kill
    the worker while it waits for the reply; then refuses that message (its sender is gone)."""

    def __init__(self, inbox, nth: int):
        self.inbox, self.nth = inbox, nth
        self.holding, self.release = threading.Event(), threading.Event()
        self.original = inbox.handle_DATA

    async def handle_DATA(self, server, session, envelope):
        if len(self.inbox.envelopes) + 1 == self.nth and not self.release.is_set():
            self.holding.set()
            self.release.wait(60)  # blocks the server's loop: nothing else is accepted meanwhile
            return "451 4.3.0 Sender went away"
        return await self.original(server, session, envelope)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_batch_and_restarted_sends_each_notice_exactly_once(smtp_server):
    ensure_reference_data()
    reminders = make_owners(OWNERS)
    hold = HoldAt(smtp_server, nth=300)
    smtp_server.handle_DATA = hold.handle_DATA

    first = start_worker(worker_env(smtp_server.port, REMINDER_BATCH_SIZE="50"))
    try:
        assert hold.holding.wait(120), first.communicate(timeout=5)
        os.kill(first.pid, signal.SIGKILL)  # mid-batch: 299 accepted, the 300th in flight, the batch claimed
        first.wait(30)
    finally:
        hold.release.set()
    assert first.returncode == -signal.SIGKILL
    assert len(smtp_server.messages) == 299
    assert ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENT).count() == 299
    assert ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENDING).exists()

    # Restarted after the lease of the dead worker's claims (0 s here: we know it is dead).
    second = start_worker(worker_env(smtp_server.port, REMINDER_SEND_LEASE_SECONDS="0"))
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err

    keys = received(smtp_server)
    assert sorted(keys) == sorted((r.pk, 0) for r in reminders)  # every notice, none twice
    assert ReminderNotice.objects.filter(status=ReminderNotice.Status.SENT).count() == OWNERS
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {ReminderDelivery.Status.SENT}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_at_a_random_moment_loses_nothing(smtp_server):
    """Killed at a random moment once sending is under way. Nothing may be lost. The one window no outbox can
    close (accepted by the server, not yet recorded) may repeat that single email, with the same Message-ID."""
    ensure_reference_data()
    reminders = make_owners(300)
    first = start_worker(worker_env(smtp_server.port, REMINDER_BATCH_SIZE="25"))
    deadline = time.monotonic() + 120
    while len(smtp_server.envelopes) < 50 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(random.uniform(0, 0.3))
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)

    second = start_worker(worker_env(smtp_server.port, REMINDER_SEND_LEASE_SECONDS="0"))
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err

    keys = received(smtp_server)
    assert set(keys) == {(r.pk, 0) for r in reminders}
    repeated = len(keys) - len(set(keys))
    assert repeated <= 1
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(ids)) == len(set(keys))  # a repeated email is the same message, not a new one


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_run_executed_by_two_workers_at_once_sends_each_notice_once(smtp_server):
    ensure_reference_data()
    reminders = make_owners(200)
    env = worker_env(smtp_server.port, REMINDER_BATCH_SIZE="10")
    workers = [start_worker(env), start_worker(env)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    assert sorted(received(smtp_server)) == sorted((r.pk, 0) for r in reminders)
    assert ReminderNotice.objects.count() == 200
