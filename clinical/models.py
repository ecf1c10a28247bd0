"""The medical record: consultations (SOAP with vitals), addenda, diagnoses, problems, vaccinations given,
prescriptions and dispensings, and attachments (DESIGN.md section 7).

Signing freezes a consultation for good. The models refuse to save or delete a signed consultation or its child
rows (``FrozenRecord``), the services refuse first with a DomainError (a 409 from the API), and database triggers
(migration 0002) refuse the same at the SQL level on PostgreSQL and SQLite, so no path (UI, API, admin, a service,
a raw UPDATE) can alter a signed record. Corrections are addenda, which are themselves never changed.

The weight recorded in a consultation is a row of the animal's weight history (``animals.Weight``), linked here,
never a copy. Vaccinations renew reminders through ``clinical.signals.vaccination_recorded`` (the reminders app,
above this one, listens); the reminder a vaccination renewed is found from the reminder's side.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from animals.models import Animal, Weight
from appointments.models import Appointment, AppointmentType
from invoicing.models import InvoiceLine, Product
from vetpms.models import User, Vet
from vetpms.timeutils import to_local


class FrozenRecord(Exception):
    """Raised by the models when something tries to change or delete a signed clinical record."""


class Diagnosis(models.Model):
    """An entry of the practice's editable diagnosis list. ``code`` and ``code_system`` let a practice load a
    coded terminology it is licensed for (VeNom, SNOMED CT); a practice without one keeps plain names."""

    name = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=40, blank=True)
    code_system = models.CharField(max_length=60, blank=True, help_text='e.g. "VeNom" or "SNOMED CT".')
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "diagnoses"
        constraints = [
            models.UniqueConstraint(
                fields=["code_system", "code"], condition=~Q(code=""), name="diagnosis_code_unique_in_system"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Section(models.TextChoices):
    SUBJECTIVE = "subjective", "Subjective (complaint, history)"
    OBJECTIVE = "objective", "Objective (examination)"
    ASSESSMENT = "assessment", "Assessment"
    PLAN = "plan", "Plan"


class QuickText(models.Model):
    """A practice template that fills one SOAP section ("Vaccination: healthy, no abnormalities detected")."""

    title = models.CharField(max_length=100)
    section = models.CharField(max_length=12, choices=Section.choices)
    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quick_texts",
        help_text="Offered for consultations of this type; empty: offered for every consultation.",
    )
    text = models.TextField(max_length=5000)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["section", "title"]

    def __str__(self) -> str:
        return self.title


class Consultation(models.Model):
    """The visit record of one animal by one vet: SOAP text, vitals and diagnoses; draft until signed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    class MucousMembranes(models.TextChoices):
        PINK = "pink", "Pink"
        PALE = "pale", "Pale"
        WHITE = "white", "White"
        INJECTED = "injected", "Injected (red)"
        CYANOTIC = "cyanotic", "Cyanotic"
        ICTERIC = "icteric", "Icteric (yellow)"
        PIGMENTED = "pigmented", "Pigmented (not assessable)"

    class CapillaryRefill(models.TextChoices):
        UNDER_2 = "lt2", "< 2 s"
        TWO_TO_3 = "2to3", "2-3 s"
        OVER_3 = "gt3", "> 3 s"

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="consultations")
    vet = models.ForeignKey(Vet, on_delete=models.PROTECT, related_name="consultations")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="consultation"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # S
    complaint = models.TextField("presenting complaint", blank=True, max_length=5000)
    history = models.TextField(blank=True, max_length=20000)
    # O
    examination = models.TextField(blank=True, max_length=20000)
    weight = models.OneToOneField(
        Weight,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation",
        help_text="The row of the animal's weight history measured in this consultation.",
    )
    temperature_c = models.DecimalField("temperature (°C)", max_digits=4, decimal_places=1, null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField("heart rate (/min)", null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField("respiratory rate (/min)", null=True, blank=True)
    body_condition_score = models.PositiveSmallIntegerField(
        "body condition score (1-9)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
    )
    pain_score = models.PositiveSmallIntegerField(
        "pain score (0-10)", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    mucous_membranes = models.CharField(max_length=10, choices=MucousMembranes.choices, blank=True)
    capillary_refill = models.CharField(max_length=4, choices=CapillaryRefill.choices, blank=True)
    # A
    diagnoses: models.ManyToManyField[Diagnosis, ConsultationDiagnosis] = models.ManyToManyField(
        Diagnosis, through="ConsultationDiagnosis", related_name="consultations"
    )
    assessment = models.TextField(blank=True, max_length=20000)
    # P
    plan = models.TextField(blank=True, max_length=20000)

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [
            ("sign_consultation", "Can sign a consultation (makes it a permanent record)"),
            ("view_clinical_notes", "Can read the text of consultations and addenda"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(signed_at__isnull=True) & Q(signed_by__isnull=True))
                | (Q(status="signed") & Q(signed_at__isnull=False) & Q(signed_by__isnull=False)),
                name="consultation_signed_iff_signature",
            ),
            models.CheckConstraint(
                condition=Q(body_condition_score__isnull=True)
                | (Q(body_condition_score__gte=1) & Q(body_condition_score__lte=9)),
                name="consultation_bcs_1_to_9",
            ),
            models.CheckConstraint(
                condition=Q(pain_score__isnull=True) | Q(pain_score__lte=10), name="consultation_pain_0_to_10"
            ),
        ]
        indexes = [
            # The patient history and the animal page read an animal's consultations newest first.
            models.Index(fields=["animal", "-opened_at", "-id"], name="consult_animal_time_idx"),
            # "Unsigned for more than a day", per vet and for the manager.
            models.Index(fields=["status", "vet", "opened_at"], name="consult_status_vet_idx"),
        ]

    def __str__(self) -> str:
        return f"Consultation of {to_local(self.opened_at):%d %b %Y} #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:  # a draft may be saved (and signed); what is stored as signed may not
            stored = Consultation.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.SIGNED:
                raise FrozenRecord("This consultation is signed and cannot be changed; add an addendum.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Consultation.objects.filter(pk=self.pk, status=self.Status.SIGNED).exists():
            raise FrozenRecord("A signed consultation cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class _ConsultationChild(models.Model):
    """A row that becomes part of the permanent record when its consultation is signed."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self._consultation_signed():
            raise FrozenRecord(f"This {self._meta.verbose_name} belongs to a signed consultation.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._consultation_signed():
            raise FrozenRecord(f"This {self._meta.verbose_name} belongs to a signed consultation.")
        return super().delete(*args, **kwargs)

    def _consultation_signed(self) -> bool:
        consultation_id = getattr(self, "consultation_id", None)
        return (
            consultation_id is not None
            and Consultation.objects.filter(pk=consultation_id, status=Consultation.Status.SIGNED).exists()
        )


class ConsultationDiagnosis(_ConsultationChild):
    class Certainty(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        SUSPECTED = "suspected", "Suspected"
        DIFFERENTIAL = "differential", "Differential"

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="diagnosis_links")
    diagnosis = models.ForeignKey(Diagnosis, on_delete=models.PROTECT, related_name="+")
    certainty = models.CharField(max_length=12, choices=Certainty.choices, default=Certainty.CONFIRMED)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "consultation diagnosis"
        constraints = [
            models.UniqueConstraint(fields=["consultation", "diagnosis"], name="consultation_diagnosis_once"),
        ]

    def __str__(self) -> str:
        return f"{self.diagnosis} ({self.certainty})"


class Addendum(models.Model):
    """A correction or later note under a (usually signed) consultation: who, when, what. Never changed."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(max_length=10000)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum by {self.author} on {self.created_at:%d %b %Y %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise FrozenRecord("An addendum cannot be changed; add another one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FrozenRecord("An addendum cannot be deleted.")


class Problem(models.Model):
    """An entry of the animal's problem list: a condition with its onset and course, and the consultations that
    dealt with it. ``is_alert`` puts it at the top of the animal page, the consultation page and the day list."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CHRONIC = "chronic", "Chronic"
        RESOLVED = "resolved", "Resolved"

    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="problems")
    diagnosis = models.ForeignKey(Diagnosis, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    condition = models.CharField(max_length=200, help_text="What the problem is (the diagnosis name by default).")
    onset = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    resolved_on = models.DateField(null=True, blank=True)
    is_alert = models.BooleanField(default=False, help_text="Show it at the top of the animal's pages.")
    notes = models.TextField(blank=True, max_length=5000)
    consultations = models.ManyToManyField(Consultation, blank=True, related_name="problems")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "-onset", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="resolved") | Q(resolved_on__isnull=True), name="problem_resolved_date_if_resolved"
            ),
        ]
        indexes = [models.Index(fields=["animal", "status"], name="problem_animal_status_idx")]

    def __str__(self) -> str:
        return self.condition

    @property
    def is_current(self) -> bool:
        return self.status != self.Status.RESOLVED


class Route(models.TextChoices):
    SUBCUTANEOUS = "sc", "Subcutaneous (SC)"
    INTRAMUSCULAR = "im", "Intramuscular (IM)"
    INTRAVENOUS = "iv", "Intravenous (IV)"
    INTRANASAL = "in", "Intranasal"
    ORAL = "po", "Oral (PO)"
    TOPICAL = "top", "Topical"
    OPHTHALMIC = "oph", "Ophthalmic"
    OTIC = "otic", "Otic (ear)"
    INTRADERMAL = "id", "Intradermal"
    OTHER = "other", "Other"


class Vaccination(_ConsultationChild):
    """A vaccine given: what (catalogue product, manufacturer, batch and its expiry), how (route, site), when and
    by whom, and when the next is due (default: the vaccine's reminder interval)."""

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="vaccinations")
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="vaccinations"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    manufacturer = models.CharField(max_length=100, blank=True)
    batch = models.CharField("batch / lot number", max_length=60)
    batch_expiry = models.DateField("batch expiry")
    route = models.CharField(max_length=5, choices=Route.choices, default=Route.SUBCUTANEOUS)
    site = models.CharField(max_length=100, blank=True, help_text='e.g. "left lateral thorax", "scruff".')
    given_on = models.DateField(default=timezone.localdate)
    given_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    supervising_vet = models.ForeignKey(
        Vet,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The vet responsible (the giver, or the vet a nurse works under).",
    )
    next_due_on = models.DateField(null=True, blank=True)
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="vaccination"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_on", "-id"]
        indexes = [models.Index(fields=["animal", "-given_on", "-id"], name="vaccination_animal_idx")]

    def __str__(self) -> str:
        return f"{self.product.name} on {self.given_on:%d %b %Y}"


class Prescription(_ConsultationChild):
    """A medicine prescribed and dispensed, with what a dispensing label needs. A repeat dispensed later is its
    own row with ``repeat_of`` pointing at the original, counted against the original's ``repeats``."""

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="prescriptions")
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="prescriptions"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    strength = models.CharField(max_length=60, blank=True, help_text='e.g. "50 mg/ml", "250 mg".')
    dose = models.CharField(max_length=100, help_text='e.g. "1 tablet", "0.5 ml".')
    route = models.CharField(max_length=5, choices=Route.choices, default=Route.ORAL)
    frequency = models.CharField(max_length=60, help_text='e.g. "twice daily".')
    duration = models.CharField(max_length=60, blank=True, help_text='e.g. "7 days".')
    quantity = models.DecimalField(max_digits=10, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    instructions = models.TextField(blank=True, max_length=1000)
    repeats = models.PositiveSmallIntegerField(default=0, help_text="Further dispensings allowed without a new exam.")
    prescribed_by = models.ForeignKey(Vet, on_delete=models.PROTECT, related_name="prescriptions")
    dispensed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    dispensed_on = models.DateField(default=timezone.localdate)
    repeat_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeat_dispensings"
    )
    invoice_line = models.OneToOneField(
        InvoiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="prescription"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-dispensed_on", "-id"]
        permissions = [("dispense_repeat", "Can dispense a repeat of an existing prescription")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="prescription_quantity_positive"),
            models.CheckConstraint(
                condition=Q(repeat_of__isnull=True) | Q(repeats=0), name="prescription_repeat_has_no_repeats"
            ),
        ]
        indexes = [models.Index(fields=["animal", "-dispensed_on", "-id"], name="prescription_animal_idx")]

    def __str__(self) -> str:
        return f"{self.product.name} x {self.quantity.normalize():f} on {self.dispensed_on:%d %b %Y}"


def attachment_storage():
    """The storage of attachments: ``STORAGES["attachments"]`` (the file system by default, see settings)."""
    return storages["attachments"]


def attachment_path(instance: Attachment, filename: str) -> str:
    # Random names: the original file name is kept in the row, never trusted as a path.
    return f"animals/{instance.animal_id}/{uuid.uuid4().hex}"


def thumbnail_path(instance: Attachment, filename: str) -> str:
    return f"animals/{instance.animal_id}/thumbs/{uuid.uuid4().hex}.png"


class Attachment(models.Model):
    """A file on an animal or one of its consultations, served only through a view that checks the user."""

    class Kind(models.TextChoices):
        LAB = "lab", "Laboratory result"
        RADIOGRAPH = "radiograph", "Radiograph"
        PHOTO = "photo", "Photo"
        CONSENT = "consent", "Consent form"
        REFERRAL = "referral", "Referral letter"
        OTHER = "other", "Other"

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="attachments")
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(max_length=200)
    file = models.FileField(storage=attachment_storage, upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    thumbnail = models.FileField(storage=attachment_storage, upload_to=thumbnail_path, max_length=300, blank=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["animal", "-created_at", "-id"], name="attachment_animal_idx")]

    def __str__(self) -> str:
        return self.title


ATTACHMENT_MAX_BYTES_DEFAULT = 20 * 1024 * 1024


def attachment_max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", ATTACHMENT_MAX_BYTES_DEFAULT))


class ProductSpecies(models.Model):
    """The species a catalogue product is meant for (a dog vaccine, a rabbit food); a product without rows here
    fits every species. Used to offer what fits the patient when charging from a consultation."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    species = models.ForeignKey("animals.Species", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name_plural = "product species"
        constraints = [models.UniqueConstraint(fields=["product", "species"], name="product_species_once")]

    def __str__(self) -> str:
        return f"{self.product} for {self.species}"
