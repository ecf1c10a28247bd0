"""Every write to an import job: creating it from uploaded files, its mapping, starting, cancelling, saved mappings.

The pages, the API and ``manage.py import_data`` call these. A dry run always comes first: ``job_start`` refuses
an import whose current mapping has not had a finished dry run.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchange.importing import readers
from exchange.importing.columns import ENTITIES, guess_entity, propose_mapping
from exchange.importing.engine import SUPPORTED, execute
from exchange.importing.values import detect_date_order
from exchange.models import ImportFile, ImportJob, SavedMapping
from vetpms import audit
from vetpms.errors import DomainError
from vetpms.models import User

MAX_FILE_BYTES = 50 * 1024 * 1024  # the default of settings.IMPORT_MAX_FILE_BYTES
MAX_FILES = 10
SAMPLE_ROWS = 200


def _max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_FILE_BYTES", MAX_FILE_BYTES))


@transaction.atomic
def job_create(*, by: User, source_system: str, files: list[tuple[str, bytes]]) -> ImportJob:
    """A job from uploaded (filename, content) pairs: each file sniffed, its entity guessed and a column mapping
    proposed from its headers (or from the saved mapping of the same system whose headers it has)."""
    source_system = source_system.strip()
    if not source_system:
        raise DomainError("Name the system the files come from (it keeps re-imports apart).", field="source_system")
    if len(source_system) > 100:
        raise DomainError("The source system's name is at most 100 characters.", field="source_system")
    if not files:
        raise DomainError("Choose at least one file.", field="files")
    if len(files) > MAX_FILES:
        raise DomainError(f"At most {MAX_FILES} files in one import.", field="files")
    job = ImportJob.objects.create(source_system=source_system, created_by=by)
    samples: list[str] = []
    for position, (filename, content) in enumerate(files):
        name = (filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
        if len(content) > _max_bytes():
            raise DomainError(f"{name} is larger than {_max_bytes() // (1024 * 1024)} MB.", field="files")
        if not content.strip():
            raise DomainError(f"{name} is empty.", field="files")
        try:
            sniffed = readers.sniff(filename=name, content=content)
        except readers.UnreadableFile as exc:
            raise DomainError(str(exc), field="files") from exc
        entity = guess_entity(name, sniffed.headers)
        file = ImportFile(
            job=job,
            position=position,
            filename=name,
            kind=sniffed.kind,
            content=content,
            size=len(content),
            entity=entity.name if entity else "",
            encoding=sniffed.encoding,
            delimiter=sniffed.delimiter,
            headers=sniffed.headers,
        )
        if entity is not None:
            file.column_map, file.value_map = _proposal(source_system, entity.name, sniffed.headers)
        file.rows_total = sum(1 for _ in _rows(file))
        file.save()
        samples.extend(date_samples(file))
    job.rows_total = sum(f.rows_total for f in job.files.all())
    job.date_order = detect_date_order(samples)
    job.save(update_fields=["rows_total", "date_order"])
    audit.record(actor=by, obj=job, action="create", changes={"files": [None, [f for f, _ in files]]})
    return job


def _rows(file: ImportFile):
    return readers.data_rows(
        kind=file.kind, content=bytes(file.content), encoding=file.encoding, delimiter=file.delimiter
    )


def _proposal(source_system: str, entity: str, headers: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    saved = (
        SavedMapping.objects.filter(source_system__iexact=source_system, entity=entity).order_by("-updated_at").first()
    )
    if saved is not None and set(saved.columns) & set(headers):
        mapping = {str(i): saved.columns[h] for i, h in enumerate(headers) if saved.columns.get(h)}
        return _one_per_column(mapping), dict(saved.values)
    return {str(i): name for i, name in propose_mapping(ENTITIES[entity], headers).items()}, {}


def _one_per_column(mapping: dict[str, str]) -> dict[str, str]:
    seen: set[str] = set()
    out: dict[str, str] = {}
    for position, name in mapping.items():
        if name and name not in seen:
            out[position] = name
            seen.add(name)
    return out


def date_samples(file: ImportFile, limit: int = SAMPLE_ROWS) -> list[str]:
    if not file.entity:
        return []
    entity = ENTITIES[file.entity]
    positions = [int(p) for p, name in file.column_map.items() if entity.column(name).type in ("date", "datetime")]
    out: list[str] = []
    for n, (_number, cells) in enumerate(_rows(file)):
        if n >= limit:
            break
        out.extend(cells[p] for p in positions if p < len(cells) and cells[p])
    return out


def distinct_values(file: ImportFile, column: str, limit: int = 60, scan: int = 20_000) -> list[str]:
    """The different values a mapped column holds (for the value mapping), at most ``limit``, from the first
    ``scan`` rows (a value first seen later is still reported, by the dry run, as a row error)."""
    positions = [int(p) for p, name in file.column_map.items() if name == column]
    if not positions:
        return []
    p = positions[0]
    found: dict[str, None] = {}
    for n, (_number, cells) in enumerate(_rows(file)):
        if n >= scan:
            break
        value = cells[p] if p < len(cells) else ""
        if value not in found:
            found[value] = None
            if len(found) >= limit:
                break
    return list(found)


def _check_not_busy(job: ImportJob) -> None:
    if job.is_busy:
        raise DomainError("The import is running; wait for it to finish or cancel it first.")


@transaction.atomic
def job_set_mapping(
    *,
    job: ImportJob,
    by: User,
    files: dict[int, dict[str, Any]],
    date_order: str | None = None,
    duplicates: str | None = None,
) -> ImportJob:
    """Change the files' entities, column and value mappings ({file id: {"entity", "column_map", "value_map"}}).
    Any change means the next import needs a new dry run."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _check_not_busy(job)
    if date_order is not None:
        if date_order not in ImportJob.DateOrder.values:
            raise DomainError("Choose day first, month first or year first.", field="date_order")
        job.date_order = date_order
    if duplicates is not None:
        if duplicates not in ImportJob.Duplicates.values:
            raise DomainError("Choose what to do with possible duplicates.", field="duplicates")
        job.duplicates = duplicates
    by_id = {f.pk: f for f in job.files.all()}
    for file_id, change in files.items():
        file = by_id.get(file_id)
        if file is None:
            raise DomainError(f"File {file_id} is not part of this import.", field="files")
        entity_name = change.get("entity", file.entity) or ""
        if entity_name and entity_name not in SUPPORTED:
            raise DomainError(
                f"{file.filename}: VetPMS imports {', '.join(SUPPORTED)} so far, not {entity_name}.", field="entity"
            )
        file.entity = entity_name
        column_map = change.get("column_map", file.column_map)
        clean: dict[str, str] = {}
        if entity_name:
            names = set(ENTITIES[entity_name].column_names)
            for position, name in (column_map or {}).items():
                try:
                    index = int(position)
                except (TypeError, ValueError):
                    raise DomainError(f"{file.filename}: column position {position!r} is not a number.") from None
                if not name:
                    continue
                if name not in names:
                    raise DomainError(
                        f"{file.filename}: {name!r} is not a column of {entity_name}.", field="column_map"
                    )
                if not 0 <= index < len(file.headers):
                    raise DomainError(f"{file.filename}: there is no column {index + 1}.", field="column_map")
                if name in clean.values():
                    raise DomainError(
                        f"{file.filename}: two headers are mapped to {ENTITIES[entity_name].column(name).label}.",
                        field="column_map",
                    )
                clean[str(index)] = name
            missing = [c.label for c in ENTITIES[entity_name].columns if c.required and c.name not in clean.values()]
            if missing:
                raise DomainError(f"{file.filename}: map a column to {', '.join(missing)}.", field="column_map")
        file.column_map = clean
        value_map = change.get("value_map", file.value_map) or {}
        if not isinstance(value_map, dict) or not all(isinstance(v, dict) for v in value_map.values()):
            raise DomainError("A value mapping is {column: {source value: VetPMS value}}.", field="value_map")
        file.value_map = {
            str(col): {str(k)[:200]: str(v)[:200] for k, v in vals.items()} for col, vals in value_map.items()
        }
        file.save(update_fields=["entity", "column_map", "value_map"])
    job.mapping_version += 1
    job.status = ImportJob.Status.MAPPING if job.status != ImportJob.Status.APPLIED else job.status
    job.save(update_fields=["date_order", "duplicates", "mapping_version", "status"])
    return job


def _check_ready(job: ImportJob) -> None:
    files = list(job.files.all())
    unmapped = [f.filename for f in files if not f.entity]
    if unmapped:
        raise DomainError(
            f"Say what {', '.join(unmapped)} holds ({', '.join(ENTITIES[e].label.lower() for e in SUPPORTED)})."
        )
    for file in files:
        entity = ENTITIES[file.entity]
        missing = [c.label for c in entity.columns if c.required and c.name not in file.column_map.values()]
        if missing:
            raise DomainError(f"{file.filename}: map a column to {', '.join(missing)}.", field="column_map")


@transaction.atomic
def job_start(*, job: ImportJob, by: User, apply: bool, background: bool = True) -> ImportJob:
    """Queue (or, with ``background=False``, run now) a dry run or, after a dry run of this mapping, the import."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _check_not_busy(job)
    _check_ready(job)
    if apply and not job.can_apply:
        raise DomainError("Run a dry run of the current mapping first and read its report; then import.")
    job.mode = ImportJob.Mode.APPLY if apply else ImportJob.Mode.DRY_RUN
    job.status = ImportJob.Status.QUEUED
    job.cancel_requested = False
    job.rows_done = job.created_count = job.updated_count = job.unchanged_count = 0
    job.skipped_count = job.error_count = 0
    job.started_at = timezone.now()
    job.finished_at = None
    job.failure = ""
    job.save()
    if apply:
        audit.record(actor=by, obj=job, action="import", changes={"rows_total": [None, job.rows_total]})
    if background:
        from django_q.tasks import async_task

        pk = job.pk

        def enqueue() -> None:
            task_id = async_task(
                "exchange.importing.tasks.run_import",
                pk,
                task_name=f"import {pk}",
                timeout=int(getattr(settings, "IMPORT_TASK_TIMEOUT", 6 * 3600)),
            )
            ImportJob.objects.filter(pk=pk).update(task_id=str(task_id)[:64])

        transaction.on_commit(enqueue)
    return job


def job_run(*, job_id: int) -> ImportJob | None:
    """Claim a queued job and run it here (the task, or the command). A copy of the task delivered twice finds
    the job already running and does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    try:
        return execute(job)
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            failure=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise


def job_cancel(*, job: ImportJob, by: User) -> ImportJob:
    """Ask a running job to stop after its current row; a queued one stops at once. Rows already imported stay."""
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.CANCELLED, finished_at=timezone.now(), cancel_requested=True
    )
    running = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING)
    if not updated and not running.update(cancel_requested=True):
        raise DomainError("Only a queued or running import can be cancelled.")
    job.refresh_from_db()
    return job


@transaction.atomic
def mapping_save(*, job: ImportJob, file: ImportFile, by: User, name: str) -> SavedMapping:
    name = name.strip()[:100]
    if not name:
        raise DomainError("Give the mapping a name.", field="name")
    if not file.entity:
        raise DomainError("Say what the file holds before saving its mapping.", field="entity")
    columns = {file.headers[int(p)]: c for p, c in file.column_map.items() if int(p) < len(file.headers)}
    saved, _ = SavedMapping.objects.update_or_create(
        source_system=job.source_system,
        entity=file.entity,
        name=name,
        defaults={
            "headers": file.headers,
            "columns": columns,
            "values": file.value_map,
            "date_order": job.date_order,
            "created_by": by,
        },
    )
    return saved


@transaction.atomic
def mapping_apply(*, job: ImportJob, file: ImportFile, saved: SavedMapping, by: User) -> ImportJob:
    column_map = {str(i): saved.columns[h] for i, h in enumerate(file.headers) if saved.columns.get(h)}
    return job_set_mapping(
        job=job,
        by=by,
        files={file.pk: {"entity": saved.entity, "column_map": _one_per_column(column_map), "value_map": saved.values}},
        date_order=saved.date_order or None,
    )
