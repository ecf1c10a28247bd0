"""API shapes of reminder types, reminders, the delivery log and the runs of the notice job.

Dates of reminders (``due_on``, ``send_on``) are the practice's local dates (``YYYY-MM-DD``); instants are ISO 8601
in the practice's zone with the offset written out, as everywhere in the API.
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import field_validator

from appointments.schemas import LocalDateTime
from clients.schemas import ClientRef
from invoicing.schemas import Day
from reminders.models import MAX_STAGE_DAYS, Reminder, ReminderDelivery, ReminderRun, ReminderType
from reminders.selectors import CHANNEL_EMAIL, CHANNEL_NONE, channel_of
from vetpms.api_utils import Id, InputSchema, QuerySchema, patch_schema


class Named(Schema):
    id: int
    name: str


# --- Reminder types ---------------------------------------------------------------------------------------------


class ReminderTypeOut(Schema):
    id: int
    name: str
    species: list[Named] = Field(..., description="Empty: every species.")
    interval: int
    interval_unit: str
    stages: list[int] = Field(..., description="Days from the due date on which owners are told.")
    subject: str
    body_text: str
    body_html: str
    is_active: bool
    appointment_type: Named | None = Field(..., description="Completing an appointment of this type recalls.")
    products: list[Named] = Field(..., description="Catalogue products whose invoicing renews this reminder.")

    @staticmethod
    def resolve_species(obj: ReminderType) -> list:
        return list(obj.species.all())

    @staticmethod
    def resolve_products(obj: ReminderType) -> list:
        return [link.product for link in obj.products.all()]


class ReminderTypeIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)
    species: list[Id] = Field(default_factory=list, description="Species ids; empty for every species.")
    interval: int = Field(..., ge=1, le=1000, description="At least 1.")
    interval_unit: ReminderType.Unit = ReminderType.Unit.MONTHS
    stages: list[int] = Field(
        ..., min_length=1, max_length=20, description=f"Whole days from the due date, each within ±{MAX_STAGE_DAYS}."
    )
    subject: str = Field(..., min_length=1, max_length=200)
    body_text: str = Field(..., min_length=1, max_length=20000)
    body_html: str = Field("", max_length=50000)
    is_active: bool = True
    appointment_type: Id | None = Field(None, description="Appointment type id whose completion recalls.")
    products: list[Id] = Field(default_factory=list, description="Product ids that renew this reminder.")

    @field_validator("stages")
    @classmethod
    def _stages_in_range(cls, value: list[int]) -> list[int]:
        if any(abs(s) > MAX_STAGE_DAYS for s in value):
            raise ValueError(f"A stage is at most {MAX_STAGE_DAYS} days before or after the due date.")
        return value


ReminderTypePatch = patch_schema(ReminderTypeIn, "ReminderTypePatch")


# --- Reminders --------------------------------------------------------------------------------------------------


class AnimalRef(Schema):
    id: int
    name: str
    species: str

    @staticmethod
    def resolve_species(obj) -> str:
        return obj.species.name


class ReminderOut(Schema):
    id: int
    animal: AnimalRef
    owner: ClientRef
    type: Named
    due_on: dt.date
    status: str
    overdue: bool = Field(..., description="Pending and due before today (practice time).")
    source: str = Field(..., description="invoice, recall, manual or import.")
    channel: str = Field(..., description=f'"{CHANNEL_EMAIL}" or "{CHANNEL_NONE}" (no consent or no address).')
    vet: Named | None = Field(..., description="The vet of the pet's latest appointment that has taken place.")
    closed_at: LocalDateTime | None
    note: str
    created_at: LocalDateTime

    @staticmethod
    def resolve_owner(obj: Reminder):
        return obj.animal.owner

    @staticmethod
    def resolve_overdue(obj: Reminder) -> bool:
        from django.utils import timezone

        return obj.status == Reminder.Status.PENDING and obj.due_on < timezone.localdate()

    @staticmethod
    def resolve_channel(obj: Reminder) -> str:
        return channel_of(obj)

    @staticmethod
    def resolve_vet(obj: Reminder) -> dict | None:
        vet_id = getattr(obj, "vet_id", None)
        return {"id": vet_id, "name": obj.vet_name} if vet_id else None  # type: ignore[attr-defined]


class ReminderFilters(QuerySchema):
    status: str | None = Field(None, description="pending, overdue, completed, cancelled or all (default all).")
    type: Id | None = None
    species: Id | None = None
    vet: Id | None = Field(None, description="The vet of the pet's latest appointment that has taken place.")
    due_from: Day | None = None
    due_to: Day | None = None
    channel: str | None = Field(None, description=f"{CHANNEL_EMAIL} or {CHANNEL_NONE}.")
    client: Id | None = None
    animal: Id | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        allowed = {"pending", "overdue", "completed", "cancelled", "all"}
        if value is not None and value not in allowed:
            raise ValueError(f"Give one of: {', '.join(sorted(allowed))}.")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and value not in (CHANNEL_EMAIL, CHANNEL_NONE):
            raise ValueError(f"Give {CHANNEL_EMAIL} or {CHANNEL_NONE}.")
        return value


class ReminderIn(InputSchema):
    animal: Id
    type: Id
    due_on: Day


class CompleteIn(InputSchema):
    note: str = Field("", max_length=300)


class CancelIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=300, description="Why the reminder is cancelled.")


class ReminderPatch(InputSchema):
    due_on: Day = Field(..., description="The new due date (a pending reminder only).")


# --- Deliveries -------------------------------------------------------------------------------------------------


class NoticeOut(Schema):
    id: int
    reminder_id: int
    animal: AnimalRef
    type: Named
    due_on: dt.date
    stage: int
    send_on: dt.date
    status: str
    sent_at: LocalDateTime | None

    @staticmethod
    def resolve_animal(obj):
        return obj.reminder.animal

    @staticmethod
    def resolve_type(obj):
        return obj.reminder.type

    @staticmethod
    def resolve_due_on(obj) -> dt.date:
        return obj.reminder.due_on


class DeliveryOut(Schema):
    id: int
    client: ClientRef
    run_id: int | None
    channel: str
    status: str = Field(..., description=", ".join(ReminderDelivery.Status.values))
    reason: str
    to_email: str
    subject: str
    attempts: int
    next_attempt_at: LocalDateTime | None
    sent_at: LocalDateTime | None
    last_error: str
    followed_up_at: LocalDateTime | None
    follow_up_note: str
    created_at: LocalDateTime
    notices: list[NoticeOut]

    @staticmethod
    def resolve_notices(obj: ReminderDelivery) -> list:
        return list(obj.notices.all())


class DeliveryFilters(QuerySchema):
    client: Id | None = None
    status: ReminderDelivery.Status | None = None
    channel: ReminderDelivery.Channel | None = None
    date_from: Day | None = Field(None, description="Made on or after this local day.")
    date_to: Day | None = Field(None, description="Made on or before this local day.")
    follow_up: bool | None = Field(None, description="true: only owners still to phone.")


# --- Runs -------------------------------------------------------------------------------------------------------


class RunOut(Schema):
    id: int
    trigger: str
    for_date: dt.date
    status: str = Field(..., description=", ".join(ReminderRun.Status.values))
    is_active: bool
    started_by: str | None
    created_at: LocalDateTime
    started_at: LocalDateTime | None
    finished_at: LocalDateTime | None
    notices_planned: int
    emails_total: int
    emails_sent: int
    emails_failed: int
    emails_deferred: int
    emails_unconfirmed: int = Field(..., description="The worker stopped while the server answered: possibly sent.")
    emails_done: int
    no_channel: int
    error: str

    @staticmethod
    def resolve_started_by(obj: ReminderRun) -> str | None:
        return str(obj.started_by) if obj.started_by else None
