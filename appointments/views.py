"""Appointment pages: booking by pet, the appointment page with its status moves, the day grid, a vet's week
and day list (also as a PDF), the iCalendar feed, and the managers' set-up of books and appointment types.

Views are thin: parse, call a selector or a service, render. A bad date in a query string shows today with a
message; an unknown id is a 404; a refused booking or move comes back as a form error or a message naming why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from animals import selectors as animal_selectors
from animals.models import Animal
from appointments import selectors, services
from appointments.flags import flags_for
from appointments.forms import (
    AppointmentTypeForm,
    BookExceptionForm,
    BookingForm,
    ClosureForm,
    RescheduleForm,
    SlotQueryForm,
    WorkingHoursForm,
)
from appointments.ical import vet_feed
from appointments.models import Appointment, AppointmentStatus, AppointmentType, BookException, CalendarFeed
from appointments.pdf import render_day_list
from appointments.tables import AppointmentTypeTable, Column, day_grid_rows, day_has_dst_change, week_grid_rows
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.models import Vet
from vetpms.params import is_ascii_number, parse_day, parse_id, safe_next
from vetpms.permissions import permission_required
from vetpms.timeutils import to_local

S = AppointmentStatus
STATUS_ORDER = [S.CONFIRMED, S.ARRIVED, S.IN_CONSULTATION, S.COMPLETED, S.NO_SHOW, S.CANCELLED]
MOVE_LABELS = {
    S.CONFIRMED: "Confirm",
    S.ARRIVED: "Arrived",
    S.IN_CONSULTATION: "In consultation",
    S.COMPLETED: "Completed",
    S.NO_SHOW: "No-show",
}
PET_SEARCH_MIN = 2


# --- Query-string helpers --------------------------------------------------------------------------------------


def _day_param(request, name: str = "date") -> dt.date:
    """The ``date`` of the query string; today, with a message, when it is missing or not a real date."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return timezone.localdate()
    day = parse_day(raw[:10])
    if day is None:
        messages.warning(request, f"“{raw[:20]}” is not a date between 1900 and 2999; showing today.")
        return timezone.localdate()
    return day


def _id_param(request, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise Http404("No such record.")
    return value


def _vet_param(request, vets: list[Vet]) -> Vet | None:
    """The vet of the query string (404 if unknown), else the signed-in vet, else the first active vet. ``vets``
    are the active vets (the pages list them anyway), so a vet among them costs no query of its own."""
    vet_id = _id_param(request, "vet")
    if vet_id is not None:
        listed = next((v for v in vets if v.pk == vet_id), None)
        return listed or get_object_or_404(Vet.objects.select_related("user"), pk=vet_id)
    own = next((v for v in vets if v.user_id == request.user.pk), None)
    return own or (vets[0] if vets else None)


def _safe_next(request, fallback: str) -> str:
    return safe_next(request, fallback)


def _day_nav(day: dt.date, step_days: int = 1) -> dict:
    return {
        "day": day,
        "prev_day": day - dt.timedelta(days=step_days),
        "next_day": day + dt.timedelta(days=step_days),
        "today": timezone.localdate(),
        "dst_day": day_has_dst_change(day),
    }


def _moves(appointment: Appointment) -> list[tuple[str, str]]:
    """The one-click moves from its status (cancelling needs a reason, so it has its own form)."""
    allowed = services.ALLOWED_MOVES.get(appointment.status, set())
    return [(s.value, MOVE_LABELS[s]) for s in STATUS_ORDER if s in allowed and s != S.CANCELLED]


# --- Free slots ------------------------------------------------------------------------------------------------


@dataclass
class SlotChoice:
    value: str  # "<vet id>|<UTC ISO>", what the button posts
    label: str
    chosen: bool


def _slot_groups(form: SlotQueryForm, *, wanted: tuple[int, str] | None = None) -> list[tuple[Vet, list[SlotChoice]]]:
    """Free slots of the form's day and duration, grouped by vet (vets in name order, times in order)."""
    data = form.cleaned_data
    vets = form.vets()
    slots = selectors.find_free_slots(
        day=data["date"], minutes=data["minutes"], vets=vets, step_minutes=services.slot_step_minutes()
    )
    with_zone = day_has_dst_change(data["date"])
    by_vet: dict[int, list[SlotChoice]] = {v.pk: [] for v in vets}
    for slot in slots:
        local = to_local(slot.start)
        label = f"{local:%H:%M} {local.tzname()}" if with_zone else f"{local:%H:%M}"
        key = f"{local:%H:%M}" + ("+" if local.fold else "")
        chosen = wanted is not None and wanted == (slot.vet_id, key)
        by_vet[slot.vet_id].append(SlotChoice(f"{slot.vet_id}|{slot.start.isoformat()}", label, chosen))
    return [(v, by_vet[v.pk]) for v in vets]


def _wanted(request) -> tuple[int, str] | None:
    """The slot picked in the day grid (``vet``, ``time`` and ``fold`` of the query), to highlight it."""
    source = request.POST if request.method == "POST" else request.GET
    vet, time = source.get("pick_vet") or source.get("vet", ""), source.get("pick_time") or source.get("time", "")
    if not (is_ascii_number(vet) and len(time) == 5):
        return None
    fold = (source.get("pick_fold") or source.get("fold")) == "1"
    return int(vet), time + ("+" if fold else "")


@require_GET
@permission_required("appointments.view_appointment")
def free_slots(request):
    """The slot buttons, for htmx: reloaded whenever the type, duration, vet or date change."""
    form = SlotQueryForm(request.GET)
    groups = _slot_groups(form, wanted=_wanted(request)) if form.is_valid() else []
    return render(request, "appointments/_slots.html", {"slot_form": form, "groups": groups})


# --- Booking ---------------------------------------------------------------------------------------------------


def _bookable_refusal(animal: Animal) -> str:
    if animal.is_deceased:
        return f"{animal.name} is recorded as deceased and cannot be booked."
    if not animal.is_active:
        return f"{animal.name} is inactive and cannot be booked. Reactivate the animal first."
    if not animal.owner.is_active:
        return f"{animal.owner.display_name} is an inactive client; reactivate them before booking."
    return ""


@permission_required("appointments.add_appointment")
def book(request, animal_pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species", "breed"), pk=animal_pk)
    refusal = _bookable_refusal(animal)
    if refusal:
        messages.error(request, refusal)
        return render(request, "appointments/refused.html", {"animal": animal, "refusal": refusal, "nav": "book"})
    can_override = request.user.has_perm("appointments.override_working_hours")
    types = list(selectors.appointment_types())
    question = ""
    if request.method == "POST":
        form = BookingForm(request.POST, can_override=can_override)
        question = _outside_hours_question(request, form)
        if form.is_valid() and request.POST.get("action") != "refresh" and not question:
            data = form.cleaned_data
            try:
                appointment = services.appointment_book(
                    animal=animal,
                    vet=data["slot_vet"],
                    type=data["type"],
                    start=data["start"],
                    minutes=data["minutes"],
                    reason=data["reason"],
                    notes=data["notes"],
                    override_hours=bool(data.get("override_hours")),
                    request_key=str(data["request_key"]),
                    notify_owner=bool(data.get("notify_owner")),
                    by=request.user,
                )
            except (DomainError, ValidationError) as exc:
                apply_service_error(form, exc)
            else:
                start = to_local(appointment.start)
                messages.success(
                    request,
                    f"{animal.name} is booked with {appointment.vet} on {start:%a %d %b %Y at %H:%M}.",
                )
                return redirect("appointments:detail", pk=appointment.pk)
        search = SlotQueryForm(request.POST)
    else:
        chosen_type = next((t for t in types if str(t.pk) == request.GET.get("type")), types[0] if types else None)
        vet_id = _id_param(request, "vet")
        if vet_id is not None:
            get_object_or_404(Vet.objects.bookable(), pk=vet_id)
        initial = {
            "type": chosen_type,
            "minutes": chosen_type.default_minutes if chosen_type else 15,
            "vet": vet_id,
            "date": _day_param(request),
            "request_key": uuid.uuid4(),
        }
        form = BookingForm(initial=initial, can_override=can_override)
        search = SlotQueryForm(
            {"minutes": initial["minutes"], "vet": vet_id or "", "date": initial["date"].isoformat()}
        )
    groups = _slot_groups(search, wanted=_wanted(request)) if search.is_valid() else []
    return render(
        request,
        "appointments/book.html",
        {
            "question": question,
            "animal": animal,
            "form": form,
            "groups": groups,
            "slot_form": search,
            "types": types,
            "can_override": can_override,
            "pick": _wanted(request),
            "nav": "book",
        },
    )


@permission_required("appointments.add_appointment")
def book_start(request):
    """From an empty slot of the grid: the vet, date and time are known; find the pet."""
    query = request.GET.get("q", "").strip()[:100]
    hits = []
    if len(query) >= PET_SEARCH_MIN:
        found = animal_selectors.search(query=query, limit=30, include_inactive=False)
        hits = [h for h in found if h.kind == "animal"][:15]
    keep = {k: request.GET.get(k, "") for k in ("vet", "date", "time", "fold")}
    context = {"query": query, "hits": hits, "keep": keep, "min_length": PET_SEARCH_MIN, "nav": "book"}
    if request.htmx:
        return render(request, "appointments/_pet_results.html", context)
    vet_id = _id_param(request, "vet")
    context["vet"] = get_object_or_404(Vet, pk=vet_id) if vet_id else None
    context["day"] = _day_param(request)
    return render(request, "appointments/start.html", context)


# --- One appointment -------------------------------------------------------------------------------------------


def _appointment_or_404(pk: int) -> Appointment:
    qs = Appointment.objects.select_related(
        "animal__species", "animal__breed", "client", "vet", "type", "booked_by"
    ).prefetch_related("events__by__groups", "events__from_vet", "events__to_vet")
    return get_object_or_404(qs, pk=pk)


def _undo(appointment: Appointment, user) -> str:
    """The label of the undo button for ``user`` ("Undo no-show"), or "" when there is nothing they may undo."""
    if not user.has_perm("appointments.change_appointment"):
        return ""
    move = services.undoable_move(appointment, user)
    return f"Undo {S(move.to_status).label.lower()}" if move else ""


@permission_required("appointments.view_appointment")
def appointment_detail(request, pk: int):
    appointment = _appointment_or_404(pk)
    return render(
        request,
        "appointments/detail.html",
        {
            "appointment": appointment,
            "events": list(appointment.events.all()),
            "moves": _moves(appointment),
            "undo": _undo(appointment, request.user),
            "can_cancel": S.CANCELLED in services.ALLOWED_MOVES.get(appointment.status, set()),
            "can_move": appointment.status in (S.BOOKED, S.CONFIRMED),
            "nav": "appointments",
        },
    )


@require_POST
@permission_required("appointments.change_appointment")
def appointment_transition(request, pk: int):
    appointment = get_object_or_404(Appointment.objects.select_related("animal"), pk=pk)
    target = request.POST.get("to", "")
    try:
        appointment = services.appointment_transition(
            appointment=appointment,
            to=target,
            by=request.user,
            note=request.POST.get("note", "")[:200],
            notify_owner=request.POST.get("notify_owner") == "on",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{appointment.animal.name}: {appointment.get_status_display().lower()}.")
    return redirect(_safe_next(request, reverse("appointments:detail", args=[pk])))


@require_POST
@permission_required("appointments.change_appointment")
def appointment_undo(request, pk: int):
    """Take back today's mistaken Arrived, No-show, Cancelled or Completed (see services.appointment_undo)."""
    appointment = get_object_or_404(Appointment.objects.select_related("animal"), pk=pk)
    try:
        appointment = services.appointment_undo(
            appointment=appointment, by=request.user, notify_owner=request.POST.get("notify_owner") == "on"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{appointment.animal.name}: back to {appointment.get_status_display().lower()}.")
    return redirect(_safe_next(request, reverse("appointments:detail", args=[pk])))


def _outside_hours_question(request, form, minutes: int | None = None) -> str:
    """A booking or move outside the vet's hours takes two clicks: after the first, the question naming the hours
    (the second click answers it); "" when there is nothing to ask."""
    if request.POST.get("action") == "refresh" or not form.is_valid():
        return ""
    data = form.cleaned_data
    if not data.get("override_hours") or form.data.get("override_hours") == "confirmed":
        return ""
    minutes = minutes or data["minutes"]
    return services.outside_hours_question(vet=data["slot_vet"], start=data["start"], minutes=minutes)


@permission_required("appointments.change_appointment")
def appointment_reschedule(request, pk: int):
    appointment = _appointment_or_404(pk)
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        messages.error(request, f"A {appointment.get_status_display().lower()} appointment cannot be moved.")
        return redirect("appointments:detail", pk=pk)
    can_override = request.user.has_perm("appointments.override_working_hours")
    question = ""
    if request.method == "POST":
        form = RescheduleForm(request.POST, can_override=can_override)
        question = _outside_hours_question(request, form, appointment.minutes)
        if form.is_valid() and request.POST.get("action") != "refresh" and not question:
            data = form.cleaned_data
            try:
                appointment = services.appointment_reschedule(
                    appointment=appointment,
                    start=data["start"],
                    vet=data["slot_vet"],
                    override_hours=bool(data.get("override_hours")),
                    notify_owner=bool(data.get("notify_owner")),
                    by=request.user,
                )
            except (DomainError, ValidationError) as exc:
                apply_service_error(form, exc)
            else:
                start = to_local(appointment.start)
                messages.success(request, f"Moved to {start:%a %d %b %Y at %H:%M} with {appointment.vet}.")
                return redirect("appointments:detail", pk=pk)
        search = SlotQueryForm(request.POST)
    else:
        day = (
            _day_param(request)
            if request.GET.get("date")
            else max(to_local(appointment.start).date(), timezone.localdate())
        )
        initial = {"minutes": appointment.minutes, "vet": appointment.vet_id, "date": day}
        form = RescheduleForm(initial=initial, can_override=can_override)
        search = SlotQueryForm({"minutes": appointment.minutes, "vet": appointment.vet_id, "date": day.isoformat()})
    groups = _slot_groups(search) if search.is_valid() else []
    return render(
        request,
        "appointments/reschedule.html",
        {
            "question": question,
            "appointment": appointment,
            "form": form,
            "groups": groups,
            "slot_form": search,
            "can_override": can_override,
            "nav": "appointments",
        },
    )


# --- The book: day grid, week, day list --------------------------------------------------------------------------


def _offers(*, day: dt.date, vets: list[Vet], sessions: dict) -> dict[int, list[dt.datetime]]:
    """The starts the grid offers, per vet: the free slots of one step's length, found by the same code (sessions,
    clash rule, not in the past) as the booking page, so an offered time is one the booking service accepts."""
    offers: dict[int, list[dt.datetime]] = {v.pk: [] for v in vets}
    step = services.slot_step_minutes()
    for slot in selectors.find_free_slots(day=day, minutes=step, vets=vets, step_minutes=step, sessions=sessions):
        offers[slot.vet_id].append(slot.start)
    return offers


@permission_required("appointments.view_appointment")
def day_grid(request):
    day = _day_param(request)
    grid = selectors.day_grid(day=day)
    offers = _offers(day=day, vets=grid["vets"], sessions=grid["sessions"])
    columns = [
        Column(
            v.display_name,
            v.pk,
            day,
            grid["sessions"][v.pk],
            grid["appointments"][v.pk],
            offered=offers[v.pk],
        )
        for v in grid["vets"]
    ]
    rows = day_grid_rows(day=day, columns=columns, step_minutes=services.slot_step_minutes())
    return render(
        request,
        "appointments/day_grid.html",
        {"columns": columns, "rows": rows, "now": timezone.now(), "nav": "appointments"} | _day_nav(day),
    )


@permission_required("appointments.view_appointment")
def week_view(request):
    vets = list(selectors.active_vets())
    vet = _vet_param(request, vets)
    day = _day_param(request)
    monday = day - dt.timedelta(days=day.weekday())
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    columns, rows = [], []
    if vet is not None:
        sessions = selectors.sessions_for_days(vet=vet, days=days)
        by_day: dict[dt.date, list[selectors.Block]] = {d: [] for d in days}
        for appointment in selectors.week(vet=vet, first_day=monday):
            by_day.setdefault(to_local(appointment.start).date(), []).append(appointment)
        today = timezone.localdate()
        offers = selectors.free_starts_for_days(
            vet=vet, days=days, step_minutes=services.slot_step_minutes(), sessions=sessions
        )
        columns = [
            Column(f"{d:%a} {d.day} {d:%b}", vet.pk, d, sessions[d], by_day[d], offered=offers[d], is_today=d == today)
            for d in days
        ]
        rows = week_grid_rows(columns=columns, step_minutes=services.slot_step_minutes())
    return render(
        request,
        "appointments/week.html",
        {
            "vet": vet,
            "vets": vets,
            "columns": columns,
            "rows": rows,
            "now": timezone.now(),
            "monday": monday,
            "sunday": days[-1],
            "nav": "appointments",
        }
        | _day_nav(day, step_days=7),
    )


def _day_list_context(request, vet: Vet | None, day: dt.date, vets: list[Vet]) -> dict:
    """The day list's rows (appointment, moves, flags, undo label), drawn by ``appointments_tags.day_list_rows``."""
    user = request.user
    appointments = list(selectors.day_list(vet=vet, day=day, with_history=True)) if vet is not None else []
    flags = flags_for(appointments, user)
    may_undo = user.has_perm("appointments.change_appointment")
    return {
        "vet": vet,
        "vets": vets,
        "rows": [(a, _moves(a), flags.get(a.pk, []), _undo(a, user) if may_undo else "") for a in appointments],
        "live_count": sum(1 for a in appointments if a.is_blocking),
        "here": request.get_full_path(),
        "nav": "day-list",
    } | _day_nav(day)


@permission_required("appointments.view_appointment")
def day_list(request):
    vets = list(selectors.active_vets())
    vet = _vet_param(request, vets)
    context = _day_list_context(request, vet, _day_param(request), vets)
    return render(request, "appointments/day_list.html", context)


def vet_home(request):
    """The home page of a signed-in vet is their own day list (registered in apps.py)."""
    if not request.user.has_perm("appointments.view_appointment"):
        return None
    vets = list(selectors.active_vets())
    vet = next((v for v in vets if v.user_id == request.user.pk), None)
    if vet is None:
        return None
    context = _day_list_context(request, vet, timezone.localdate(), vets)
    return render(request, "appointments/day_list.html", context)


@permission_required("appointments.view_appointment")
def day_list_pdf(request):
    vet = _vet_param(request, list(selectors.active_vets()))
    if vet is None:
        raise Http404("No vet.")
    day = _day_param(request)
    body = render_day_list(vet, day, list(selectors.day_list(vet=vet, day=day)))
    response = HttpResponse(body, content_type="application/pdf")
    filename = f"day-list-{slugify(vet.display_name) or vet.pk}-{day.isoformat()}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- Type colours ----------------------------------------------------------------------------------------------


def _tint(colour: str, keep: float) -> str:
    """``colour`` mixed with white (``keep`` of the colour): a calm block background that dark text reads on."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(round(c * keep + 255 * (1 - keep)) for c in (r, g, b)))


@require_GET
def types_css(request):
    """One class per appointment type with its colour. A stylesheet, not style attributes: the CSP forbids those.
    Cached for a minute and revalidated by ETag, so a changed colour shows on the next page."""
    rules = []
    for pk, colour in AppointmentType.objects.order_by("pk").values_list("pk", "colour"):
        rules.append(
            f".appt-type-{pk} {{ background-color: {_tint(colour, 0.28)}; border-left-color: {colour}; }}\n"
            f".type-swatch.appt-type-{pk} {{ background-color: {colour}; }}\n"
        )
    body = "/* Appointment type colours (generated). */\n" + "".join(rules)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["ETag"] = etag
    patch_cache_control(response, private=True, max_age=60)
    return response


# --- iCalendar feed --------------------------------------------------------------------------------------------


@login_not_required
@require_GET
def calendar_feed(request, token: str):
    """A vet's book for their phone: no login (the secret token is the key); a revoked token is a 404."""
    feed = selectors.live_feed(token=token)
    if feed is None:
        raise Http404("No such calendar.")
    body = vet_feed(feed.vet.display_name, selectors.feed_appointments(vet=feed.vet))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    patch_cache_control(response, private=True, max_age=300)
    return response


@never_cache
@permission_required("appointments.manage_books")
def feed_manage(request, vet_pk: int):
    vet = get_object_or_404(Vet, pk=vet_pk)
    if request.method == "POST":
        revoke = request.POST.get("revoke", "")
        if revoke:
            feed = get_object_or_404(CalendarFeed, pk=parse_id(revoke) or 0, vet=vet)
            try:
                services.calendar_feed_revoke(feed=feed, by=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "The calendar link is revoked; phones using it get nothing more.")
        else:
            services.calendar_feed_create(vet=vet, by=request.user)
            messages.success(request, f"A new calendar link for {vet} is ready below.")
        return redirect("appointments:feeds", vet_pk=vet.pk)
    feeds = [
        (f, request.build_absolute_uri(reverse("calendar_feed", args=[f.token])))
        for f in CalendarFeed.objects.filter(vet=vet).order_by("-created_at")
    ]
    return render(request, "appointments/feeds.html", {"vet": vet, "feeds": feeds, "nav": "setup"})


# --- Set-up (managers) -----------------------------------------------------------------------------------------


@permission_required("appointments.manage_books")
def setup(request):
    today = timezone.localdate()
    vets = list(selectors.vets_with_hours())
    upcoming = BookException.objects.filter(vet__in=vets, date__gte=today).order_by("date", "start_time")
    counts: dict[int, int] = {}
    for vet_id in upcoming.values_list("vet_id", flat=True):
        counts[vet_id] = counts.get(vet_id, 0) + 1
    rows = [(v, list(v.working_hours.all()), counts.get(v.pk, 0)) for v in vets]
    return render(request, "appointments/setup.html", {"rows": rows, "nav": "setup"})


@permission_required("appointments.manage_books")
def hours_edit(request, vet_pk: int):
    vet = get_object_or_404(Vet, pk=vet_pk)
    form = WorkingHoursForm(request.POST or None, hours=list(vet.working_hours.all()))
    if request.method == "POST" and form.is_valid():
        try:
            services.working_hours_set(vet=vet, sessions=form.cleaned_data["sessions"], by=request.user)
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Working hours of {vet} saved.")
            return redirect("appointments:setup")
    return render(request, "appointments/hours.html", {"vet": vet, "form": form, "nav": "setup"})


@permission_required("appointments.manage_books")
def exceptions(request, vet_pk: int):
    """Leave and extra sessions. Leave over booked appointments is saved only after they are listed and the manager
    chose: keep them (listed here to move one by one) or cancel them (owners emailed unless unticked)."""
    vet = get_object_or_404(Vet, pk=vet_pk)
    form = BookExceptionForm(request.POST or None, initial={"date": timezone.localdate()})
    affected: list[Appointment] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        choice = request.POST.get("booked", "refuse")
        try:
            rows = services.book_exception_add(
                vet=vet,
                by=request.user,
                booked=choice if choice in ("keep", "cancel") else "refuse",
                notify_owners=request.POST.get("notify_owners") == "on",
                **data,
            )
        except DomainError as exc:
            if exc.code != "booked":
                apply_service_error(form, exc)
            else:
                affected = services.appointments_during(
                    vet=vet,
                    first_day=data["date"],
                    last_day=data["until"] or data["date"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                )
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            days = f"{len(rows)} days" if len(rows) > 1 else f"{rows[0].date:%a %d %b}"
            done = {"cancel": " The appointments in it are cancelled.", "keep": " Move the appointments listed."}
            messages.success(request, f"Added to {vet}'s book: {days}." + done.get(choice, ""))
            return redirect("appointments:exceptions", vet_pk=vet.pk)
    today = timezone.localdate()
    upcoming = list(BookException.objects.filter(vet=vet, date__gte=today).order_by("date", "start_time")[:200])
    return render(
        request,
        "appointments/exceptions.html",
        {
            "vet": vet,
            "form": form,
            "upcoming": upcoming,
            "affected": affected,
            "to_move": selectors.booked_during_leave(vet=vet, exceptions=upcoming),
            "nav": "setup",
        },
    )


@permission_required("appointments.manage_books")
def closure(request):
    """The practice closed: leave in every active vet's book, after the appointments it covers are listed and the
    manager chose to keep them (to move) or cancel them (owners emailed unless unticked)."""
    form = ClosureForm(request.POST or None, initial={"date": timezone.localdate()})
    affected: list[Appointment] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        choice = request.POST.get("booked", "refuse")
        try:
            rows = services.practice_closure_add(
                by=request.user,
                booked=choice if choice in ("keep", "cancel") else "refuse",
                notify_owners=request.POST.get("notify_owners") == "on",
                **data,
            )
        except DomainError as exc:
            if exc.code != "booked":
                apply_service_error(form, exc)
            else:
                affected = services.appointments_during_closure(
                    first_day=data["date"],
                    last_day=data["until"] or data["date"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                )
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            done = {
                "cancel": " The appointments in it are cancelled.",
                "keep": " The appointments kept are listed to move on each vet's Leave & extra page.",
            }
            messages.success(request, f"The practice is closed in {len(rows)} day entries." + done.get(choice, ""))
            return redirect("appointments:setup")
    return render(request, "appointments/closure.html", {"form": form, "affected": affected, "nav": "setup"})


@require_POST
@permission_required("appointments.manage_books")
def exception_remove(request, pk: int):
    exception = get_object_or_404(BookException.objects.select_related("vet"), pk=pk)
    services.book_exception_remove(exception=exception, by=request.user)
    messages.success(request, f"Removed {exception.get_kind_display().lower()} on {exception.date:%d %b %Y}.")
    return redirect("appointments:exceptions", vet_pk=exception.vet_id)


@permission_required("appointments.manage_books")
def type_list(request):
    table = AppointmentTypeTable(selectors.appointment_types(active_only=False))
    return render(request, "appointments/type_list.html", {"table": table, "nav": "setup"})


@permission_required("appointments.manage_books")
def type_edit(request, pk: int | None = None):
    appointment_type = get_object_or_404(AppointmentType, pk=pk) if pk else None
    heading = appointment_type.name if appointment_type else ""
    initial = {} if appointment_type else {"is_active": True, "default_minutes": 15, "colour": "#6c9bd2"}
    form = AppointmentTypeForm(request.POST or None, instance=appointment_type, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.appointment_type_save(
                by=request.user,
                data=form.cleaned_data,
                appointment_type=AppointmentType.objects.get(pk=pk) if pk else None,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="name")
        else:
            messages.success(request, f"Appointment type {saved} saved.")
            return redirect("appointments:type_list")
    return render(
        request,
        "appointments/type_form.html",
        {"form": form, "appointment_type": appointment_type, "heading": heading, "nav": "setup"},
    )
