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
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from vetpms.timeutils import to_local

DAILY_NAME = "Reminder notices (daily)"
RETRY_NAME = "Reminder email retries"


def send_time() -> dt.time:
    try:
        hours, minutes = (int(part) for part in settings.REMINDER_SEND_TIME.split(":"))
        return dt.time(hours, minutes)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"REMINDER_SEND_TIME must be HH:MM, not {settings.REMINDER_SEND_TIME!r}") from exc


def next_send_at(now: dt.datetime | None = None) -> dt.datetime:
    """The next moment the local clock shows the send time (a time skipped by a clock change moves to the hour
    after)."""
    local_now = to_local(now or timezone.now())
    at = send_time()
    day = local_now.date()
    for _ in range(3):
        candidate = dt.datetime.combine(day, at, tzinfo=local_now.tzinfo)
        # Normalise through UTC: a wall time in a DST gap comes back shifted by the gap.
        candidate = to_local(candidate.astimezone(dt.UTC))
        if candidate > local_now:
            return candidate
        day += dt.timedelta(days=1)
    raise AssertionError("unreachable")  # pragma: no cover


def ensure_schedules(*, now: dt.datetime | None = None) -> list:
    from django_q.models import Schedule

    at = send_time()
    daily = Schedule.objects.filter(name=DAILY_NAME).first()
    wanted = dict(
        func="reminders.tasks.daily_run",
        schedule_type=Schedule.DAILY,
        repeats=-1,
        intended_date_kwarg="intended_at",
    )
    if daily is None:
        daily = Schedule.objects.create(name=DAILY_NAME, next_run=next_send_at(now), **wanted)
    else:
        changed = [k for k, v in wanted.items() if getattr(daily, k) != v]
        for key in changed:
            setattr(daily, key, wanted[key])
        local_next = to_local(daily.next_run) if daily.next_run else None
        if local_next is None or (local_next.hour, local_next.minute) != (at.hour, at.minute):
            daily.next_run = next_send_at(now)
            changed.append("next_run")
        if changed:
            daily.save()
    retry_wanted = dict(
        func="reminders.tasks.send_retries",
        schedule_type=Schedule.MINUTES,
        minutes=settings.REMINDER_RETRY_EVERY_MINUTES,
        repeats=-1,
    )
    retry = Schedule.objects.filter(name=RETRY_NAME).first()
    if retry is None:
        retry = Schedule.objects.create(name=RETRY_NAME, next_run=now or timezone.now(), **retry_wanted)
    elif any(getattr(retry, k) != v for k, v in retry_wanted.items()):
        for key, value in retry_wanted.items():
            setattr(retry, key, value)
        retry.save()
    return [daily, retry]
