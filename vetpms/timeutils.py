"""Practice-time helpers. Storage is UTC; people think in the practice's wall-clock time.

DST matters here: on the spring-forward day a local hour does not exist (refused with a message), on the
fall-back day an hour happens twice (the first occurrence is meant unless ``fold=1`` says otherwise), and a local
day can last 23 or 25 hours, so day bounds are computed from local midnights, never as start + 24 h.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

UTC = dt.UTC


def practice_tz() -> ZoneInfo:
    tz = timezone.get_default_timezone()
    assert isinstance(tz, ZoneInfo)
    return tz


def exists_locally(value: dt.datetime) -> bool:
    """False for a wall-clock time skipped by a spring-forward change."""
    roundtrip = value.astimezone(UTC).astimezone(value.tzinfo)
    return roundtrip.replace(tzinfo=None) == value.replace(tzinfo=None)


def is_ambiguous(value: dt.datetime) -> bool:
    """True for a wall-clock time that happens twice (the fall-back hour)."""
    return value.replace(fold=0).utcoffset() != value.replace(fold=1).utcoffset()


def local_datetime(day: dt.date, at: dt.time, *, fold: int = 0) -> dt.datetime:
    """The aware instant of ``at`` on ``day`` in the practice's zone; a time that does not exist is refused."""
    value = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=practice_tz()).replace(fold=fold)
    if not exists_locally(value):
        raise ValidationError(
            f"{at:%H:%M} does not exist on {day:%d %b %Y}: the clocks go forward then. Choose another time.",
            code="nonexistent_time",
        )
    return value


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local day, in UTC (23 or 25 hours apart on DST change days).

    Returned in UTC on purpose: Python compares and subtracts two datetimes that share a tzinfo as wall-clock
    times, which is wrong across a change; UTC values compare and subtract as instants.
    """
    tz = practice_tz()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def to_local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(practice_tz())


def make_aware_strict(value: dt.datetime) -> dt.datetime:
    """The instant meant by ``value``, in UTC: an aware datetime as it is, a naive one read as practice
    wall-clock time (refusing a time that does not exist). UTC so that adding a duration adds real minutes."""
    if timezone.is_aware(value):
        return value.astimezone(UTC)
    return local_datetime(value.date(), value.time(), fold=value.fold).astimezone(UTC)
