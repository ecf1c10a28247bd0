"""Every write to an appointment book: booking, rescheduling, status moves, hours, exceptions and types.

The overlap guarantee: the booking transaction checks for a clash and inserts. On SQLite the transaction is
IMMEDIATE (settings), so it holds the write lock from its first statement and two bookings cannot interleave. On
PostgreSQL two transactions may both pass the check; the exclusion constraint then refuses the second insert, which
is turned into the same clean DomainError naming the appointment that won.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from animals.models import Animal
from appointments.availability import exception_interval, sessions_on, within
from appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    AppointmentType,
    BookException,
    CalendarFeed,
    WorkingHours,
)
from appointments.signals import appointment_status_changed
from vetpms import audit, events
from vetpms.errors import DomainError
from vetpms.models import User, Vet
from vetpms.timeutils import make_aware_strict, to_local

S = AppointmentStatus
ALLOWED_MOVES: dict[str, set[str]] = {
    S.BOOKED: {S.CONFIRMED, S.ARRIVED, S.CANCELLED, S.NO_SHOW},
    S.CONFIRMED: {S.ARRIVED, S.CANCELLED, S.NO_SHOW},
    S.ARRIVED: {S.IN_CONSULTATION, S.COMPLETED},
    S.IN_CONSULTATION: {S.COMPLETED},
}
MAX_MINUTES = 12 * 60


def _describe(appointment: Appointment) -> str:
    local = to_local(appointment.start)
    end = to_local(appointment.end)
    return f"{appointment.animal.name} with {appointment.vet} {local:%a %d %b %H:%M}-{end:%H:%M}"


def _clash(*, vet: Vet, start: dt.datetime, end: dt.datetime, exclude_pk: int | None = None) -> Appointment | None:
    # No appointment lasts longer than MAX_MINUTES, so one that overlaps starts after start - MAX_MINUTES: the
    # lower bound keeps the (vet, start) index scan to a few rows instead of the vet's whole history.
    qs = (
        Appointment.objects.blocking()
        .overlapping(start, end)
        .filter(vet=vet, start__gt=start - dt.timedelta(minutes=MAX_MINUTES))
        .select_related("animal", "vet")
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("start").first()


def _refuse_clash(clash: Appointment) -> DomainError:
    return DomainError(
        f"{clash.vet} is already booked then: {_describe(clash)} (appointment #{clash.pk}).",
        field="start",
        code="clash",
    )


def _check_times(start: dt.datetime, minutes: int) -> tuple[dt.datetime, dt.datetime]:
    if minutes <= 0 or minutes > MAX_MINUTES:
        raise ValidationError({"minutes": f"A duration is between 1 minute and {MAX_MINUTES // 60} hours."})
    start = make_aware_strict(start)
    return start, start + dt.timedelta(minutes=minutes)


def _check_hours(*, vet: Vet, start: dt.datetime, end: dt.datetime) -> None:
    day = to_local(start).date()
    hours = WorkingHours.objects.filter(vet=vet, weekday=day.weekday())
    exceptions = BookException.objects.filter(vet=vet, date=day)
    if not within(sessions_on(day, hours, exceptions), start, end):
        raise DomainError(
            f"{to_local(start):%a %d %b %H:%M}-{to_local(end):%H:%M} is outside {vet}'s working hours. "
            "Tick 'book outside working hours' to book it anyway.",
            field="start",
            code="outside_hours",
        )


def _insert_or_refuse(appointment: Appointment) -> None:
    clash = _clash(vet=appointment.vet, start=appointment.start, end=appointment.end, exclude_pk=appointment.pk)
    if clash is not None:
        raise _refuse_clash(clash)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if "appointment_no_overlap" not in str(exc):
            raise
        clash = _clash(vet=appointment.vet, start=appointment.start, end=appointment.end, exclude_pk=appointment.pk)
        if clash is None:  # pragma: no cover - the winner was cancelled in the meantime; still refuse, say so
            raise DomainError("Someone booked that time a moment ago; choose another slot.", code="clash") from exc
        raise _refuse_clash(clash) from exc


@transaction.atomic
def appointment_book(
    *,
    animal: Animal,
    vet: Vet,
    type: AppointmentType,
    start: dt.datetime,
    by: User,
    minutes: int | None = None,
    reason: str = "",
    notes: str = "",
    override_hours: bool = False,
    request_key: str | None = None,
    notify_owner: bool = True,
) -> Appointment:
    """Book ``animal`` into ``vet``'s book. Refuses clashes, the past, closed hours (unless overridden) and animals
    that cannot be seen. With ``request_key``, a repeated submission returns the first booking. The owner gets a
    confirmation with the .ics after commit unless ``notify_owner`` is off."""
    if request_key:
        existing = Appointment.objects.filter(request_key=request_key).first()
        if existing is not None:
            return existing
    start, end = _check_times(start, type.default_minutes if minutes is None else minutes)
    animal = Animal.objects.select_related("owner").get(pk=animal.pk)
    if animal.is_deceased:
        raise DomainError(f"{animal.name} is recorded as deceased and cannot be booked.", field="animal")
    if not animal.is_active:
        raise DomainError(f"{animal.name} is inactive and cannot be booked.", field="animal")
    if not animal.owner.is_active:
        raise DomainError(f"{animal.owner} is an inactive client; reactivate them first.", field="animal")
    if not vet.bookable:
        raise DomainError(f"{vet} is not taking appointments.", field="vet")
    if not type.is_active:
        raise DomainError(f"The appointment type {type} is no longer in use.", field="type")
    if start < timezone.now():
        raise DomainError("That time has already passed; choose a time in the future.", field="start", code="past")
    if not override_hours:
        _check_hours(vet=vet, start=start, end=end)
    appointment = Appointment(
        animal=animal,
        client=animal.owner,
        vet=vet,
        type=type,
        start=start,
        end=end,
        reason=reason,
        notes=notes,
        booked_by=by,
        outside_hours=override_hours and not _is_within_hours(vet=vet, start=start, end=end),
        request_key=request_key or None,
    )
    appointment.full_clean(exclude=["request_key"], validate_constraints=False)
    _insert_or_refuse(appointment)
    AppointmentEvent.objects.create(appointment=appointment, by=by, from_status="", to_status=S.BOOKED)
    audit.record(
        actor=by,
        obj=appointment,
        action="book",
        changes=audit.diff({}, audit.snapshot(appointment, ["animal", "vet", "type", "start", "end", "reason"])),
        note="booked outside working hours by override" if appointment.outside_hours else "",
    )
    events.publish("appointment.booked", appointment)
    if notify_owner:
        _tell_owner(appointment, "booked")
    return appointment


def outside_hours_question(*, vet: Vet, start: dt.datetime, minutes: int) -> str:
    """The second question before booking outside the hours, naming them ("" when the time is inside them)."""
    start, end = _check_times(start, minutes)
    day = to_local(start).date()
    sessions = sessions_on(
        day,
        WorkingHours.objects.filter(vet=vet, weekday=day.weekday()),
        BookException.objects.filter(vet=vet, date=day),
    )
    if within(sessions, start, end):
        return ""
    named = ", ".join(f"{to_local(s):%H:%M}\u2013{to_local(e):%H:%M}" for s, e in sessions)
    works = f"works {named}" if named else "does not work"
    return (
        f"{vet} {works} on {day:%A %-d %B}. {to_local(start):%H:%M}\u2013{to_local(end):%H:%M} is outside those hours: "
        "book it anyway?"
    )


def _is_within_hours(*, vet: Vet, start: dt.datetime, end: dt.datetime) -> bool:
    try:
        _check_hours(vet=vet, start=start, end=end)
    except DomainError:
        return False
    return True


def _tell_owner(appointment: Appointment, kind: str) -> None:
    """Email the owner after commit (a mail server that is down never undoes the change; see emails.py)."""
    from appointments.emails import send_owner_notice

    pk = appointment.pk
    transaction.on_commit(lambda: send_owner_notice(pk, kind))


def _bump_sequence(appointment: Appointment) -> None:
    """A change the owner's calendar must pick up: same UID, higher SEQUENCE (RFC 5545 3.8.7.4)."""
    appointment.ical_sequence += 1


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    by: User,
    minutes: int | None = None,
    vet: Vet | None = None,
    override_hours: bool = False,
    notify_owner: bool = True,
) -> Appointment:
    """Move a booked or confirmed appointment; the history records from, to and who, and the owner is emailed the
    new time with an updated .ics unless ``notify_owner`` is off."""
    appointment = Appointment.objects.select_for_update().select_related("animal", "vet").get(pk=appointment.pk)
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        raise DomainError(
            f"A {appointment.get_status_display().lower()} appointment cannot be moved.", code="bad_status"
        )
    before = audit.snapshot(appointment, ["vet", "start", "end"])
    from_start, from_vet = appointment.start, appointment.vet
    start, end = _check_times(start, appointment.minutes if minutes is None else minutes)
    vet = vet or appointment.vet
    if not vet.bookable:
        raise DomainError(f"{vet} is not taking appointments.", field="vet")
    if start < timezone.now():
        raise DomainError("That time has already passed; choose a time in the future.", field="start", code="past")
    if not override_hours:
        _check_hours(vet=vet, start=start, end=end)
    appointment.vet, appointment.start, appointment.end = vet, start, end
    appointment.outside_hours = override_hours and not _is_within_hours(vet=vet, start=start, end=end)
    _bump_sequence(appointment)
    _insert_or_refuse(appointment)
    AppointmentEvent.objects.create(
        appointment=appointment,
        by=by,
        kind=AppointmentEvent.Kind.RESCHEDULE,
        from_status=appointment.status,
        to_status=appointment.status,
        from_start=from_start,
        to_start=start,
        from_vet=from_vet,
        to_vet=vet,
        note="" if notify_owner else "owner not emailed",
    )
    audit.record(
        actor=by,
        obj=appointment,
        action="reschedule",
        changes=audit.diff(before, audit.snapshot(appointment, ["vet", "start", "end"])),
    )
    events.publish("appointment.rescheduled", appointment, changed={"start", "end", "vet"})
    if notify_owner:
        _tell_owner(appointment, "moved")
    return appointment


@transaction.atomic
def appointment_transition(
    *, appointment: Appointment, to: str, by: User, note: str = "", notify_owner: bool = True
) -> Appointment:
    """Move an appointment along its status flow; every move is recorded. A cancellation tells the owner (with an
    iCalendar CANCEL) unless ``notify_owner`` is off."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if to not in S.values:
        raise ValidationError({"status": f"Unknown status {to!r}."})
    target = S(to)
    if target not in ALLOWED_MOVES.get(appointment.status, set()):
        raise DomainError(
            f"A {appointment.get_status_display().lower()} appointment cannot become {target.label.lower()}.",
            field="status",
            code="bad_transition",
        )
    note = (note or "").strip()
    if target == S.CANCELLED and not note:
        raise ValidationError({"note": "Say why the appointment is cancelled."})
    previous = appointment.status
    appointment.status = target
    fields = ["status", "updated_at"]
    if target == S.CANCELLED:
        appointment.cancel_reason = note[:200]
        _bump_sequence(appointment)
        fields += ["cancel_reason", "ical_sequence"]
    appointment.save(update_fields=fields)
    AppointmentEvent.objects.create(
        appointment=appointment, by=by, from_status=previous, to_status=target, note=note[:200]
    )
    audit.record(
        actor=by, obj=appointment, action=f"status {target}", changes={"status": [previous, target]}, note=note
    )
    appointment_status_changed.send(
        sender=Appointment, appointment=appointment, from_status=previous, to_status=target, by=by
    )
    events.publish(
        f"appointment.{'cancelled' if target == S.CANCELLED else 'status_changed'}", appointment, changed={"status"}
    )
    if target == S.CANCELLED and notify_owner:
        _tell_owner(appointment, "cancelled")
    return appointment


# Moves a person may take back on the day they made them (a click on the wrong row): undoing one is itself a move,
# recorded and audited, back to the status before it.
UNDOABLE = frozenset({S.ARRIVED, S.NO_SHOW, S.CANCELLED, S.COMPLETED})


def undoable_move(appointment: Appointment, by: User) -> AppointmentEvent | None:
    """The status move ``by`` may undo now, if any: the move that set the current status, made today (in the
    practice's zone) by ``by`` or by someone with a role ``by`` also has. Reads ``appointment.events`` (prefetch
    it on lists)."""
    if appointment.status not in UNDOABLE:
        return None
    moves = [e for e in appointment.events.all() if e.kind != AppointmentEvent.Kind.RESCHEDULE]
    if not moves:
        return None
    last = max(moves, key=lambda e: (e.at, e.pk))
    if last.kind != AppointmentEvent.Kind.STATUS or last.to_status != appointment.status or not last.from_status:
        return None
    if to_local(last.at).date() != timezone.localdate():
        return None
    if last.by_id != by.pk and (last.by is None or not set(last.by.roles) & set(by.roles)):
        return None
    return last


@transaction.atomic
def appointment_undo(*, appointment: Appointment, by: User, notify_owner: bool = True) -> Appointment:
    """Take back the last status move (Arrived, No-show, Cancelled, Completed) on the day it was made, by its
    author's role. A cancelled or no-show appointment that comes back holds its time again, so it must still be
    free; an owner told of a cancellation is told it stands again."""
    appointment = Appointment.objects.select_for_update().select_related("animal", "vet").get(pk=appointment.pk)
    move = undoable_move(appointment, by)
    if move is None:
        raise DomainError(
            f"The {appointment.get_status_display().lower()} status cannot be undone: only its last move, on the "
            "day it was made, by someone in the same role.",
            field="status",
            code="not_undoable",
        )
    current, previous = appointment.status, S(move.from_status)
    appointment.status = previous
    if current == S.CANCELLED:
        appointment.cancel_reason = ""
        _bump_sequence(appointment)
    if current in (S.CANCELLED, S.NO_SHOW):
        _insert_or_refuse(appointment)  # holds its time again: refused if someone was booked into it meanwhile
    else:
        appointment.save(update_fields=["status", "updated_at"])
    label = S(current).label
    AppointmentEvent.objects.create(
        appointment=appointment,
        by=by,
        kind=AppointmentEvent.Kind.UNDO,
        from_status=current,
        to_status=previous,
        note=f"{label} undone",
    )
    audit.record(
        actor=by,
        obj=appointment,
        action="status undo",
        changes={"status": [current, previous]},
        note=f"{label} (set {to_local(move.at):%H:%M}) undone",
    )
    appointment_status_changed.send(
        sender=Appointment, appointment=appointment, from_status=current, to_status=previous, by=by
    )
    events.publish("appointment.status_changed", appointment, changed={"status"})
    if current == S.CANCELLED and notify_owner:
        _tell_owner(appointment, "booked")
    return appointment


# --- Book set-up (managers) ------------------------------------------------------------------------------------


@transaction.atomic
def working_hours_set(*, vet: Vet, sessions: list[tuple[int, dt.time, dt.time]], by: User) -> list[WorkingHours]:
    """Replace a vet's weekly sessions with ``sessions`` [(weekday, start, end), ...]; overlapping ones refused."""
    rows = [WorkingHours(vet=vet, weekday=w, start_time=s, end_time=e) for w, s, e in sessions]
    for row in rows:
        row.full_clean(exclude=["vet"])
    for weekday in {r.weekday for r in rows}:
        day_rows = sorted((r for r in rows if r.weekday == weekday), key=lambda r: r.start_time)
        for a, b in itertools.pairwise(day_rows):
            if b.start_time < a.end_time:
                raise ValidationError(
                    f"Sessions overlap on {a.get_weekday_display()}: {a.start_time:%H:%M}-{a.end_time:%H:%M} and "
                    f"{b.start_time:%H:%M}-{b.end_time:%H:%M}."
                )
    before = sorted(str(h) for h in WorkingHours.objects.filter(vet=vet))
    WorkingHours.objects.filter(vet=vet).delete()
    WorkingHours.objects.bulk_create(rows)
    # The regular week is part of what the vet's FHIR PractitionerRole says: its change time moves with it.
    Vet.objects.filter(pk=vet.pk).update(updated_at=timezone.now())
    audit.record(actor=by, obj=vet, action="working hours", changes={"hours": [before, sorted(str(r) for r in rows)]})
    return rows


MAX_LEAVE_DAYS = 92


def _refuse_booked(affected: list[Appointment]) -> DomainError:
    listed = "; ".join(_describe(a) for a in affected[:5]) + ("; ..." if len(affected) > 5 else "")
    return DomainError(
        f"{len(affected)} booked appointment{'s' if len(affected) != 1 else ''} fall in this leave: {listed}. "
        "Keep them to move them, or cancel them.",
        field="date",
        code="booked",
    )


def appointments_during(
    *, vet: Vet, first_day: dt.date, last_day: dt.date, start_time: dt.time | None, end_time: dt.time | None
) -> list[Appointment]:
    """The live appointments of ``vet`` that leave on each day from ``first_day`` to ``last_day`` (all day, or
    ``start_time``-``end_time``) would cover, in time order."""
    days = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    intervals = [exception_interval(day, start_time, end_time) for day in days]
    if not intervals:
        return []
    coarse = (
        Appointment.objects.blocking()
        .filter(vet=vet, start__lt=intervals[-1][1], start__gt=intervals[0][0] - dt.timedelta(minutes=MAX_MINUTES))
        .select_related("animal", "client", "type", "vet")
        .order_by("start", "id")
    )
    return [a for a in coarse if any(a.start < end and start < a.end for start, end in intervals)]


@transaction.atomic
def book_exception_add(
    *,
    vet: Vet,
    by: User,
    date: dt.date,
    kind: str,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    note: str = "",
    until: dt.date | None = None,
    booked: str = "refuse",
    notify_owners: bool = True,
) -> list[BookException]:
    """Leave or an extra session on ``date`` (or on every day from ``date`` to ``until``). Leave over live
    appointments is refused, naming them, unless ``booked`` says what to do with them: ``"keep"`` (they stay, to be
    moved one by one; the set-up page lists them) or ``"cancel"`` (each cancelled, the owners emailed unless
    ``notify_owners`` is off)."""
    until = until or date
    if until < date:
        raise ValidationError({"until": "The last day must be on or after the first."})
    if (until - date).days >= MAX_LEAVE_DAYS:
        raise ValidationError({"until": f"Give at most {MAX_LEAVE_DAYS} days at once."})
    rows = []
    for offset in range((until - date).days + 1):
        row = BookException(
            vet=vet,
            date=date + dt.timedelta(days=offset),
            kind=kind,
            start_time=start_time,
            end_time=end_time,
            note=note,
        )
        row.full_clean()
        rows.append(row)
    cancelled: list[Appointment] = []
    if kind == BookException.Kind.LEAVE:
        affected = appointments_during(
            vet=vet, first_day=date, last_day=until, start_time=start_time, end_time=end_time
        )
        if affected and booked == "cancel":
            reason = f"{vet} is not available" + (f": {note}" if note else "")
            for appointment in affected:
                cancelled.append(
                    appointment_transition(
                        appointment=appointment, to=S.CANCELLED, note=reason, by=by, notify_owner=notify_owners
                    )
                )
        elif affected and booked != "keep":
            raise _refuse_booked(affected)
    BookException.objects.bulk_create(rows)
    span = f"{date:%d %b %Y}" + (f" to {until:%d %b %Y}" if until != date else "")
    audit.record(
        actor=by,
        obj=vet,
        action="book exception",
        changes={"exception": [None, f"{rows[0].get_kind_display()} {span}"]},
        note=note + (f" ({len(cancelled)} appointments cancelled)" if cancelled else ""),
    )
    return rows


def appointments_during_closure(
    *, first_day: dt.date, last_day: dt.date, start_time: dt.time | None, end_time: dt.time | None
) -> list[Appointment]:
    """The live appointments in every active vet's book that a closure would cover, in time order."""
    found = [
        a
        for vet in Vet.objects.bookable()
        for a in appointments_during(
            vet=vet, first_day=first_day, last_day=last_day, start_time=start_time, end_time=end_time
        )
    ]
    return sorted(found, key=lambda a: (a.start, a.pk))


@transaction.atomic
def practice_closure_add(
    *,
    by: User,
    date: dt.date,
    until: dt.date | None = None,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    note: str = "",
    booked: str = "refuse",
    notify_owners: bool = True,
) -> list[BookException]:
    """The practice closed (a bank holiday, a burst pipe): leave in every active vet's book, with the same choice
    for the appointments it covers as ``book_exception_add`` (refused naming them, kept, or cancelled)."""
    if booked not in ("keep", "cancel"):
        affected = appointments_during_closure(
            first_day=date, last_day=until or date, start_time=start_time, end_time=end_time
        )
        if affected:
            raise _refuse_booked(affected)
    rows: list[BookException] = []
    for vet in Vet.objects.bookable().order_by("display_name"):
        rows += book_exception_add(
            vet=vet,
            by=by,
            date=date,
            until=until,
            kind=BookException.Kind.LEAVE,
            start_time=start_time,
            end_time=end_time,
            note=note or "Practice closed",
            booked=booked,
            notify_owners=notify_owners,
        )
    return rows


@transaction.atomic
def book_exception_remove(*, exception: BookException, by: User) -> None:
    audit.record(
        actor=by, obj=exception.vet, action="book exception removed", changes={"exception": [str(exception), None]}
    )
    exception.delete()


APPOINTMENT_TYPE_FIELDS = frozenset(
    {"name", "default_minutes", "colour", "recall_name", "recall_interval", "recall_unit", "is_active"}
)


@transaction.atomic
def appointment_type_save(
    *, by: User, data: dict[str, Any], appointment_type: AppointmentType | None = None
) -> AppointmentType:
    return audit.save_fields(
        obj=appointment_type or AppointmentType(), data=data, allowed=APPOINTMENT_TYPE_FIELDS, by=by
    )


@transaction.atomic
def calendar_feed_create(*, vet: Vet, by: User) -> CalendarFeed:
    feed = CalendarFeed.objects.create(vet=vet)
    audit.record(actor=by, obj=vet, action="calendar feed created")
    return feed


@transaction.atomic
def calendar_feed_revoke(*, feed: CalendarFeed, by: User) -> CalendarFeed:
    if feed.revoked_at is not None:
        raise DomainError("This calendar link was already revoked.")
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit.record(actor=by, obj=feed.vet, action="calendar feed revoked")
    return feed


def slot_step_minutes() -> int:
    return int(getattr(settings, "APPOINTMENT_SLOT_STEP_MINUTES", 15))


@transaction.atomic
def appointment_details_update(*, appointment: Appointment, by: User, reason: str, notes: str) -> Appointment:
    """Change what a booked or confirmed appointment is for (its reason and notes), audited; the time, vet and
    status are the other services' (an import of a file whose reason changed in the old system calls this)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status not in (S.BOOKED, S.CONFIRMED):
        raise DomainError(
            f"A {appointment.get_status_display().lower()} appointment's reason and notes are its record now.",
            code="bad_status",
        )
    before = audit.snapshot(appointment, ["reason", "notes"])
    appointment.reason, appointment.notes = reason, notes
    appointment.full_clean(exclude=["client", "animal", "vet", "type"], validate_constraints=False)
    changes = audit.diff(before, audit.snapshot(appointment, ["reason", "notes"]))
    if changes:
        appointment.save(update_fields=["reason", "notes", "updated_at"])
        audit.record(actor=by, obj=appointment, action="update", changes=changes)
    return appointment
