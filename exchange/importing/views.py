"""The import pages (manager only): upload, map columns and values, dry run with its report, import, progress.

Views are thin: they parse the form, call exchange.importing.services and render. The mapping form's fields are
named per file: ``f<file id>-entity``, ``f<file id>-col-<header position>`` (a canonical column or empty), and for
the value mapping ``f<file id>-src-<column>-<n>`` (the source value, hidden) with ``f<file id>-val-<column>-<n>``.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from animals.models import Species
from exchange.importing import services
from exchange.importing.columns import ENTITIES, SEX_CODES, ColumnType, normalise
from exchange.importing.engine import SUPPORTED
from exchange.models import ImportFile, ImportIssue, ImportJob, SavedMapping
from reports.formats import neutralise
from vetpms.errors import DomainError
from vetpms.params import parse_id
from vetpms.permissions import permission_required

PERM = "exchange.run_import"
ISSUES_SHOWN = 200
SEX_TARGETS = [
    "male",
    "male neutered",
    "male entire",
    "female",
    "female neutered",
    "female entire",
    "unknown",
]
VALUE_MAPPED = (ColumnType.CHOICE, ColumnType.BOOL)


@permission_required(PERM)
def import_list(request):
    error = ""
    if request.method == "POST":
        uploads = request.FILES.getlist("files")
        limit = services._max_bytes()
        too_big = [u.name for u in uploads if u.size > limit]
        if too_big:
            error = f"{', '.join(too_big)}: larger than {limit // (1024 * 1024)} MB."
        else:
            try:
                job = services.job_create(
                    by=request.user,
                    source_system=request.POST.get("source_system", ""),
                    files=[(u.name, u.read()) for u in uploads],
                )
            except DomainError as exc:
                error = exc.message
            else:
                return redirect("exchange:import_detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by").order_by("-id")[:30]
    return render(
        request,
        "exchange/import_list.html",
        {"jobs": jobs, "error": error, "source_system": request.POST.get("source_system", ""), "nav": "exchange"},
        status=400 if error else 200,
    )


def _proposed_value(entity: str, column: str, value: str) -> str:
    if column == "sex" and entity == "animals":
        pair = SEX_CODES.get(normalise(value))
        if pair is None:
            return ""
        sex, neuter = pair
        return sex if neuter == "unknown" else f"{sex} {neuter}"
    if column == "species":
        found = Species.objects.filter(name__iexact=value.strip()).values_list("name", flat=True).first()
        return found or value
    col = ENTITIES[entity].column(column)
    if col.type == ColumnType.BOOL:
        from exchange.importing.values import CellError, parse_bool

        try:
            return "yes" if parse_bool(value) else "no"
        except CellError:
            return ""
    for choice in col.choices:
        if normalise(choice) == normalise(value):
            return choice
    return ""


def _practice_list(ref: str) -> list[str] | None:
    """The names a name column may be mapped to (the practice's own lists), or None for a column without one."""
    from appointments.models import AppointmentType
    from invoicing.models import TaxCategory
    from reminders.models import ReminderType
    from vetpms.models import Vet

    match ref:
        case "vet" | "user":
            return list(Vet.objects.filter(is_active=True).values_list("display_name", flat=True))
        case "appointment_type":
            return list(AppointmentType.objects.filter(is_active=True).values_list("name", flat=True))
        case "reminder_type":
            return list(ReminderType.objects.filter(is_active=True).values_list("name", flat=True))
        case "tax_category":
            return list(TaxCategory.objects.values_list("code", flat=True))
    return None


def _file_context(file: ImportFile) -> dict[str, Any]:
    entity = ENTITIES.get(file.entity)
    columns = list(entity.columns) if entity else []
    headers = []
    for index, header in enumerate(file.headers):
        headers.append({"index": index, "header": header, "mapped": file.column_map.get(str(index), "")})
    values = []
    if entity:
        for name in file.column_map.values():
            col = entity.column(name)
            if col.type in VALUE_MAPPED or name == "species" or (name == "sex" and entity.name == "animals"):
                current = file.value_map.get(name, {})
                targets = (
                    SEX_TARGETS
                    if name == "sex"
                    else (
                        list(Species.objects.filter(is_active=True).values_list("name", flat=True))
                        if name == "species"
                        else (["yes", "no"] if col.type == ColumnType.BOOL else [c for c in col.choices if c])
                    )
                )
                rows = [
                    {"source": v, "target": current.get(v, _proposed_value(entity.name, name, v))}
                    for v in services.distinct_values(file, name)
                ]
                values.append({"column": col, "rows": rows, "targets": targets})
            elif col.type == ColumnType.NAME_REF and (names := _practice_list(col.ref)) is not None:
                current = file.value_map.get(name, {})
                by_lower = {n.lower(): n for n in names}
                rows = [
                    {"source": v, "target": current.get(v, by_lower.get(v.strip().lower(), ""))}
                    for v in services.distinct_values(file, name)
                ]
                values.append({"column": col, "rows": rows, "targets": names})
    saved = SavedMapping.objects.filter(source_system__iexact=file.job.source_system, entity=file.entity)
    return {"file": file, "columns": columns, "headers": headers, "values": values, "saved": saved}


def _percent(job: ImportJob) -> int:
    if not job.rows_total:
        return 0 if job.is_busy else 100
    return min(100, round(100 * job.rows_done / job.rows_total))


def _time_left(job: ImportJob) -> str:
    if job.status != ImportJob.Status.RUNNING or not job.started_at or not job.rows_done or not job.heartbeat_at:
        return ""
    elapsed = (job.heartbeat_at - job.started_at).total_seconds()
    left = elapsed / job.rows_done * max(0, job.rows_total - job.rows_done)
    minutes, seconds = divmod(int(left), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _context(job: ImportJob) -> dict[str, Any]:
    issues = ImportIssue.objects.filter(job=job).select_related("file").order_by("id")[:ISSUES_SHOWN]
    return {
        "job": job,
        "percent": _percent(job),
        "time_left": _time_left(job),
        "issues": issues,
        "issues_shown": ISSUES_SHOWN,
        "entities": [(name, ENTITIES[name].label) for name in SUPPORTED],
        "nav": "exchange",
    }


@permission_required(PERM)
def import_detail(request, pk: int):
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    context = _context(job)
    if request.htmx and request.GET.get("part") == "progress":
        response = render(request, "exchange/_import_progress.html", context)
        if not job.is_busy:
            # The run ended: reload the whole page, so the mapping form (disabled while it ran) comes back to life.
            response["HX-Refresh"] = "true"
        return response
    context["files"] = [_file_context(f) for f in job.files.all()]
    return render(request, "exchange/import_detail.html", context)


def _mapping_from_post(job: ImportJob, post) -> dict[int, dict[str, Any]]:
    files: dict[int, dict[str, Any]] = {}
    for file in job.files.all():
        prefix = f"f{file.pk}-"
        entity = post.get(prefix + "entity", file.entity)
        column_map = {}
        for index in range(len(file.headers)):
            name = post.get(f"{prefix}col-{index}", "")
            if name:
                column_map[str(index)] = name
        value_map: dict[str, dict[str, str]] = {}
        for key, source in post.items():
            if not key.startswith(prefix + "src-"):
                continue
            column, n = key[len(prefix) + 4 :].rsplit("-", 1)
            target = post.get(f"{prefix}val-{column}-{n}", "").strip()
            if target and target != source:
                value_map.setdefault(column, {})[source] = target
        files[file.pk] = {
            "entity": entity,
            "column_map": column_map if entity == file.entity else {},
            "value_map": value_map,
        }
        if entity != file.entity:
            # A file whose entity changed gets the proposal for its new entity; its values start again.
            files[file.pk]["column_map"] = (
                services._proposal(job.source_system, entity, file.headers)[0] if entity else {}
            )
            files[file.pk]["value_map"] = {}
    return files


@require_POST
@permission_required(PERM)
def import_mapping(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    action = request.POST.get("action", "save")
    try:
        services.job_set_mapping(
            job=job,
            by=request.user,
            files=_mapping_from_post(job, request.POST),
            date_order=request.POST.get("date_order") or None,
            duplicates=request.POST.get("duplicates") or None,
        )
        if action == "dry_run":
            services.job_start(job=job, by=request.user, apply=False)
            messages.info(request, "The dry run has started; nothing is written.")
        else:
            messages.success(request, "Mapping saved.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:import_detail", pk=job.pk)


@require_POST
@permission_required(PERM)
def import_apply(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        services.job_start(job=job, by=request.user, apply=True)
        messages.info(request, "The import has started.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:import_detail", pk=job.pk)


@require_POST
@permission_required(PERM)
def import_cancel(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        services.job_cancel(job=job, by=request.user)
        messages.info(request, "The import stops after the row it is on; rows already imported stay.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:import_detail", pk=job.pk)


@require_POST
@permission_required(PERM)
def import_save_mapping(request, pk: int, file_pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    file = get_object_or_404(ImportFile, pk=file_pk, job=job)
    try:
        saved = services.mapping_save(job=job, file=file, by=request.user, name=request.POST.get("name", ""))
        messages.success(request, f"Mapping “{saved.name}” saved for {job.source_system} {saved.entity}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:import_detail", pk=job.pk)


@require_POST
@permission_required(PERM)
def import_use_mapping(request, pk: int, file_pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    file = get_object_or_404(ImportFile, pk=file_pk, job=job)
    saved = SavedMapping.objects.filter(pk=parse_id(request.POST.get("mapping")) or 0).first()
    if saved is None:
        messages.error(request, "Choose a saved mapping.")
    else:
        try:
            services.mapping_apply(job=job, file=file, saved=saved, by=request.user)
            messages.success(request, f"Mapping “{saved.name}” applied to {file.filename}.")
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("exchange:import_detail", pk=job.pk)


def issues_csv(job: ImportJob) -> bytes:
    """The dry run's (or import's) report as CSV; every cell neutralised against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "row", "column", "source id", "kind", "message"])
    for issue in ImportIssue.objects.filter(job=job).select_related("file").order_by("id").iterator(chunk_size=2000):
        writer.writerow(
            [
                neutralise(issue.file.filename),
                issue.row_number,
                neutralise(issue.column),
                neutralise(issue.source_id),
                issue.get_kind_display(),
                neutralise(issue.message),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@permission_required(PERM)
def import_issues_csv(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    response = HttpResponse(issues_csv(job), content_type="text/csv; charset=utf-8")
    stamp = time.strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-{job.mode}-report-{stamp}.csv"'
    return response
