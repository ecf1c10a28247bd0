"""Faults, each ending with every (reminder, stage) received at the SMTP server exactly once, or, for the one
email whose worker died while the server was answering, held as "possibly sent" for a check, never sent twice.

The workers here are real processes (`manage.py reminders_run`, the same code the django-q2 task runs; and
`manage.py qcluster` itself) on the test database, sending to a real aiosmtpd server in this process. Kept here: a
worker killed with SIGKILL while the server processes a message, then restarted (the server accepted it, or
refused it); workers killed at random moments, again and again; the same run executed by two workers at once; a
run in parts under the queue's timeout with a slow server; a part stopped by the timeout. (The server down then
up, three missed days and a permanent rejection are in test_sending.py.)
"""

import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django_q.models import Schedule, Task

from animals.models import Animal, Species
from clients.models import Client
from reminders import sending
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType
from tests.factories import UserFactory
from tests.reminders.workers import worker_env
from vetpms.models import Role

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2027, 6, 1)
OWNERS = 1000
KILLS = 5  # workers killed in turn by the random-kill test


@pytest.fixture
def manager(transactional_db):
    """The manager who starts a run, made after the reference data is back: the browser journeys before these
    tests are plain transactional tests, whose flush empties the role groups the shared fixture would look up."""
    return UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)


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
    """Makes the server stop answering when the ``nth`` message has arrived whole (after the end of DATA, before
    the reply), so the test can kill the worker while it waits for the reply. Then the server keeps the message
    (``accept``, as a real server that has queued it does) or refuses it (its sender is gone)."""

    def __init__(self, inbox, nth: int, *, accept: bool):
        self.inbox, self.nth, self.accept = inbox, nth, accept
        self.holding, self.release = threading.Event(), threading.Event()
        self.original = inbox.handle_DATA

    async def handle_DATA(self, server, session, envelope):
        if len(self.inbox.envelopes) + 1 == self.nth and not self.release.is_set():
            self.holding.set()
            self.release.wait(60)  # blocks the server's loop: nothing else is accepted meanwhile
            if not self.accept:
                return "451 4.3.0 Sender went away"
        return await self.original(server, session, envelope)


def kill_while_the_server_holds(smtp_server, *, nth: int, accept: bool) -> None:
    hold = HoldAt(smtp_server, nth=nth, accept=accept)
    smtp_server.handle_DATA = hold.handle_DATA
    first = start_worker(worker_env(smtp_server.port, REMINDER_BATCH_SIZE="50"))
    try:
        assert hold.holding.wait(120), first.communicate(timeout=5)
        # The server takes longer over the message than the worker takes to note that it sent all of it.
        awaiting = ReminderDelivery.objects.filter(phase=ReminderDelivery.Phase.AWAITING_REPLY)
        deadline = time.monotonic() + 10
        while not awaiting.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)  # mid-batch: nth-1 accepted, the nth in the server's hands
        first.wait(30)
    finally:
        hold.release.set()
    assert first.returncode == -signal.SIGKILL
    assert ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENT).count() == nth - 1
    assert ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENDING).exists()


def restart_after_the_lease(smtp_server) -> None:
    """A new worker once the dead worker's lease has passed (0 s here: we know it is dead)."""
    second = start_worker(worker_env(smtp_server.port, REMINDER_SEND_LEASE_SECONDS="0"))
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_the_server_accepts_a_message_does_not_send_it_twice(smtp_server, settings):
    reminders = make_owners(OWNERS)
    kill_while_the_server_holds(smtp_server, nth=300, accept=True)
    killed_run = ReminderRun.objects.get()
    assert killed_run.status == ReminderRun.Status.RUNNING

    restart_after_the_lease(smtp_server)

    keys = received(smtp_server)
    assert sorted(keys) == sorted((r.pk, 0) for r in reminders)  # every notice, none twice
    unsure = ReminderDelivery.objects.get(status=ReminderDelivery.Status.UNCONFIRMED)
    assert received(smtp_server)[299] == (unsure.notices.get().reminder_id, 0)
    assert unsure.attempts == 1 and unsure.message_id == smtp_server.messages[299]["Message-ID"]
    assert ReminderDelivery.objects.filter(status=ReminderDelivery.Status.SENT).count() == OWNERS - 1

    # The killed run is closed when its lease ends, with what it did.
    settings.REMINDER_SEND_LEASE_SECONDS = 0
    sending.close_stale_runs()
    killed_run.refresh_from_db()
    assert killed_run.status == ReminderRun.Status.STOPPED
    assert (killed_run.emails_sent, killed_run.emails_unconfirmed) == (299, 1)


@pytest.mark.django_db(transaction=True)
def test_a_message_refused_after_its_worker_died_is_sent_once_after_the_check(smtp_server):
    reminders = make_owners(400)
    kill_while_the_server_holds(smtp_server, nth=300, accept=False)
    restart_after_the_lease(smtp_server)
    unsure = ReminderDelivery.objects.get(status=ReminderDelivery.Status.UNCONFIRMED)
    assert len(smtp_server.messages) == 399

    # The check: its Message-ID is not in the server's log, so it goes again.
    call_command("reminders_unconfirmed", resend=unsure.pk)
    restart_after_the_lease(smtp_server)
    assert sorted(received(smtp_server)) == sorted((r.pk, 0) for r in reminders)


@pytest.mark.django_db(transaction=True)
def test_workers_killed_at_random_moments_lose_nothing_and_repeat_at_most_one_email(smtp_server, settings):
    """Five workers in turn, each killed at a random moment once it is sending, then one left to finish. Nothing is
    lost. An email whose worker died while the server was answering is held as possibly sent (the server has it).
    What remains of the duplicate window (between the end of DATA and the "awaiting" mark reaching the database)
    may repeat the one email a kill caught there, with the same Message-ID: before that mark a kill repeated an
    email more often than not.
    Each killed run is closed when its lease ends, counting exactly what it did."""
    reminders = make_owners(300)
    settings.REMINDER_SEND_LEASE_SECONDS = 0  # we know each killed worker is dead
    env = worker_env(smtp_server.port, REMINDER_BATCH_SIZE="25", REMINDER_SEND_LEASE_SECONDS="0")
    for _ in range(KILLS):
        worker = start_worker(env)
        target, deadline = len(smtp_server.envelopes) + 20, time.monotonic() + 120
        while len(smtp_server.envelopes) < target and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(random.uniform(0, 0.05))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(30)
        sending.close_stale_runs()
    restart_after_the_lease(smtp_server)
    sending.close_stale_runs()

    keys = received(smtp_server)
    # The guarantee is per kill: a worker killed in the window repeats at most the one email it was finishing.
    # (On a quiet machine the window is rarely hit at all; a loaded machine hits it more often.)
    repeats = {key: n for key, n in Counter(keys).items() if n > 1}
    assert all(n == 2 for n in repeats.values()) and len(repeats) <= KILLS, repeats
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(ids)) == len(set(keys))  # a repeated email is the same message, not a new one
    unsure = {
        (n.reminder_id, n.stage)
        for n in ReminderNotice.objects.filter(delivery__status=ReminderDelivery.Status.UNCONFIRMED)
    }
    assert set(keys) == {(r.pk, 0) for r in reminders}  # nothing lost
    assert unsure <= set(keys)  # a possibly sent email is one the server has
    assert ReminderNotice.objects.filter(status=ReminderNotice.Status.SENT).count() == len(set(keys)) - len(unsure)
    runs = list(ReminderRun.objects.order_by("id"))
    assert [r.status for r in runs] == [ReminderRun.Status.STOPPED] * KILLS + [ReminderRun.Status.FINISHED]
    for run in runs:
        mine = ReminderDelivery.objects.filter(claim_run=run)
        assert run.emails_sent == mine.filter(status=ReminderDelivery.Status.SENT).count()
        assert run.emails_unconfirmed == mine.filter(status=ReminderDelivery.Status.UNCONFIRMED).count()
    assert sum(r.emails_sent + r.emails_unconfirmed for r in runs) == len(set(keys))


@pytest.mark.django_db(transaction=True)
def test_the_same_run_executed_by_two_workers_at_once_sends_each_notice_once(smtp_server):
    reminders = make_owners(200)
    env = worker_env(smtp_server.port, REMINDER_BATCH_SIZE="10")
    workers = [start_worker(env), start_worker(env)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    assert sorted(received(smtp_server)) == sorted((r.pk, 0) for r in reminders)
    assert ReminderNotice.objects.count() == 200


def start_qcluster(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, object]:
    """``manage.py qcluster`` on the test database; the schedules are paused (the test queues its own run)."""
    Schedule.objects.update(repeats=0)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return process, log


def stop_qcluster(process: subprocess.Popen, log) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a cluster that ignores SIGTERM
        process.kill()
        process.wait(10)
    log.close()


def wait_for_run(run: ReminderRun, *, done, seconds: float = 120) -> ReminderRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if done(run):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} is still {run.status} after {seconds} s")


class SlowServer:
    """A relay that takes ``delay`` seconds to answer each message (it does not block the server's loop)."""

    def __init__(self, inbox, delay: float):
        self.inbox, self.delay, self.original = inbox, delay, inbox.handle_DATA

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await self.original(server, session, envelope)


@pytest.mark.django_db(transaction=True)
def test_a_qcluster_sends_a_big_run_in_parts_inside_the_queue_timeout(smtp_server, manager, tmp_path):
    """A slow relay (0.1 s a message) and parts of 1 s under a 3 s task timeout: each task sends about ten emails
    and queues the next part, none is stopped by the timeout, and the run finishes with every email sent once."""
    reminders = make_owners(40)
    slow = SlowServer(smtp_server, 0.1)
    smtp_server.handle_DATA = slow.handle_DATA
    env = worker_env(smtp_server.port, Q_WORKERS="1", Q_TIMEOUT="3", REMINDER_TASK_SECONDS="1")
    env["REMINDER_SEND_TIME"] = "00:00"
    cluster, log = start_qcluster(env, tmp_path / "qcluster.log")
    try:
        run = sending.run_start(by=manager)
        ReminderRun.objects.filter(pk=run.pk).update(for_date=TODAY)
        run = wait_for_run(run, done=lambda r: not r.is_active)
    finally:
        stop_qcluster(cluster, log)
    assert run.status == ReminderRun.Status.FINISHED, (run.error, (tmp_path / "qcluster.log").read_text())
    assert sorted(received(smtp_server)) == sorted((r.pk, 0) for r in reminders)
    assert (run.emails_sent, run.emails_total) == (40, 40)
    parts = Task.objects.filter(func="reminders.tasks.execute_run", args=(run.pk,))
    assert parts.count() >= 3 and all(part.success for part in parts)


@pytest.mark.django_db(transaction=True)
def test_a_part_stopped_by_the_queue_timeout_is_recorded_as_timed_out_with_its_emails_settled(
    smtp_server, manager, tmp_path
):
    """The server stops answering after the end of the fifth message's DATA; django-q2's timeout ends the task
    with a SystemExit. The run says timed out (not running), counts what it did, the fifth email is possibly sent,
    and the emails it had claimed but not begun are handed back at once, not left to the lease."""
    make_owners(30)
    hold = HoldAt(smtp_server, nth=5, accept=True)
    smtp_server.handle_DATA = hold.handle_DATA
    env = worker_env(smtp_server.port, Q_WORKERS="1", Q_TIMEOUT="3", REMINDER_TASK_SECONDS="1")
    cluster, log = start_qcluster(env, tmp_path / "qcluster.log")
    try:
        run = sending.run_start(by=manager)
        ReminderRun.objects.filter(pk=run.pk).update(for_date=TODAY)
        run = wait_for_run(run, done=lambda r: not r.is_active, seconds=60)
    finally:
        hold.release.set()
        stop_qcluster(cluster, log)
    assert run.status == ReminderRun.Status.TIMED_OUT, (run.error, (tmp_path / "qcluster.log").read_text())
    assert "TimeoutException" in run.error
    assert (run.emails_sent, run.emails_unconfirmed) == (4, 1)
    statuses = sorted(ReminderDelivery.objects.values_list("status", flat=True))
    assert statuses == sorted(["sent"] * 4 + ["unsure"] + ["pending"] * 25)  # nothing left claimed
    assert ReminderDelivery.objects.get(status="unsure").attempts == 1
