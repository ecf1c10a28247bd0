"""The django-q2 schedules, written by code after every ``migrate``, never by hand: one helper for all of them.

Each app that runs a recurring job (reminders, backups, data retention, attachment sweeps, webhooks, bulk export
cleanup) keeps its schedule's name, function and setting in its own ``schedule.py`` and calls ``ensure_daily``
or ``ensure_every`` here, so running migrate again changes nothing and a changed setting moves the schedule.

Daily times are wall-clock times in the practice's zone ("HH:MM" settings). django-q2 moves a DAILY schedule
by calendar days in its zone (TIME_ZONE), so 07:00 stays 07:00 across a clock change; a time that a clock
change skips runs in the hour after it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from vetpms.timeutils import to_local


def setting_time(name: str) -> dt.time:
    """The ``HH:MM`` setting ``name`` as a time; a malformed one is a configuration error naming it."""
    value = getattr(settings, name)
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        return dt.time(hours, minutes)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ImproperlyConfigured(f"{name} must be HH:MM, not {value!r}") from exc


def next_local(at: dt.time, now: dt.datetime | None = None) -> dt.datetime:
    """The next moment after ``now`` that the practice's clock shows ``at`` (a time skipped by a clock change
    comes out an hour later)."""
    local_now = to_local(now or timezone.now())
    day = local_now.date()
    for _ in range(3):
        # Normalised through UTC: a wall time in a DST gap comes back shifted by the gap.
        candidate = to_local(dt.datetime.combine(day, at, tzinfo=local_now.tzinfo).astimezone(dt.UTC))
        if candidate > local_now:
            return candidate
        day += dt.timedelta(days=1)
    raise AssertionError("unreachable")  # pragma: no cover


def ensure_daily(*, name: str, func: str, at: dt.time, now: dt.datetime | None = None, **extra):
    """Create or update the DAILY schedule ``name`` running ``func`` at local time ``at``; ``extra`` are more
    Schedule fields (e.g. ``intended_date_kwarg``). Moves ``next_run`` only when the time of day changed."""
    from django_q.models import Schedule

    wanted = {"func": func, "schedule_type": Schedule.DAILY, "repeats": -1, **extra}
    schedule = Schedule.objects.filter(name=name).first()
    if schedule is None:
        return Schedule.objects.create(name=name, next_run=next_local(at, now), **wanted)
    changed = [key for key, value in wanted.items() if getattr(schedule, key) != value]
    for key in changed:
        setattr(schedule, key, wanted[key])
    local_next = to_local(schedule.next_run) if schedule.next_run else None
    if local_next is None or (local_next.hour, local_next.minute) != (at.hour, at.minute):
        schedule.next_run = next_local(at, now)
        changed.append("next_run")
    if changed:
        schedule.save()
    return schedule


def ensure_every(*, name: str, func: str, minutes: int, now: dt.datetime | None = None):
    """Create or update the schedule ``name`` running ``func`` every ``minutes`` minutes, first at once."""
    from django_q.models import Schedule

    return _ensure_repeating(name, func, {"schedule_type": Schedule.MINUTES, "minutes": minutes}, now)


def ensure_hourly(*, name: str, func: str, now: dt.datetime | None = None):
    """Create or update the HOURLY schedule ``name`` running ``func``, first at once."""
    from django_q.models import Schedule

    return _ensure_repeating(name, func, {"schedule_type": Schedule.HOURLY}, now)


def _ensure_repeating(name: str, func: str, fields: dict, now: dt.datetime | None):
    from django_q.models import Schedule

    wanted = {"func": func, "repeats": -1, **fields}
    schedule = Schedule.objects.filter(name=name).first()
    if schedule is None:
        return Schedule.objects.create(name=name, next_run=now or timezone.now(), **wanted)
    if any(getattr(schedule, key) != value for key, value in wanted.items()):
        for key, value in wanted.items():
            setattr(schedule, key, value)
        schedule.save()
    return schedule
