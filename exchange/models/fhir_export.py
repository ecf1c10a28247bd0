"""FHIR Bulk Data exports (``$export``): one row per kick-off, its files, and who may download them.

The files are NDJSON, one per resource type (split when a type passes ``FHIR_EXPORT_LINES_PER_FILE`` lines),
written through ``STORAGES["fhir_exports"]`` and served only by the export's status and file URLs, to the same
user and, when the export was asked for with an API token, the same token. They expire ``FHIR_EXPORT_HOURS``
after the export completed; the cleanup task deletes them.
"""

from __future__ import annotations

import uuid

from django.core.files.storage import storages
from django.db import models

from vetpms.models import ApiToken, User


def export_storage():
    return storages["fhir_exports"]


class ExportJob(models.Model):
    class Level(models.TextChoices):
        SYSTEM = "system", "Whole system"
        PATIENT = "patient", "All patients"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    level = models.CharField(max_length=10, choices=Level.choices)
    types = models.JSONField(default=list, help_text="The resource types asked for (_type), in export order.")
    since = models.DateTimeField(null=True, blank=True, help_text="_since: only resources changed from then.")
    request_url = models.CharField(max_length=2000)
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(
        ApiToken,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The API token that asked; only it may poll and download (a session export: the same user).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    transaction_time = models.DateTimeField(null=True, blank=True)
    output = models.JSONField(default=list, help_text="[{type, name, count, bytes}] of the files written.")
    error = models.TextField(blank=True)
    bytes_written = models.PositiveBigIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("run_bulk_export", "Can export all data as FHIR (Bulk Data $export)")]
        indexes = [models.Index(fields=["status", "expires_at"], name="fhir_export_status_exp_idx")]

    def __str__(self) -> str:
        return f"FHIR export {self.pk} ({self.status})"

    @property
    def folder(self) -> str:
        return f"fhir-export/{self.pk.hex}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
