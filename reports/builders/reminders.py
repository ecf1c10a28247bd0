"""The reminders report: notices sent, compliance within 30/60/90 days, owners to call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q
from django.db.models.functions import (
    TruncDate,
)

from clients.models import Client
from reminders.models import Reminder, ReminderDelivery, ReminderNotice
from reports.base import Chart, Column, ReportParams, ReportResult
from reports.builders.common import MAX_ROWS, column_totals, percent, refuse_vets, result
from reports.periods import local_bounds
from vetpms.timeutils import practice_tz

WINDOWS = (30, 60, 90)


def _owners(count: int) -> str:
    return f"{count:,} owner was" if count == 1 else f"{count:,} owners were"


def reminders(params: ReportParams) -> ReportResult:
    """Notices sent by type (sent in the period); compliance of the reminders due in the period (cancelled ones
    left out): completed within 30, 60 and 90 days of the due date (or before it), by the local day they were
    completed; owners with no channel (put on the follow-up list in the period) and owners with reminders due
    but no consent or no email address."""
    refuse_vets(params)
    lo, hi = local_bounds(params.start, params.end)
    sent = dict(
        ReminderNotice.objects.filter(status=ReminderNotice.Status.SENT, sent_at__gte=lo, sent_at__lt=hi)
        .values("reminder__type__name")
        .annotate(n=Count("id"))
        .values_list("reminder__type__name", "n")
        .order_by()
    )
    due = Reminder.objects.filter(due_on__gte=params.start, due_on__lte=params.end).exclude(
        status=Reminder.Status.CANCELLED
    )
    lag = ExpressionWrapper(TruncDate("closed_at", tzinfo=practice_tz()) - F("due_on"), output_field=DurationField())
    completed = Q(status=Reminder.Status.COMPLETED)
    compliance = {
        r["type__name"]: r
        for r in due.annotate(lag=lag)
        .values("type__name")
        .annotate(
            due=Count("id"),
            **{f"w{n}": Count("id", filter=completed & Q(lag__lte=dt.timedelta(days=n))) for n in WINDOWS},
        )
        .order_by()
    }
    rows = []
    for name in sorted(set(sent) | set(compliance)):
        c = compliance.get(name, {})
        row: dict[str, Any] = {"name": name, "sent": sent.get(name, 0), "due": c.get("due", 0)}
        for n in WINDOWS:
            row[f"w{n}"] = c.get(f"w{n}", 0)
            row[f"p{n}"] = percent(row[f"w{n}"], row["due"])
        rows.append(row)
    totals = column_totals(rows, ["sent", "due", *(f"w{n}" for n in WINDOWS)])
    for n in WINDOWS:
        totals[f"p{n}"] = percent(totals[f"w{n}"] or 0, totals["due"] or 0)
    columns = [Column("name", "Reminder type"), Column("sent", "Notices sent", "int"), Column("due", "Due", "int")]
    for n in WINDOWS:
        columns += [Column(f"w{n}", f"Done within {n} days", "int"), Column(f"p{n}", f"Within {n} days", "percent")]

    follow_ups = list(
        ReminderDelivery.objects.filter(
            status=ReminderDelivery.Status.NO_CHANNEL, created_at__gte=lo, created_at__lt=hi
        )
        .values("client_id")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-last", "client_id")
    )
    shown = follow_ups[:MAX_ROWS]
    people = Client.objects.in_bulk([r["client_id"] for r in shown])
    no_channel_rows = []
    for r in shown:
        person = people.get(r["client_id"])
        if person is None:
            continue
        # Why, from the owner's details now (they may have given consent or an address since).
        if not person.reminder_consent:
            why = "No consent to reminder emails"
        else:
            why = "No email address" if not person.email else "Has a channel now"
        no_channel_rows.append(
            {
                "name": person.display_name,
                "phone": person.main_phone,
                "reason": why,
                "deliveries": r["n"],
                "last": r["last"],
            }
        )
    without_channel = (
        due.filter(status=Reminder.Status.PENDING)
        .filter(Q(animal__owner__reminder_consent=False) | Q(animal__owner__email=""))
        .values("animal__owner_id")
        .distinct()
        .count()
    )
    section_notes = [
        f"{_owners(len(follow_ups))} put on the follow-up list in the period (no consent to reminder emails, "
        f"or no email address). Of the owners whose reminders fell due in the period and are still pending, "
        f"{without_channel:,} {'has' if without_channel == 1 else 'have'} no channel today."
    ]
    if len(follow_ups) > MAX_ROWS:
        section_notes.append(f"The {MAX_ROWS} most recent of {len(follow_ups):,}.")
    sections = [
        ReportResult(
            name="reminders",
            title="Owners with no channel (follow-up list)",
            params=params,
            columns=[
                Column("name", "Owner"),
                Column("phone", "Phone"),
                Column("reason", "Why"),
                Column("deliveries", "Times on the list", "int"),
                Column("last", "Last put on the list", "date"),
            ],
            rows=no_channel_rows,
            totals={"deliveries": sum(r["n"] for r in follow_ups)},
            notes=section_notes,
        )
    ]
    chart = Chart(
        kind="bar",
        title="Reminders done within 30, 60 and 90 days of their due date",
        x_label="Reminder type",
        y_label="Share of reminders due (%)",
        categories=[r["name"] for r in rows],
        series=[(f"Within {n} days", [r[f"p{n}"] or Decimal(0) for r in rows]) for n in WINDOWS],
    )
    return result(
        params,
        "reminders",
        "Reminders",
        columns,
        rows,
        totals=totals,
        chart=chart,
        sections=sections,
    )
