"""What the clinical record adds to each row of a vet's day list (registered with appointments.flags in
ClinicalConfig.ready): the pet's problem alerts by name, how many other problems are active (named in the badge's
title), and the consultation of the appointment once it is open (a link to it, saying whether it is signed). Two
queries whatever the number of rows."""

from __future__ import annotations

from django.urls import reverse

from appointments.flags import DayListFlag
from appointments.models import Appointment
from clinical.models import Consultation, Problem
from vetpms.models import User

MAX_PROBLEMS_SHOWN = 3


def clinical_flags(appointments: list[Appointment], user: User) -> dict[int, list[DayListFlag]]:
    flags: dict[int, list[DayListFlag]] = {}
    if not user.has_perm("clinical.view_problem"):
        return flags
    animal_ids = {a.animal_id for a in appointments}
    problems: dict[int, list[Problem]] = {}
    rows = (
        Problem.objects.filter(animal_id__in=animal_ids)
        .exclude(status=Problem.Status.RESOLVED)
        .only("id", "animal_id", "condition", "status", "is_alert")
        .order_by("animal_id", "-is_alert", "-onset", "id")
    )
    for problem in rows:
        problems.setdefault(problem.animal_id, []).append(problem)
    consultations: dict[int, tuple[int, str]] = {}
    if user.has_perm("clinical.view_consultation"):
        consultations = {
            appointment_id: (pk, status)
            for pk, appointment_id, status in Consultation.objects.filter(
                appointment_id__in=[a.pk for a in appointments]
            ).values_list("pk", "appointment_id", "status")
        }
    for appointment in appointments:
        row: list[DayListFlag] = []
        animal_url = reverse("animals:detail", args=[appointment.animal_id]) + "#problems"
        current = problems.get(appointment.animal_id, [])
        for problem in [p for p in current if p.is_alert]:
            row.append(DayListFlag(problem.condition, "danger", animal_url, f"{problem.get_status_display()} problem"))
        others = [p for p in current if not p.is_alert]
        if others:
            names = ", ".join(p.condition for p in others[:MAX_PROBLEMS_SHOWN])
            label = f"{len(others)} active problem{'s' if len(others) != 1 else ''}"
            row.append(DayListFlag(label, "warning", animal_url, names))
        if appointment.pk in consultations:
            pk, status = consultations[appointment.pk]
            signed = status == Consultation.Status.SIGNED
            row.append(
                DayListFlag(
                    "Consultation signed" if signed else "Consultation (draft)",
                    "secondary" if signed else "info",
                    reverse("clinical:consultation", args=[pk]),
                    "Open the consultation record",
                )
            )
        if row:
            flags[appointment.pk] = row
    return flags
