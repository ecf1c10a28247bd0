"""Template helpers of the appointment pages: the status badge, and an animal's appointments (its page's history
card, which the animals app shows without importing this app)."""

from __future__ import annotations

from django import template

from appointments import selectors
from appointments.models import AppointmentStatus

register = template.Library()

S = AppointmentStatus
BADGES = {
    S.BOOKED: ("text-bg-light border", "○"),
    S.CONFIRMED: ("text-bg-info", "✓"),
    S.ARRIVED: ("text-bg-warning", "●"),
    S.IN_CONSULTATION: ("text-bg-primary", "▶"),
    S.COMPLETED: ("text-bg-success", "✔"),
    S.CANCELLED: ("text-bg-dark", "✕"),
    S.NO_SHOW: ("text-bg-danger", "!"),
}


@register.inclusion_tag("appointments/_status_badge.html")
def status_badge(appointment, compact: bool = False):
    css, icon = BADGES.get(appointment.status, ("text-bg-secondary", "?"))
    return {"label": appointment.get_status_display(), "css": css, "icon": icon, "compact": compact}


@register.inclusion_tag("appointments/_animal_appointments.html", takes_context=True)
def animal_appointments(context, animal, limit: int = 10):
    """The animal's latest appointments (newest first): one query, only for those who may see appointments."""
    user = context["request"].user
    if not user.has_perm("appointments.view_appointment"):
        return {"allowed": False, "animal": animal}
    rows = list(selectors.appointment_list(animal=animal).order_by("-start", "-id")[:limit])
    return {"allowed": True, "animal": animal, "appointments": rows, "limit": limit, "perms": context.get("perms")}
