"""Staff, API tokens and the audit trail: the pieces every other app leans on."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    RECEPTIONIST = "Receptionist", "Receptionist"
    VET = "Vet", "Vet"
    NURSE = "Nurse", "Nurse"
    MANAGER = "Manager", "Manager"


class User(AbstractUser):
    """A member of staff. What they may do comes from their group (Receptionist, Vet, Nurse, Manager)."""

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        permissions = [
            ("manage_staff", "Can see and manage staff and their roles"),
            ("manage_api_tokens", "Can create and revoke API tokens"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def roles(self) -> list[str]:
        cached = getattr(self, "_role_names", None)
        if cached is None:
            cached = sorted(g.name for g in self.groups.all())
            self._role_names = cached
        return cached

    @property
    def role_label(self) -> str:
        if self.is_superuser:
            return "Administrator"
        return ", ".join(self.roles) or "No role"

    def has_role(self, role: str) -> bool:
        return role in self.roles


class VetQuerySet(models.QuerySet):
    def bookable(self) -> VetQuerySet:
        """Vets whose book is open: the book itself is active and so is the person (a deactivated member of staff
        is never offered or booked, whatever their book's flag says). The one definition; see ``Vet.bookable``."""
        return self.filter(is_active=True, user__is_active=True)


class Vet(models.Model):
    """A member of staff who holds an appointment book (the appointments app adds the book itself)."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="vet")
    display_name = models.CharField(max_length=100, help_text="How the vet appears in books and on invoices.")
    registration_number = models.CharField(max_length=50, blank=True)
    colour = models.CharField(max_length=7, default="#0d6efd", help_text="Colour of the vet's column, #rrggbb.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VetQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def bookable(self) -> bool:
        """Whether appointments may be offered in and booked into this book (``VetQuerySet.bookable``)."""
        return self.is_active and self.user.is_active


class ApiTokenQuerySet(models.QuerySet):
    def live(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A per-user API token. Only a SHA-256 of the secret is stored; the secret is shown once, at creation.

    The secret has 256 bits of entropy, so a plain hash (not a slow password hash) is safe and keeps each API
    request cheap.
    """

    PREFIX = "vpms_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'lab integration'.")
    key_prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token in lists.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(
        max_length=500,
        default="system/*.*",
        help_text="SMART-style scopes, space-separated (vetpms.scopes): system/*.* full, system/*.read read only.",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def new_secret(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


class AuditEntry(models.Model):
    """Who changed which record, when, and what changed (old and new value per field).

    Written by services inside the same transaction as the change, so a change without its entry cannot exist.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, help_text="The actor's name at the time.")
    via_label = models.CharField(
        max_length=250,
        blank=True,
        help_text="How the actor acted, when not in person: the API token used and who created it.",
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=40)
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
