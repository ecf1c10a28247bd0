"""Reminder types (what is due, for which species, how often, when owners are told) and reminders per animal.

The sending side (the notice outbox, the daily django-q2 job, unsubscribe links) builds on these in the next step
of the reminders issue; the rules for creating and completing reminders live in reminders.services.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from animals.models import Animal, Species
from appointments.models import Appointment, AppointmentType
from invoicing.models import InvoiceLine, Product
from vetpms.models import User

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# What a reminder email may say, and what each placeholder stands for (also shown beside the template editor).
PLACEHOLDERS = {
    "owner_name": "the owner's name, e.g. 'Mrs Jane Smith'",
    "owner_first_name": "the owner's first name (or their full name for an organisation)",
    "pets": "the names of the pets with something due, e.g. 'Rex and Bella'",
    "items": "one line per item: pet, what is due and its due date",
    "first_due_date": "the earliest due date in the email",
    "practice_name": "the practice's name",
    "practice_phone": "the practice's phone number",
    "booking_contact": "how to book: the practice's phone and email",
}
MAX_STAGE_DAYS = 365


def template_placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def validate_template(text: str) -> None:
    unknown = sorted(template_placeholders(text) - set(PLACEHOLDERS))
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValidationError(
            f"Unknown placeholder {', '.join('{' + n + '}' for n in unknown)}. Use only: {allowed}.",
            code="unknown_placeholder",
        )


class ReminderType(models.Model):
    class Unit(models.TextChoices):
        DAYS = "days", "days"
        WEEKS = "weeks", "weeks"
        MONTHS = "months", "months"

    name = models.CharField(max_length=100, unique=True)
    species = models.ManyToManyField(Species, blank=True, help_text="Empty: every species.")
    interval = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1000)])
    interval_unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.MONTHS)
    stages = models.JSONField(
        default=list, help_text="Days from the due date on which owners are told, e.g. [-14, 0, 30]."
    )
    subject = models.CharField(max_length=200, validators=[validate_template])
    body_text = models.TextField(validators=[validate_template])
    body_html = models.TextField(blank=True, validators=[validate_template])
    is_active = models.BooleanField(default=True)
    appointment_type = models.OneToOneField(
        AppointmentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminder_type",
        help_text="Completing an appointment of this type creates this reminder (its recall).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        stages = self.stages
        if (
            not isinstance(stages, list)
            or not stages
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in stages)
        ):
            raise ValidationError({"stages": "Give the notice stages as whole numbers of days, e.g. -14, 0, 30."})
        if any(abs(s) > MAX_STAGE_DAYS for s in stages):
            raise ValidationError({"stages": f"A stage is at most {MAX_STAGE_DAYS} days before or after the due date."})
        if len(set(stages)) != len(stages):
            raise ValidationError({"stages": "Each stage can be given only once."})
        self.stages = sorted(stages)

    def next_due(self, after: dt.date) -> dt.date:
        """``after`` plus the interval (month steps keep the day of the month, or the month's last day)."""
        if self.interval_unit == self.Unit.DAYS:
            return after + dt.timedelta(days=self.interval)
        if self.interval_unit == self.Unit.WEEKS:
            return after + dt.timedelta(weeks=self.interval)
        month_index = after.month - 1 + self.interval
        year, month = after.year + month_index // 12, month_index % 12 + 1
        for day in (after.day, 30, 29, 28):
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
        raise AssertionError("unreachable")  # pragma: no cover

    def applies_to(self, animal: Animal) -> bool:
        allowed = {s.pk for s in self.species.all()}
        return not allowed or animal.species_id in allowed


class ProductReminder(models.Model):
    """A catalogue product that carries a reminder type: invoicing it renews the animal's reminder of that type."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="reminder_link")
    reminder_type = models.ForeignKey(ReminderType, on_delete=models.CASCADE, related_name="products")

    def __str__(self) -> str:
        return f"{self.product} renews {self.reminder_type}"


class Reminder(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        INVOICE = "invoice", "Invoiced product"
        RECALL = "recall", "Appointment recall"
        MANUAL = "manual", "Added by hand"
        IMPORT = "import", "Imported"

    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="reminders")
    type = models.ForeignKey(ReminderType, on_delete=models.PROTECT, related_name="reminders")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    source_line = models.ForeignKey(InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source_appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_by_line = models.ForeignKey(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal", "type"],
                condition=Q(status="pending"),
                name="reminder_one_pending_per_type",
                violation_error_message="This animal already has a pending reminder of this type.",
            )
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="reminder_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.type} for {self.animal} due {self.due_on}"
