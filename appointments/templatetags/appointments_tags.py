"""Template helpers of the appointment pages: the status badge, the rows of a vet's day list and of the day grid
and week (built in Python: see ``day_list_rows`` and ``grid_rows``), and an animal's appointments (its page's
history card, which the animals app shows without importing this app)."""

from __future__ import annotations

import html

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from appointments import selectors
from appointments.models import AppointmentStatus
from vetpms.money import plain_number
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
_STATUS_LABELS = dict(S.choices)


def _e(value) -> str:
    """Django's ``escape`` without its lazy-string wrapper (the same five characters replaced): the grid escapes
    some 3,000 values a page, and the wrapper cost more than the escaping."""
    return html.escape(str(value))


def _badge_html(appointment, compact: bool = True) -> str:
    """The status badge (as _status_badge.html draws it): icon and label, the label read aloud only if compact."""
    css, icon = BADGES.get(appointment.status, ("text-bg-secondary", "?"))
    label = _e(_STATUS_LABELS.get(appointment.status, appointment.status))
    shown = f" {label}" if not compact else f'<span class="visually-hidden"> {label}</span>'
    return f'<span class="badge {css} status-badge"><span aria-hidden="true">{icon}</span>{shown}</span>'


def _block_html(cell, detail_url: str) -> str:
    """An appointment block: pet name first (a narrow column shows the name, not "08:30..."), then its times."""
    a = cell.appointment
    animal = a.animal
    start, end = to_local(a.start), to_local(a.end)
    reason = f" · {a.reason}" if a.reason else ""
    times = f"{start:%H:%M}\u2013{end:%H:%M}"
    status = _STATUS_LABELS.get(a.status, a.status)
    title = f"{times} {animal.name} ({animal.species}) · {a.type}{reason} · {status}"
    alert = ' <span class="text-danger" title="Alerts">⚠</span>' if animal.alert_list else ""
    return (
        f'<td rowspan="{cell.rowspan}" class="appt-cell"><a class="appt-block appt-type-{a.type_id} '
        f'status-{_e(a.status)}" href="{detail_url.replace(_PK_MARK, str(a.pk))}" title="{_e(title)}">'
        f'<span class="appt-line">{_badge_html(a)} <strong>{_e(animal.name)}</strong>{alert} '
        f'<span class="appt-time">{times}</span></span>'
        f'<span class="appt-line small">{_e(a.type)}{_e(reason)}</span>'
        f'<span class="appt-line small text-body-secondary">{_e(a.client.display_name)}</span></a></td>'
    )


def _span(cell) -> str:
    return f' colspan="{cell.colspan}"' if cell.colspan > 1 else ""


@register.simple_tag
def grid_rows(rows, columns, can_book) -> str:
    """The body of the day grid and the week view, built in Python: a 10-vet day has some 400 cells and 200
    blocks, and the template engine spent most of the page's time on them. Everything people type goes through
    ``_e``. A free cell links to a booking only where the layout put an offer (a slot the booking service
    accepts)."""
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
                    link = (
                        f'<a class="slot-link" href="{start_url}?{_e(cell.book_query)}"><span class="visually-hidden">'
                        f"Book {_e(cell.column.label)} at {cell.offer_label}</span></a>"
                    )
                cells.append(f'<td class="slot-free"{_span(cell)}>{link}</td>')
            else:
                cells.append(f'<td class="slot-off"{_span(cell)}></td>')
        out.append(
            f'<tr class="{row.height_class}{" hour-row" if row.on_the_hour else ""}"><th scope="row" class="time-col">'
            f'<span class="time-label">{_e(row.label)}</span></th>{"".join(cells)}</tr>'
        )
    if not out:
        out.append(f'<tr><td colspan="{len(columns) + 1}" class="text-body-secondary">Nothing to show.</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value people type went through _e


# --- The vet's day list ----------------------------------------------------------------------------------------------
# A day list holds 20 to 40 rows, each with a few forms (start, moves, undo) whose labels repeat the pet's name and
# time. Drawn by the template engine a row cost about a millisecond (five URL reversals, a date filter per label, a
# permission check per button, an inclusion tag for the badge); built here it costs a fraction of that. The markup
# is the template's; every value people type goes through _e.

_START_STATUSES = frozenset({S.BOOKED, S.CONFIRMED, S.ARRIVED})
_CHARGE_STATUSES = frozenset({S.IN_CONSULTATION, S.COMPLETED})


def _url_maker(name: str):
    """``reverse(name, args=[pk])`` for many pks: the pattern is reversed once, the id put in per row."""
    template = reverse(name, args=[_PK_MARK])
    return lambda pk: template.replace(_PK_MARK, str(pk))


def _alert_badges(animal) -> str:
    """includes/alert_badges.html, compact."""
    parts = []
    if animal.is_deceased:
        parts.append('<span class="badge text-bg-dark">Deceased</span>')
    if not animal.is_active:
        parts.append('<span class="badge text-bg-secondary">Inactive</span>')
    for alert in animal.alert_list:
        parts.append(
            '<span class="badge text-bg-danger alert-badge" title="Alert"><span aria-hidden="true">⚠</span> '
            f"{_e(alert)}</span>"
        )
    return "\n".join(parts)


def _flag_badges(flags) -> str:
    """The flags other apps put on a row (appointments.flags): overdue reminders, what the owner owes..."""
    badges = []
    for flag in flags:
        title = f' title="{_e(flag.title)}"' if flag.title else ""
        badges.append(
            f'<a class="badge text-bg-{_e(flag.tone)} text-decoration-none" href="{_e(flag.url)}"{title}>'
            f"{_e(flag.label)}</a>"
        )
    return "".join(badges)


class _DayListPage:
    """What every row of one day list shares: the user's permissions, the CSRF field, the URL patterns."""

    def __init__(self, context):
        user = context["request"].user
        self.can_change = user.has_perm("appointments.change_appointment")
        self.can_start = self.can_change and user.has_perm("clinical.add_consultation")
        self.can_charge = self.can_change and user.has_perm("invoicing.change_invoice")
        token = context.get("csrf_token", "")
        self.csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">'
        self.back = f'<input type="hidden" name="next" value="{_e(context.get("here", ""))}">'
        self.dst_day = context.get("dst_day", False)
        self.detail = _url_maker("appointments:detail")
        self.animal = _url_maker("animals:detail")
        self.start = _url_maker("clinical:start")
        self.transition = _url_maker("appointments:transition")
        self.undo = _url_maker("appointments:undo")
        self.charge = _url_maker("invoicing:charge")

    def actions(self, a, moves, undo: str, said: str) -> str:
        """The row's buttons; ``said`` names the row to a screen reader ("Rex at 09:15")."""
        csrf, buttons = self.csrf, []
        if self.can_start and a.status in _START_STATUSES:
            buttons.append(
                f'<form method="post" action="{self.start(a.pk)}">{csrf}<button class="btn btn-sm btn-success" '
                f'type="submit" aria-label="Start consultation: {said}">Start consultation</button></form>'
            )
        for i, (to, label) in enumerate(moves):
            confirm = f' data-confirm="Mark {said} as a no-show?"' if to == S.NO_SHOW else ""
            style = "btn-primary" if i == 0 else "btn-outline-secondary"
            buttons.append(
                f'<form method="post" action="{self.transition(a.pk)}"{confirm}>{csrf}'
                f'<input type="hidden" name="to" value="{_e(to)}">{self.back}<button class="btn btn-sm {style}" '
                f'type="submit" aria-label="{_e(label)}: {said}">{_e(label)}</button></form>'
            )
        if undo:
            notify = '<input type="hidden" name="notify_owner" value="on">' if a.status == S.CANCELLED else ""
            buttons.append(
                f'<form method="post" action="{self.undo(a.pk)}">{csrf}{self.back}{notify}'
                f'<button class="btn btn-sm btn-outline-warning" type="submit" aria-label="{_e(undo)}: {said}">'
                f"{_e(undo)}</button></form>"
            )
        if self.can_charge and a.status in _CHARGE_STATUSES:
            buttons.append(
                f'<a class="btn btn-sm btn-outline-primary" href="{self.charge(a.pk)}" '
                f'aria-label="Charge {said}">Charge</a>'
            )
        return f'<div class="d-flex flex-wrap gap-1 justify-content-end">{"".join(buttons)}</div>'

    def row(self, a, moves, flags, undo: str) -> str:
        animal, client = a.animal, a.client
        local_start = to_local(a.start)
        time = f"{local_start:%H:%M}"
        name = _e(animal.name)
        zone = f" {_e(local_start.tzname() or '')}" if self.dst_day else ""
        facts = _e(str(animal.species))
        if animal.breed_id:
            facts += f", {_e(str(animal.breed))}"
        age = animal.age
        if age:
            facts += f" · {_e(age)}"
        if a.last_weight_kg is not None:
            facts += f" · {plain_number(a.last_weight_kg)} kg"
        pet = f'<a class="fw-semibold" href="{self.animal(animal.pk)}">{name}</a>'
        pet += f'<div class="small text-body-secondary">{facts}</div>'
        if animal.alert_list:
            pet += f"<div>{_alert_badges(animal)}</div>"
        if flags:
            pet += f'<div class="d-flex flex-wrap gap-1 mt-1">{_flag_badges(flags)}</div>'
        owner = _e(client.display_name)
        phone = client.main_phone
        if phone:
            owner += f'<div class="small"><a href="tel:{_e(phone.replace(" ", ""))}">{_e(phone)}</a></div>'
        kind = f'<span class="type-swatch appt-type-{a.type_id}" aria-hidden="true"></span> {_e(str(a.type))}'
        if a.reason:
            kind += f'<div class="small">{_e(a.reason)}</div>'
        actions = self.actions(a, moves, undo, f"{name} at {time}") if self.can_change else ""
        return (
            f'<tr class="day-row{"" if a.is_blocking else " row-muted"}">'
            f'<td class="text-nowrap"><a class="fw-semibold" href="{self.detail(a.pk)}">{time}</a>'
            f'<div class="small text-body-secondary">to {to_local(a.end):%H:%M}{zone}</div></td>'
            f"<td>{pet}</td><td>{owner}</td><td>{kind}</td><td>{_badge_html(a, compact=False)}</td>"
            f'<td class="text-end">{actions}</td></tr>'
        )


@register.simple_tag(takes_context=True)
def day_list_rows(context, rows) -> str:
    """The rows of a vet's day list: ``rows`` holds the view's (appointment, moves, flags, undo label) per row."""
    page = _DayListPage(context)
    return mark_safe("\n".join(page.row(*row) for row in rows))  # noqa: S308 - what people type went through _e()
