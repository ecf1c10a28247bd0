"""The manager's dashboard: the four figures of their home page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from invoicing.models import RevenueDay
from reminders.models import ReminderDelivery
from reports.builders.common import money
from reports.builders.receivables import overdue_now
from reports.periods import years_back
from vetpms.models import Vet
from vetpms.money import ZERO
from vetpms.timeutils import local_day_bounds


@dataclass
class DashboardFigures:
    """The four cards of the manager's home page (reports.views.dashboard_cards)."""

    today: dt.date
    revenue_this_month: Decimal  # the 1st of this month to today, gross after credit notes
    revenue_same_month_last_year: Decimal  # the same days a year earlier
    appointments_today: int  # today's appointments, cancelled ones left out
    appointments_by_status: dict[str, int]  # every status, cancelled included
    overdue_receivables: Decimal  # clients' and insurers' shares past the invoice's due date
    reminders_sent_this_week: int  # reminder emails sent since Monday


def revenue_between(start: dt.date, end: dt.date, vet_id: int | None = None) -> Decimal:
    """Gross invoiced less credited over [start, end] (the revenue report's "Revenue" total), from the revenue
    summary per day (invoicing.summaries): one query over a few hundred rows a month."""
    qs = RevenueDay.objects.filter(day__gte=start, day__lte=end)
    if vet_id is not None:
        qs = qs.filter(vet_key=vet_id)
    return money(qs.aggregate(total=Sum("gross"))["total"])


def dashboard_figures(user) -> DashboardFigures:
    """This month's revenue against the same days a year earlier, today's appointments, overdue receivables and
    reminder emails sent this week (a vet without reports.view_reports gets their own revenue and
    appointments and no practice-wide figures)."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    own = None if user.has_perm("reports.view_reports") else Vet.objects.filter(user_id=user.pk).first()
    vet_id = own.pk if own else None
    lo, hi = local_day_bounds(today)
    appointments_qs = Appointment.objects.filter(start__gte=lo, start__lt=hi)
    if vet_id is not None:
        appointments_qs = appointments_qs.filter(vet_id=vet_id)
    by_status = dict(appointments_qs.values("status").annotate(n=Count("id")).values_list("status", "n").order_by())
    week_start = today - dt.timedelta(days=today.weekday())
    overdue = ZERO
    sent = 0
    if vet_id is None:
        overdue = overdue_now(today)
        sent = ReminderDelivery.objects.filter(
            status=ReminderDelivery.Status.SENT,
            channel=ReminderDelivery.Channel.EMAIL,
            sent_at__gte=local_day_bounds(week_start)[0],
            sent_at__lt=hi,
        ).count()
    return DashboardFigures(
        today=today,
        revenue_this_month=revenue_between(month_start, today, vet_id),
        revenue_same_month_last_year=revenue_between(years_back(month_start), years_back(today), vet_id),
        appointments_today=sum(n for status, n in by_status.items() if status != AppointmentStatus.CANCELLED),
        appointments_by_status=by_status,
        overdue_receivables=overdue,
        reminders_sent_this_week=sent,
    )
