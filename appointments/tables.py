"""Layouts of the appointment book pages: the day grid (a column per vet) and the week (a column per day), as
HTML tables whose appointment cells span rows (rowspan), and the appointment type list (django-tables2).

The grid is a plain table on purpose: the CSP forbids style attributes, so blocks cannot be positioned with inline
heights; a cell spanning its rows needs no styling at all, and the type's colour comes from a class
(``appt-type-<id>``, served by the generated stylesheet appointments/types.css).

Rows are instants, each ``step`` long. In the day grid they step in real time from the first row, so the repeated
hour of the autumn change appears twice (labelled with the zone abbreviation) and the skipped spring hour not at
all. In the week, rows are wall-clock times of each day (a DST change day may show a row twice or skip one).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from appointments.availability import Interval
from appointments.models import Appointment, AppointmentType
from vetpms.timeutils import local_day_bounds, practice_tz, to_local

DEFAULT_OPEN = dt.time(8)
DEFAULT_CLOSE = dt.time(18)


@dataclass
class Cell:
    kind: str  # "block" (an appointment), "free" (inside working hours), "off" (outside)
    start: dt.datetime
    rowspan: int = 1
    appointment: Appointment | None = None
    column: Column | None = None

    @property
    def local_start(self) -> dt.datetime:
        return to_local(self.start)

    @property
    def is_past(self) -> bool:
        return self.start < timezone.now()

    @property
    def book_query(self) -> str:
        """The query string that starts a booking here: vet, local date and time (fold=1: the repeated hour)."""
        local = self.local_start
        params = {"vet": self.column.vet_id if self.column else "", "date": local.date().isoformat()}
        params["time"] = f"{local:%H:%M}"
        if local.fold:
            params["fold"] = "1"
        return urlencode(params)


@dataclass
class Column:
    label: str
    vet_id: int
    day: dt.date
    sessions: Sequence[Interval]
    appointments: Sequence[Appointment]
    overflow: list[Appointment] = field(default_factory=list)
    is_today: bool = False


@dataclass
class Row:
    label: str
    on_the_hour: bool
    cells: list[Cell]  # only the cells to draw: rows covered by a block above have none for that column


def day_has_dst_change(day: dt.date) -> bool:
    start, end = local_day_bounds(day)
    return to_local(start).utcoffset() != to_local(end - dt.timedelta(microseconds=1)).utcoffset()


def time_label(value: dt.datetime, *, with_zone: bool) -> str:
    local = to_local(value)
    return f"{local:%H:%M} {local.tzname()}" if with_zone else f"{local:%H:%M}"


def _floor(value: dt.datetime, step: int) -> dt.datetime:
    local = to_local(value)
    return local - dt.timedelta(minutes=local.minute % step, seconds=local.second, microseconds=local.microsecond)


def _lay_out(column: Column, instants: list[dt.datetime], step: dt.timedelta) -> list[Cell | None]:
    """The cells of one column: None where a block above covers the row. Appointments that do not fit (outside the
    rows, or sharing rows with one already placed, e.g. a cancelled one under its replacement) go to overflow."""
    cells: list[Cell | None] = [None] * len(instants)
    taken = [False] * len(instants)
    ordered = sorted(column.appointments, key=lambda a: (not a.is_blocking, a.start, a.pk))
    for appointment in ordered:
        first = bisect.bisect_right(instants, appointment.start) - 1
        last = bisect.bisect_left(instants, appointment.end) - 1
        if first < 0 or last < first or appointment.start >= instants[-1] + step or any(taken[first : last + 1]):
            column.overflow.append(appointment)
            continue
        for i in range(first, last + 1):
            taken[i] = True
        cells[first] = Cell("block", instants[first], last - first + 1, appointment, column)
    for i, start in enumerate(instants):
        if not taken[i]:
            end = start + step
            free = any(s <= start and end <= e for s, e in column.sessions)
            cells[i] = Cell("free" if free else "off", start, 1, None, column)
    column.overflow.sort(key=lambda a: a.start)
    return cells


def _rows(labels: list[tuple[str, bool]], columns: list[Column], per_column: list[list[Cell | None]]) -> list[Row]:
    return [
        Row(label, hour, [cells[i] for cells in per_column if cells[i] is not None])
        for i, (label, hour) in enumerate(labels)
    ]


def day_grid_rows(*, day: dt.date, columns: list[Column], step_minutes: int) -> list[Row]:
    """Rows every ``step_minutes`` from the earliest session start to the latest session end of the day (08:00 to
    18:00 when nobody works), stretched to show every appointment."""
    tz = practice_tz()
    step = dt.timedelta(minutes=step_minutes)
    starts = [s for c in columns for s, _ in c.sessions]
    ends = [e for c in columns for _, e in c.sessions]
    if not starts:
        starts = [dt.datetime.combine(day, DEFAULT_OPEN, tzinfo=tz).astimezone(dt.UTC)]
        ends = [dt.datetime.combine(day, DEFAULT_CLOSE, tzinfo=tz).astimezone(dt.UTC)]
    day_start, day_end = local_day_bounds(day)
    for c in columns:
        starts += [max(a.start, day_start) for a in c.appointments]
        ends += [min(a.end, day_end) for a in c.appointments]
    first = _floor(min(starts), step_minutes).astimezone(dt.UTC)
    last = max(ends)
    instants = []
    at = first
    while at < last:
        instants.append(at)
        at += step
    with_zone = day_has_dst_change(day)
    labels = [(time_label(i, with_zone=with_zone), to_local(i).minute == 0) for i in instants]
    return _rows(labels, columns, [_lay_out(c, instants, step) for c in columns])


def week_grid_rows(*, columns: list[Column], step_minutes: int) -> list[Row]:
    """Rows of wall-clock times shared by the seven day columns."""
    tz = practice_tz()
    step = dt.timedelta(minutes=step_minutes)
    times = [to_local(s).time() for c in columns for s, _ in c.sessions] or [DEFAULT_OPEN]
    end_times = [to_local(e).time() for c in columns for _, e in c.sessions] or [DEFAULT_CLOSE]
    for c in columns:
        for a in c.appointments:
            if to_local(a.start).date() == c.day:
                times.append(to_local(a.start).time())
                end_local = to_local(a.end)
                end_times.append(end_local.time() if end_local.date() == c.day else dt.time(23, 59))
    first = min(times)
    first_minutes = first.hour * 60 + first.minute
    first_minutes -= first_minutes % step_minutes
    last = max(end_times)
    last_minutes = last.hour * 60 + last.minute + (1 if last.second else 0)
    wall = [dt.time(m // 60, m % 60) for m in range(first_minutes, max(last_minutes, first_minutes + 1), step_minutes)]
    per_column = []
    for c in columns:
        # Wall times to instants; kept increasing even across a change, as bisect needs.
        instants: list[dt.datetime] = []
        for t in wall:
            value = dt.datetime.combine(c.day, t, tzinfo=tz).astimezone(dt.UTC)
            instants.append(max(value, instants[-1] + dt.timedelta(seconds=1)) if instants else value)
        per_column.append(_lay_out(c, instants, step))
    labels = [(f"{t:%H:%M}", t.minute == 0) for t in wall]
    return _rows(labels, columns, per_column)


class AppointmentTypeTable(tables.Table):
    name = tables.Column(verbose_name="Type")
    default_minutes = tables.Column(verbose_name="Default duration", attrs={"td": {"class": "text-end"}})
    recall = tables.Column(accessor="recall_text", verbose_name="Recall", orderable=False, empty_values=())
    is_active = tables.BooleanColumn(verbose_name="In use", yesno="✔,—")

    class Meta:
        model = AppointmentType
        fields = ("name", "default_minutes", "recall", "is_active")
        attrs = {"class": "table table-hover align-middle mb-0"}
        row_attrs = {"class": lambda record: "" if record.is_active else "row-muted"}
        empty_text = "No appointment types yet."
        orderable = False

    def render_name(self, record):
        return format_html(
            '<span class="type-swatch appt-type-{}" aria-hidden="true"></span> <a href="{}">{}</a>',
            record.pk,
            reverse("appointments:type_update", args=[record.pk]),
            record.name,
        )

    def render_default_minutes(self, value):
        return f"{value} min"

    def render_recall(self, record):
        return record.recall_text or "—"
