"""The HTTP side of ``$export``: kick-off, status (poll, manifest, cancel) and file download. See exchange.fhir.bulk.

Who may do what: the kick-off needs ``exchange.run_bulk_export`` (managers) and, with a token, read scopes for the
types exported. The status URL and the files answer only the user who asked, and, when they asked with an API
token, only that token; anyone else gets the same 404 as for an export that never existed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja.utils import check_csrf

from exchange.fhir import bulk
from exchange.fhir.registry import Operation, register_operation
from exchange.models.fhir_export import ExportJob, export_storage
from vetpms.auth import ApiLockedOut, token_user

FHIR_JSON = "application/fhir+json"

register_operation(
    Operation(
        "export",
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
        documentation="Bulk Data export of every type the caller may read (Prefer: respond-async; _type, _since).",
    )
)
register_operation(
    Operation(
        "export",
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
        resource_types=("Patient",),
        documentation="Bulk Data export of the patient compartment's types.",
    )
)


def outcome(status: int, diagnostics: str, *, code: str = "invalid", severity: str = "error", headers=None):
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def authenticated_user(request: HttpRequest):
    """The user of a bearer token, or of the session (whose unsafe requests must carry the CSRF token)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        try:
            user = token_user(request, header[7:].strip())  # scopes are checked per type below
        except ApiLockedOut as exc:
            raise _Refused(outcome(429, str(exc), code="throttled")) from None
        if user is None:
            raise _Refused(
                outcome(401, "The API token is not valid.", code="login", headers={"WWW-Authenticate": "Bearer"})
            )
        return user
    if request.user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request) is not None:
            raise _Refused(outcome(403, "CSRF check failed: send the CSRF token in X-CSRFToken.", code="forbidden"))
        return request.user
    raise _Refused(outcome(401, "Log in or send an API token.", code="login", headers={"WWW-Authenticate": "Bearer"}))


def _fhir_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _Refused as refused:
            return refused.response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(login_not_required(wrapped))  # the views authenticate themselves (401, not a redirect)


def _scopes_allow(user, type_name: str) -> bool:
    try:
        from vetpms.scopes import token_scopes  # the FHIR framework's token scopes, where present
    except ImportError:  # pragma: no cover - before scopes existed every token could read everything
        return True
    return token_scopes(user).allows(type_name, "read")


def _kick_off(request: HttpRequest, level: str) -> HttpResponse:
    if request.method != "GET":
        return outcome(405, "$export is started with GET.", code="not-supported", headers={"Allow": "GET"})
    user = authenticated_user(request)
    prefer = request.headers.get("Prefer", "")
    if "respond-async" not in prefer.lower():
        return outcome(400, "$export runs asynchronously: send the header Prefer: respond-async.")
    try:
        job = bulk.kick_off(
            user=user,
            level=level,
            request_url=request.build_absolute_uri(),
            type_param=request.GET.get("_type"),
            since_param=request.GET.get("_since"),
            output_format=request.GET.get("_outputFormat"),
            readable=lambda type_name: _scopes_allow(user, type_name),
        )
    except bulk.ExportRefused as refused:
        return outcome(refused.status, refused.message, code=refused.code)
    response = outcome(
        202, f"Export {job.pk} started; poll the Content-Location URL.", code="informational", severity="information"
    )
    response["Content-Location"] = request.build_absolute_uri(reverse("fhir:export_status", args=[job.pk]))
    return response


@_fhir_view
def export_system(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportJob.Level.SYSTEM)


@_fhir_view
def export_patients(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportJob.Level.PATIENT)


def _own_job(request: HttpRequest, job_id: uuid.UUID) -> ExportJob:
    """The export, if this user (and token) asked for it and it has not expired; a 404 otherwise."""
    user = authenticated_user(request)
    job = ExportJob.objects.filter(pk=job_id, requested_by=user).first()
    token = getattr(user, "api_token", None)
    if job is not None and job.token_id is not None and (token is None or token.pk != job.token_id):
        job = None
    if job is None:
        raise _Refused(outcome(404, "No such export.", code="not-found"))
    if bulk.is_expired(job):
        raise _Refused(outcome(404, "This export was cancelled or has expired.", code="not-found"))
    return job


@_fhir_view
def export_status(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """GET: 202 with X-Progress while running, the manifest once complete, an OperationOutcome 500 if it failed.
    DELETE: cancel (and delete the files)."""
    if request.method not in ("GET", "DELETE"):
        return outcome(
            405, "Poll with GET or cancel with DELETE.", code="not-supported", headers={"Allow": "GET, DELETE"}
        )
    job = _own_job(request, job_id)
    if request.method == "DELETE":
        bulk.cancel(job)
        return outcome(202, "The export was cancelled.", code="informational", severity="information")
    if job.is_active:
        response = HttpResponse(status=202)
        response["X-Progress"] = job.progress or job.get_status_display()
        response["Retry-After"] = "5"
        return response
    if job.status == ExportJob.Status.FAILED:
        return outcome(500, job.error or "The export failed.", code="exception")
    base = request.build_absolute_uri(reverse("fhir:export_status", args=[job.pk])).rstrip("/") + "/files"
    response = HttpResponse(json.dumps(bulk.manifest(job, base_url=base)), content_type="application/json")
    response["Expires"] = job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT") if job.expires_at else ""
    return response


@_fhir_view
def export_file(request: HttpRequest, job_id: uuid.UUID, name: str) -> HttpResponse:
    if request.method != "GET":
        return outcome(405, "Files are downloaded with GET.", code="not-supported", headers={"Allow": "GET"})
    job = _own_job(request, job_id)
    if job.status != ExportJob.Status.COMPLETED:
        return outcome(404, "This export has no files yet.", code="not-found")
    item = next((f for f in job.output if f["name"] == name), None)
    if item is None:
        return outcome(404, f"This export has no file {name}.", code="not-found")
    try:
        handle = export_storage().open(item["path"], "rb")
    except (FileNotFoundError, OSError):
        return outcome(404, "The file is gone (expired).", code="not-found")
    response = FileResponse(handle, content_type=bulk.NDJSON)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Last-Modified"] = (job.finished_at or timezone.now()).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response
