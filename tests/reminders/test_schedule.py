"""The django-q2 schedules: written by migrate (idempotently), at the practice's local time across DST, and run by
django-q2's own scheduler and worker functions through the ORM broker and the Redis broker (no sleeping)."""

import datetime as dt
import os
import uuid
from multiprocessing import Queue, Value
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_q.brokers import orm as orm_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler
from django_q.signing import SignedPackage
from django_q.worker import worker

from reminders import schedule
from reminders.models import ReminderRun, ReminderType
from reminders.services import reminder_create
from tests.factories import AnimalFactory, species

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_migrate_wrote_the_schedules_and_writing_them_again_changes_nothing():
    # post_migrate ran ensure_schedules when the test database was migrated.
    before = {s.name: (s.pk, s.func, s.schedule_type, s.next_run) for s in Schedule.objects.all()}
    assert {schedule.DAILY_NAME, schedule.RETRY_NAME} <= set(before)  # other apps write theirs too
    assert before[schedule.DAILY_NAME][1:3] == ("reminders.tasks.daily_run", Schedule.DAILY)
    schedule.ensure_schedules()
    schedule.ensure_schedules()
    after = {s.name: (s.pk, s.func, s.schedule_type, s.next_run) for s in Schedule.objects.all()}
    assert after == before


def test_the_daily_run_is_at_the_configured_local_time(settings):
    settings.REMINDER_SEND_TIME = "06:30"
    now = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)
    schedule.ensure_schedules(now=now)
    daily = Schedule.objects.get(name=schedule.DAILY_NAME)
    assert daily.next_run.astimezone(LONDON) == dt.datetime(2027, 1, 11, 6, 30, tzinfo=LONDON)
    settings.REMINDER_SEND_TIME = "7:5x"
    with pytest.raises(Exception, match="HH:MM"):
        schedule.ensure_schedules(now=now)


@pytest.mark.parametrize(
    ("now_local", "expected_local", "expected_utc_hour"),
    [
        # The evening before the spring change: 07:00 BST is 06:00 UTC.
        (dt.datetime(2027, 3, 27, 20, 0), dt.datetime(2027, 3, 28, 7, 0), 6),
        # The evening before the autumn change: 07:00 GMT is 07:00 UTC.
        (dt.datetime(2027, 10, 30, 20, 0), dt.datetime(2027, 10, 31, 7, 0), 7),
    ],
)
def test_next_send_time_is_seven_local_across_dst(now_local, expected_local, expected_utc_hour):
    at = schedule.next_send_at(now_local.replace(tzinfo=LONDON))
    assert at.replace(tzinfo=None) == expected_local
    assert at.astimezone(dt.UTC).hour == expected_utc_hour


def test_django_q_keeps_the_daily_schedule_at_seven_local_through_the_clock_changes():
    daily = Schedule.objects.get(name=schedule.DAILY_NAME)
    run = dt.datetime(2027, 3, 26, 7, 0, tzinfo=LONDON)
    seen = []
    for _ in range(4):  # 26 -> 27 -> 28 (clocks forward) -> 29 March
        run = daily.calculate_next_run(run.astimezone(dt.UTC))
        seen.append(run.astimezone(LONDON).strftime("%d %H:%M %Z"))
    assert seen == ["27 07:00 GMT", "28 07:00 BST", "29 07:00 BST", "30 07:00 BST"]


def _run_queued_tasks(broker) -> list[dict]:
    """Take what the broker holds and execute it with django-q2's worker function, as a qcluster would."""
    tasks = Queue()
    results = Queue()
    packages = broker.dequeue() or []
    for ack_id, payload in packages:
        task = SignedPackage.loads(payload)
        task["ack_id"] = ack_id
        tasks.put(task)
        broker.acknowledge(ack_id)
    tasks.put("STOP")
    worker(tasks, results, Value("f", -1))
    return [results.get(timeout=10) for _ in packages]


@pytest.fixture
def due_today(manager):
    reminder_type = ReminderType.objects.create(
        name="Rabies", interval=12, interval_unit="months", stages=[0], subject="{pets}", body_text="{items}"
    )

    def make(day):
        return reminder_create(
            animal=AnimalFactory(species=species("Dog")), reminder_type=reminder_type, due_on=day, by=manager
        )

    return make


def _redis_broker():
    from django_q.brokers.redis_broker import Redis
    from django_q.conf import Conf

    Conf.REDIS = "redis://127.0.0.1:6379/15"
    broker = Redis(list_key=f"vetpms-test-{uuid.uuid4().hex}")
    try:
        broker.ping()
    except Exception as exc:  # pragma: no cover - .ci/system-deps (run by make test) starts Redis
        message = f"Redis is not answering on 127.0.0.1:6379 ({exc}); `make test` starts it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return broker


@pytest.mark.parametrize("broker_name", ["orm", "redis"])
def test_the_scheduler_queues_the_daily_run_and_a_worker_sends(
    broker_name, due_today, smtp_server, monkeypatch, settings
):
    import django_q.scheduler
    import django_q.worker
    from django_q.conf import Conf

    # Both functions close "old" connections first; here the connection holds the test's transaction.
    monkeypatch.setattr(django_q.scheduler, "close_old_django_connections", lambda: None)
    monkeypatch.setattr(django_q.worker, "close_old_django_connections", lambda: None)
    monkeypatch.setattr(Conf, "REDIS", Conf.REDIS)
    broker = orm_broker.ORM(list_key=f"vetpms-test-{uuid.uuid4().hex}") if broker_name == "orm" else _redis_broker()
    try:
        # Today's send time must have come whenever the suite runs (at 07:00, the default, a run between midnight
        # and seven found the schedule not yet due).
        settings.REMINDER_SEND_TIME = "00:00"
        send_at = dt.time(0, 0)
        today = timezone.localdate()
        reminder = due_today(today)
        daily = Schedule.objects.get(name=schedule.DAILY_NAME)
        intended = dt.datetime.combine(today, send_at, tzinfo=LONDON).astimezone(dt.UTC)
        Schedule.objects.filter(pk=daily.pk).update(next_run=intended)
        Schedule.objects.exclude(pk=daily.pk).update(repeats=0)  # only the daily one is due here

        scheduler(broker=broker)

        daily.refresh_from_db()
        assert daily.next_run.astimezone(LONDON).time() == send_at
        assert daily.next_run > intended
        assert not smtp_server.messages  # queued, not run: nothing sent yet
        (result,) = _run_queued_tasks(broker)
        assert result["success"], result["result"]
        assert result["kwargs"]["intended_at"] == intended.isoformat()
        run = ReminderRun.objects.get(trigger=ReminderRun.Trigger.SCHEDULE)
        assert run.for_date == today and run.status == ReminderRun.Status.FINISHED
        (message,) = smtp_server.messages
        assert message["X-VetPMS-Notices"] == f"{reminder.pk}:0"
        assert broker.queue_size() == 0
    finally:
        broker.delete_queue()


def test_after_an_outage_the_one_daily_task_catches_up_every_missed_day_latest_stage_only(
    smtp_server, manager, monkeypatch, settings
):
    """The cluster was down for three days. django-q2 (catch_up off) queues the daily task once, for the first
    missed day, and moves the schedule on: that one run sends what every missed day and today owed."""
    import django_q.scheduler
    import django_q.worker

    from reminders.models import ReminderNotice

    monkeypatch.setattr(django_q.scheduler, "close_old_django_connections", lambda: None)
    monkeypatch.setattr(django_q.worker, "close_old_django_connections", lambda: None)
    settings.REMINDER_SEND_TIME = "00:00"  # today's send time has come, whenever the suite runs
    settings.REMINDER_CATCH_UP_DAYS = 7
    today = timezone.localdate()
    two_stage = ReminderType.objects.create(
        name="Booster", interval=12, interval_unit="months", stages=[-2, 0], subject="{pets}", body_text="{items}"
    )

    def due(name, day):
        pet = AnimalFactory(name=name, species=species("Dog"))
        return reminder_create(animal=pet, reminder_type=two_stage, due_on=day, by=manager)

    both = due("Both", today - dt.timedelta(days=1))  # stage -2 fell three days ago, stage 0 yesterday
    missed = due("Missed", today - dt.timedelta(days=2))  # stage 0 two days ago, -2 four days ago
    on_time = due("Today", today)  # stage 0 today, -2 two days ago
    ahead = due("Ahead", today + dt.timedelta(days=2))  # stage -2 today
    daily = Schedule.objects.get(name=schedule.DAILY_NAME)
    first_missed = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(0, 0), tzinfo=LONDON)
    Schedule.objects.filter(pk=daily.pk).update(next_run=first_missed)
    Schedule.objects.exclude(pk=daily.pk).update(repeats=0)
    broker = orm_broker.ORM(list_key=f"vetpms-test-{uuid.uuid4().hex}")
    try:
        scheduler(broker=broker)
        (result,) = _run_queued_tasks(broker)
        assert result["success"], result["result"]
        assert broker.queue_size() == 0  # once, not once per missed day
    finally:
        broker.delete_queue()

    run = ReminderRun.objects.get(trigger=ReminderRun.Trigger.SCHEDULE)
    assert run.for_date == today and run.status == ReminderRun.Status.FINISHED
    got = {key for m in smtp_server.messages for key in m["X-VetPMS-Notices"].split()}
    assert got == {f"{both.pk}:0", f"{missed.pk}:0", f"{on_time.pk}:0", f"{ahead.pk}:-2"}
    skipped = ReminderNotice.objects.filter(status=ReminderNotice.Status.SKIPPED)
    assert {(n.reminder_id, n.stage) for n in skipped} == {(both.pk, -2), (missed.pk, -2), (on_time.pk, -2)}
    daily.refresh_from_db()
    assert daily.next_run > timezone.now()
