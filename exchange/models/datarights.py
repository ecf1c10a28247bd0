"""Owners' data rights: the record of each erasure (exchange.datarights).

An ``Erasure`` says that an owner's personal data was erased, when, by whom, why (their request or the retention
schedule) and which records the practice had to keep, with the date each may go. It holds no personal data of its
own: the client row it points at is the anonymised one.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clients.models import Client
from vetpms.models import User


class Erasure(models.Model):
    class Source(models.TextChoices):
        REQUEST = "request", "The owner's request"
        RETENTION = "retention", "Retention period ended"

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="erasure")
    erased_at = models.DateTimeField(default=timezone.now, db_index=True)
    erased_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.REQUEST)
    # [{"kind": "issued invoices", "count": 2, "until": "2032-12-04", "why": "..."}]: what was kept and why.
    kept = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-erased_at", "-id"]
        default_permissions = ("view",)
        permissions = [("manage_data_rights", "Can produce an owner's data (subject access) and erase an owner")]

    def __str__(self) -> str:
        return f"Erasure of client {self.client_id}"
