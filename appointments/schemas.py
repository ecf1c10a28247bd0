"""API shapes of appointment books: appointments, vets with their hours, exceptions, free slots, types.

Times: every datetime the API returns is ISO 8601 in the practice's time zone with its offset written out
(``2026-07-06T10:00:00+01:00``, ``2026-12-07T10:00:00+00:00``); free slots also carry the same instants in UTC
(``...Z``). Datetimes sent may carry an offset (any zone: the instant is kept) or none, in which case they are read
as the practice's wall-clock time; a wall-clock time skipped by a spring-forward change is refused (422), and a
repeated fall-back time means its first occurrence (send an offset to mean the second).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, PlainSerializer, WithJsonSchema, field_validator, model_validator

from animals.schemas import KG_PLACES
from appointments.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookException,
    Weekday,
)
from appointments.services import MAX_MINUTES
from vetpms.api_utils import Id, InputSchema, patch_schema
from vetpms.params import DATE_MESSAGE, DAY_JSON_SCHEMA, in_bounds
from vetpms.timeutils import to_local


def _local_iso(value: dt.datetime) -> str:
    return to_local(value).isoformat()


def _utc_iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


_DATETIME_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time"})
# An instant shown in the practice's zone with its offset ("+00:00" written out, never "Z", so a client can tell
# the practice's wall-clock time from a UTC value).
LocalDateTime = Annotated[dt.datetime, PlainSerializer(_local_iso, return_type=str), _DATETIME_SCHEMA]
UtcDateTime = Annotated[dt.datetime, PlainSerializer(_utc_iso, return_type=str), _DATETIME_SCHEMA]

Minutes = Annotated[int, Field(ge=1, le=MAX_MINUTES, description=f"A duration in minutes, 1-{MAX_MINUTES}.")]


def _wall_clock_string(value: Any) -> Any:
    """A datetime arrives as an ISO 8601 string with a date and a time: a bare number (seconds? milliseconds?)
    or a date alone (midnight?) is more likely a mistake than a meaning, so it is refused."""
    if not isinstance(value, str):
        raise ValueError("Give a date and time as an ISO 8601 string, e.g. 2026-03-02T10:30 or 2026-03-02T10:30+00:00.")
    if "T" not in value.upper() and " " not in value.strip():
        raise ValueError("Give a time as well as a date, e.g. 2026-03-02T10:30.")
    return value


def _bookable_range(value: Any) -> Any:
    # Far-off years are typos, and near the ends of the calendar adding a duration or a day would overflow.
    if value is not None and not in_bounds(value):
        raise ValueError(DATE_MESSAGE)
    return value


def _wall_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("Give a wall-clock time without an offset, e.g. 09:00: hours follow the practice's clock.")
    return value


WallTime = Annotated[dt.time, AfterValidator(_wall_time)]
# A date in a query (a day list, free slots, a list's range): read as a day in the practice's time zone.
LocalDate = Annotated[dt.date, AfterValidator(_bookable_range), WithJsonSchema(DAY_JSON_SCHEMA)]


START_HELP = (
    "ISO 8601. With an offset (Z, +01:00) the instant is kept; without one it is the practice's wall-clock time. "
    "A time skipped by the clocks going forward is refused."
)


# --- Input ----------------------------------------------------------------------------------------------------


class _Timing(InputSchema):
    start: dt.datetime = Field(..., description=START_HELP)
    minutes: Minutes | None = Field(None, description="Duration; defaults to the type's (booking) or the current one.")
    end: dt.datetime | None = Field(
        None, description="Instead of minutes: when it ends (same rules as start; must be after start)."
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _datetime_string(cls, value: Any) -> Any:
        return value if value is None else _wall_clock_string(value)

    @field_validator("start", "end", mode="after")
    @classmethod
    def _to_the_minute(cls, value: dt.datetime | None) -> dt.datetime | None:
        _bookable_range(value)
        if value is not None and (value.second or value.microsecond):
            raise ValueError("Give the time to the minute (no seconds).")
        return value

    @model_validator(mode="after")
    def _minutes_or_end(self) -> _Timing:
        if self.minutes is not None and self.end is not None:
            raise ValueError("Give either minutes or end, not both.")
        return self


class BookIn(_Timing):
    animal: Id = Field(..., description="The animal's id; its current owner is recorded with the booking.")
    vet: Id = Field(..., description="The vet's id (GET /api/v1/vets).")
    type: Id = Field(..., description="The appointment type's id (GET /api/v1/appointment-types).")
    reason: str = Field("", max_length=200)
    notes: str = Field("", max_length=5000)
    override_hours: bool = Field(
        False, description="Book outside the vet's working hours (needs appointments.override_working_hours)."
    )
    notify_owner: bool = Field(
        True, description="Email the owner (if they consented and have an address), with the appointment's .ics."
    )


class RescheduleIn(_Timing):
    vet: Id | None = Field(None, description="Move to another vet's book; defaults to the same vet.")
    override_hours: bool = False
    notify_owner: bool = Field(
        True,
        description="Email the owner (if they consented and have an address) the new time with an updated .ics: "
        "same UID, higher SEQUENCE.",
    )


class CancelIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=200, description="Why, e.g. 'owner rang, pet is better'.")
    notify_owner: bool = Field(
        True, description="Email the owner (if they consented and have an address), with an iCalendar CANCEL."
    )


class UndoIn(InputSchema):
    notify_owner: bool = Field(
        True,
        description="When a cancellation is undone, email the owner that the appointment stands (if they "
        "consented and have an address), with the appointment's .ics.",
    )


class StatusIn(InputSchema):
    to: AppointmentStatus = Field(
        ...,
        description="booked -> confirmed -> arrived -> in_consultation -> completed; booked/confirmed -> "
        "cancelled (give a note) or no_show.",
    )
    note: str = Field("", max_length=200)


class SessionIn(InputSchema):
    weekday: Weekday = Field(..., description="0 = Monday ... 6 = Sunday.")
    start: WallTime = Field(..., description="Local wall-clock time, e.g. 09:00.")
    end: WallTime = Field(..., description="Local wall-clock time, after start.")

    @model_validator(mode="after")
    def _end_after_start(self) -> SessionIn:
        if self.end <= self.start:
            raise ValueError("A session ends after it starts.")
        return self


class WorkingHoursIn(InputSchema):
    sessions: list[SessionIn] = Field(
        ..., max_length=70, description="The whole week: replaces every session the vet had. [] clears the book."
    )


class ExceptionIn(InputSchema):
    date: LocalDate
    kind: BookException.Kind = Field(..., description="leave (unavailable) or extra (an extra session).")
    start_time: WallTime | None = Field(None, description="Leave without times is the whole day.")
    end_time: WallTime | None = None
    note: str = Field("", max_length=200)
    booked: Literal["refuse", "keep", "cancel"] = Field(
        "refuse",
        description="Leave over live appointments: refuse (409 naming them), keep them (to move one by one) or "
        "cancel them.",
    )
    notify_owners: bool = Field(True, description="With booked=cancel: email each owner an iCalendar CANCEL.")


class AppointmentTypeIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=80)
    default_minutes: int = Field(15, ge=5, le=600)
    colour: str = Field("#6c9bd2", pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")
    recall_name: str = Field("", max_length=80, description="e.g. 'Dental recheck'.")
    recall_interval: int | None = Field(None, ge=1, le=1000)
    recall_unit: AppointmentType.RecallUnit | None = Field(None, description="days, weeks or months.")
    is_active: bool = True


AppointmentTypePatch = patch_schema(AppointmentTypeIn, "AppointmentTypePatch")


# --- Output ---------------------------------------------------------------------------------------------------


class AppointmentTypeOut(Schema):
    id: int
    name: str
    default_minutes: int
    colour: str
    recall_name: str
    recall_interval: int | None
    recall_unit: str
    recall_text: str = Field(..., description="e.g. 'Dental recheck in 6 months'; empty without a recall.")
    is_active: bool


class TypeRef(Schema):
    id: int
    name: str
    colour: str


class VetRef(Schema):
    id: int
    display_name: str
    colour: str


class AppointmentAnimalOut(Schema):
    id: int
    name: str
    species: str
    breed: str | None
    age: str = Field(..., description='As vets say it: "3 y 2 m"; "~" when the birth date is estimated.')
    last_weight_kg: str | None = Field(..., description='The latest recorded weight, e.g. "12.500", or null.')
    alerts: list[str]

    @staticmethod
    def resolve_species(obj) -> str:
        return obj.species.name

    @staticmethod
    def resolve_breed(obj) -> str | None:
        return obj.breed.name if obj.breed_id else None

    @staticmethod
    def resolve_alerts(obj) -> list[str]:
        return obj.alert_list

    @staticmethod
    def resolve_last_weight_kg(obj) -> str | None:
        kg = getattr(obj, "last_weight_kg", None)
        return None if kg is None else str(Decimal(kg).quantize(KG_PLACES))


class OwnerOut(Schema):
    id: int
    display_name: str
    main_phone: str = Field(..., description="The first phone number, as people write it.")


def _animal(obj: Appointment) -> Any:
    # The selectors annotate the appointment (not the animal) with the animal's latest weight.
    obj.animal.last_weight_kg = getattr(obj, "last_weight_kg", None)
    return obj.animal


class AppointmentOut(Schema):
    id: int
    start: LocalDateTime
    end: LocalDateTime
    minutes: int
    status: AppointmentStatus
    status_display: str
    vet: VetRef
    type: TypeRef
    animal: AppointmentAnimalOut
    client: OwnerOut = Field(..., description="The owner when it was booked.")
    reason: str
    notes: str
    cancel_reason: str
    outside_hours: bool = Field(..., description="Booked outside the vet's working hours by an explicit override.")
    booked_by_id: int | None
    created_at: LocalDateTime
    updated_at: LocalDateTime

    @staticmethod
    def resolve_status_display(obj: Appointment) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_animal(obj: Appointment) -> Any:
        return _animal(obj)


class EventOut(Schema):
    at: LocalDateTime
    by: str | None = Field(..., description="Who moved it (a name), or null if that user was deleted.")
    kind: str = Field(..., description="status (a move), undo (a mistaken move taken back) or reschedule.")
    from_status: str = Field(..., description="Empty for the booking itself.")
    to_status: str
    note: str
    from_start: LocalDateTime | None = Field(None, description="A reschedule: the start it had.")
    to_start: LocalDateTime | None = Field(None, description="A reschedule: the start it got.")

    @staticmethod
    def resolve_by(obj) -> str | None:
        return (obj.by.get_full_name() or obj.by.username) if obj.by_id else None


class AppointmentDetailOut(AppointmentOut):
    events: list[EventOut] = Field(..., description="The status history, oldest first.")

    @staticmethod
    def resolve_events(obj: Appointment) -> list:
        return list(obj.events.all())


class DayAppointmentOut(Schema):
    """One line of a vet's day list."""

    id: int
    time: str = Field(..., description="Local start time, HH:MM.")
    start: LocalDateTime
    end: LocalDateTime
    minutes: int
    status: AppointmentStatus
    status_display: str
    type: TypeRef
    animal: AppointmentAnimalOut
    owner: OwnerOut
    reason: str
    outside_hours: bool

    @staticmethod
    def resolve_time(obj: Appointment) -> str:
        return f"{to_local(obj.start):%H:%M}"

    @staticmethod
    def resolve_status_display(obj: Appointment) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_animal(obj: Appointment) -> Any:
        return _animal(obj)

    @staticmethod
    def resolve_owner(obj: Appointment) -> Any:
        return obj.client


class DayOut(Schema):
    vet: VetRef
    date: dt.date
    appointments: list[DayAppointmentOut] = Field(..., description="In time order, cancelled ones included.")


class SessionOut(Schema):
    start: str = Field(..., description="HH:MM local")
    end: str = Field(..., description="HH:MM local")


class WeekdayHoursOut(Schema):
    weekday: int = Field(..., description="0 = Monday ... 6 = Sunday.")
    name: str
    sessions: list[SessionOut] = Field(..., description="Empty on a day off.")


def week_of(hours) -> list[dict[str, Any]]:
    """A vet's WorkingHours rows as the seven weekdays, each with its sessions in time order."""
    days: list[dict[str, Any]] = [{"weekday": d.value, "name": d.label, "sessions": []} for d in Weekday]
    for row in sorted(hours, key=lambda h: (h.weekday, h.start_time)):
        days[row.weekday]["sessions"].append({"start": f"{row.start_time:%H:%M}", "end": f"{row.end_time:%H:%M}"})
    return days


class VetOut(Schema):
    id: int
    display_name: str
    colour: str
    registration_number: str
    is_active: bool = Field(
        ..., description="Taking appointments: false when the book is closed or the person's staff account is inactive."
    )
    working_hours: list[WeekdayHoursOut] = Field(..., description="Monday to Sunday.")

    @staticmethod
    def resolve_is_active(obj) -> bool:
        return bool(obj.bookable)

    @staticmethod
    def resolve_working_hours(obj) -> list[dict[str, Any]]:
        return week_of(obj.working_hours.all())


class ExceptionOut(Schema):
    id: int
    date: dt.date
    kind: str
    start_time: str | None = Field(..., description="HH:MM local; null with whole-day leave.")
    end_time: str | None
    note: str

    @staticmethod
    def resolve_start_time(obj) -> str | None:
        return f"{obj.start_time:%H:%M}" if obj.start_time else None

    @staticmethod
    def resolve_end_time(obj) -> str | None:
        return f"{obj.end_time:%H:%M}" if obj.end_time else None


class SlotOut(Schema):
    vet: VetRef
    start: LocalDateTime
    end: LocalDateTime
    start_utc: UtcDateTime
    end_utc: UtcDateTime


class FreeSlotsOut(Schema):
    date: dt.date
    minutes: int
    step: int
    slots: list[SlotOut] = Field(..., description="In time order, then vet name.")
