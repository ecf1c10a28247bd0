"""Import from another practice system: a job holds its files, their mappings, the last run's counts and issues;
ImportedRecord remembers which VetPMS record each source row became, so a second import updates rather than
duplicates. The files live in the database (not on a local disk another worker could not see)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from vetpms.models import User

__all__ = ["ImportFile", "ImportIssue", "ImportJob", "ImportedRecord", "SavedMapping"]


class ImportJob(models.Model):
    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for the mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CHECKED = "checked", "Dry run finished"
        APPLIED = "applied", "Imported"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        DRY_RUN = "dry_run", "Dry run"
        APPLY = "apply", "Import"

    class DateOrder(models.TextChoices):
        DMY = "dmy", "Day first (31/12/2024)"
        MDY = "mdy", "Month first (12/31/2024)"
        YMD = "ymd", "Year first (2024-12-31)"

    class Duplicates(models.TextChoices):
        SKIP = "skip", "Skip rows that look like a client already recorded, and list them"
        CREATE = "create", "Create them anyway (I have checked the list)"

    source_system = models.CharField(max_length=100, help_text='The system the files come from, e.g. "OldVet 7".')
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DRY_RUN)
    date_order = models.CharField(max_length=3, choices=DateOrder.choices, default=DateOrder.DMY)
    duplicates = models.CharField(max_length=10, choices=Duplicates.choices, default=Duplicates.SKIP)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The mapping the last finished dry run checked; applying needs a dry run of the current mapping.
    mapping_version = models.PositiveIntegerField(default=1)
    checked_version = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("run_import", "Can import data from another practice system")]

    def __str__(self) -> str:
        return f"Import {self.pk} from {self.source_system}"

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def can_apply(self) -> bool:
        return self.status == self.Status.CHECKED and self.checked_version == self.mapping_version


class ImportFile(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField(default=0)
    filename = models.CharField(max_length=200)
    kind = models.CharField(max_length=4)  # csv / xlsx
    content = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    entity = models.CharField(max_length=30, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    # {"<header position>": "<canonical column>"}; {"<column>": {"<source value>": "<VetPMS value>"}}
    column_map = models.JSONField(default=dict)
    value_map = models.JSONField(default=dict)
    rows_total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.filename


class ImportIssue(models.Model):
    class Kind(models.TextChoices):
        ERROR = "error", "Error"
        DUPLICATE = "duplicate", "Possible duplicate"
        WARNING = "warning", "Warning"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="+")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ERROR)
    message = models.TextField(max_length=2000)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.file} row {self.row_number}: {self.message}"


class ImportedRecord(models.Model):
    """Which VetPMS record a source row became: (source system, entity, source id) names one record, for good."""

    source_system = models.CharField(max_length=100)
    entity = models.CharField(max_length=30)
    source_id = models.CharField(max_length=100)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_system", "entity", "source_id"], name="imported_record_once"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="imported_record_target")]

    def __str__(self) -> str:
        return f"{self.source_system} {self.entity} {self.source_id}"


class SavedMapping(models.Model):
    """A named column and value mapping for one entity of one source system, offered again for its next files."""

    name = models.CharField(max_length=100)
    source_system = models.CharField(max_length=100)
    entity = models.CharField(max_length=30)
    headers = models.JSONField(default=list)
    # {"<source header>": "<canonical column>"}: by header text, so a file with the columns in another order fits.
    columns = models.JSONField(default=dict)
    values = models.JSONField(default=dict)
    date_order = models.CharField(max_length=3, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source_system", "entity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "entity", "name"], name="saved_mapping_name_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.source_system}, {self.entity})"
