"""The day list's reminder flag: a pet's overdue reminders beside its appointment (see appointments.flags)."""

from __future__ import annotations

from django.db.models import Count, Min
from django.utils import timezone

from appointments.flags import DayListFlag
from appointments.models import Appointment
from reminders.models import Reminder
from vetpms.models import User
from vetpms.tables import pk_url


def overdue_flags(appointments: list[Appointment], user: User) -> dict[int, list[DayListFlag]]:
    if not user.has_perm("reminders.view_reminder"):
        return {}
    overdue = {
        row["animal_id"]: row
        for row in Reminder.objects.filter(
            animal_id__in={a.animal_id for a in appointments},
            status=Reminder.Status.PENDING,
            due_on__lt=timezone.localdate(),
        )
        .values("animal_id")
        .annotate(count=Count("id"), oldest=Min("due_on"))
        .order_by()
    }
    flags: dict[int, list[DayListFlag]] = {}
    for appointment in appointments:
        row = overdue.get(appointment.animal_id)
        if row:
            count = row["count"]
            flags[appointment.pk] = [
                DayListFlag(
                    label=f"{count} reminder{'s' if count != 1 else ''} overdue",
                    tone="warning",
                    url=pk_url("animals:detail", appointment.animal_id),
                    title=f"Overdue since {row['oldest']:%d %b %Y}",
                )
            ]
    return flags
