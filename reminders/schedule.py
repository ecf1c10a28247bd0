"""The django-q2 schedules of the reminder job, written by code, never by hand.

``ensure_schedules`` runs after every ``migrate`` (a post_migrate hook in reminders.apps) and from
``manage.py reminders_schedule``; it creates or updates two schedules by name, so running it again changes
nothing:

- "Reminder notices (daily)": ``reminders.tasks.daily_run`` every day at ``REMINDER_SEND_TIME`` in the practice's
  zone. django-q2 moves a DAILY schedule by calendar days in its zone (TIME_ZONE), so 07:00 stays 07:00 across
  a clock change; its scheduler passes the intended time to the task, which sends for that local day.
- "Reminder email retries": ``reminders.tasks.send_retries`` every ``REMINDER_RETRY_EVERY_MINUTES``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from vetpms.schedules import ensure_daily, ensure_every, next_local, setting_time

DAILY_NAME = "Reminder notices (daily)"
RETRY_NAME = "Reminder email retries"


def send_time() -> dt.time:
    return setting_time("REMINDER_SEND_TIME")


def next_send_at(now: dt.datetime | None = None) -> dt.datetime:
    """The next moment the local clock shows the send time (a time skipped by a clock change moves to the hour
    after)."""
    return next_local(send_time(), now)


def ensure_schedules(*, now: dt.datetime | None = None) -> list:
    daily = ensure_daily(
        name=DAILY_NAME, func="reminders.tasks.daily_run", at=send_time(), now=now, intended_date_kwarg="intended_at"
    )
    retry = ensure_every(
        name=RETRY_NAME, func="reminders.tasks.send_retries", minutes=settings.REMINDER_RETRY_EVERY_MINUTES, now=now
    )
    return [daily, retry]
