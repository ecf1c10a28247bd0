"""/api/v1/imports: the import from another system over the API (managers), the same services as the pages.

* ``POST /imports`` (multipart: ``source_system``, one or more ``files``): 201 with the job, its files, the proposed
  entity and column mapping of each, and the detected date order.
* ``GET /imports``, ``GET /imports/{id}``: jobs with their progress and counts.
* ``PUT /imports/{id}/mapping``: ``{"date_order", "duplicates", "files": [{"id", "entity", "column_map",
  "value_map"}]}``; 422 naming what is wrong, 409 while the job runs.
* ``POST /imports/{id}/dry-run``, ``POST /imports/{id}/apply``: 202, queued as a task; apply is 409 until a dry run
  of the current mapping has finished.
* ``POST /imports/{id}/cancel``; ``GET /imports/{id}/issues``: the report (file, row, column, message), paged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from exchange.importing import services
from exchange.models import ImportIssue, ImportJob
from vetpms.api_utils import Id, Page, url_id
from vetpms.errors import DomainError
from vetpms.permissions import require_perm

router = Router(tags=["imports"])
PERM = "exchange.run_import"


class FileOut(Schema):
    id: Id
    filename: str
    kind: str
    entity: str
    encoding: str
    delimiter: str
    headers: list[str]
    column_map: dict[str, str]
    value_map: dict[str, dict[str, str]]
    rows_total: int


class JobOut(Schema):
    id: Id
    source_system: str
    status: str
    mode: str
    date_order: str
    duplicates: str
    can_apply: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rows_total: int
    rows_done: int
    created_count: int
    updated_count: int
    unchanged_count: int
    skipped_count: int
    error_count: int
    failure: str
    files: list[FileOut]

    @staticmethod
    def resolve_files(obj: ImportJob) -> list[Any]:
        return list(obj.files.all())


class FileMappingIn(Schema):
    id: Id
    entity: str | None = None
    column_map: dict[str, str] | None = None
    value_map: dict[str, dict[str, str]] | None = None


class MappingIn(Schema):
    date_order: str | None = None
    duplicates: str | None = None
    files: list[FileMappingIn] = []


class IssueOut(Schema):
    id: Id
    file: str
    row_number: int
    column: str
    source_id: str
    kind: str
    message: str

    @staticmethod
    def resolve_file(obj: ImportIssue) -> str:
        return obj.file.filename


def _job(job_id: int) -> ImportJob:
    return ImportJob.objects.prefetch_related("files").get(pk=url_id(job_id))


@router.post("", response={201: JobOut}, summary="Upload the files of an import (managers)")
def create_import(request: HttpRequest, source_system: Form[str], files: File[list[UploadedFile]]):
    require_perm(request.user, PERM)
    limit = services._max_bytes()
    for upload in files:
        if upload.size and upload.size > limit:
            raise DomainError(f"{upload.name} is larger than {limit // (1024 * 1024)} MB.", field="files")
    job = services.job_create(
        by=request.user, source_system=source_system, files=[(u.name or "upload", u.read()) for u in files]
    )
    return Status(201, _job(job.pk))


@router.get("", response=list[JobOut], summary="Imports, newest first (managers)")
@paginate(Page)
def list_imports(request: HttpRequest):
    require_perm(request.user, PERM)
    return ImportJob.objects.prefetch_related("files").order_by("-id")


@router.get("/{int:job_id}", response=JobOut, summary="One import with its progress (managers)")
def get_import(request: HttpRequest, job_id: int):
    require_perm(request.user, PERM)
    return _job(job_id)


@router.put("/{int:job_id}/mapping", response=JobOut, summary="Set the files' entities, column and value mappings")
def set_mapping(request: HttpRequest, job_id: int, body: MappingIn):
    require_perm(request.user, PERM)
    job = _job(job_id)
    files = {f.id: {k: v for k, v in f.dict().items() if k != "id" and v is not None} for f in body.files}
    services.job_set_mapping(
        job=job, by=request.user, files=files, date_order=body.date_order, duplicates=body.duplicates
    )
    return _job(job.pk)


@router.post("/{int:job_id}/dry-run", response={202: JobOut}, summary="Queue a dry run (nothing is written)")
def dry_run(request: HttpRequest, job_id: int):
    require_perm(request.user, PERM)
    services.job_start(job=_job(job_id), by=request.user, apply=False)
    return Status(202, _job(job_id))


@router.post("/{int:job_id}/apply", response={202: JobOut}, summary="Queue the import (after a dry run)")
def apply(request: HttpRequest, job_id: int):
    require_perm(request.user, PERM)
    services.job_start(job=_job(job_id), by=request.user, apply=True)
    return Status(202, _job(job_id))


@router.post("/{int:job_id}/cancel", response=JobOut, summary="Stop a queued or running import")
def cancel(request: HttpRequest, job_id: int):
    require_perm(request.user, PERM)
    services.job_cancel(job=_job(job_id), by=request.user)
    return _job(job_id)


@router.get("/{int:job_id}/issues", response=list[IssueOut], summary="The last run's report (managers)")
@paginate(Page)
def issues(request: HttpRequest, job_id: int):
    require_perm(request.user, PERM)
    job = _job(job_id)
    return ImportIssue.objects.filter(job=job).select_related("file").order_by("id")
