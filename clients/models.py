"""Owners (clients): contact details and communication consent."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from vetpms.phones import display_phone, normalise_phone, phone_search_forms
from vetpms.text import fold

# Typed numbers may carry spaces and brackets (up to 40 characters); they are stored as E.164 (at most 16).
PHONE_FIELDS = ("mobile_phone", "home_phone", "work_phone")


class Client(models.Model):
    class Title(models.TextChoices):
        NONE = "", "—"
        MR = "Mr", "Mr"
        MRS = "Mrs", "Mrs"
        MS = "Ms", "Ms"
        MISS = "Miss", "Miss"
        MX = "Mx", "Mx"
        DR = "Dr", "Dr"
        PROF = "Prof", "Prof"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        SMS = "sms", "Text message"
        POST = "post", "Post"

    title = models.CharField(max_length=10, choices=Title.choices, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    organisation = models.CharField(
        max_length=200, blank=True, help_text="For a farm, breeder, shelter or company instead of a person."
    )
    email = models.EmailField(max_length=254, blank=True)
    mobile_phone = models.CharField(max_length=40, blank=True)
    home_phone = models.CharField(max_length=40, blank=True)
    work_phone = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    county = models.CharField("county / region", max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    reminder_consent = models.BooleanField(
        "consents to reminder emails",
        default=False,
        help_text="The owner agreed to vaccination and recall emails.",
    )
    consent_changed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When consent was last given or withdrawn."
    )
    notes = models.TextField(blank=True, max_length=5000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Folded names, email and phone digits; kept by the services, trigram-indexed on PostgreSQL (see migrations).
    search_text = models.TextField(blank=True, editable=False, default="")

    class Meta:
        ordering = ["last_name", "first_name", "organisation", "id"]
        permissions = [("deactivate_client", "Can deactivate a client")]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="client_name_idx"),
            models.Index(fields=["created_at"], name="client_created_idx"),
            # What clients.selectors.possible_duplicates looks a new client up by.
            models.Index(Lower("email"), name="client_email_lower_idx"),
            models.Index(fields=["mobile_phone"], name="client_mobile_idx"),
            models.Index(fields=["home_phone"], name="client_home_phone_idx"),
            models.Index(fields=["work_phone"], name="client_work_phone_idx"),
            models.Index(Lower("last_name"), name="client_surname_lower_idx"),
            # The global search's prefix tiers (animals.selectors.search): a range on the lower-case name.
            models.Index(Lower("organisation"), name="client_organisation_lower_idx"),
            models.Index(Lower("first_name"), name="client_first_name_lower_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(last_name="") | ~Q(organisation=""), name="client_has_a_name"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def person_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    @property
    def display_name(self) -> str:
        if self.organisation and self.last_name:
            return f"{self.organisation} ({self.person_name})"
        return self.organisation or self.person_name

    @property
    def list_name(self) -> str:
        """The name in the client list, surname first: "Smith, Jane (Hill Top Farm)", or the organisation's."""
        if self.last_name and self.organisation:
            return f"{self.sort_name} ({self.organisation})"
        return self.sort_name or self.display_name

    @property
    def sort_name(self) -> str:
        """ "Smith, Jane" for lists."""
        if self.last_name:
            return f"{self.last_name}, {self.first_name}".rstrip(", ")
        return self.organisation

    @property
    def address_lines(self) -> list[str]:
        parts = [self.address_line1, self.address_line2, self.town, self.county, self.postcode, self.country]
        return [p for p in parts if p]

    @property
    def phones(self) -> list[tuple[str, str]]:
        labels = {"mobile_phone": "Mobile", "home_phone": "Home", "work_phone": "Work"}
        return [(labels[f], display_phone(getattr(self, f))) for f in PHONE_FIELDS if getattr(self, f)]

    @property
    def main_phone(self) -> str:
        for field in PHONE_FIELDS:
            if getattr(self, field):
                return display_phone(getattr(self, field))
        return ""

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not self.last_name.strip() and not self.organisation.strip():
            errors.setdefault("last_name", []).append("Give a last name or an organisation name.")
        for field in PHONE_FIELDS:
            try:
                setattr(self, field, normalise_phone(getattr(self, field)))
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
        if self.email:
            self.email = self.email.strip()
        if errors:
            raise ValidationError(errors)

    def build_search_text(self) -> str:
        words = [
            self.first_name,
            self.last_name,
            self.organisation,
            self.email,
            self.postcode.replace(" ", ""),
        ]
        for field in PHONE_FIELDS:
            words.extend(phone_search_forms(getattr(self, field)))
        return " " + fold(" ".join(w for w in words if w)) + " "
