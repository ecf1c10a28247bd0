"""Reads of reminder types, reminders, the delivery log, the follow-up list and the runs, with the joins each page
and endpoint needs, so a page costs the same number of queries whatever its size.

"The vet" of a reminder is the vet of its animal's latest appointment that has begun (not cancelled, not a
no-show): the person the owner last saw, who is the one to ask about a recall. A pet never seen has no vet, and a
booking in the future does not count until it starts. It is a correlated subquery served by the
``appt_animal_idx`` (animal, -start) index, computed in the list's one query; lists are keyset pages read off the
``(status, due_on, id)`` or ``(due_on, id)`` index, so it runs for the rows shown only, on any page (with an OFFSET
it ran for every row skipped, behind an on-disk sort).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderRun, ReminderType

# The reminder list's status filter: the model's statuses plus "overdue" (pending, due before today).
OVERDUE = "overdue"
STATUS_CHOICES = [
    (Reminder.Status.PENDING.value, "Pending (due and overdue)"),
    (OVERDUE, "Overdue"),
    (Reminder.Status.COMPLETED.value, "Completed"),
    (Reminder.Status.CANCELLED.value, "Cancelled"),
    ("all", "Any status"),
]
# Whether the owner can be emailed: consent and an address (the rule reminders.sending applies).
CHANNEL_EMAIL = "email"
CHANNEL_NONE = "none"
CHANNEL_CHOICES = [(CHANNEL_EMAIL, "Email"), (CHANNEL_NONE, "No channel (phone)")]
# Delivery log statuses offered as filters ("retrying" is the model's RETRY).
DELIVERY_STATUS_CHOICES = ReminderDelivery.Status.choices


def _latest_seen(field: str) -> Subquery:
    seen = Appointment.objects.filter(animal=OuterRef("animal_id"), start__lte=timezone.now()).exclude(
        status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
    )
    return Subquery(seen.order_by("-start", "-id").values(field)[:1])


def reminder_types(*, active: bool | None = None) -> QuerySet[ReminderType]:
    qs = ReminderType.objects.select_related("appointment_type").prefetch_related("species", "products__product")
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("name")


def reminder_list(
    *,
    status: str | None = None,
    type_id: int | None = None,
    species_id: int | None = None,
    vet_id: int | None = None,
    due_from: dt.date | None = None,
    due_to: dt.date | None = None,
    channel: str | None = None,
    client_id: int | None = None,
    animal_id: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[Reminder]:
    """Reminders with their animal, species, owner and type, and the vet (see the module's note), earliest due
    first. ``status`` is a model status, ``"overdue"`` or empty/``"all"`` for any."""
    today = today or timezone.localdate()
    qs = (
        Reminder.objects.select_related("animal__species", "animal__owner", "type")
        .annotate(vet_id=_latest_seen("vet_id"), vet_name=_latest_seen("vet__display_name"))
        .order_by("due_on", "id")
    )
    if status == OVERDUE:
        qs = qs.filter(status=Reminder.Status.PENDING, due_on__lt=today)
    elif status and status != "all":
        qs = qs.filter(status=status)
    if type_id is not None:
        qs = qs.filter(type_id=type_id)
    if species_id is not None:
        qs = qs.filter(animal__species_id=species_id)
    if vet_id is not None:
        qs = qs.filter(vet_id=vet_id)
    if due_from is not None:
        qs = qs.filter(due_on__gte=due_from)
    if due_to is not None:
        qs = qs.filter(due_on__lte=due_to)
    emailable = Q(animal__owner__reminder_consent=True) & ~Q(animal__owner__email="")
    if channel == CHANNEL_EMAIL:
        qs = qs.filter(emailable)
    elif channel == CHANNEL_NONE:
        qs = qs.exclude(emailable)
    if client_id is not None:
        qs = qs.filter(animal__owner_id=client_id)
    if animal_id is not None:
        qs = qs.filter(animal_id=animal_id)
    return qs


def reminder_detail(*, pk: int) -> Reminder:
    """One reminder with what the page shows (its notices and their deliveries). Raises DoesNotExist."""
    return (
        reminder_list()
        .select_related("closed_by", "source_line__invoice", "completed_by_line__invoice", "source_appointment")
        .prefetch_related(Prefetch("notices", queryset=ReminderNotice.objects.select_related("delivery")))
        .get(pk=pk)
    )


def animal_reminders(*, animal_id: int, history: int = 10) -> tuple[list[Reminder], list[Reminder]]:
    """(pending, the latest ``history`` closed ones) of an animal, in one query: an animal gathers a few
    reminders a year, so reading them all and splitting them here is cheaper than two queries."""
    rows = list(Reminder.objects.filter(animal_id=animal_id).select_related("type").order_by("due_on", "id"))
    pending = [r for r in rows if r.status == Reminder.Status.PENDING]
    closed = sorted(
        (r for r in rows if r.status != Reminder.Status.PENDING),
        key=lambda r: (r.closed_at or r.updated_at, r.pk),
        reverse=True,
    )
    return pending, closed[:history]


def addable_types(*, animal, pending: list[Reminder] | None = None) -> list[ReminderType]:
    """The active types that apply to ``animal``'s species and are not pending for it already (``pending``:
    its pending reminders, when the caller has them). One query."""
    types = (
        ReminderType.objects.filter(is_active=True)
        .filter(Q(species__isnull=True) | Q(species=animal.species_id))
        .distinct()
        .order_by("name")
    )
    if pending is None:
        types = types.exclude(
            Exists(Reminder.objects.filter(animal=animal, type=OuterRef("pk"), status=Reminder.Status.PENDING))
        )
        return list(types)
    taken = {r.type_id for r in pending}
    return [t for t in types if t.pk not in taken]


def _notices() -> Prefetch:
    return Prefetch(
        "notices",
        queryset=ReminderNotice.objects.select_related("reminder__animal__species", "reminder__type").order_by(
            "reminder__due_on", "id"
        ),
    )


def delivery_list(
    *,
    client_id: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    follow_up: bool | None = None,
) -> QuerySet[ReminderDelivery]:
    """The delivery log, newest first, each delivery with its notices (pets and items). Dates are the local
    days the deliveries were made."""
    from vetpms.timeutils import local_day_bounds

    qs = (
        ReminderDelivery.objects.select_related("client", "run", "followed_up_by")
        .prefetch_related(_notices())
        .order_by("-created_at", "-id")
    )
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if date_from is not None:
        qs = qs.filter(created_at__gte=local_day_bounds(date_from)[0])
    if date_to is not None:
        qs = qs.filter(created_at__lt=local_day_bounds(date_to)[1])
    if follow_up is True:
        qs = qs.filter(status=ReminderDelivery.Status.NO_CHANNEL, followed_up_at__isnull=True)
    return qs


def follow_up_list() -> QuerySet[ReminderDelivery]:
    """Owners to phone: deliveries without a channel not yet followed up, oldest first."""
    return delivery_list(follow_up=True).order_by("created_at", "id")


def delivery_detail(*, pk: int) -> ReminderDelivery:
    return delivery_list().get(pk=pk)


def run_list() -> QuerySet[ReminderRun]:
    return ReminderRun.objects.select_related("started_by").order_by("-created_at", "-id")


def active_run() -> ReminderRun | None:
    return run_list().filter(status__in=[ReminderRun.Status.QUEUED, ReminderRun.Status.RUNNING]).first()


def channel_of(reminder: Reminder) -> str:
    """ "email" or "none" for a reminder loaded by reminder_list (its owner is joined)."""
    owner: Any = reminder.animal.owner
    return CHANNEL_EMAIL if owner.reminder_consent and owner.email else CHANNEL_NONE
