"""Data for the reminder page and API tests: reminders, a past appointment (the "last seen by" vet), and outbox
rows (deliveries with their notices) written directly, as the sending job would leave them."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus, AppointmentType
from reminders.models import Reminder, ReminderDelivery, ReminderNotice, ReminderType
from tests.factories import AnimalFactory

_SLOT = itertools.count()  # each appointment in its own 20 minutes: one vet's book never overlaps (PostgreSQL
# refuses an overlap with an exclusion constraint)
TEXT = "Dear {owner_name}, {items} Call {practice_phone}."


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def make_type(name: str = "DHPP booster", **kwargs) -> ReminderType:
    fields = {
        "interval": 12,
        "interval_unit": "months",
        "stages": [-14, 0, 30],
        "subject": "{pets}: due",
        "body_text": TEXT,
    } | kwargs
    return ReminderType.objects.create(name=name, **fields)


def make_reminder(reminder_type: ReminderType, *, due: int = 0, animal=None, **kwargs) -> Reminder:
    return Reminder.objects.create(animal=animal or AnimalFactory(), type=reminder_type, due_on=days(due), **kwargs)


def seen_by(animal, vet, *, days_ago: int = 30) -> Appointment:
    """A past, completed appointment of ``animal`` with ``vet`` (written directly: bookings in the past are
    refused by the booking service)."""
    kind, _ = AppointmentType.objects.get_or_create(name="Check-up", defaults={"default_minutes": 15})
    start = timezone.now() - dt.timedelta(days=days_ago, minutes=20 * next(_SLOT))
    return Appointment.objects.create(
        animal=animal,
        client=animal.owner,
        vet=vet,
        type=kind,
        start=start,
        end=start + dt.timedelta(minutes=15),
        status=AppointmentStatus.COMPLETED,
    )


def make_delivery(reminders: list[Reminder], *, status: str = "sent", channel: str = "email", **kwargs):
    client = reminders[0].animal.owner
    delivery = ReminderDelivery.objects.create(
        client=client,
        channel=channel,
        status=status,
        to_email=client.email if channel == "email" else "",
        reason="" if channel == "email" else "no consent to reminder emails",
        **kwargs,
    )
    for reminder in reminders:
        ReminderNotice.objects.create(
            reminder=reminder,
            stage=0,
            send_on=reminder.due_on,
            delivery=delivery,
            status={"sent": "sent", "failed": "failed", "no_channel": "no_channel"}.get(status, "pending"),
        )
    return delivery
