"""/api/v1 endpoints of reminders: thin endpoints over reminders.selectors and reminders.services.

Routers (mounted in vetpms.api):

* ``/reminder-types``: list, get; managers create (POST) and change (PATCH) them. A template with an unknown
  placeholder, a zero interval or a stage beyond ±365 days is a 422 naming the field.
* ``/reminders``: the same filters as the reminders page (status incl. ``overdue``, type, species, vet, due range,
  channel, client, animal); create one by hand; ``POST {id}/complete``; ``POST {id}/cancel`` with a reason;
  ``PATCH {id}`` moves the due date. A second pending reminder of a type, or closing one that is not pending,
  is a 409.
* ``/reminder-deliveries``: the delivery log (client, status, channel, date range, still to phone), each with its
  notices (pets and items); ``POST {id}/follow-up`` marks an owner on the follow-up list as phoned.
* ``/reminder-runs``: the runs of the notice job and their progress; ``POST`` starts one (managers: 201 with the
  run; 409 while another is queued or running).

Permissions are checked first, before any lookup; an id in the URL that names nothing is 404, an id in a body that
names nothing a 422 on that field.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import ValidationError as SchemaValidationError
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticValidationError

from animals.models import Animal, Species
from appointments.models import AppointmentType
from invoicing.models import Product
from reminders import selectors, services
from reminders.models import ReminderType
from reminders.schemas import (
    CancelIn,
    CompleteIn,
    DeliveryFilters,
    DeliveryOut,
    ReminderFilters,
    ReminderIn,
    ReminderOut,
    ReminderPatch,
    ReminderTypeIn,
    ReminderTypeOut,
    ReminderTypePatch,
    RunOut,
)
from vetpms.api_utils import Page, url_id
from vetpms.permissions import require_perm

types_router = Router(tags=["reminder types"])
reminders_router = Router(tags=["reminders"])
deliveries_router = Router(tags=["reminder deliveries"])
runs_router = Router(tags=["reminder runs"])

P = "reminders."


def _lookup_many(model: type[Any], ids: list[int], field: str) -> list[Any]:
    found = {obj.pk: obj for obj in model.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {missing[0]}."})
    return [found[pk] for pk in dict.fromkeys(ids)]


def _lookup(model: type[Any], pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    return _lookup_many(model, [pk], field)[0]


def _query_error(field: str, message: str) -> SchemaValidationError:
    return SchemaValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _optional_note(request: HttpRequest) -> str:
    """The ``{"note": ...}`` of a body that may be absent (a bare POST is fine), validated as CompleteIn."""
    raw = request.body.strip()
    if not raw or not request.content_type.endswith("json"):
        return ""
    try:
        return CompleteIn.model_validate_json(raw).note
    except PydanticValidationError as exc:
        raise SchemaValidationError(
            [{"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        ) from None


# --- Reminder types -----------------------------------------------------------------------------------------------


def _type(pk: int) -> ReminderType:
    return selectors.reminder_types().get(pk=url_id(pk))  # DoesNotExist -> 404


def _type_save(request: HttpRequest, data: dict[str, Any], reminder_type: ReminderType | None) -> ReminderType:
    species = _lookup_many(Species, data.pop("species"), "species") if "species" in data else None
    products = _lookup_many(Product, data.pop("products"), "products") if "products" in data else None
    if "appointment_type" in data:
        data["appointment_type"] = _lookup(AppointmentType, data["appointment_type"], "appointment_type")
    return services.reminder_type_save(
        by=request.user, data=data, reminder_type=reminder_type, species=species, products=products
    )


@types_router.get("", response=list[ReminderTypeOut], summary="List reminder types")
@paginate(Page)
def list_types(request: HttpRequest, active: bool | None = None):
    require_perm(request.user, P + "view_remindertype")
    return selectors.reminder_types(active=active)


@types_router.get("/{int:type_id}", response=ReminderTypeOut, summary="One reminder type")
def get_type(request: HttpRequest, type_id: int):
    require_perm(request.user, P + "view_remindertype")
    return _type(type_id)


@types_router.post("", response={201: ReminderTypeOut}, summary="Add a reminder type (managers)")
def create_type(request: HttpRequest, payload: ReminderTypeIn):
    require_perm(request.user, P + "add_remindertype")
    saved = _type_save(request, payload.dict(), None)
    return Status(201, _type(saved.pk))


@types_router.patch("/{int:type_id}", response=ReminderTypeOut, summary="Change a reminder type (managers)")
def update_type(request: HttpRequest, type_id: int, payload: ReminderTypePatch):  # type: ignore[valid-type]
    require_perm(request.user, P + "change_remindertype")
    reminder_type = _type(type_id)
    _type_save(request, payload.dict(exclude_unset=True), ReminderType.objects.get(pk=reminder_type.pk))
    return _type(type_id)


# --- Reminders ----------------------------------------------------------------------------------------------------


def _reminder(pk: int):
    return selectors.reminder_list().get(pk=url_id(pk))


@reminders_router.get("", response=list[ReminderOut], summary="List reminders (the reminders page's filters)")
@paginate(Page)
def list_reminders(request: HttpRequest, filters: Query[ReminderFilters]):
    require_perm(request.user, P + "view_reminder")
    if filters.due_from and filters.due_to and filters.due_to < filters.due_from:
        raise _query_error("due_to", "The end of the range is before its start.")
    return selectors.reminder_list(
        status=filters.status,
        type_id=filters.type,
        species_id=filters.species,
        vet_id=filters.vet,
        due_from=filters.due_from,
        due_to=filters.due_to,
        channel=filters.channel,
        client_id=filters.client,
        animal_id=filters.animal,
    )


@reminders_router.get("/{int:reminder_id}", response=ReminderOut, summary="One reminder")
def get_reminder(request: HttpRequest, reminder_id: int):
    require_perm(request.user, P + "view_reminder")
    return _reminder(reminder_id)


@reminders_router.post("", response={201: ReminderOut}, summary="Add a reminder by hand")
def create_reminder(request: HttpRequest, payload: ReminderIn):
    require_perm(request.user, P + "add_reminder")
    animal = _lookup(Animal, payload.animal, "animal")
    reminder_type = _lookup(ReminderType, payload.type, "type")
    reminder = services.reminder_create(
        animal=animal, reminder_type=reminder_type, due_on=payload.due_on, by=request.user
    )
    return Status(201, _reminder(reminder.pk))


@reminders_router.post(
    "/{int:reminder_id}/complete",
    response=ReminderOut,
    summary="Mark a reminder done",
    description='Body optional: `{"note": "..."}` (up to 300 characters).',
)
def complete_reminder(request: HttpRequest, reminder_id: int):
    require_perm(request.user, P + "change_reminder")
    reminder = _reminder(reminder_id)
    services.reminder_complete(reminder=reminder, by=request.user, note=_optional_note(request))
    return _reminder(reminder_id)


@reminders_router.post("/{int:reminder_id}/cancel", response=ReminderOut, summary="Cancel a reminder, saying why")
def cancel_reminder(request: HttpRequest, reminder_id: int, payload: CancelIn):
    require_perm(request.user, P + "change_reminder")
    reminder = _reminder(reminder_id)
    services.reminder_cancel(reminder=reminder, by=request.user, note=payload.reason)
    return _reminder(reminder_id)


@reminders_router.patch("/{int:reminder_id}", response=ReminderOut, summary="Move a pending reminder's due date")
def move_reminder(request: HttpRequest, reminder_id: int, payload: ReminderPatch):
    require_perm(request.user, P + "change_reminder")
    reminder = _reminder(reminder_id)
    services.reminder_reschedule(reminder=reminder, due_on=payload.due_on, by=request.user)
    return _reminder(reminder_id)


# --- Deliveries ---------------------------------------------------------------------------------------------------


@deliveries_router.get("", response=list[DeliveryOut], summary="The delivery log: emails and calls to owners")
@paginate(Page)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]):
    require_perm(request.user, P + "view_reminderdelivery")
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise _query_error("date_to", "The end of the range is before its start.")
    return selectors.delivery_list(
        client_id=filters.client,
        status=filters.status,
        channel=filters.channel,
        date_from=filters.date_from,
        date_to=filters.date_to,
        follow_up=filters.follow_up,
    )


@deliveries_router.get("/{int:delivery_id}", response=DeliveryOut, summary="One delivery with its notices")
def get_delivery(request: HttpRequest, delivery_id: int):
    require_perm(request.user, P + "view_reminderdelivery")
    return selectors.delivery_detail(pk=url_id(delivery_id))


@deliveries_router.post(
    "/{int:delivery_id}/follow-up",
    response=DeliveryOut,
    summary="Mark an owner on the follow-up list as phoned",
    description='Body optional: `{"note": "what was said"}` (up to 300 characters).',
)
def follow_up_delivery(request: HttpRequest, delivery_id: int):
    require_perm(request.user, P + "change_reminderdelivery")
    delivery = selectors.delivery_detail(pk=url_id(delivery_id))
    services.delivery_follow_up(delivery=delivery, by=request.user, note=_optional_note(request))
    return selectors.delivery_detail(pk=delivery_id)


# --- Runs ---------------------------------------------------------------------------------------------------------


@runs_router.get("", response=list[RunOut], summary="Runs of the notice job (managers)")
@paginate(Page)
def list_runs(request: HttpRequest):
    require_perm(request.user, P + "view_reminderrun")
    return selectors.run_list()


@runs_router.get("/{int:run_id}", response=RunOut, summary="One run and its progress (managers)")
def get_run(request: HttpRequest, run_id: int):
    require_perm(request.user, P + "view_reminderrun")
    return selectors.run_list().get(pk=url_id(run_id))


@runs_router.post(
    "",
    response={201: RunOut},
    summary="Start a run now (managers)",
    description="Queues a run for today; 409 while another run is queued or running.",
)
def start_run(request: HttpRequest):
    require_perm(request.user, P + "run_reminders")
    from reminders.sending import run_start

    run = run_start(by=request.user)
    return Status(201, selectors.run_list().get(pk=run.pk))
