"""Layouts of the appointment book pages: the day grid (a column per vet) and the week (a column per day), as
HTML tables whose appointment cells span rows (rowspan), and the appointment type list (django-tables2).

The grid is a plain table on purpose: the CSP forbids style attributes, so blocks cannot be positioned with inline
heights. Instead the rows are the pieces of time between consecutive *edges*: every ``step`` mark, every start and
end of a live appointment, every offered slot. Each row carries its length in minutes as a class (``seg-<n>``, one
rule per minute in appointments/book.css), so a block spanning its rows is drawn at its real time and length
whatever minute it starts on. Appointments that overlap in one book (an override, an emergency squeezed in) sit
side by side: a column has as many lanes as its most crowded moment needs. Cancelled and no-show appointments
are not drawn (they no longer hold the time); the day list shows them.

A free piece of time carries a "Book" link only where ``Column.offered`` says so, and the views fill that from
``selectors.find_free_slots``: the same sessions, clash rule and "not in the past" the booking service applies,
so the grid never offers a time the service would refuse.

In the day grid the axis is real time from the first row, so the repeated hour of the autumn change appears twice
(labelled with the zone abbreviation) and the skipped spring hour not at all. In the week the axis is the wall
clock of each day (a DST change day may show a row twice or skip one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from appointments.availability import Interval
from appointments.models import Appointment, AppointmentType
from appointments.selectors import Block
from vetpms.timeutils import local_day_bounds, practice_tz, to_local

DEFAULT_OPEN = dt.time(8)
DEFAULT_CLOSE = dt.time(18)
MAX_SEGMENT_CLASS = 60  # appointments/book.css has seg-1 .. seg-60
Shown = Appointment | Block  # the pages read blocks (selectors.Block); an appointment draws the same


@dataclass
class Column:
    label: str
    vet_id: int
    day: dt.date
    sessions: Sequence[Interval]
    appointments: Sequence[Shown]
    offered: Sequence[dt.datetime] = ()  # the bookable starts (UTC instants), from selectors.find_free_slots
    is_today: bool = False
    lanes: int = 1  # set by the layout: how many appointments overlap at its most crowded moment


@dataclass
class Cell:
    kind: str  # "block" (an appointment), "free" (inside working hours), "off" (outside)
    rowspan: int = 1
    colspan: int = 1
    appointment: Shown | None = None
    column: Column | None = None
    offer: dt.datetime | None = None  # a bookable start here (the top of the cell)

    @property
    def book_query(self) -> str:
        """The query string that starts a booking here: vet, local date and time (fold=1: the repeated hour)."""
        assert self.offer is not None and self.column is not None
        local = to_local(self.offer)
        params = {"vet": self.column.vet_id, "date": local.date().isoformat(), "time": f"{local:%H:%M}"}
        if local.fold:
            params["fold"] = "1"
        return urlencode(params)

    @property
    def offer_label(self) -> str:
        return f"{to_local(self.offer):%H:%M}" if self.offer else ""


@dataclass
class Row:
    label: str  # the time at a step mark; empty for an edge between marks (an appointment at 08:55)
    on_the_hour: bool
    minutes: int  # the row's length, for its height class
    cells: list[Cell]  # only the cells to draw: rows covered by a block above have none for that column

    @property
    def height_class(self) -> str:
        return f"seg-{max(1, min(self.minutes, MAX_SEGMENT_CLASS))}"


def day_has_dst_change(day: dt.date) -> bool:
    start, end = local_day_bounds(day)
    return to_local(start).utcoffset() != to_local(end - dt.timedelta(microseconds=1)).utcoffset()


def time_label(value: dt.datetime, *, with_zone: bool) -> str:
    local = to_local(value)
    return f"{local:%H:%M} {local.tzname()}" if with_zone else f"{local:%H:%M}"


# --- The layout, on an axis of minutes ---------------------------------------------------------------------------
# Each column states its appointments, sessions and offers as minutes on the page's axis (real minutes since the
# first row in the day grid, wall-clock minutes since midnight in the week); the rows are then the same for both.


@dataclass
class _Track:
    column: Column
    items: list[tuple[float, float, Shown]]
    sessions: list[tuple[float, float]]
    offers: dict[float, dt.datetime] = field(default_factory=dict)


def _lanes(items: list[tuple[float, float, Shown]]) -> list[int]:
    """A lane per item, the lowest whose previous item has ended (interval partitioning: as few lanes as the
    most crowded moment needs)."""
    ends: list[float] = []
    lanes = []
    for start, end, _ in items:
        for lane, lane_end in enumerate(ends):
            if lane_end <= start:
                ends[lane] = end
                lanes.append(lane)
                break
        else:
            ends.append(end)
            lanes.append(len(ends) - 1)
    return lanes


def _lay_out(tracks: list[_Track], marks: list[float], label_of, hour_of) -> list[Row]:
    """Rows between consecutive edges from ``marks[0]`` to ``marks[-1]``, each track's blocks in their lanes."""
    low, high = marks[0], marks[-1]
    edges = set(marks)
    for track in tracks:
        track.items = sorted(
            ((max(s, low), min(e, high), a) for s, e, a in track.items if s < high and e > low),
            key=lambda item: (item[0], item[1], item[2].pk),
        )
        edges.update(x for s, e, _ in track.items for x in (s, e))
        edges.update(k for k in track.offers if low <= k < high)
    cuts = sorted(edges)
    index = {cut: i for i, cut in enumerate(cuts)}
    mark_set = set(marks)
    per_track = []
    for track in tracks:
        lanes = _lanes(track.items)
        track.column.lanes = max(lanes, default=0) + 1
        # lane -> {first row: (rows spanned, appointment)}; covered[lane][row] when a block holds that row
        starts: list[dict[int, tuple[int, Shown]]] = [{} for _ in range(track.column.lanes)]
        covered = [[False] * (len(cuts) - 1) for _ in range(track.column.lanes)]
        for (start, end, appointment), lane in zip(track.items, lanes, strict=True):
            first, last = index[start], index[end]
            starts[lane][first] = (last - first, appointment)
            for r in range(first, last):
                covered[lane][r] = True
        per_track.append((track, starts, covered))
    rows = []
    for r in range(len(cuts) - 1):
        top, bottom = cuts[r], cuts[r + 1]
        cells: list[Cell] = []
        for track, starts, covered in per_track:
            column = track.column
            inside = any(s <= top and bottom <= e for s, e in track.sessions)
            free_run = 0
            for lane in range(column.lanes):
                if r in starts[lane]:
                    cells.extend(_free_cells(free_run, column, inside, track.offers.get(top)))
                    free_run = 0
                    span, appointment = starts[lane][r]
                    cells.append(Cell("block", span, 1, appointment, column))
                elif covered[lane][r]:
                    cells.extend(_free_cells(free_run, column, inside, track.offers.get(top)))
                    free_run = 0
                else:
                    free_run += 1
            cells.extend(_free_cells(free_run, column, inside, track.offers.get(top)))
        label = label_of(top) if top in mark_set else ""
        rows.append(Row(label, top in mark_set and hour_of(top), round(bottom - top), cells))
    return rows


def _free_cells(width: int, column: Column, inside: bool, offer: dt.datetime | None) -> list[Cell]:
    if not width:
        return []
    # An offer means no live appointment overlaps its time, so all lanes are free and this is the only run.
    return [
        Cell("free" if inside else "off", 1, width, None, column, offer if inside and width == column.lanes else None)
    ]


def _marks(low: float, high: float, step: int) -> list[float]:
    marks = []
    at = low
    while at < high:
        marks.append(at)
        at += step
    return [*marks, at] if marks else [low, low + step]


def day_grid_rows(*, day: dt.date, columns: list[Column], step_minutes: int) -> list[Row]:
    """Rows from the earliest session start to the latest session end of the day (08:00 to 18:00 when nobody
    works), stretched to show every live appointment; the axis is real minutes since the first row."""
    tz = practice_tz()
    starts = [s for c in columns for s, _ in c.sessions]
    ends = [e for c in columns for _, e in c.sessions]
    if not starts:
        starts = [dt.datetime.combine(day, DEFAULT_OPEN, tzinfo=tz).astimezone(dt.UTC)]
        ends = [dt.datetime.combine(day, DEFAULT_CLOSE, tzinfo=tz).astimezone(dt.UTC)]
    day_start, day_end = local_day_bounds(day)
    live = {c.vet_id: [a for a in c.appointments if a.is_blocking] for c in columns}
    for c in columns:
        starts += [max(a.start, day_start) for a in live[c.vet_id]]
        ends += [min(a.end, day_end) for a in live[c.vet_id]]
    first_local = to_local(min(starts))
    origin = (
        first_local
        - dt.timedelta(
            minutes=first_local.minute % step_minutes, seconds=first_local.second, microseconds=first_local.microsecond
        )
    ).astimezone(dt.UTC)

    def key(instant: dt.datetime) -> float:
        return (instant - origin).total_seconds() / 60

    marks = _marks(0, key(max(ends)), step_minutes)
    tracks = [
        _Track(
            c,
            [(key(a.start), key(a.end), a) for a in live[c.vet_id]],
            [(key(s), key(e)) for s, e in c.sessions],
            {key(o): o for o in c.offered},
        )
        for c in columns
    ]
    with_zone = day_has_dst_change(day)

    def instant(k: float) -> dt.datetime:
        return origin + dt.timedelta(minutes=k)

    return _lay_out(
        tracks,
        marks,
        lambda k: time_label(instant(k), with_zone=with_zone),
        lambda k: to_local(instant(k)).minute == 0,
    )


def week_grid_rows(*, columns: list[Column], step_minutes: int) -> list[Row]:
    """Rows of wall-clock times shared by the seven day columns."""

    def wall(column: Column, instant: dt.datetime) -> float:
        local = to_local(instant)
        days = (local.date() - column.day).days
        return days * 1440 + local.hour * 60 + local.minute + local.second / 60

    tracks = []
    for c in columns:
        items = []
        for a in c.appointments:
            if a.is_blocking:
                start, end = wall(c, a.start), wall(c, a.end)
                items.append((start, max(end, start + a.minutes), a))  # an autumn-change hour runs backwards
        sessions = [(wall(c, s), wall(c, e)) for s, e in c.sessions]
        tracks.append(_Track(c, items, sessions, {wall(c, o): o for o in c.offered}))
    lows = [s for t in tracks for s, _ in t.sessions] + [s for t in tracks for s, _, _ in t.items]
    highs = [e for t in tracks for _, e in t.sessions] + [min(e, 1440) for t in tracks for _, e, _ in t.items]
    low = min(lows, default=DEFAULT_OPEN.hour * 60)
    high = max(highs, default=DEFAULT_CLOSE.hour * 60)
    low = max(0, low - low % step_minutes)
    marks = _marks(low, min(max(high, low + step_minutes), 1440), step_minutes)

    def label(k: float) -> str:
        minutes = int(k) % 1440
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return _lay_out(tracks, marks, label, lambda k: int(k) % 60 == 0)


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
