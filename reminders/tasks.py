"""django-q2 entry points: they take ids or the schedule's intended time and call reminders.sending.

A run is sent in parts: each task sends for about ``REMINDER_TASK_SECONDS`` and queues the next part, so no task
meets django-q2's timeout (``Q_CLUSTER["timeout"]``, set in the settings for this, the longest job) however big
the day or slow the mail server."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from reminders import sending
from reminders.models import ReminderRun

logger = logging.getLogger(__name__)


def execute_run(run_id: int) -> int:
    """Queued by ``sending.run_start`` (a manager's "run now"), by ``daily_run`` and ``send_retries``, and by
    itself for the next part of a run."""
    from django_q.tasks import async_task

    run = sending.execute_run(run_id=run_id, seconds=settings.REMINDER_TASK_SECONDS)
    if run.status == ReminderRun.Status.RUNNING:
        async_task("reminders.tasks.execute_run", run.pk, task_name=f"reminder run {run.pk}, continued")
    return run.emails_sent


def daily_run(intended_at: str | None = None, **kwargs) -> int:
    """The daily schedule's task. ``intended_at`` (set by django-q2's scheduler) is when the schedule was due, so a
    task picked up late, even after midnight, still sends for the day it was meant for. After an outage the
    scheduler runs it once, for the first day missed: it sends for the latest day whose send time has come, and
    planning catches up every missed day within REMINDER_CATCH_UP_DAYS at once (the latest stage of each
    reminder only)."""
    moment = dt.datetime.fromisoformat(intended_at) if intended_at else None
    sending.close_stale_runs()
    day = max(sending.local_today(moment), sending.latest_send_day())
    run = ReminderRun.objects.create(
        trigger=ReminderRun.Trigger.SCHEDULE, for_date=day, status=ReminderRun.Status.QUEUED
    )
    return execute_run(run.pk)


def send_retries(**kwargs) -> int:
    """Every few minutes: emails waiting for a retry whose time has come, claims of workers that died, and runs
    whose worker died. Writes a run only when there is something to send, so the run log is not filled with empty
    runs."""
    sending.close_stale_runs()
    if not sending.sendable_count():
        return 0
    run = ReminderRun.objects.create(
        trigger=ReminderRun.Trigger.RETRY, for_date=sending.local_today(), status=ReminderRun.Status.QUEUED
    )
    return execute_run(run.pk)
