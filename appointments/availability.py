"""When a vet is available: their weekly sessions on a date, minus leave, plus extra sessions.

Pure functions over rows already loaded, so the day grid and the free-slot search cost a fixed number of
queries whatever the number of vets. All intervals are aware, half-open [start, end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from appointments.models import BookException, WorkingHours
from vetpms.timeutils import exists_locally, practice_tz

Interval = tuple[dt.datetime, dt.datetime]


def _aware(day: dt.date, at: dt.time) -> dt.datetime:
    """Wall time -> instant in UTC (so intervals compare as instants across a DST change).

    A session edge inside a spring-forward gap (01:30 that day) takes the offset from before the change, which
    lands it at 02:30 local: the session simply starts at the first real instant after the gap."""
    value = dt.datetime.combine(day, at, tzinfo=practice_tz())
    if not exists_locally(value):
        value = value.replace(fold=0)
    return value.astimezone(dt.UTC)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            next_pieces = []
            for s, e in pieces:
                if hole_end <= s or hole_start >= e:
                    next_pieces.append((s, e))
                    continue
                if s < hole_start:
                    next_pieces.append((s, hole_start))
                if hole_end < e:
                    next_pieces.append((hole_end, e))
            pieces = next_pieces
        result.extend(pieces)
    return result


def exception_interval(day: dt.date, start_time: dt.time | None, end_time: dt.time | None) -> Interval:
    """The instants a dated exception covers: its times, or midnight to midnight (23 or 25 hours) without them."""
    if start_time is None or end_time is None:
        return _aware(day, dt.time.min), _aware(day + dt.timedelta(days=1), dt.time.min)
    return _aware(day, start_time), _aware(day, end_time)


def sessions_on(day: dt.date, hours: Iterable[WorkingHours], exceptions: Iterable[BookException]) -> list[Interval]:
    """The vet's available intervals on ``day`` (``hours`` and ``exceptions`` of that vet)."""
    regular = [(_aware(day, h.start_time), _aware(day, h.end_time)) for h in hours if h.weekday == day.weekday()]
    leave: list[Interval] = []
    extra: list[Interval] = []
    for exc in exceptions:
        if exc.date != day:
            continue
        interval = exception_interval(day, exc.start_time, exc.end_time)
        (leave if exc.kind == BookException.Kind.LEAVE else extra).append(interval)
    return _merge(_subtract(_merge(regular + extra), leave))


def within(sessions: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(s <= start and end <= e for s, e in sessions)


@dataclass(frozen=True)
class Slot:
    """A free start and end, in UTC (sortable as instants; shown with vetpms.timeutils.to_local)."""

    vet_id: int
    start: dt.datetime
    end: dt.datetime


def free_slots(
    *,
    vet_id: int,
    sessions: Sequence[Interval],
    busy: Sequence[Interval],
    minutes: int,
    step_minutes: int,
    not_before: dt.datetime,
) -> list[Slot]:
    """Starts every ``step_minutes`` of real time from each session's start where ``minutes`` fit, nothing
    overlaps and the start is not in the past. Stepping in real (UTC) time keeps both occurrences of a repeated
    fall-back hour and never offers a wall time that does not exist."""
    length = dt.timedelta(minutes=minutes)
    step = dt.timedelta(minutes=step_minutes)
    busy_sorted = sorted(busy)
    slots: list[Slot] = []
    for session_start, session_end in sessions:
        start = session_start.astimezone(dt.UTC)
        session_end_utc = session_end.astimezone(dt.UTC)
        while start + length <= session_end_utc:
            end = start + length
            if start >= not_before and not any(b_start < end and start < b_end for b_start, b_end in busy_sorted):
                slots.append(Slot(vet_id, start, end))
            start += step
    return slots
