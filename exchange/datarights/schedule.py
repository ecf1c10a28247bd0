"""The retention task's django-q2 schedule, written by code after every ``migrate`` (exchange.apps), never by
hand: "Data retention (daily)" runs ``exchange.datarights.tasks.retention_run`` at ``RETENTION_RUN_TIME``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from vetpms.timeutils import local_datetime, to_local

NAME = "Data retention (daily)"


def run_time() -> dt.time:
    try:
        hours, minutes = (int(part) for part in settings.RETENTION_RUN_TIME.split(":"))
        return dt.time(hours, minutes)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"RETENTION_RUN_TIME must be HH:MM, not {settings.RETENTION_RUN_TIME!r}") from exc


def next_run_at(now: dt.datetime | None = None) -> dt.datetime:
    local_now = to_local(now or timezone.now())
    candidate = local_datetime(local_now.date(), run_time())
    if candidate <= local_now:
        candidate = local_datetime(local_now.date() + dt.timedelta(days=1), run_time())
    return candidate


def ensure_schedule(*, now: dt.datetime | None = None):
    from django_q.models import Schedule

    schedule = Schedule.objects.filter(name=NAME).first()
    if schedule is None:
        return Schedule.objects.create(
            name=NAME,
            func="exchange.datarights.tasks.retention_run",
            schedule_type=Schedule.DAILY,
            repeats=-1,
            next_run=next_run_at(now),
        )
    at = run_time()
    local_next = to_local(schedule.next_run) if schedule.next_run else None
    if local_next is None or (local_next.hour, local_next.minute) != (at.hour, at.minute):
        schedule.next_run = next_run_at(now)
        schedule.save(update_fields=["next_run"])
    return schedule
