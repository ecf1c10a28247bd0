"""Patients: species and breed reference data, the animal, who owned it when, and its weights."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from clients.models import Client
from vetpms.models import User
from vetpms.params import is_ascii_number
from vetpms.text import fold


def normalise_microchip(value: str) -> str:
    """Drop the spaces and dashes people type between digit groups ("985 141 000-123 456")."""
    value = (value or "").strip()
    compact = value.replace(" ", "").replace("-", "")
    return compact if is_ascii_number(compact) else value


def validate_microchip(value: str) -> None:
    """ISO 11784 full-duplex/HDX transponder: 15 digits; the first three are an ISO 3166 country code (001-899)
    or a manufacturer code (900-998). 999 is reserved for test transponders and 000 is not allocated."""
    if not value:
        return
    if len(value) != 15 or not is_ascii_number(value):
        raise ValidationError("A microchip number has exactly 15 digits.", code="microchip_format")
    if value[:3] in {"000", "999"}:
        raise ValidationError(
            "A microchip number cannot start with 000 or 999 (999 is reserved for test chips).",
            code="microchip_prefix",
        )


class Species(models.Model):
    name = models.CharField(max_length=60, unique=True)
    snomed_code = models.CharField(
        "SNOMED CT code",
        max_length=18,
        blank=True,
        help_text="The species' SNOMED CT concept (dog 448771007), used when records are exchanged (FHIR).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "species"

    def __str__(self) -> str:
        return self.name


class Breed(models.Model):
    species = models.ForeignKey(Species, on_delete=models.PROTECT, related_name="breeds")
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["species__name", "name"]
        constraints = [models.UniqueConstraint(fields=["species", "name"], name="breed_unique_per_species")]

    def __str__(self) -> str:
        return self.name


class Animal(models.Model):
    class Sex(models.TextChoices):
        MALE = "male", "Male"
        FEMALE = "female", "Female"
        UNKNOWN = "unknown", "Unknown"

    class Neuter(models.TextChoices):
        ENTIRE = "entire", "Entire"
        NEUTERED = "neutered", "Neutered"
        UNKNOWN = "unknown", "Unknown"

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="animals")
    species = models.ForeignKey(Species, on_delete=models.PROTECT, related_name="animals")
    breed = models.ForeignKey(Breed, on_delete=models.PROTECT, related_name="animals", null=True, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    neuter_status = models.CharField(max_length=10, choices=Neuter.choices, default=Neuter.UNKNOWN)
    date_of_birth = models.DateField(null=True, blank=True)
    date_of_birth_estimated = models.BooleanField("birth date is estimated", default=False)
    colour = models.CharField("colour / markings", max_length=200, blank=True)
    microchip = models.CharField(
        max_length=15, blank=True, validators=[validate_microchip], help_text="15 digits (ISO 11784)."
    )
    alerts = models.TextField(
        blank=True,
        max_length=2000,
        help_text="One per line, e.g. 'Bites' or 'Allergic to penicillin'. Shown prominently everywhere.",
    )
    notes = models.TextField(blank=True, max_length=5000)
    deceased_on = models.DateField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Pet name and microchip plus the owner's search text, so one index answers "rex smith".
    search_text = models.TextField(blank=True, editable=False, default="")

    class Meta:
        ordering = ["name", "id"]
        permissions = [
            ("transfer_animal", "Can transfer an animal to another owner"),
            ("mark_animal_deceased", "Can mark an animal deceased"),
            ("deactivate_animal", "Can deactivate an animal"),
        ]
        constraints = [
            # A chip identifies one living animal; a deceased animal's chip may be recorded again (re-used
            # records, data imports), so uniqueness is only among the living.
            models.UniqueConstraint(
                fields=["microchip"],
                condition=Q(deceased_on__isnull=True) & ~Q(microchip=""),
                name="animal_microchip_unique_living",
                violation_error_message="Another living animal already has this microchip number.",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "name"], name="animal_owner_idx"),
            models.Index(fields=["name", "id"], name="animal_name_idx"),  # the animal list's order (API)
            # The global search's first tier (animals.selectors.search): a range on the lower-case pet name.
            models.Index(Lower("name"), "id", name="animal_name_lower_idx"),
            # Finding an animal by its chip, living or not (FHIR Patient?identifier=, scanners at reception).
            models.Index(fields=["microchip"], condition=~Q(microchip=""), name="animal_microchip_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deceased(self) -> bool:
        return self.deceased_on is not None

    @property
    def alert_list(self) -> list[str]:
        return [line.strip() for line in self.alerts.splitlines() if line.strip()]

    @property
    def age(self) -> str:
        if self.date_of_birth is None:
            return ""
        end = self.deceased_on or timezone.localdate()
        text = format_age(self.date_of_birth, end)
        return f"~{text}" if self.date_of_birth_estimated and text else text

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if self.date_of_birth and self.date_of_birth > today:
            errors["date_of_birth"] = "The date of birth cannot be in the future."
        elif self.date_of_birth and self.date_of_birth < today - dt.timedelta(days=365 * 100):
            errors["date_of_birth"] = "The date of birth is more than 100 years ago."
        if self.breed is not None and self.species_id and self.breed.species_id != self.species_id:
            errors["breed"] = f"{self.breed} is not a breed of {self.species}."
        if self.species_id and not self.species.is_active and self._state.adding:
            errors["species"] = f"{self.species} is no longer in use."
        if errors:
            raise ValidationError(errors)

    def build_search_text(self) -> str:
        own = fold(f"{self.name} {self.microchip}")
        return f" {own} {self.owner.search_text.strip()} "


def format_age(born: dt.date, on: dt.date) -> str:
    """Age as vets say it: "5 d" under two weeks, "6 w" under four months, "7 m" under a year, then "3 y 2 m"."""
    if on < born:
        return ""
    days = (on - born).days
    if days < 14:
        return f"{days} d"
    months = (on.year - born.year) * 12 + (on.month - born.month) - (1 if on.day < born.day else 0)
    if months < 4:
        return f"{days // 7} w"
    if months < 12:
        return f"{months} m"
    years, rest = divmod(months, 12)
    return f"{years} y {rest} m" if rest else f"{years} y"


class Ownership(models.Model):
    """Who owned an animal from when to when. The current owner's row has no end."""

    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="ownerships")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="ownerships")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["animal"], condition=Q(ended_at__isnull=True), name="ownership_one_current_owner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.animal} owned by {self.client}"


class Weight(models.Model):
    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="weights")
    measured_on = models.DateField(default=timezone.localdate)
    kg = models.DecimalField(
        max_digits=7,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("2000"))],
    )
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-measured_on", "-id"]
        indexes = [models.Index(fields=["animal", "-measured_on"], name="weight_animal_idx")]

    def __str__(self) -> str:
        return f"{self.kg} kg on {self.measured_on}"
