"""The daily backup's django-q2 schedule, written by every ``migrate`` (a post_migrate hook in exchange.apps), never
by hand: "Backup (daily)" runs ``exchange.backup.tasks.daily_backup`` at ``BACKUP_TIME`` in the practice's zone
and keeps ``BACKUP_KEEP_DAYS`` days of backups. Running it again changes nothing."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from vetpms.timeutils import to_local

NAME = "Backup (daily)"
FUNC = "exchange.backup.tasks.daily_backup"


def backup_time() -> dt.time:
    try:
        hours, minutes = (int(part) for part in settings.BACKUP_TIME.split(":"))
        return dt.time(hours, minutes)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"BACKUP_TIME must be HH:MM, not {settings.BACKUP_TIME!r}") from exc


def next_backup_at(now: dt.datetime | None = None) -> dt.datetime:
    """The next moment the local clock shows BACKUP_TIME (a time skipped by a clock change comes out an hour later)."""
    local_now = to_local(now or timezone.now())
    at = backup_time()
    day = local_now.date()
    for _ in range(3):
        candidate = to_local(dt.datetime.combine(day, at, tzinfo=local_now.tzinfo).astimezone(dt.UTC))
        if candidate > local_now:
            return candidate
        day += dt.timedelta(days=1)
    raise AssertionError("unreachable")  # pragma: no cover


def ensure_schedule(*, now: dt.datetime | None = None):
    from django_q.models import Schedule

    at = backup_time()
    schedule = Schedule.objects.filter(name=NAME).first()
    wanted = {"func": FUNC, "schedule_type": Schedule.DAILY, "repeats": -1}
    if schedule is None:
        return Schedule.objects.create(name=NAME, next_run=next_backup_at(now), **wanted)
    changed = [key for key, value in wanted.items() if getattr(schedule, key) != value]
    for key in changed:
        setattr(schedule, key, wanted[key])
    local_next = to_local(schedule.next_run) if schedule.next_run else None
    if local_next is None or (local_next.hour, local_next.minute) != (at.hour, at.minute):
        schedule.next_run = next_backup_at(now)
        changed.append("next_run")
    if changed:
        schedule.save()
    return schedule
