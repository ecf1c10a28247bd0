"""Vets' appointment books: working hours, exceptions, appointment types, appointments and their status history.

Intervals are half-open [start, end). On PostgreSQL an exclusion constraint (migration 0002) makes the database
refuse two blocking appointments of one vet that overlap; on SQLite the booking service runs in an IMMEDIATE
transaction (settings) and checks inside it. Cancelled and no-show appointments never block.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from animals.models import Animal
from clients.models import Client
from vetpms.models import User, Vet

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a colour as #rrggbb.")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One session of a vet's regular week (a vet may have a morning and an afternoon session)."""

    vet = models.ForeignKey(Vet, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["vet", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="hours_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.vet} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class BookException(models.Model):
    """A dated change to a vet's book: leave (all day or part) or an extra session."""

    class Kind(models.TextChoices):
        LEAVE = "leave", "Leave / unavailable"
        EXTRA = "extra", "Extra session"

    vet = models.ForeignKey(Vet, on_delete=models.CASCADE, related_name="book_exceptions")
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    start_time = models.TimeField(null=True, blank=True, help_text="Empty with leave: the whole day.")
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        indexes = [models.Index(fields=["vet", "date"], name="bookexc_vet_date_idx")]

    def __str__(self) -> str:
        return f"{self.vet} {self.get_kind_display()} {self.date}"

    def clean(self) -> None:
        if (self.start_time is None) != (self.end_time is None):
            raise ValidationError("Give both a start and an end time, or neither for a whole day.")
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end must be after the start."})
        if self.kind == self.Kind.EXTRA and self.start_time is None:
            raise ValidationError({"start_time": "An extra session needs its times."})


class AppointmentType(models.Model):
    class RecallUnit(models.TextChoices):
        DAYS = "days", "days"
        WEEKS = "weeks", "weeks"
        MONTHS = "months", "months"

    name = models.CharField(max_length=80, unique=True)
    default_minutes = models.PositiveSmallIntegerField(
        "default duration (minutes)", default=15, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    colour = models.CharField(max_length=7, default="#6c9bd2", validators=[colour_validator])
    recall_name = models.CharField(max_length=80, blank=True, help_text="e.g. 'Dental recheck'.")
    recall_interval = models.PositiveSmallIntegerField(null=True, blank=True)
    recall_unit = models.CharField(max_length=10, choices=RecallUnit.choices, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def recall_text(self) -> str:
        if not self.recall_interval:
            return ""
        return f"{self.recall_name or 'Recall'} in {self.recall_interval} {self.recall_unit}"

    def clean(self) -> None:
        if bool(self.recall_interval) != bool(self.recall_unit):
            raise ValidationError({"recall_unit": "Give both the recall interval and its unit, or neither."})


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    ARRIVED = "arrived", "Arrived"
    IN_CONSULTATION = "in_consultation", "In consultation"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


NON_BLOCKING = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


class AppointmentQuerySet(models.QuerySet):
    def blocking(self) -> AppointmentQuerySet:
        return self.exclude(status__in=NON_BLOCKING)

    def overlapping(self, start, end) -> AppointmentQuerySet:
        """Half-open overlap: [a, b) and [c, d) overlap when a < d and c < b (touching ends do not)."""
        return self.filter(start__lt=end, end__gt=start)


class Appointment(models.Model):
    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="appointments")
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="appointments", help_text="The owner when it was booked."
    )
    vet = models.ForeignKey(Vet, on_delete=models.PROTECT, related_name="appointments")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    cancel_reason = models.CharField(max_length=200, blank=True)
    outside_hours = models.BooleanField(
        default=False, help_text="Booked outside the vet's working hours by an explicit override."
    )
    booked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # A booking form carries a one-off key: submitting it twice returns the first booking instead of a second.
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # RFC 5545 SEQUENCE of the owner's .ics: raised by every change the owner is told about (a move, a
    # cancellation), so their calendar replaces the old event (same UID) instead of keeping both.
    ical_sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        permissions = [
            ("override_working_hours", "Can book outside a vet's working hours"),
            ("manage_books", "Can edit working hours, book exceptions, appointment types and calendar feeds"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["vet", "start"], name="appt_vet_start_idx"),
            models.Index(fields=["animal", "-start"], name="appt_animal_idx"),
            models.Index(fields=["start"], name="appt_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.animal} with {self.vet} at {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_blocking(self) -> bool:
        return self.status not in NON_BLOCKING

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class AppointmentEvent(models.Model):
    """The appointment's history: a status move (who, when, from, to, and why for a cancellation), the undoing of
    a mistaken move (recorded as a move back, never by deleting the first), or a reschedule (from, to)."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status"
        UNDO = "undo", "Undone"
        RESCHEDULE = "reschedule", "Rescheduled"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.STATUS)
    from_status = models.CharField(max_length=20, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=AppointmentStatus.choices)
    note = models.CharField(max_length=200, blank=True)
    # A reschedule: where the appointment was and where it went.
    from_start = models.DateTimeField(null=True, blank=True)
    to_start = models.DateTimeField(null=True, blank=True)
    from_vet = models.ForeignKey(Vet, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_vet = models.ForeignKey(Vet, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A secret URL that serves one vet's book as iCalendar; revoking it makes the URL answer 404."""

    vet = models.ForeignKey(Vet, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.vet}"
