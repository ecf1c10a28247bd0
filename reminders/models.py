"""Reminder types (what is due, for which species, how often, when owners are told), reminders per animal, and
the sending side: the notice outbox, the emails it groups notices into, and the runs of the daily job.

How a notice travels (reminders.sending does the work):

    Reminder --(a stage's date has come)--> ReminderNotice (unique per reminder and stage: the outbox key)
             --(grouped per owner)--------> ReminderDelivery (one email, or one phone call when there is no channel)
             --(claimed, sent, accepted)--> sent; or retried with backoff; or failed; or on the follow-up list

The rules for creating and completing reminders live in reminders.services.
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
from clients.models import Client
from clinical.models import Vaccination
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
        VACCINATION = "vaccination", "Vaccination given"
        RECALL = "recall", "Appointment recall"
        MANUAL = "manual", "Added by hand"
        IMPORT = "import", "Imported"

    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="reminders")
    type = models.ForeignKey(ReminderType, on_delete=models.PROTECT, related_name="reminders")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    source_line = models.ForeignKey(InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source_appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_by_line = models.ForeignKey(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The vaccination record that created this reminder (the renewed reminder of a vaccination), and the one that
    # completed it. A reminder may carry both a line and a vaccination: the two records of one dose.
    source_vaccination = models.ForeignKey(
        Vaccination, on_delete=models.PROTECT, null=True, blank=True, related_name="renewed_reminders"
    )
    completed_by_vaccination = models.ForeignKey(
        Vaccination, on_delete=models.PROTECT, null=True, blank=True, related_name="completed_reminders"
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
        indexes = [
            # The list's order (due_on, id) within a status, and for every status: with the id in both, the
            # planner reads a page straight off an index instead of filtering the other statuses' rows out.
            models.Index(fields=["status", "due_on", "id"], name="reminder_status_due_id_idx"),
            models.Index(fields=["due_on", "id"], name="reminder_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.animal} due {self.due_on}"


class ReminderRun(models.Model):
    """One run of the notice job: planned by the daily schedule, started by a manager, or sending retries."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Daily schedule"
        MANUAL = "manual", "Started by hand"
        RETRY = "retry", "Retries"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"
        STOPPED = "stopped", "Stopped: the worker died"

    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    for_date = models.DateField(help_text="The practice's local day the run sends for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the task sending for this run: its lease."
    )
    # Progress, written as the run goes (a manager watches these).
    notices_planned = models.PositiveIntegerField(default=0)
    emails_total = models.PositiveIntegerField(default=0, help_text="Emails this run tried to send.")
    emails_sent = models.PositiveIntegerField(default=0)
    emails_failed = models.PositiveIntegerField(default=0)
    emails_deferred = models.PositiveIntegerField(default=0, help_text="Temporary failures, to be retried.")
    no_channel = models.PositiveIntegerField(default=0, help_text="Owners put on the follow-up list.")
    emails_unconfirmed = models.PositiveIntegerField(
        default=0,
        db_default=0,  # rows written by bulk loaders (COPY) that do not name it
        help_text="Emails whose worker stopped while the server was answering: possibly sent.",
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("run_reminders", "Can start the reminder job by hand")]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} run for {self.for_date}"

    @property
    def emails_done(self) -> int:
        return self.emails_sent + self.emails_failed + self.emails_deferred + self.emails_unconfirmed

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class ReminderDelivery(models.Model):
    """One email to one owner listing every pet and item due, or, when the owner has no channel (no consent or no
    email address), one entry on the follow-up list for a phone call."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        NONE = "none", "No channel"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        RETRY = "retry", "Will retry"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NO_CHANNEL = "no_channel", "No channel: phone"
        SKIPPED = "skipped", "Nothing left to send"
        UNCONFIRMED = "unsure", "Possibly sent: check"

    class Phase(models.TextChoices):
        """How far the SMTP conversation of the current claim went: what a worker that died leaves behind."""

        NOT_BEGUN = "", "Not begun"
        TALKING = "talking", "Talking to the server"
        AWAITING_REPLY = "awaiting", "Message sent, awaiting the server's reply"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="reminder_deliveries")
    run = models.ForeignKey(ReminderRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True, help_text="Why there is no channel, or why it failed.")
    to_email = models.EmailField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_run = models.ForeignKey(
        ReminderRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="The run sending it."
    )
    phase = models.CharField(
        max_length=10, choices=Phase.choices, default=Phase.NOT_BEGUN, db_default=Phase.NOT_BEGUN, blank=True
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    follow_up_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "reminder deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next_idx"),
            models.Index(fields=["client", "-created_at"], name="delivery_client_idx"),
            models.Index(fields=["-created_at"], name="delivery_created_idx"),
            # The emails sent in a period (the manager's dashboard: this week; the reminders report).
            models.Index(fields=["sent_at"], name="delivery_sent_idx", condition=Q(sent_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.client} ({self.get_status_display()})"


class ReminderNotice(models.Model):
    """The outbox: one row per (reminder, stage), the key that makes each notice go out at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NO_CHANNEL = "no_channel", "No channel"
        SKIPPED = "skipped", "Skipped"

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="notices")
    stage = models.SmallIntegerField(help_text="Days from the due date.")
    send_on = models.DateField()
    delivery = models.ForeignKey(
        ReminderDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="notices"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["send_on", "id"]
        constraints = [models.UniqueConstraint(fields=["reminder", "stage"], name="reminder_notice_once")]
        indexes = [
            models.Index(fields=["status", "delivery"], name="notice_status_delivery_idx"),
            models.Index(fields=["sent_at"], name="notice_sent_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reminder} at {self.stage:+d} days ({self.get_status_display()})"
