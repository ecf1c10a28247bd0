"""Template helpers of the appointment pages: the status badge, and an animal's appointments (its page's history
card, which the animals app shows without importing this app)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from appointments import selectors
from appointments.models import AppointmentStatus
from vetpms.timeutils import to_local

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


_PK_MARK = "987654321"


def _badge_html(appointment) -> str:
    css, icon = BADGES.get(appointment.status, ("text-bg-secondary", "?"))
    return format_html(
        '<span class="badge {} status-badge"><span aria-hidden="true">{}</span>'
        '<span class="visually-hidden"> {}</span></span>',
        css,
        icon,
        appointment.get_status_display(),
    )


def _block_html(cell, detail_url: str) -> str:
    """An appointment block: pet name first (a narrow column shows the name, not "08:30..."), then its times."""
    a = cell.appointment
    start, end = to_local(a.start), to_local(a.end)
    reason = f" · {a.reason}" if a.reason else ""
    times = f"{start:%H:%M}\u2013{end:%H:%M}"
    title = f"{times} {a.animal.name} ({a.animal.species}) · {a.type}{reason} · {a.get_status_display()}"
    alert = mark_safe(' <span class="text-danger" title="Alerts">⚠</span>') if a.animal.alert_list else ""
    return format_html(
        '<td rowspan="{}" class="appt-cell"><a class="appt-block appt-type-{} status-{}" href="{}" title="{}">'
        '<span class="appt-line">{} <strong>{}</strong>{} <span class="appt-time">{}</span></span>'
        '<span class="appt-line small">{}{}</span>'
        '<span class="appt-line small text-body-secondary">{}</span></a></td>',
        cell.rowspan,
        a.type_id,
        a.status,
        detail_url.replace(_PK_MARK, str(a.pk)),
        title,
        _badge_html(a),
        a.animal.name,
        alert,
        times,
        a.type,
        reason,
        a.client.display_name,
    )


def _span(cell) -> str:
    return format_html(' colspan="{}"', cell.colspan) if cell.colspan > 1 else ""


@register.simple_tag
def grid_rows(rows, columns, can_book) -> str:
    """The body of the day grid and the week view, built in Python: a 10-vet day has some 400 cells, and the
    template engine spent most of the page's time on them. Everything user-typed goes through format_html.
    A free cell links to a booking only where the layout put an offer (a slot the booking service accepts)."""
    start_url = reverse("appointments:start")
    detail_url = reverse("appointments:detail", args=[_PK_MARK])  # reversed once, the id put in per block
    out = []
    for row in rows:
        cells = []
        for cell in row.cells:
            if cell.kind == "block":
                cells.append(_block_html(cell, detail_url))
            elif cell.kind == "free":
                link = ""
                if can_book and cell.offer is not None:
                    link = format_html(
                        '<a class="slot-link" href="{}?{}"><span class="visually-hidden">Book {} at {}</span></a>',
                        start_url,
                        cell.book_query,
                        cell.column.label,
                        cell.offer_label,
                    )
                cells.append(format_html('<td class="slot-free"{}>{}</td>', _span(cell), link))
            else:
                cells.append(format_html('<td class="slot-off"{}></td>', _span(cell)))
        out.append(
            format_html(
                '<tr class="{}{}"><th scope="row" class="time-col"><span class="time-label">{}</span></th>{}</tr>',
                row.height_class,
                " hour-row" if row.on_the_hour else "",
                row.label,
                mark_safe("".join(cells)),  # noqa: S308 - every part was built by format_html
            )
        )
    if not out:
        out.append(
            format_html('<tr><td colspan="{}" class="text-body-secondary">Nothing to show.</td></tr>', len(columns) + 1)
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every row was built by format_html
