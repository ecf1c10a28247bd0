"""The appointments report: volumes, no-shows, cancellations and book utilisation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import (
    ExtractIsoWeekDay,
)

from appointments.availability import sessions_on
from appointments.models import Appointment, AppointmentStatus, BookException, WorkingHours
from reports.base import Chart, Column, ReportParams, ReportResult
from reports.builders.common import column_totals, percent, result, vet_scope
from reports.periods import local_bounds
from vetpms.models import Vet
from vetpms.timeutils import practice_tz

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DURATION = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())


def working_minutes(vet_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, int]:
    """Each vet's working minutes over the local days [start, end]: weekly sessions, less leave, plus extra
    sessions, in real minutes (a session across a clock change is an hour shorter or longer). Two queries."""
    vet_ids = list(vet_ids)
    hours: dict[int, list[WorkingHours]] = defaultdict(list)
    for session in WorkingHours.objects.filter(vet_id__in=vet_ids):
        hours[session.vet_id].append(session)
    exceptions: dict[tuple[int, dt.date], list[BookException]] = defaultdict(list)
    for exc in BookException.objects.filter(vet_id__in=vet_ids, date__gte=start, date__lte=end):
        exceptions[(exc.vet_id, exc.date)].append(exc)
    tz = practice_tz()
    minutes: dict[int, int] = dict.fromkeys(vet_ids, 0)
    plain: dict[tuple[int, int], int] = {}  # (vet, weekday) -> minutes on a day with no exception and no clock change
    day = start
    while day <= end:
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        clock_change = midnight.utcoffset() != next_midnight.utcoffset()
        for vet_id in vet_ids:
            special = exceptions.get((vet_id, day))
            key = (vet_id, day.weekday())
            if special or clock_change or key not in plain:
                sessions = sessions_on(day, hours[vet_id], special or [])
                value = int(sum(((e - s).total_seconds() for s, e in sessions), 0.0) // 60)
                if not special and not clock_change:
                    plain[key] = value
            else:
                value = plain[key]
            minutes[vet_id] += value
        day += dt.timedelta(days=1)
    return minutes


def _status_counts(rows: Iterable[dict], key: str) -> dict[Any, dict[str, int]]:
    counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r[key]][r["status"]] += r["n"]
    return counts


def _volume_row(name: str, counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    cancelled = counts.get(AppointmentStatus.CANCELLED, 0)
    no_shows = counts.get(AppointmentStatus.NO_SHOW, 0)
    kept = total - cancelled
    return {
        "name": name,
        "appointments": total,
        "completed": counts.get(AppointmentStatus.COMPLETED, 0),
        "cancelled": cancelled,
        "no_shows": no_shows,
        "no_show_rate": percent(no_shows, kept),
        "cancellation_rate": percent(cancelled, total),
    }


VOLUME_COLUMNS = [
    Column("appointments", "Appointments", "int"),
    Column("completed", "Completed", "int"),
    Column("cancelled", "Cancelled", "int"),
    Column("no_shows", "No-shows", "int"),
    Column("no_show_rate", "No-show rate", "percent"),
    Column("cancellation_rate", "Cancellation rate", "percent"),
]


def _volume_totals(rows: list[dict]) -> dict[str, Any]:
    totals = column_totals(rows, ["appointments", "completed", "cancelled", "no_shows"])
    totals["no_show_rate"] = percent(
        totals["no_shows"] or 0, (totals["appointments"] or 0) - (totals["cancelled"] or 0)
    )
    totals["cancellation_rate"] = percent(totals["cancelled"] or 0, totals["appointments"] or 0)
    return totals


def appointments(params: ReportParams) -> ReportResult:
    """Volumes by vet, type and weekday (of the local start), no-show rate (no-shows of the appointments not
    cancelled), cancellation rate (cancelled of all booked) and book utilisation: booked minutes (appointments
    not cancelled; a no-show held its slot) over working minutes (sessions less leave plus extra sessions)."""
    lo, hi = local_bounds(params.start, params.end)
    qs = Appointment.objects.filter(start__gte=lo, start__lt=hi)
    vets = vet_scope(params)
    if vets:
        qs = qs.filter(vet_id__in=vets)
    by_vet = list(
        qs.values("vet_id", "status")
        .annotate(n=Count("id"), booked=Sum(DURATION, filter=~Q(status=AppointmentStatus.CANCELLED)))
        .order_by()
    )
    by_type = list(qs.values("type__name", "status").annotate(n=Count("id")).order_by())
    by_weekday = list(
        qs.annotate(weekday=ExtractIsoWeekDay("start", tzinfo=practice_tz()))
        .values("weekday", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    vet_qs = (
        Vet.objects.filter(pk__in=vets)
        if vets
        else Vet.objects.filter(Q(is_active=True) | Q(pk__in={r["vet_id"] for r in by_vet}))
    )
    vet_names = dict(vet_qs.values_list("pk", "display_name"))
    working = working_minutes(vet_names, params.start, params.end)
    booked: dict[int, int] = defaultdict(int)
    for r in by_vet:
        if r["booked"] is not None:
            booked[r["vet_id"]] += int(r["booked"].total_seconds() // 60)
    counts = _status_counts(by_vet, "vet_id")
    rows = []
    for vet_id, name in sorted(vet_names.items(), key=lambda item: item[1]):
        row = _volume_row(name, counts.get(vet_id, {}))
        row.update(
            booked_minutes=booked[vet_id],
            working_minutes=working[vet_id],
            utilisation=percent(booked[vet_id], working[vet_id]),
        )
        rows.append(row)
    totals = _volume_totals(rows)
    totals.update(column_totals(rows, ["booked_minutes", "working_minutes"]))
    totals["utilisation"] = percent(totals["booked_minutes"] or 0, totals["working_minutes"] or 0)
    columns = [
        Column("name", "Vet"),
        *VOLUME_COLUMNS,
        Column("booked_minutes", "Booked minutes", "int"),
        Column("working_minutes", "Working minutes", "int"),
        Column("utilisation", "Utilisation", "percent"),
    ]
    type_counts = _status_counts(by_type, "type__name")
    type_rows = sorted(
        (_volume_row(name, c) for name, c in type_counts.items()), key=lambda r: (-r["appointments"], r["name"])
    )
    weekday_counts = _status_counts(by_weekday, "weekday")
    weekday_rows = [_volume_row(WEEKDAYS[d - 1], weekday_counts.get(d, {})) for d in range(1, 8)]
    sections = [
        ReportResult(
            name="appointments",
            title="By appointment type",
            params=params,
            columns=[Column("name", "Type"), *VOLUME_COLUMNS],
            rows=type_rows,
            totals=_volume_totals(type_rows),
        ),
        ReportResult(
            name="appointments",
            title="By weekday",
            params=params,
            columns=[Column("name", "Weekday"), *VOLUME_COLUMNS],
            rows=weekday_rows,
            totals=_volume_totals(weekday_rows),
        ),
    ]
    chart = Chart(
        kind="stacked_bar",
        title="Appointments by vet",
        x_label="Vet",
        y_label="Appointments",
        categories=[r["name"] for r in rows],
        series=[
            ("Completed", [r["completed"] for r in rows]),
            ("Other kept", [r["appointments"] - r["completed"] - r["cancelled"] - r["no_shows"] for r in rows]),
            ("No-shows", [r["no_shows"] for r in rows]),
            ("Cancelled", [r["cancelled"] for r in rows]),
        ],
    )
    notes = [
        "No-show rate: no-shows of the appointments not cancelled. Utilisation: minutes booked (no-shows "
        "included, cancellations not) of the working minutes (weekly hours less leave plus extra sessions)."
    ]
    return result(
        params,
        "appointments",
        "Appointments",
        columns,
        rows,
        totals=totals,
        chart=chart,
        notes=notes,
        sections=sections,
    )
