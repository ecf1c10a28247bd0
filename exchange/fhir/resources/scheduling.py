"""Practitioner (a vet), PractitionerRole (the vet at the practice: roles and regular hours), Schedule (a vet's
book), Slot (free time computed from the books by the appointments app's availability code) and Appointment, the
one type that can be written: booked, rescheduled and cancelled through the appointments services, so every rule
(clashes, hours, the past, the status flow) holds as on the page. A vet's Practitioner, PractitionerRole and
Schedule share the vet's id.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from animals.models import Animal
from appointments import selectors as appointment_selectors
from appointments import services as appointment_services
from appointments.availability import Slot, within
from appointments.models import Appointment, AppointmentStatus, AppointmentType
from exchange.fhir import systems
from exchange.fhir.errors import FhirError, bad_request, not_found, unprocessable
from exchange.fhir.registry import Query, ResourceType, SearchPage, register
from exchange.fhir.resources.common import instant, reference, without_empty
from exchange.fhir.resources.finance import PRACTICE_ID, practice_reference
from exchange.fhir.search import (
    NOTHING,
    SearchParam,
    choice_param,
    date_param,
    int_id,
    parse_date_range,
    parse_token,
    reference_id,
    reference_param,
    split_prefix,
    string_param,
    token_param,
)
from vetpms.models import Vet
from vetpms.permissions import require_perm
from vetpms.timeutils import to_local

S = AppointmentStatus

# --- Practitioner and Schedule --------------------------------------------------------------------------------------


def _active_q(system: str | None, code: str) -> Q:
    if code not in ("true", "false"):
        raise bad_request("active is true or false.", expression="active")
    return Q(is_active=code == "true")


def _registration_q(system: str | None, code: str) -> Q:
    if system not in (None, systems.practice("vet-registration")):
        return NOTHING
    return Q(registration_number=code) & ~Q(registration_number="")


@register
class PractitionerResource(ResourceType):
    type_name = "Practitioner"
    model = Vet
    read_permissions = ("vetpms.view_vet",)
    last_updated = "updated_at"
    documentation = "A vet (a member of staff who holds an appointment book)."
    search_params = [
        string_param("name", ["display_name", "user__first_name", "user__last_name"]),
        token_param("identifier", _registration_q, documentation="The professional registration number."),
        token_param("active", _active_q),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Vet.objects.select_related("user")

    def to_fhir(self, obj: Vet, request: HttpRequest) -> dict:
        name = without_empty(
            {
                "text": obj.display_name,
                "family": obj.user.last_name,
                "given": [obj.user.first_name] if obj.user.first_name else None,
            }
        )
        identifiers = []
        if obj.registration_number:
            identifiers.append({"system": systems.practice("vet-registration"), "value": obj.registration_number})
        return without_empty({"identifier": identifiers, "active": obj.is_active, "name": [name]})


@register
class ScheduleResource(ResourceType):
    type_name = "Schedule"
    model = Vet
    read_permissions = ("appointments.view_appointment", "vetpms.view_vet")
    last_updated = "updated_at"
    documentation = "A vet's appointment book (its id is the vet's); free time is searched as Slot."
    search_params = [
        reference_param("actor", "pk", "Practitioner", documentation="The vet whose book it is."),
        token_param("active", _active_q),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Vet.objects.all()

    def to_fhir(self, obj: Vet, request: HttpRequest) -> dict:
        return {
            "active": obj.is_active,
            "actor": [
                reference("Practitioner", obj.pk, obj.display_name),
                reference("PractitionerRole", obj.pk, f"{obj.display_name} at the practice"),
            ],
            "comment": f"Appointment book of {obj.display_name}",
        }


DAYS_OF_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # WorkingHours.weekday 0-6, Monday first


def _practice_q(value: str, modifier: str) -> Q:
    """organization: every vet works at the one practice (Organization/practice); any other matches none."""
    if modifier and modifier != "Organization":
        raise bad_request(f"organization refers to Organization resources, not {modifier}.")
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != "Organization":
        raise bad_request(f"organization refers to Organization resources, not {parts[-2]}.")
    return Q(pk__isnull=False) if parts[-1] == PRACTICE_ID else NOTHING


def available_times(obj: Vet) -> list[dict]:
    """The regular week as availableTime: one entry per session time, with the days it is worked."""
    days_by_time: dict[tuple[dt.time, dt.time], list[int]] = {}
    for hours in obj.working_hours.all():
        days_by_time.setdefault((hours.start_time, hours.end_time), []).append(hours.weekday)
    return [
        {
            "daysOfWeek": [DAYS_OF_WEEK[day] for day in sorted(days)],
            "availableStartTime": start.strftime("%H:%M:%S"),
            "availableEndTime": end.strftime("%H:%M:%S"),
        }
        for (start, end), days in sorted(days_by_time.items())
    ]


@register
class PractitionerRoleResource(ResourceType):
    """A vet at the practice: the Practitioner, the practice's Organization, the staff roles and the regular week
    (availableTime, from the working hours; leave and extra sessions are the Slots' business). The vet's book is
    Schedule/<same id>, whose actor names this role. meta.lastUpdated is the vet's change time, which a change of
    working hours also moves."""

    type_name = "PractitionerRole"
    model = Vet
    read_permissions = ("vetpms.view_vet",)
    last_updated = "updated_at"
    documentation = "A vet at the practice (same id as the Practitioner and the Schedule): roles and regular hours."
    search_params = [
        reference_param("practitioner", "pk", "Practitioner", documentation="The vet."),
        SearchParam(
            "organization",
            "reference",
            _practice_q,
            "The practice (Organization/practice).",
            frozenset({"Organization"}),
        ),
        token_param("active", _active_q),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Vet.objects.select_related("user").prefetch_related("working_hours", "user__groups")

    def to_fhir(self, obj: Vet, request: HttpRequest) -> dict:
        roles = [
            {
                "coding": [{"system": systems.practice("staff-role"), "code": name.lower(), "display": name}],
                "text": name,
            }
            for name in obj.user.roles
        ]
        return without_empty(
            {
                "active": obj.is_active,
                "practitioner": reference("Practitioner", obj.pk, obj.display_name),
                "organization": practice_reference(),
                "code": roles,
                "availableTime": available_times(obj),
            }
        )


# --- Slot -----------------------------------------------------------------------------------------------------------

_SLOT_ID = re.compile(r"^(\d{1,9})-(\d{12})-(\d{1,3})$")
MAX_SLOT_DAYS = 31
DEFAULT_SLOT_DAYS = 7


def slot_id(slot: Slot) -> str:
    minutes = int((slot.end - slot.start).total_seconds() // 60)
    return f"{slot.vet_id}-{slot.start.astimezone(dt.UTC):%Y%m%d%H%M}-{minutes}"


def parse_slot_id(text: str) -> tuple[int, dt.datetime, int] | None:
    match = _SLOT_ID.match(text)
    if match is None:
        return None
    try:
        start = dt.datetime.strptime(match.group(2), "%Y%m%d%H%M").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    minutes = int(match.group(3))
    return (int(match.group(1)), start, minutes) if 0 < minutes <= 12 * 60 else None


def _unused(value: str, modifier: str) -> Q:  # Slot is searched by SlotResource.search, not by filters
    raise AssertionError("Slot parameters are read by SlotResource.search")


def _appointment_type(system: str | None, code: str, name: str) -> AppointmentType:
    if system not in (None, systems.practice("appointment-type")):
        raise bad_request(f"{name}: appointment types are coded in {systems.practice('appointment-type')}.")
    pk = int_id(code)
    found = AppointmentType.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    if found is None:
        raise bad_request(f"{name}: {code!r} is not an appointment type in use.", expression=name)
    return found


@dataclass(frozen=True)
class BookedSlot(Slot):
    """A slot id whose time a booking has taken since it was offered (read by id only: searches list free time)."""


@register
class SlotResource(ResourceType):
    """Free time, computed when asked from the vets' hours, leave and bookings (nothing is stored). A slot is one
    step of the book (APPOINTMENT_SLOT_STEP_MINUTES), or as long as the appointment type named by service-type.

    A slot id says vet, start (UTC) and length, so reading one answers what that time is now: ``free`` while it
    can be booked; ``busy`` once a booking (any appointment that holds the book: not cancelled, not a no-show)
    overlaps it, so a client that held the id learns it was taken rather than that it never existed; otherwise a
    404 whose OperationOutcome says why (the vet's book is closed, the time has passed, it is outside the vet's
    hours or on leave, or it is not on the book's steps). Searches list free slots only (status=busy finds none).
    The bulk export writes the free slots of the next MAX_SLOT_DAYS days, as the books stand when it runs."""

    type_name = "Slot"
    read_permissions = ("appointments.view_appointment",)
    last_updated = None
    documentation = (
        "Free time in a vet's book, computed from the books; searches list free slots (up to 31 days a search); "
        "reading the id of a slot a booking has taken since answers status busy."
    )
    search_params = [
        SearchParam("schedule", "reference", _unused, "The book (Schedule) whose free time is wanted."),
        SearchParam("start", "date", _unused, "Slot start, with ge/gt/lt/le (at most 31 days; default 7 from now)."),
        SearchParam("status", "token", _unused, "free (only free slots are listed)."),
        SearchParam("service-type", "token", _unused, "An appointment type id: slots as long as that type."),
    ]

    def id_of(self, obj: Slot) -> str:
        return slot_id(obj)

    def to_fhir(self, obj: Slot, request: HttpRequest) -> dict:
        return slot_resource(obj, request)

    def get(self, request: HttpRequest, resource_id: str) -> Slot:
        parsed = parse_slot_id(resource_id)
        vet = Vet.objects.select_related("user").filter(pk=parsed[0]).first() if parsed else None
        if parsed is None or vet is None:
            raise not_found(f"Slot/{resource_id} is not known.")
        _, start, minutes = parsed
        end = start + dt.timedelta(minutes=minutes)
        day = to_local(start).date()
        for slot in appointment_selectors.free_slots_between(
            first_day=day,
            last_day=day,
            minutes=minutes,
            vets=[vet],
            step_minutes=appointment_services.slot_step_minutes(),
        ):
            if slot.start == start:
                return slot
        if Appointment.objects.blocking().filter(vet=vet).overlapping(start, end).exists():
            return BookedSlot(vet.pk, start, end)
        raise not_found(f"Slot/{resource_id} is not free: {_why_not_free(vet, start, end)}.")

    def export_filters(self) -> list[tuple[SearchParam, str, list[str]]]:
        now = timezone.now()
        start = self.all_search_params()["start"]
        return [
            (start, "", [f"ge{instant(now)}"]),
            (start, "", [f"lt{instant(now + dt.timedelta(days=MAX_SLOT_DAYS))}"]),
        ]

    def search(self, request: HttpRequest, query: Query) -> SearchPage:
        lower: dt.datetime | None = None
        upper: dt.datetime | None = None
        vet_ids: set[int] | None = None
        wanted_ids: set[str] | None = None
        minutes = appointment_services.slot_step_minutes()
        for param, modifier, values in query.filters:
            if modifier and not (param.name == "schedule" and modifier == "Schedule"):
                raise bad_request(f"{param.name} has no modifier :{modifier} here.")
            if param.name == "_id":
                wanted_ids = set(values) if wanted_ids is None else wanted_ids & set(values)
            elif param.name == "schedule":
                found = {reference_id(value, "Schedule", "schedule") for value in values}
                ids = {pk for pk in found if pk is not None}
                vet_ids = ids if vet_ids is None else vet_ids & ids
            elif param.name == "status":
                if not any(parse_token(value)[1] == "free" for value in values):
                    return SearchPage([], None, None)
            elif param.name == "service-type":
                if len(values) != 1:
                    raise bad_request("service-type: give one appointment type.")
                minutes = _appointment_type(*parse_token(values[0]), "service-type").default_minutes
            elif param.name == "start":
                if len(values) != 1:
                    raise bad_request("start: one value per parameter (repeat it for a range).")
                prefix, text = split_prefix(values[0])
                begin, end = parse_date_range(text, "start")
                if prefix in ("ge", "eq", "ap"):
                    lower = max(lower, begin) if lower else begin
                if prefix in ("gt", "sa"):
                    lower = max(lower, end) if lower else end
                if prefix in ("lt", "eb"):
                    upper = min(upper, begin) if upper else begin
                if prefix in ("le", "eq", "ap"):
                    upper = min(upper, end) if upper else end
                if prefix == "ne":
                    raise bad_request("start: ne is not supported for slots.")
        now = timezone.now()
        lower = max(lower or now, now)
        upper = upper or lower + dt.timedelta(days=DEFAULT_SLOT_DAYS)
        if upper - lower > dt.timedelta(days=MAX_SLOT_DAYS):
            raise bad_request(f"start: search at most {MAX_SLOT_DAYS} days of slots at a time.", expression="start")
        if upper <= lower:
            return SearchPage([], None, None)
        vets = Vet.objects.filter(is_active=True).order_by("pk")
        if vet_ids is not None:
            vets = vets.filter(pk__in=vet_ids)
        slots = appointment_selectors.free_slots_between(
            first_day=to_local(lower).date(),
            last_day=to_local(upper - dt.timedelta(microseconds=1)).date(),
            minutes=minutes,
            vets=list(vets),
            step_minutes=appointment_services.slot_step_minutes(),
        )
        slots = sorted(
            (s for s in slots if lower <= s.start < upper and (wanted_ids is None or slot_id(s) in wanted_ids)),
            key=_slot_key,
        )
        return _slot_page(slots, query)


def _slot_key(slot: Slot) -> tuple[dt.datetime, int]:
    return slot.start, slot.vet_id


def _slot_cursor(direction: str, slot: Slot) -> str:
    return f"{direction}{int(slot.start.timestamp())}.{slot.vet_id}"


def _slot_page(slots: list[Slot], query: Query) -> SearchPage:
    """A page of the (already bounded, sorted) slots after or before the cursor's key: the key, not a position,
    so slots booked between two requests do not shift the pages."""
    count = query.count
    if not query.cursor:
        rows = slots[:count]
        return SearchPage(rows, _slot_cursor("n", rows[-1]) if len(slots) > count else None, None)
    match = re.match(r"^([np])(\d{1,12})\.(\d{1,9})$", query.cursor)
    if match is None:
        raise bad_request("_cursor: not a cursor of this search (start the search again).")
    key = (dt.datetime.fromtimestamp(int(match.group(2)), tz=dt.UTC), int(match.group(3)))
    if match.group(1) == "n":
        after = [s for s in slots if _slot_key(s) > key]
        rows = after[:count]
        has_next = len(after) > count
        has_previous = True
    else:
        before = [s for s in slots if _slot_key(s) < key]
        rows = before[-count:]
        has_next = True
        has_previous = len(before) > count
    next_cursor = _slot_cursor("n", rows[-1]) if rows and has_next else None
    previous_cursor = _slot_cursor("p", rows[0]) if rows and has_previous else None
    return SearchPage(rows, next_cursor, previous_cursor)


def _why_not_free(vet: Vet, start: dt.datetime, end: dt.datetime) -> str:
    """Why a slot id that no booking takes is not free (the OperationOutcome of its 404)."""
    if not vet.bookable:
        return f"{vet.display_name}'s book is closed"
    if start < timezone.now():
        return "the time has passed"
    day = to_local(start).date()
    if not within(appointment_selectors.sessions_for(vets=[vet], day=day)[vet.pk], start, end):
        return f"it is outside {vet.display_name}'s hours on {day.isoformat()} (or they are on leave)"
    return f"it does not start on the book's {appointment_services.slot_step_minutes()}-minute steps"


def slot_resource(slot: Slot, request: HttpRequest) -> dict:
    return {
        "schedule": reference("Schedule", slot.vet_id),
        "status": "busy" if isinstance(slot, BookedSlot) else "free",
        "start": instant(slot.start),
        "end": instant(slot.end),
    }


# --- Appointment ----------------------------------------------------------------------------------------------------

TO_FHIR_STATUS = {
    S.BOOKED: "booked",
    S.CONFIRMED: "booked",
    S.ARRIVED: "arrived",
    S.IN_CONSULTATION: "arrived",
    S.COMPLETED: "fulfilled",
    S.CANCELLED: "cancelled",
    S.NO_SHOW: "noshow",
}
# What a FHIR status asks for when written (booked is where an appointment starts; it is never moved back to).
FROM_FHIR_STATUS = {"arrived": S.ARRIVED, "fulfilled": S.COMPLETED, "cancelled": S.CANCELLED, "noshow": S.NO_SHOW}
SEARCH_STATUS: dict[str, list[str]] = {code: [] for code in ("proposed", "pending", "entered-in-error", "checked-in")}
SEARCH_STATUS["waitlist"] = []
for _internal, _code in TO_FHIR_STATUS.items():
    SEARCH_STATUS.setdefault(_code, []).append(_internal)


def _instant_value(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise unprocessable(f"{name} must be an instant (2026-12-07T10:30:00Z).", expression=f"Appointment.{name}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise unprocessable(f"{name}: {value!r} is not an instant with a zone.", expression=f"Appointment.{name}")
    if not 1900 <= parsed.year <= 2999:  # also keeps start + duration clear of datetime's limits
        raise unprocessable(f"{name}: {value!r} is out of range.", expression=f"Appointment.{name}")
    return parsed.astimezone(dt.UTC)


def _references(body: dict) -> dict[str, list[str]]:
    """The participants' actor references by type: {"Patient": ["12"], "Practitioner": ["3"]}."""
    found: dict[str, list[str]] = {}
    participants = body.get("participant", [])
    if not isinstance(participants, list):
        raise unprocessable("participant must be a list.", expression="Appointment.participant")
    for participant in participants:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        ref = actor.get("reference") if isinstance(actor, dict) else None
        if not isinstance(ref, str) or "/" not in ref:
            raise unprocessable("Each participant needs actor.reference (Patient/1).", expression="participant")
        type_name, _, pk = ref.rstrip("/").rpartition("/")
        found.setdefault(type_name.rpartition("/")[2], []).append(pk)
    return found


def _one(refs: dict[str, list[str]], type_name: str, required: bool = True) -> int | None:
    values = refs.get(type_name, [])
    if not values:
        if required:
            raise unprocessable(f"Name the {type_name} as a participant.", expression="Appointment.participant")
        return None
    if len(values) > 1:
        raise unprocessable(f"Give one {type_name} participant.", expression="Appointment.participant")
    pk = int_id(values[0])
    if pk is None:
        raise unprocessable(f"{type_name}/{values[0]} is not known.", expression="Appointment.participant")
    return pk


def _type_from(body: dict) -> AppointmentType:
    for key in ("serviceType", "appointmentType"):
        concepts = body.get(key)
        concepts = concepts if isinstance(concepts, list) else [concepts] if isinstance(concepts, dict) else []
        for concept in concepts:
            if not isinstance(concept, dict):
                continue
            for coding in concept.get("coding") or []:
                if isinstance(coding, dict) and coding.get("system") == systems.practice("appointment-type"):
                    pk = int_id(str(coding.get("code", "")))
                    found = AppointmentType.objects.filter(pk=pk).first() if pk is not None else None
                    if found is None:
                        raise unprocessable(f"Appointment type {coding.get('code')!r} is not known.", expression=key)
                    return found
            text = concept.get("text")
            if isinstance(text, str) and text.strip():
                found = AppointmentType.objects.filter(name__iexact=text.strip()).first()
                if found is not None:
                    return found
    raise unprocessable(
        f"Name the appointment type in serviceType (system {systems.practice('appointment-type')}, code its id).",
        expression="Appointment.serviceType",
    )


def _text(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise unprocessable(f"{name} must be text.", expression=f"Appointment.{name}")
    return value.strip()[:limit]


def _reason_text(body: dict) -> str:
    reason = body.get("cancelationReason")
    if isinstance(reason, dict):
        return _text(reason.get("text"), "cancelationReason.text", 200)
    return ""


@register
class AppointmentResource(ResourceType):
    """A booking. Created through the booking service (a clash is a 409), moved and cancelled through the
    reschedule and status services (their refusals are 409s with the reason)."""

    type_name = "Appointment"
    model = Appointment
    read_permissions = ("appointments.view_appointment",)
    last_updated = "updated_at"
    ordering = ("start", "id")
    documentation = "A booking; POST books, PATCH/PUT cancel (status), move (start/end) or change status."
    search_params = [
        reference_param("patient", "animal_id", "Patient", documentation="The animal booked."),
        reference_param("practitioner", "vet_id", "Practitioner", documentation="The vet."),
        date_param("date", "start", documentation="When the appointment starts."),
        choice_param("status", "status", SEARCH_STATUS, documentation="booked, arrived, fulfilled, cancelled, noshow"),
    ]

    def queryset(self, request: HttpRequest) -> QuerySet:
        return Appointment.objects.select_related("animal", "vet", "type")

    def to_fhir(self, obj: Appointment, request: HttpRequest) -> dict:
        type_concept = {
            "coding": [
                {"system": systems.practice("appointment-type"), "code": str(obj.type_id), "display": obj.type.name}
            ],
            "text": obj.type.name,
        }
        resource = {
            "status": TO_FHIR_STATUS[S(obj.status)],
            "cancelationReason": {"text": obj.cancel_reason} if obj.cancel_reason else None,
            "serviceType": [type_concept],
            "description": obj.reason,
            "start": instant(obj.start),
            "end": instant(obj.end),
            "minutesDuration": obj.minutes,
            "created": instant(obj.created_at),
            "participant": [
                {"actor": reference("Patient", obj.animal_id, obj.animal.name), "status": "accepted"},
                {"actor": reference("Practitioner", obj.vet_id, obj.vet.display_name), "status": "accepted"},
            ],
        }
        return without_empty(resource)

    # --- writes ----------------------------------------------------------------------------------------------------

    def create(self, request: HttpRequest, body: dict) -> Appointment:
        require_perm(request.user, "appointments.add_appointment")
        status = body.get("status", "booked")
        if status not in ("booked", "proposed", "pending"):
            raise unprocessable("A new appointment is booked (status booked).", expression="Appointment.status")
        refs = _references(body)
        animal_pk = _one(refs, "Patient")
        vet_pk = _one(refs, "Practitioner", required=False)
        start = end = None
        slots = body.get("slot") or []
        if not isinstance(slots, list):
            raise unprocessable("slot must be a list of Slot references.", expression="Appointment.slot")
        for item in slots:
            ref = item.get("reference") if isinstance(item, dict) else None
            parsed = parse_slot_id(ref.rpartition("/")[2]) if isinstance(ref, str) else None
            if parsed is None:
                raise unprocessable(f"{ref!r} is not a Slot of this server.", expression="Appointment.slot")
            slot_vet, slot_start, slot_minutes = parsed
            if vet_pk is not None and slot_vet != vet_pk:
                raise unprocessable("The slots belong to another vet's book.", expression="Appointment.slot")
            vet_pk = slot_vet
            slot_end = slot_start + dt.timedelta(minutes=slot_minutes)
            start = min(start, slot_start) if start else slot_start
            end = max(end, slot_end) if end else slot_end
        if "start" in body:
            start = _instant_value(body["start"], "start")
        if "end" in body:
            end = _instant_value(body["end"], "end")
        if start is None:
            raise unprocessable("Give start (and end) or the Slot(s) to book.", expression="Appointment.start")
        if vet_pk is None:
            raise unprocessable("Name the Practitioner or book a Slot.", expression="Appointment.participant")
        animal = Animal.objects.filter(pk=animal_pk).first()
        vet = Vet.objects.filter(pk=vet_pk).first()
        if animal is None or vet is None:
            missing = "Patient" if animal is None else "Practitioner"
            raise unprocessable(f"The {missing} named is not known.", expression="Appointment.participant")
        kind = _type_from(body)
        minutes = None
        if end is not None:
            if end <= start:
                raise unprocessable("end must be after start.", expression="Appointment.end")
            minutes = int((end - start).total_seconds() // 60)
        elif body.get("minutesDuration") is not None:
            duration = body["minutesDuration"]
            if not isinstance(duration, int) or isinstance(duration, bool):
                raise unprocessable("minutesDuration is a whole number.", expression="Appointment.minutesDuration")
            minutes = duration
        return appointment_services.appointment_book(
            animal=animal,
            vet=vet,
            type=kind,
            start=start,
            minutes=minutes,
            reason=_text(body.get("description"), "description", 200),
            notes=_text(body.get("comment"), "comment", 5000),
            by=request.user,
        )

    def update(self, request: HttpRequest, obj: Appointment, body: dict) -> Appointment:
        require_perm(request.user, "appointments.change_appointment")
        refs = _references(body) if "participant" in body else {}
        patient = _one(refs, "Patient", required=False)
        if patient is not None and patient != obj.animal_id:
            raise unprocessable("An appointment cannot be moved to another patient.", expression="participant")
        vet_pk = _one(refs, "Practitioner", required=False)
        return self._apply(
            request,
            obj,
            status=body.get("status"),
            start=_instant_value(body["start"], "start") if "start" in body else None,
            end=_instant_value(body["end"], "end") if "end" in body else None,
            vet_pk=vet_pk,
            reason=_reason_text(body),
        )

    def patch(self, request: HttpRequest, obj: Appointment, body: Any, content_type: str) -> Appointment:
        require_perm(request.user, "appointments.change_appointment")
        changes: dict[str, Any] = {}
        if content_type == "application/json-patch+json":
            if not isinstance(body, list):
                raise bad_request("A JSON Patch is a list of operations.")
            current = self.to_fhir(obj, request)
            for op in body:
                if not isinstance(op, dict) or not isinstance(op.get("path"), str):
                    raise bad_request("Each JSON Patch operation needs op and path.")
                key = op["path"].strip("/").replace("/text", "")
                if key not in ("status", "start", "end", "minutesDuration", "cancelationReason"):
                    raise unprocessable(f"{op['path']} cannot be changed here.", expression=op["path"])
                if op.get("op") == "test":
                    wanted = op.get("value")
                    have = current.get(key)
                    if key == "cancelationReason" and op["path"].endswith("/text"):
                        have = (have or {}).get("text")
                    if have != wanted:
                        raise FhirError(409, f"test failed: {op['path']} is {have!r}.", code="conflict")
                    continue
                if op.get("op") not in ("replace", "add"):
                    raise unprocessable(f"Only replace, add and test are supported, not {op.get('op')!r}.")
                value = op.get("value")
                if key == "cancelationReason" and op["path"].endswith("/text"):
                    value = {"text": value}
                changes[key] = value
        else:
            if not isinstance(body, dict):
                raise bad_request("A merge patch is a JSON object.")
            for key, value in body.items():
                if key in ("resourceType", "id"):
                    if (key == "resourceType" and value != "Appointment") or (
                        key == "id" and str(value) != str(obj.pk)
                    ):
                        raise bad_request(f"{key} {value!r} does not match this Appointment.")
                    continue
                if key not in ("status", "start", "end", "minutesDuration", "cancelationReason"):
                    raise unprocessable(f"{key} cannot be changed here (status, start, end).", expression=key)
                changes[key] = value
        start = _instant_value(changes["start"], "start") if "start" in changes else None
        end = _instant_value(changes["end"], "end") if "end" in changes else None
        if "minutesDuration" in changes:
            duration = changes["minutesDuration"]
            if not isinstance(duration, int) or isinstance(duration, bool):
                raise unprocessable("minutesDuration is a whole number.", expression="Appointment.minutesDuration")
            end = (start or obj.start) + dt.timedelta(minutes=duration)
        reason = changes.get("cancelationReason")
        return self._apply(
            request,
            obj,
            status=changes.get("status"),
            start=start,
            end=end,
            vet_pk=None,
            reason=_text(reason.get("text"), "cancelationReason.text", 200) if isinstance(reason, dict) else "",
        )

    @transaction.atomic
    def _apply(
        self,
        request: HttpRequest,
        obj: Appointment,
        *,
        status: Any,
        start: dt.datetime | None,
        end: dt.datetime | None,
        vet_pk: int | None,
        reason: str,
    ) -> Appointment:
        """Move first (a moved appointment is still booked), then change the status; one transaction for both."""
        if status is not None and status not in TO_FHIR_STATUS.values():
            raise unprocessable(f"status {status!r} cannot be written here.", expression="Appointment.status")
        new_start = start or obj.start
        new_end = end or (new_start + (obj.end - obj.start))
        vet = obj.vet
        if vet_pk is not None and vet_pk != obj.vet_id:
            vet = Vet.objects.filter(pk=vet_pk).first()
            if vet is None:
                raise unprocessable(f"Practitioner/{vet_pk} is not known.", expression="participant")
        if new_end <= new_start:
            raise unprocessable("end must be after start.", expression="Appointment.end")
        if (new_start, new_end, vet.pk) != (obj.start, obj.end, obj.vet_id):
            obj = appointment_services.appointment_reschedule(
                appointment=obj,
                start=new_start,
                minutes=int((new_end - new_start).total_seconds() // 60),
                vet=vet,
                by=request.user,
            )
        if status is not None and status != TO_FHIR_STATUS[S(obj.status)]:
            if status == "booked":
                raise FhirError(409, "An appointment cannot go back to booked.", code="conflict")
            note = reason or ("Cancelled through the FHIR API" if status == "cancelled" else "")
            obj = appointment_services.appointment_transition(
                appointment=obj, to=FROM_FHIR_STATUS[status], by=request.user, note=note
            )
        return obj
