"""django-q2 entry points: they take ids or the schedule's intended time and call reminders.sending."""

from __future__ import annotations

import datetime as dt
import logging

from reminders import sending
from reminders.models import ReminderRun

logger = logging.getLogger(__name__)


def execute_run(run_id: int) -> int:
    """Queued by ``sending.run_start`` (a manager's "run now") and by ``daily_run``."""
    run = sending.execute_run(run_id=run_id)
    return run.emails_sent


def daily_run(intended_at: str | None = None, **kwargs) -> int:
    """The daily schedule's task. ``intended_at`` (set by django-q2's scheduler) is when the schedule was due, so a
    task picked up late, even after midnight, still sends for the day it was meant for."""
    moment = dt.datetime.fromisoformat(intended_at) if intended_at else None
    run = ReminderRun.objects.create(
        trigger=ReminderRun.Trigger.SCHEDULE, for_date=sending.local_today(moment), status=ReminderRun.Status.QUEUED
    )
    return execute_run(run.pk)


def send_retries(**kwargs) -> int:
    """Every few minutes: emails waiting for a retry whose time has come, and claims of workers that died. Writes
    a run only when there is something to do, so the run log is not filled with empty runs."""
    sending.release_stale_claims()
    if not sending.sendable_count():
        return 0
    run = ReminderRun.objects.create(
        trigger=ReminderRun.Trigger.RETRY, for_date=sending.local_today(), status=ReminderRun.Status.QUEUED
    )
    return execute_run(run.pk)
