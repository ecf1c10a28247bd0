"""Reads of the appointment books: day lists, the day grid, weeks, free slots, the iCal feed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from animals.models import Animal, Weight
from appointments.availability import Interval, Slot, exception_interval, free_slots, sessions_on
from appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentType,
    BookException,
    CalendarFeed,
    WorkingHours,
)
from appointments.services import MAX_MINUTES
from clients.models import Client
from vetpms.models import Vet
from vetpms.timeutils import local_day_bounds, to_local


def _with_details(qs: QuerySet[Appointment]) -> QuerySet[Appointment]:
    last_weight = Weight.objects.filter(animal=OuterRef("animal")).order_by("-measured_on", "-id").values("kg")[:1]
    return qs.select_related("animal__species", "animal__breed", "client", "vet", "type").annotate(
        last_weight_kg=Subquery(last_weight)
    )


def appointment_list(
    *,
    vet: Vet | None = None,
    animal: Animal | None = None,
    client_id: int | None = None,
    status: str | None = None,
    start_from: dt.datetime | None = None,
    start_before: dt.datetime | None = None,
) -> QuerySet[Appointment]:
    qs = _with_details(Appointment.objects.all())
    if vet is not None:
        qs = qs.filter(vet=vet)
    if animal is not None:
        qs = qs.filter(animal=animal)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if status:
        qs = qs.filter(status=status)
    if start_from is not None:
        qs = qs.filter(start__gte=start_from)
    if start_before is not None:
        qs = qs.filter(start__lt=start_before)
    return qs.order_by("start", "id")


def day_list(*, vet: Vet, day: dt.date, with_history: bool = False) -> QuerySet[Appointment]:
    """One vet's day in time order, with pet, owner, type and last weight joined: one query. ``with_history``
    prefetches the moves made today with their authors and roles (the page's undo buttons): one or two more.
    Only a move made today can be undone (services.undoable_move), and an appointment whose last move is older
    has none today, so today's moves are all that answer tells apart; a day of long histories reads none."""
    start, end = local_day_bounds(day)
    qs = _with_details(Appointment.objects.filter(vet=vet, start__gte=start, start__lt=end)).order_by("start", "id")
    if not with_history:
        return qs
    today_start, _ = local_day_bounds(timezone.localdate())
    moves_today = AppointmentEvent.objects.filter(at__gte=today_start).select_related("by")
    return qs.prefetch_related(Prefetch("events", queryset=moves_today), "events__by__groups")


# What a block of the day grid and the week shows (appointments_tags.grid_rows): times, status, type, reason, the
# pet's name, species and alerts, the owner's name. A busy day has some 200 blocks across the books: they are read
# as plain rows into the small objects below, not as five model instances each (appointment, pet, species, owner,
# type), which cost more than drawing them. The objects answer what the layout and a block ask of an appointment
# (``pk``, ``start``, ``end``, ``is_blocking``, ``minutes``, ``animal.name``...) with the models' own properties.
BLOCK_FIELDS = (
    "pk",
    "start",
    "end",
    "status",
    "reason",
    "vet_id",
    "type_id",
    "type__name",
    "animal_id",
    "animal__name",
    "animal__alerts",
    "animal__species__name",
    "client_id",
    "client__title",
    "client__first_name",
    "client__last_name",
    "client__organisation",
)


class BlockAnimal:
    __slots__ = ("alerts", "name", "pk", "species")
    alert_list = Animal.alert_list

    def __init__(self, pk: int, name: str, alerts: str, species: str) -> None:
        self.pk, self.name, self.alerts, self.species = pk, name, alerts, species

    def __str__(self) -> str:
        return self.name


class BlockClient:
    __slots__ = ("first_name", "last_name", "organisation", "pk", "title")
    person_name = Client.person_name
    display_name = Client.display_name

    def __init__(self, pk: int, title: str, first_name: str, last_name: str, organisation: str) -> None:
        self.pk, self.title, self.first_name, self.last_name = pk, title, first_name, last_name
        self.organisation = organisation


class Block:
    """An appointment as a block of the grid or the week shows it (``type`` is the type's name)."""

    __slots__ = ("animal", "client", "end", "pk", "reason", "start", "status", "type", "type_id", "vet_id")
    is_blocking = Appointment.is_blocking
    minutes = Appointment.minutes

    def __init__(self, row: tuple) -> None:
        self.pk, self.start, self.end, self.status, self.reason, self.vet_id, self.type_id, self.type = row[:8]
        self.animal = BlockAnimal(*row[8:12])
        self.client = BlockClient(*row[12:17])


def _blocks(qs: QuerySet[Appointment]) -> list[Block]:
    return [Block(row) for row in qs.order_by("start", "id").values_list(*BLOCK_FIELDS)]


def week(*, vet: Vet, first_day: dt.date) -> list[Block]:
    """One vet's appointments in the seven days from ``first_day`` in time order, as blocks of the week."""
    start, _ = local_day_bounds(first_day)
    _, end = local_day_bounds(first_day + dt.timedelta(days=6))
    return _blocks(Appointment.objects.filter(vet=vet, start__gte=start, start__lt=end))


def active_vets() -> QuerySet[Vet]:
    return Vet.objects.bookable().select_related("user").order_by("display_name")


def vets_with_hours() -> QuerySet[Vet]:
    return Vet.objects.select_related("user").prefetch_related("working_hours").order_by("display_name")


def sessions_for(*, vets: list[Vet], day: dt.date) -> dict[int, list[Interval]]:
    """Each vet's available intervals on ``day``: two queries for any number of vets."""
    hours: dict[int, list[WorkingHours]] = defaultdict(list)
    for session in WorkingHours.objects.filter(vet__in=vets, weekday=day.weekday()):
        hours[session.vet_id].append(session)
    exceptions: dict[int, list[BookException]] = defaultdict(list)
    for exception in BookException.objects.filter(vet__in=vets, date=day):
        exceptions[exception.vet_id].append(exception)
    return {vet.pk: sessions_on(day, hours[vet.pk], exceptions[vet.pk]) for vet in vets}


def _sessions_by_vet_and_day(*, vets: list[Vet], days: list[dt.date]) -> dict[tuple[int, dt.date], list[Interval]]:
    """Each vet's available intervals on each of ``days``: two queries for any number of vets and days."""
    hours: dict[int, list[WorkingHours]] = defaultdict(list)
    for session in WorkingHours.objects.filter(vet__in=vets, weekday__in={d.weekday() for d in days}):
        hours[session.vet_id].append(session)
    exceptions: dict[int, list[BookException]] = defaultdict(list)
    for exception in BookException.objects.filter(vet__in=vets, date__in=days):
        exceptions[exception.vet_id].append(exception)
    return {(v.pk, d): sessions_on(d, hours[v.pk], exceptions[v.pk]) for v in vets for d in days}


def day_grid(*, day: dt.date, vets: list[Vet] | None = None) -> dict[str, object]:
    """The day for several vets: their sessions and appointments, grouped by vet (three queries)."""
    vets = vets if vets is not None else list(active_vets())
    start, end = local_day_bounds(day)
    by_vet: dict[int, list[Block]] = defaultdict(list)
    # Lighter than the day list's rows: the grid shows no breed or weight, so it reads only what a block shows.
    for block in _blocks(Appointment.objects.filter(vet__in=vets, start__gte=start, start__lt=end)):
        by_vet[block.vet_id].append(block)
    return {"vets": vets, "sessions": sessions_for(vets=vets, day=day), "appointments": by_vet}


def find_free_slots(
    *,
    day: dt.date,
    minutes: int,
    vets: list[Vet],
    step_minutes: int,
    now: dt.datetime | None = None,
    sessions: dict[int, list[Interval]] | None = None,
) -> list[Slot]:
    """Free starts for each vet on ``day``, in time order then vet name; past times are never offered.
    ``sessions`` (each vet's, from ``sessions_for``) spares reading them again when the caller has them."""
    known = {(vet_id, day): intervals for vet_id, intervals in sessions.items()} if sessions is not None else None
    return _free_slots_between(
        first_day=day, last_day=day, minutes=minutes, vets=vets, step_minutes=step_minutes, now=now, sessions=known
    )


def free_slots_between(
    *, first_day: dt.date, last_day: dt.date, minutes: int, vets: list[Vet], step_minutes: int
) -> list[Slot]:
    """Free slots of ``minutes`` for each vet on each local day from ``first_day`` to ``last_day``, in time order:
    three queries for any number of vets and days (the FHIR Slot search)."""
    return _free_slots_between(
        first_day=first_day, last_day=last_day, minutes=minutes, vets=vets, step_minutes=step_minutes
    )


def free_starts_for_days(
    *, vet: Vet, days: list[dt.date], step_minutes: int, sessions: dict[dt.date, list[Interval]] | None = None
) -> dict[dt.date, list[dt.datetime]]:
    """One vet's free starts of one step's length on each of ``days`` (consecutive; the week view): three queries,
    one when the caller gives the ``sessions`` of those days (``sessions_for_days``)."""
    found: dict[dt.date, list[dt.datetime]] = {day: [] for day in days}
    known = {(vet.pk, day): intervals for day, intervals in sessions.items()} if sessions is not None else None
    for slot in _free_slots_between(
        first_day=days[0],
        last_day=days[-1],
        minutes=step_minutes,
        vets=[vet],
        step_minutes=step_minutes,
        sessions=known,
    ):
        found.setdefault(to_local(slot.start).date(), []).append(slot.start)
    return found


def _free_slots_between(
    *,
    first_day: dt.date,
    last_day: dt.date,
    minutes: int,
    vets: list[Vet],
    step_minutes: int,
    now: dt.datetime | None = None,
    sessions: dict[tuple[int, dt.date], list[Interval]] | None = None,
) -> list[Slot]:
    now = now or timezone.now()
    # A closed book, or a deactivated member of staff's, is never offered, whoever asks (grid, week, search, API).
    vets = [v for v in vets if v.bookable]
    if not vets:
        return []
    days = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    if sessions is None or any((v.pk, d) not in sessions for v in vets for d in days):
        sessions = _sessions_by_vet_and_day(vets=vets, days=days)
    if all(end <= now for intervals in sessions.values() for _, end in intervals):
        return []  # every session is over (a past day): nothing can be offered, no need to read who is busy
    day_start, _ = local_day_bounds(first_day)
    _, day_end = local_day_bounds(last_day)
    busy: dict[int, list[Interval]] = defaultdict(list)
    # The lower bound on ``start`` is what keeps this an index range scan on (vet, start): with ``end > day_start``
    # alone the database walks every earlier appointment of the vet (ten years of them at practice scale). No
    # appointment lasts longer than the service's MAX_MINUTES, so one starting earlier cannot reach into the day.
    longest = dt.timedelta(minutes=MAX_MINUTES)
    for vet_id, start, end in (
        Appointment.objects.blocking()
        .filter(vet__in=vets, start__gte=day_start - longest, start__lt=day_end + longest, end__gt=day_start)
        .values_list("vet_id", "start", "end")
    ):
        busy[vet_id].append((start, end))
    slots: list[Slot] = []
    names = {vet.pk: vet.display_name for vet in vets}
    for vet in vets:
        for day in days:
            slots += free_slots(
                vet_id=vet.pk,
                sessions=sessions[vet.pk, day],
                busy=busy[vet.pk],
                minutes=minutes,
                step_minutes=step_minutes,
                not_before=now,
            )
    slots.sort(key=lambda s: (s.start, names[s.vet_id]))
    return slots


def appointment_types(*, active_only: bool = True) -> QuerySet[AppointmentType]:
    qs = AppointmentType.objects.order_by("name")
    return qs.filter(is_active=True) if active_only else qs


def live_feed(*, token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("vet").filter(token=token, revoked_at__isnull=True).first()


def feed_appointments(*, vet: Vet, now: dt.datetime | None = None) -> QuerySet[Appointment]:
    """What a vet's phone calendar shows: the last 30 days and the next year, cancelled ones excluded."""
    now = now or timezone.now()
    return (
        Appointment.objects.blocking()
        .filter(vet=vet, start__gte=now - dt.timedelta(days=30), start__lt=now + dt.timedelta(days=366))
        .select_related("animal__species", "type")
        .order_by("start")
    )


def booked_during_leave(*, vet: Vet, exceptions: list[BookException]) -> list[Appointment]:
    """Live appointments of ``vet`` that fall in the leave among ``exceptions`` (kept to be moved): one query."""
    leave = [
        exception_interval(e.date, e.start_time, e.end_time) for e in exceptions if e.kind == BookException.Kind.LEAVE
    ]
    if not leave:
        return []
    qs = (
        Appointment.objects.blocking()
        .filter(
            vet=vet,
            start__lt=max(e for _, e in leave),
            start__gt=min(s for s, _ in leave) - dt.timedelta(minutes=MAX_MINUTES),
        )
        .select_related("animal", "client", "type")
        .order_by("start", "id")
    )
    return [a for a in qs if any(a.start < end and start < a.end for start, end in leave)]


def sessions_for_days(*, vet: Vet, days: list[dt.date]) -> dict[dt.date, list[Interval]]:
    """One vet's available intervals on each of ``days`` (the week view): two queries for any number of days."""
    hours = list(WorkingHours.objects.filter(vet=vet))
    exceptions: dict[dt.date, list[BookException]] = defaultdict(list)
    for row in BookException.objects.filter(vet=vet, date__in=days):
        exceptions[row.date].append(row)
    return {day: sessions_on(day, hours, exceptions[day]) for day in days}
