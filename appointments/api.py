"""/api/v1/appointments, /api/v1/vets and /api/v1/appointment-types: thin endpoints over appointments.selectors
and appointments.services.

Permissions are checked first, before any lookup, as on the web pages: appointments.view_appointment to read
books, add_appointment to book, change_appointment to reschedule, cancel or move a status, override_working_hours
to send ``override_hours: true`` (403 without it, even for a time inside the hours), manage_books for hours,
exceptions and appointment types.

Ids: an id in the URL that names nothing is 404; an id in a body or a query (animal, vet, type) that names nothing
is invalid input, 422 on that field, like any other bad value (the request cannot be understood, nothing is
"missing" at the address asked for). Filters of a list (``?vet=``) simply match nothing.

Times: see appointments.schemas. A clash, the past, closed hours and a status move the flow does not allow are
broken rules: 409 with ``code`` (``clash``, ``past``, ``outside_hours``, ``bad_transition``, ``bad_status``) and a
detail that names the clashing appointment.

"Any vet": ``GET /api/v1/vets/any/free-slots`` takes the same parameters as one vet's free slots and answers the
free starts of every active vet, in time order then vet name.

Idempotency: ``POST /api/v1/appointments`` takes an optional ``Idempotency-Key`` header (1-40 letters, digits,
``-``, ``_``, ``.``, ``:``; a UUID fits). The first request with a key books and answers 201; any later request
of the same user with that key answers 200 with that same appointment and books nothing, even when both arrive at
once. Reusing a key for a different animal or type is a 409 (``idempotency_key_reused``).
"""

import datetime as dt
import hashlib
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Header, Query, Router, Status
from ninja.errors import ValidationError as SchemaValidationError
from ninja.pagination import paginate

from animals.models import Animal
from appointments import selectors, services
from appointments.models import Appointment, AppointmentEvent, AppointmentStatus, AppointmentType, BookException
from appointments.schemas import (
    AppointmentDetailOut,
    AppointmentOut,
    AppointmentTypeIn,
    AppointmentTypeOut,
    AppointmentTypePatch,
    BookIn,
    CancelIn,
    DayOut,
    ExceptionIn,
    ExceptionOut,
    FreeSlotsOut,
    LocalDate,
    Minutes,
    RescheduleIn,
    StatusIn,
    UndoIn,
    VetOut,
    WorkingHoursIn,
)
from vetpms.api_utils import Id, Page, QuerySchema, body_record, renamed_errors, url_id
from vetpms.errors import DomainError
from vetpms.models import User, Vet
from vetpms.openapi import CONFLICT_ON_READ
from vetpms.permissions import require_perm
from vetpms.timeutils import local_day_bounds, make_aware_strict

router = Router(tags=["appointments"])
vets_router = Router(tags=["vets"])
types_router = Router(tags=["appointment types"])

VIEW = "appointments.view_appointment"
ADD = "appointments.add_appointment"
CHANGE = "appointments.change_appointment"
OVERRIDE = "appointments.override_working_hours"
MANAGE = "appointments.manage_books"

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:\-]{1,40}$"


# --- Helpers ----------------------------------------------------------------------------------------------------


def _detail(pk: int) -> Appointment:
    events = AppointmentEvent.objects.select_related("by").order_by("at", "id")
    return (
        selectors.appointment_list()
        .prefetch_related(Prefetch("events", queryset=events))
        .get(pk=url_id(pk))  # DoesNotExist -> 404 (vetpms.api)
    )


def _vet(pk: int) -> Vet:
    return Vet.objects.get(pk=url_id(pk))  # DoesNotExist -> 404


def _query_error(field: str, message: str) -> SchemaValidationError:
    return SchemaValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _instant(value: dt.datetime, field: str) -> dt.datetime:
    try:
        return make_aware_strict(value)  # naive -> practice wall-clock time; a skipped time is refused
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _timing(payload: Any) -> tuple[dt.datetime, int | None]:
    """(start as an aware instant, minutes or None for the default) from ``start`` and ``minutes`` or ``end``."""
    start = _instant(payload.start, "start")
    if payload.end is None:
        return start, payload.minutes
    length = _instant(payload.end, "end") - start  # both UTC: real minutes, also across a DST change
    if length <= dt.timedelta(0):
        raise ValidationError({"end": "The end must be after the start."})
    minutes = int(length.total_seconds() // 60)
    if minutes > services.MAX_MINUTES:
        raise ValidationError({"end": f"A duration is between 1 minute and {services.MAX_MINUTES // 60} hours."})
    return start, minutes


def _may_override(user: User, override_hours: bool) -> None:
    if override_hours:
        require_perm(user, OVERRIDE)


# --- Appointments -----------------------------------------------------------------------------------------------


class AppointmentFilters(QuerySchema):
    vet: Id | None = Field(None, description="Vet id.")
    animal: Id | None = Field(None, description="Animal id.")
    client: Id | None = Field(None, description="Client id of the owner at booking time.")
    status: AppointmentStatus | None = None
    date_from: LocalDate | None = Field(None, description="Starting on or after this local day.")
    date_to: LocalDate | None = Field(None, description="Starting on or before this local day.")


@router.get("", response=list[AppointmentOut], summary="List appointments")
@paginate(Page)
def list_appointments(request: HttpRequest, filters: Query[AppointmentFilters]):
    require_perm(request.user, VIEW)
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise _query_error("date_to", "The end of the range is before its start.")
    qs = selectors.appointment_list(
        client_id=filters.client,
        status=filters.status,
        start_from=local_day_bounds(filters.date_from)[0] if filters.date_from else None,
        start_before=local_day_bounds(filters.date_to)[1] if filters.date_to else None,
    )
    if filters.vet is not None:
        qs = qs.filter(vet_id=filters.vet)
    if filters.animal is not None:
        qs = qs.filter(animal_id=filters.animal)
    return qs


@router.get("/{int:appointment_id}", response=AppointmentDetailOut, summary="One appointment with its history")
def get_appointment(request: HttpRequest, appointment_id: int):
    require_perm(request.user, VIEW)
    return _detail(appointment_id)


IdempotencyKey = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Optional: the same key again returns the first booking (200) instead of booking twice.",
    ),
]


def _replay(request_key: str, payload: BookIn) -> Appointment | None:
    existing = Appointment.objects.filter(request_key=request_key).values("pk", "animal_id", "type_id").first()
    if existing is None:
        return None
    if (existing["animal_id"], existing["type_id"]) != (payload.animal, payload.type):
        raise DomainError(
            f"This Idempotency-Key was already used for another booking (appointment #{existing['pk']}).",
            code="idempotency_key_reused",
        )
    return _detail(existing["pk"])


def _serialise_key(request_key: str) -> None:
    """Hold a lock on ``request_key`` until the transaction ends. SQLite's IMMEDIATE transactions already run
    one at a time; on PostgreSQL a transaction-level advisory lock on a 64-bit hash of the key does it."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(request_key.encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


@router.post(
    "",
    response={200: AppointmentDetailOut, 201: AppointmentDetailOut},
    summary="Book an appointment",
    description="201 with the new appointment; 200 with the earlier one when the Idempotency-Key was seen before.",
)
def book_appointment(request: HttpRequest, payload: BookIn, idempotency_key: IdempotencyKey = None):
    require_perm(request.user, ADD)
    _may_override(request.user, payload.override_hours)
    # Namespaced per user, so that two API users (or a web form's key) can never collide.
    request_key = f"api:{request.user.pk}:{idempotency_key}" if idempotency_key else None
    animal = body_record(Animal, payload.animal, "animal")
    vet = body_record(Vet, payload.vet, "vet")
    appointment_type = body_record(AppointmentType, payload.type, "type")
    start, minutes = _timing(payload)
    # With a key, the look-up and the booking share one transaction that same-key requests enter one at a
    # time (see _serialise_key), so a repeat that arrives while the first is still booking waits for it and
    # then finds it. The except clause is a second net: a lost race surfaces as the unique key's refusal.
    with transaction.atomic():
        if request_key:
            _serialise_key(request_key)
            if (earlier := _replay(request_key, payload)) is not None:
                return Status(200, earlier)
        try:
            appointment = services.appointment_book(
                animal=animal,
                vet=vet,
                type=appointment_type,
                start=start,
                minutes=minutes,
                reason=payload.reason,
                notes=payload.notes,
                override_hours=payload.override_hours,
                request_key=request_key,
                notify_owner=payload.notify_owner,
                by=request.user,
            )
        except (IntegrityError, DomainError):
            if request_key and (earlier := _replay(request_key, payload)) is not None:
                return Status(200, earlier)
            raise
    return Status(201, _detail(appointment.pk))


@router.post("/{int:appointment_id}/reschedule", response=AppointmentDetailOut, summary="Move an appointment")
def reschedule_appointment(request: HttpRequest, appointment_id: int, payload: RescheduleIn):
    require_perm(request.user, CHANGE)
    _may_override(request.user, payload.override_hours)
    appointment = _detail(appointment_id)
    vet = body_record(Vet, payload.vet, "vet")
    start, minutes = _timing(payload)
    services.appointment_reschedule(
        appointment=appointment,
        start=start,
        minutes=minutes,
        vet=vet,
        override_hours=payload.override_hours,
        notify_owner=payload.notify_owner,
        by=request.user,
    )
    return _detail(appointment_id)


@router.post("/{int:appointment_id}/cancel", response=AppointmentDetailOut, summary="Cancel an appointment")
def cancel_appointment(request: HttpRequest, appointment_id: int, payload: CancelIn):
    require_perm(request.user, CHANGE)
    appointment = _detail(appointment_id)
    renamed_errors(
        lambda: services.appointment_transition(
            appointment=appointment,
            to=AppointmentStatus.CANCELLED,
            note=payload.reason,
            notify_owner=payload.notify_owner,
            by=request.user,
        ),
        {"note": "reason"},
    )
    return _detail(appointment_id)


@router.post(
    "/{int:appointment_id}/undo",
    response=AppointmentDetailOut,
    summary="Undo today's Arrived, No-show, Cancelled or Completed",
    description="Takes back the last status move, on the day it was made (practice time), by its author or someone "
    "in the same role; recorded as a move back. 409 when there is nothing this user may undo, or the time of a "
    "cancelled or no-show appointment was booked again meanwhile.",
)
def undo_status(request: HttpRequest, appointment_id: int, payload: UndoIn):
    require_perm(request.user, CHANGE)
    appointment = _detail(appointment_id)
    services.appointment_undo(appointment=appointment, by=request.user, notify_owner=payload.notify_owner)
    return _detail(appointment_id)


@router.post("/{int:appointment_id}/status", response=AppointmentDetailOut, summary="Move along the status flow")
def move_status(request: HttpRequest, appointment_id: int, payload: StatusIn):
    require_perm(request.user, CHANGE)
    appointment = _detail(appointment_id)
    renamed_errors(
        lambda: services.appointment_transition(
            appointment=appointment, to=payload.to, note=payload.note, by=request.user
        ),
        {"status": "to"},
    )
    return _detail(appointment_id)


# --- Vets: hours, exceptions, free slots, day list --------------------------------------------------------------
# Vets are a short list (1-15 in a practice), returned whole rather than paginated, like species.


class VetFilters(QuerySchema):
    active: bool | None = Field(
        True,
        description="Vets taking appointments (default), the others (false: their book or their staff account is "
        "inactive) or all (null).",
    )


@vets_router.get("", response=list[VetOut], summary="Vets with their weekly working hours")
def list_vets(request: HttpRequest, filters: Query[VetFilters]):
    require_perm(request.user, "vetpms.view_vet", VIEW)
    qs = selectors.vets_with_hours()
    if filters.active is None:
        return qs
    bookable = Vet.objects.bookable().values("pk")
    return qs.filter(pk__in=bookable) if filters.active else qs.exclude(pk__in=bookable)


@vets_router.get("/{int:vet_id}", response=VetOut, summary="One vet with their weekly working hours")
def get_vet(request: HttpRequest, vet_id: int):
    require_perm(request.user, "vetpms.view_vet", VIEW)
    return selectors.vets_with_hours().get(pk=url_id(vet_id))


@vets_router.put("/{int:vet_id}/working-hours", response=VetOut, summary="Replace a vet's weekly sessions")
def set_working_hours(request: HttpRequest, vet_id: int, payload: WorkingHoursIn):
    require_perm(request.user, MANAGE)
    vet = _vet(vet_id)
    sessions = [(s.weekday, s.start, s.end) for s in payload.sessions]
    try:
        services.working_hours_set(vet=vet, sessions=sessions, by=request.user)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise
        raise ValidationError({"sessions": exc.messages}) from exc  # overlapping sessions
    return selectors.vets_with_hours().get(pk=vet.pk)


class ExceptionFilters(QuerySchema):
    date_from: LocalDate | None = Field(None, description="On or after this day; default today.")
    date_to: LocalDate | None = Field(None, description="On or before this day.")


@vets_router.get("/{int:vet_id}/exceptions", response=list[ExceptionOut], summary="A vet's leave and extra sessions")
@paginate(Page)
def list_exceptions(request: HttpRequest, vet_id: int, filters: Query[ExceptionFilters]):
    require_perm(request.user, VIEW)
    vet = _vet(vet_id)
    qs = BookException.objects.filter(vet=vet, date__gte=filters.date_from or timezone.localdate())
    if filters.date_to is not None:
        qs = qs.filter(date__lte=filters.date_to)
    return qs.order_by("date", "start_time", "id")


@vets_router.post("/{int:vet_id}/exceptions", response={201: ExceptionOut}, summary="Add leave or an extra session")
def add_exception(request: HttpRequest, vet_id: int, payload: ExceptionIn):
    require_perm(request.user, MANAGE)
    vet = _vet(vet_id)
    (exception,) = services.book_exception_add(vet=vet, by=request.user, **payload.dict())
    return Status(201, exception)


@vets_router.delete("/{int:vet_id}/exceptions/{int:exception_id}", response={204: None}, summary="Remove one")
def remove_exception(request: HttpRequest, vet_id: int, exception_id: int):
    require_perm(request.user, MANAGE)
    exception = BookException.objects.select_related("vet").get(pk=url_id(exception_id), vet_id=url_id(vet_id))
    services.book_exception_remove(exception=exception, by=request.user)
    return Status(204, None)


class SlotQuery(QuerySchema):
    date: LocalDate = Field(..., description="The local day, YYYY-MM-DD.")
    type: Id | None = Field(None, description="Appointment type id: its default duration (unless minutes).")
    minutes: Minutes | None = Field(None, description="The duration; give this or type.")
    step: int | None = Field(None, ge=5, le=240, description="Minutes between offered starts; default the setting.")


def _free_slots(vets: list[Vet], query: SlotQuery) -> dict[str, Any]:
    minutes = query.minutes
    if minutes is None:
        if query.type is None:
            raise _query_error("type", "Give an appointment type or the minutes.")
        appointment_type = AppointmentType.objects.filter(pk=query.type).first()
        if appointment_type is None:
            raise _query_error("type", f"There is no appointment type with id {query.type}.")
        minutes = appointment_type.default_minutes
    step = query.step or services.slot_step_minutes()
    slots = selectors.find_free_slots(day=query.date, minutes=minutes, vets=vets, step_minutes=step)
    by_id = {vet.pk: vet for vet in vets}
    return {
        "date": query.date,
        "minutes": minutes,
        "step": step,
        "slots": [
            {"vet": by_id[s.vet_id], "start": s.start, "end": s.end, "start_utc": s.start, "end_utc": s.end}
            for s in slots
        ],
    }


@vets_router.get(
    "/any/free-slots", response=FreeSlotsOut, summary="Free starts with any active vet", openapi_extra=CONFLICT_ON_READ
)
def free_slots_any_vet(request: HttpRequest, query: Query[SlotQuery]):
    require_perm(request.user, VIEW)
    return _free_slots(list(selectors.active_vets()), query)


@vets_router.get(
    "/{int:vet_id}/free-slots",
    response=FreeSlotsOut,
    summary="Free starts in one vet's book",
    openapi_extra=CONFLICT_ON_READ,
)
def free_slots(request: HttpRequest, vet_id: int, query: Query[SlotQuery]):
    require_perm(request.user, VIEW)
    vet = _vet(vet_id)
    if not vet.bookable:
        raise DomainError(f"{vet} is not taking appointments.", field="vet", code="inactive_vet")
    return _free_slots([vet], query)


class DayQuery(QuerySchema):
    date: LocalDate | None = Field(None, description="The local day, YYYY-MM-DD; default today.")


@vets_router.get("/{int:vet_id}/day", response=DayOut, summary="A vet's day list")
def day_list(request: HttpRequest, vet_id: int, query: Query[DayQuery]):
    require_perm(request.user, VIEW)
    vet = _vet(vet_id)
    day = query.date or timezone.localdate()
    return {"vet": vet, "date": day, "appointments": list(selectors.day_list(vet=vet, day=day))}


# --- Appointment types ------------------------------------------------------------------------------------------
# A short list, returned whole.


class TypeFilters(QuerySchema):
    include_inactive: bool = Field(False, description="Also the types no longer in use.")


def _type_data(data: dict[str, Any]) -> dict[str, Any]:
    if "recall_unit" in data and data["recall_unit"] is None:
        data["recall_unit"] = ""  # the model stores "no unit" as blank
    return data


@types_router.get("", response=list[AppointmentTypeOut], summary="Appointment types")
def list_types(request: HttpRequest, filters: Query[TypeFilters]):
    require_perm(request.user, "appointments.view_appointmenttype")
    return selectors.appointment_types(active_only=not filters.include_inactive)


@types_router.get("/{int:type_id}", response=AppointmentTypeOut, summary="One appointment type")
def get_type(request: HttpRequest, type_id: int):
    require_perm(request.user, "appointments.view_appointmenttype")
    return AppointmentType.objects.get(pk=url_id(type_id))


@types_router.post("", response={201: AppointmentTypeOut}, summary="Create an appointment type")
def create_type(request: HttpRequest, payload: AppointmentTypeIn):
    require_perm(request.user, MANAGE)
    return Status(201, services.appointment_type_save(by=request.user, data=_type_data(payload.dict())))


@types_router.patch("/{int:type_id}", response=AppointmentTypeOut, summary="Change an appointment type")
def update_type(request: HttpRequest, type_id: int, payload: AppointmentTypePatch):  # type: ignore[valid-type]
    require_perm(request.user, MANAGE)
    appointment_type = AppointmentType.objects.get(pk=url_id(type_id))
    data = _type_data(payload.dict(exclude_unset=True))
    return services.appointment_type_save(by=request.user, data=data, appointment_type=appointment_type)
