"""FHIR Bulk Data export (``$export``, Bulk Data Access IG 2.0): "all my data" as NDJSON, one file per type.

Kick-off (``GET [base]/$export`` or ``[base]/Patient/$export`` with ``Prefer: respond-async``) records an
``ExportJob`` and queues ``run_export`` on django-q2; the answer is 202 with the status URL in Content-Location.
The task reads every exported type by keyset in primary-key chunks (``FHIR_EXPORT_CHUNK`` rows a query), writes
each resource as one JSON line to a temporary file, and hands the finished file to ``STORAGES["fhir_exports"]``,
so memory stays flat whatever the size of the practice. Between chunks it records its progress and stops if the
export was cancelled (DELETE on the status URL). The status URL then answers with the manifest; the files are
served to the same user and token only, until ``FHIR_EXPORT_HOURS`` after completion, when ``cleanup_expired``
(a schedule written by ``migrate``) deletes them.

What is exported: every resource type the FHIR server serves that the user's role (and token scopes) may read;
``Patient/$export`` the types of the patient compartment. ``_type`` narrows it, ``_since`` keeps the resources
changed from then (by each type's last-updated field; a type without one is exported whole). Slot, which is free
time computed from the books rather than stored, is exported as the free slots of the coming
``MAX_SLOT_DAYS`` days when the export runs (``ResourceType.export_filters``).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from exchange.fhir import clinical_sources
from exchange.fhir.http import fhir_json
from exchange.models.fhir_export import ExportJob, export_storage
from vetpms.models import User
from vetpms.schedules import ensure_hourly

log = logging.getLogger(__name__)

EXPORT_PERMISSION = "exchange.run_bulk_export"
CLEANUP_SCHEDULE = "FHIR export cleanup"
NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}

Chunks = Iterator[list[dict]]


@dataclass(frozen=True)
class ExportType:
    """One exportable resource type: whether the user may read it, whether it is in the patient compartment,
    and how to read it in chunks (``chunks(user, since, chunk) -> iterator of lists of resources``)."""

    name: str
    may_read: Callable[[User], bool]
    chunks: Callable[[User, dt.datetime | None, int], Chunks]
    in_patient_compartment: bool = True


# Types of the patient compartment (Patient/$export); the others (Practitioner, PractitionerRole, Organization,
# Schedule, Slot) are not.
PATIENT_COMPARTMENT = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "Appointment",
        "Coverage",
        "Claim",
        "ClaimResponse",
        "Invoice",
        *clinical_sources.CLINICAL_TYPES,
    }
)


def _search_chunks(rt: Any) -> Callable[[User, dt.datetime | None, int], Chunks]:
    """A registered type's resources, page by page through its own keyset search (``_lastUpdated=ge<since>``
    when asked), rendered exactly as the FHIR read renders them."""

    def chunks(user: User, since: dt.datetime | None, size: int) -> Chunks:
        from exchange.fhir.registry import Query

        request = build_request(user)
        filters = list(rt.export_filters())
        if since is not None:
            param = rt.all_search_params().get("_lastUpdated")
            if param is not None:  # a type without one is exported whole
                filters.append((param, "", ["ge" + since.astimezone(dt.UTC).isoformat()]))
        cursor = None
        while True:
            page = rt.search(request, Query(filters=filters, count=size, cursor=cursor, used=[], ignored=[]))
            yield [rt.as_resource(obj, request) for obj in page.rows]
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    return chunks


def _registry_types() -> list[ExportType]:
    """Every type the FHIR server serves (exchange.fhir.registry)."""
    import exchange.fhir.resources  # noqa: F401 - registers the types
    from exchange.fhir.registry import registry

    return [
        ExportType(
            name,
            lambda user, rt=rt: user.has_perms(rt.read_permissions),  # type: ignore[misc]
            _search_chunks(rt),
            in_patient_compartment=name in PATIENT_COMPARTMENT,
        )
        for name, rt in registry.items()
    ]


def export_types() -> dict[str, ExportType]:
    return {export_type.name: export_type for export_type in _registry_types()}


class ExportRefused(Exception):
    """A kick-off the server will not start: ``status`` and a message for the OperationOutcome."""

    def __init__(self, status: int, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def parse_since(text: str) -> dt.datetime:
    """``_since``: a FHIR instant (with a zone); a date alone means its start in the practice's zone."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise ExportRefused(400, f"_since: {text!r} is not a FHIR instant (e.g. 2026-01-31T00:00:00Z).") from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def kick_off(
    *,
    user: User,
    level: str,
    request_url: str,
    type_param: str | None,
    since_param: str | None,
    output_format: str | None,
    readable: Callable[[str], bool] = lambda type_name: True,
) -> ExportJob:
    """Validate the parameters, record the export and queue it. ``readable(type)``: what the token's scopes allow.
    Raises ExportRefused (403 without the permission, 400 for a bad parameter)."""
    if not user.has_perm(EXPORT_PERMISSION):
        raise ExportRefused(403, "Your role does not allow bulk exports.", code="forbidden")
    if output_format and output_format.strip() not in OUTPUT_FORMATS:
        raise ExportRefused(400, f"_outputFormat: only {NDJSON} is supported.", code="not-supported")
    available = export_types()
    if level == ExportJob.Level.PATIENT:
        available = {name: t for name, t in available.items() if t.in_patient_compartment}
    if type_param:
        wanted = [name.strip() for name in type_param.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise ExportRefused(400, f"_type: this export does not serve {', '.join(unknown)}.", code="not-supported")
        refused = [name for name in wanted if not (available[name].may_read(user) and readable(name))]
        if refused:
            raise ExportRefused(403, f"_type: you may not read {', '.join(refused)}.", code="forbidden")
        types = list(dict.fromkeys(wanted))
    else:
        types = [name for name, t in available.items() if t.may_read(user) and readable(name)]
    since = parse_since(since_param) if since_param else None
    job = ExportJob.objects.create(
        level=level,
        types=types,
        since=since,
        request_url=request_url[:2000],
        requested_by=user,
        token=getattr(user, "api_token", None),
    )
    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id) -> None:
    from django_q.tasks import async_task

    task_id = async_task("exchange.fhir.bulk.run_export", str(job_id), task_name=f"FHIR export {job_id}")
    ExportJob.objects.filter(pk=job_id).update(task_id=str(task_id or "")[:64])


class _Cancelled(Exception):
    pass


class _TypeWriter:
    """Writes one type's NDJSON to temporary files, rolling to a new file every ``FHIR_EXPORT_LINES_PER_FILE``
    lines, and stores each finished file."""

    def __init__(self, job: ExportJob, type_name: str) -> None:
        self.job = job
        self.type_name = type_name
        self.limit = max(1, int(settings.FHIR_EXPORT_LINES_PER_FILE))
        self.files: list[dict[str, Any]] = []
        self.tmp: Any = None
        self.lines = 0
        self.bytes = 0

    def write(self, resources: list[dict]) -> None:
        for resource in resources:
            if self.tmp is None:
                self.tmp = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() or discard()
                self.lines = self.bytes = 0
            data = fhir_json(resource, compact=True).encode() + b"\n"  # as the FHIR read writes it
            self.tmp.write(data)
            self.lines += 1
            self.bytes += len(data)
            if self.lines >= self.limit:
                self.close()

    def close(self) -> None:
        if self.tmp is None:
            return
        number = len(self.files) + 1
        name = f"{self.type_name}.ndjson" if number == 1 else f"{self.type_name}-{number}.ndjson"
        self.tmp.seek(0)
        stored = export_storage().save(f"{self.job.folder}/{name}", File(self.tmp, name=name))
        self.tmp.close()
        self.tmp = None
        self.files.append(
            {"type": self.type_name, "name": name, "path": stored, "count": self.lines, "bytes": self.bytes}
        )

    def discard(self) -> None:
        if self.tmp is not None:
            self.tmp.close()
            self.tmp = None


def run_export(job_id: str) -> str:
    """The django-q2 task: write the export's files and its manifest data. Returns the final status."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=now, transaction_time=now, progress="Starting"
    )
    if not claimed:
        return "not queued"
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    available = export_types()
    size = max(1, int(settings.FHIR_EXPORT_CHUNK))
    output: list[dict[str, Any]] = []
    total_bytes = 0
    writer: _TypeWriter | None = None
    try:
        for index, type_name in enumerate(job.types, start=1):
            export_type = available.get(type_name)
            if export_type is None or not export_type.may_read(job.requested_by):
                continue  # the type went away or the user lost the right since the kick-off
            writer = _TypeWriter(job, type_name)
            count = 0
            for chunk in export_type.chunks(job.requested_by, job.since, size):
                writer.write(chunk)
                count += len(chunk)
                _checkpoint(job, f"{type_name} ({index} of {len(job.types)}): {count} resources")
            writer.close()
            output.extend(writer.files)
            total_bytes += sum(f["bytes"] for f in writer.files)
            writer = None
            ExportJob.objects.filter(pk=job.pk).update(output=output, bytes_written=total_bytes)
    except _Cancelled:
        if writer is not None:
            writer.discard()
            output.extend(writer.files)
        _delete_files(job, output)
        return ExportJob.Status.CANCELLED
    except Exception as exc:  # recorded for the status URL; the files written so far are removed
        log.exception("FHIR export %s failed", job.pk)
        if writer is not None:
            writer.discard()
            output.extend(writer.files)
        _delete_files(job, output)
        finished = timezone.now()
        ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.FAILED,
            error=f"The export failed: {type(exc).__name__}.",
            output=[],
            finished_at=finished,
            expires_at=finished + dt.timedelta(hours=settings.FHIR_EXPORT_HOURS),
        )
        return ExportJob.Status.FAILED
    finished = timezone.now()
    done = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.COMPLETED,
        progress="Done",
        output=output,
        bytes_written=total_bytes,
        finished_at=finished,
        expires_at=finished + dt.timedelta(hours=settings.FHIR_EXPORT_HOURS),
    )
    if not done:  # cancelled after the last checkpoint
        _delete_files(job, output)
        return ExportJob.Status.CANCELLED
    return ExportJob.Status.COMPLETED


def _checkpoint(job: ExportJob, progress: str) -> None:
    """Record the progress; stop when the export was cancelled meanwhile."""
    if not ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(progress=progress[:200]):
        raise _Cancelled


def _delete_files(job: ExportJob, files: list[dict[str, Any]]) -> None:
    storage = export_storage()
    for item in files:
        try:
            storage.delete(item["path"])
        except OSError:  # already gone
            log.warning("FHIR export %s: could not delete %s", job.pk, item["path"])


def cancel(job: ExportJob) -> None:
    """DELETE on the status URL: stop a queued or running export (the task notices at its next chunk) and remove
    a finished one's files. The export is then gone for its owner."""
    if job.is_active:
        ExportJob.objects.filter(pk=job.pk, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]).update(
            status=ExportJob.Status.CANCELLED, finished_at=timezone.now(), expires_at=timezone.now()
        )
    else:
        _delete_files(job, job.output)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.CANCELLED, output=[], expires_at=timezone.now()
        )


def is_expired(job: ExportJob, now: dt.datetime | None = None) -> bool:
    return job.status in (ExportJob.Status.EXPIRED, ExportJob.Status.CANCELLED) or (
        job.expires_at is not None and job.expires_at <= (now or timezone.now())
    )


def cleanup_expired(now: dt.datetime | None = None) -> int:
    """The schedule's task: delete the files of exports past their expiry. Returns how many exports it closed."""
    now = now or timezone.now()
    closed = 0
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(status=ExportJob.Status.EXPIRED)
    for job in expired.exclude(status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]).iterator():
        _delete_files(job, job.output)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, output=[])
        closed += 1
    return closed


def ensure_schedule() -> None:
    """The hourly cleanup, written by every ``migrate``."""
    ensure_hourly(name=CLEANUP_SCHEDULE, func="exchange.fhir.bulk.cleanup_expired")


def manifest(job: ExportJob, *, base_url: str) -> dict[str, Any]:
    """The Bulk Data manifest of a completed export."""
    assert job.transaction_time is not None
    return {
        "transactionTime": job.transaction_time.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": item["type"], "url": f"{base_url}/{item['name']}", "count": item["count"]} for item in job.output
        ],
        "error": [],
    }


def build_request(user: User) -> HttpRequest:
    """A request-like object for mappings that take one (the export runs outside any request)."""
    scheme, _, host = settings.SITE_URL.partition("://")
    request = HttpRequest()
    request.user = user
    request.method = "GET"
    # The public address the links in the files start with (SITE_URL), whatever ALLOWED_HOSTS says.
    request.get_host = lambda: host  # type: ignore[method-assign]
    request._get_scheme = lambda: scheme  # type: ignore[method-assign]
    return request
