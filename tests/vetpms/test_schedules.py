"""Every daily django-q2 schedule (reminders, backup, data retention, attachment sweep) is written by the one
helper in vetpms.schedules: at the practice's local time, across clock changes, idempotently."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django_q.models import Schedule

from clinical import schedule as clinical_schedule
from exchange.backup import schedule as backup_schedule
from exchange.datarights import schedule as retention_schedule
from reminders import schedule as reminder_schedule
from vetpms.schedules import next_local, setting_time

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")

# (setting read for the time, the function writing the schedule, the schedule's name)
DAILY = [
    ("REMINDER_SEND_TIME", lambda now: reminder_schedule.ensure_schedules(now=now)[0], reminder_schedule.DAILY_NAME),
    ("BACKUP_TIME", lambda now: backup_schedule.ensure_schedule(now=now), backup_schedule.NAME),
    ("RETENTION_RUN_TIME", lambda now: retention_schedule.ensure_schedule(now=now), retention_schedule.NAME),
]


@pytest.mark.parametrize(("setting", "ensure", "name"), DAILY, ids=[d[0] for d in DAILY])
def test_a_daily_time_skipped_by_the_spring_clock_change_runs_in_the_hour_after(settings, setting, ensure, name):
    # 28 March 2027, London: the clocks go from 01:00 to 02:00, so 01:30 does not exist that night.
    setattr(settings, setting, "01:30")
    Schedule.objects.filter(name=name).delete()
    evening_before = dt.datetime(2027, 3, 27, 22, 0, tzinfo=LONDON)
    written = ensure(evening_before)
    assert written.next_run.astimezone(LONDON) == dt.datetime(2027, 3, 28, 2, 30, tzinfo=LONDON)
    assert written.schedule_type == Schedule.DAILY


@pytest.mark.parametrize(("setting", "ensure", "name"), DAILY, ids=[d[0] for d in DAILY])
def test_a_daily_schedule_follows_its_setting_and_writing_it_again_changes_nothing(settings, setting, ensure, name):
    setattr(settings, setting, "06:45")
    now = dt.datetime(2027, 7, 1, 12, 0, tzinfo=LONDON)  # summer time: 06:45 local is 05:45 UTC
    first = ensure(now)
    assert first.next_run.astimezone(LONDON) == dt.datetime(2027, 7, 2, 6, 45, tzinfo=LONDON)
    again = ensure(now + dt.timedelta(hours=1))
    assert (again.pk, again.next_run) == (first.pk, first.next_run)
    assert Schedule.objects.filter(name=name).count() == 1


def test_the_attachment_sweep_is_daily_and_written_once():
    first = clinical_schedule.ensure_schedule()
    assert clinical_schedule.ensure_schedule().pk == first.pk
    assert first.next_run.astimezone(LONDON).time() == clinical_schedule.SWEEP_AT


def test_a_malformed_time_setting_names_itself(settings):
    settings.BACKUP_TIME = "half past two"
    with pytest.raises(ImproperlyConfigured, match="BACKUP_TIME must be HH:MM"):
        setting_time("BACKUP_TIME")


def test_next_local_in_autumn_takes_the_first_of_the_repeated_hour():
    # 31 October 2027: 01:00-02:00 happens twice in London; the schedule runs at the first 01:30.
    at = next_local(dt.time(1, 30), dt.datetime(2027, 10, 30, 22, 0, tzinfo=LONDON))
    assert at.astimezone(dt.UTC) == dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC)
