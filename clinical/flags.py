"""The day list's problem alerts: the current problems marked as alerts of each pet (see appointments.flags)."""

from __future__ import annotations

from appointments.flags import DayListFlag
from appointments.models import Appointment
from clinical.selectors import alerts_for
from vetpms.models import User


def alert_flags(appointments: list[Appointment], user: User) -> dict[int, list[DayListFlag]]:
    if not user.has_perm("clinical.view_problem"):
        return {}
    alerts = alerts_for(animal_ids={a.animal_id for a in appointments})
    flags: dict[int, list[DayListFlag]] = {}
    for appointment in appointments:
        for problem in alerts.get(appointment.animal_id, []):
            flags.setdefault(appointment.pk, []).append(
                DayListFlag(label=problem.condition, tone="danger", title=f"{problem.get_status_display()} problem")
            )
    return flags
