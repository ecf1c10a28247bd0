"""The one NinjaAPI, mounted at /api/v1. Each app contributes a Router; errors map to HTTP here, once.

Authentication: ``Authorization: Bearer vpms_...`` (a per-user API token, acting with that user's role) or the
browser's session, whose writes must carry the CSRF token. No credentials -> 401; a role without the permission
-> 403, checked before any lookup.

Error contract, the same for every endpoint (all bodies are JSON):

==========================================  ======  ==========================================================
unauthenticated                             401     ``{"detail": "..."}``
wrong role, or a session write without CSRF 403     ``{"detail": "..."}``
unknown id, unknown /api/v1/ path           404     ``{"detail": "Not found."}``
invalid input (schema or model rules)       422     ``{"detail": [{"loc": ["body", "field"], "msg": "...",
                                                    "type": "..."}]}`` (``"query"`` for query parameters)
a broken business rule (DomainError)        409     ``{"detail": "...", "code": "...", "field": "..."}``
body not JSON, NUL in the path or query    400     ``{"detail": "..."}``
body over DATA_UPLOAD_MAX_MEMORY_SIZE       413     ``{"detail": "..."}``
too many bad API tokens from one address    429     ``{"detail": "..."}`` with ``Retry-After``
==========================================  ======  ==========================================================

The OpenAPI schema and its Swagger page (/api/v1/openapi.json, /api/v1/docs) are public: VetPMS is open source,
so the schema reveals nothing that the code does not, and it holds no data. Every data endpoint requires
authentication.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, HttpResponse
from django.urls import Resolver404, resolve
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.parser import Parser

from animals.api import router as animals_router
from animals.api import species_router
from appointments.api import router as appointments_router
from appointments.api import types_router as appointment_types_router
from appointments.api import vets_router
from clients.api import router as clients_router
from clinical import api as clinical_api
from exchange.datarights.api import router as datarights_router
from exchange.exporting.api import router as export_router
from exchange.importing.api import router as imports_router
from exchange.webhooks import api as webhooks_api
from invoicing import api as invoicing_api
from reminders import api as reminders_api
from reports.api import router as reports_router
from vetpms import __version__
from vetpms.api_routes import me_router, search_router, staff_router, tokens_router
from vetpms.auth import ApiLockedOut, BearerToken, SessionCsrfAuth
from vetpms.errors import DomainError
from vetpms.openapi import UniqueComponentNames, document_errors

# Names of body/query parameters that ninja puts into an error's location; dropped so that schema errors and
# model errors both end in the field name: ["body", "last_name"].
_PARAM_NAMES = {"payload", "filters"}


class DecimalJsonParser(Parser):
    """JSON numbers with a fraction become Decimal, not float, before the schemas see them: money sent as
    1.0000000000000000001 is refused for having too many places instead of arriving, rounded by a float, as 1."""

    def parse_body(self, request):
        return json.loads(request.body, parse_float=Decimal)


class VetpmsApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        # Built twice so that no two types share a component name (vetpms.openapi).
        schema = UniqueComponentNames.build(lambda: super(VetpmsApi, self).get_openapi_schema(**kwargs))
        return document_errors(schema)


api = VetpmsApi(
    parser=DecimalJsonParser(),
    title="VetPMS API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), SessionCsrfAuth()],
    docs_url="/docs",
    description=(
        f"VetPMS {__version__}. Authenticate with `Authorization: Bearer <token>` (a manager creates tokens) "
        "or a logged-in session (send the CSRF token as `X-CSRFToken` on writes). Lists take `limit` (1-100) "
        "and answer `{items, count, count_capped, next, previous}`: pass `next` back as `cursor` for the "
        "following page (any depth costs the same); `count` stops at 10,000 (`count_capped` says so); `offset` "
        "(up to 10,000) is still read. Datetimes are ISO 8601 with offset; weights are decimal "
        "strings."
    ),
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    body = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=409)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        errors = [
            {
                "loc": ["body", field if field != "__all__" else "non_field_errors"],
                "msg": msg,
                "type": "value_error",
            }
            for field, messages in exc.message_dict.items()
            for msg in messages
        ]
    else:
        errors = [{"loc": ["body"], "msg": msg, "type": "value_error"} for msg in exc.messages]
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(SchemaValidationError)
def _schema_validation_error(request, exc: SchemaValidationError):
    errors = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if len(loc) > 2 and loc[1] in _PARAM_NAMES:
            del loc[1]
        # pydantic's "url" points at its own docs and "input" echoes what was sent (possibly megabytes).
        errors.append({k: v for k, v in error.items() if k not in {"url", "input", "ctx"}} | {"loc": loc})
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc: AuthenticationError):
    return api.create_response(
        request,
        {"detail": "Authentication required: send 'Authorization: Bearer <API token>' or log in."},
        status=401,
    )


@api.exception_handler(ApiLockedOut)
def _locked_out(request, exc: ApiLockedOut):
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "You do not have permission to do this."}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(ObjectDoesNotExist)
def _does_not_exist(request, exc: ObjectDoesNotExist):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc: RequestDataTooBig):
    return api.create_response(request, {"detail": "The request body is too large."}, status=413)


@api.exception_handler(SuspiciousOperation)
def _bad_request(request, exc: SuspiciousOperation):
    return api.create_response(request, {"detail": "Bad request."}, status=400)


api.add_router("/clients", clients_router)
api.add_router("/animals", animals_router)
api.add_router("/species", species_router)
api.add_router("/appointments", appointments_router)
api.add_router("/vets", vets_router)
api.add_router("/appointment-types", appointment_types_router)
api.add_router("/search", search_router)
api.add_router("/me", me_router)
api.add_router("/tokens", tokens_router)
api.add_router("/staff", staff_router)
api.add_router("/products", invoicing_api.products_router)
api.add_router("/tax-rates", invoicing_api.tax_rates_router)
api.add_router("/invoices", invoicing_api.invoices_router)
api.add_router("/payments", invoicing_api.payments_router)
# A second router under /clients: the account endpoints belong to invoicing, and clients never imports it.
api.add_router("/clients", invoicing_api.accounts_router)
api.add_router("/payors", invoicing_api.payors_router)
api.add_router("/data-rights", datarights_router)
api.add_router("/policies", invoicing_api.policies_router)
api.add_router("/claims", invoicing_api.claims_router)
api.add_router("/consultations", clinical_api.consultations_router)
api.add_router("/diagnoses", clinical_api.diagnoses_router)
api.add_router("/problems", clinical_api.problems_router)
api.add_router("/vaccinations", clinical_api.vaccinations_router)
api.add_router("/prescriptions", clinical_api.prescriptions_router)
api.add_router("/attachments", clinical_api.attachments_router)
# The clinical record of an animal (problems, vaccinations, prescriptions, attachments, history) belongs to clinical,
# which animals never imports: a second router under /animals.
api.add_router("/animals", clinical_api.animal_records_router)
api.add_router("/reminder-types", reminders_api.types_router)
api.add_router("/reminders", reminders_api.reminders_router)
api.add_router("/reminder-deliveries", reminders_api.deliveries_router)
api.add_router("/reminder-runs", reminders_api.runs_router)
api.add_router("/reports", reports_router)
api.add_router("/webhook-endpoints", webhooks_api.router)
api.add_router("/export", export_router)
api.add_router("/imports", imports_router)

# Mounted last: any other path under /api/v1/ (including "/clients/abc", which the int converters above do not
# match) answers a JSON 404 instead of Django's HTML page. Paths are canonical without a trailing slash; the
# same path with one is redirected (308 keeps the method and body), as APPEND_SLASH would do the other way.
_fallback = Router()


@_fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{path:rest}",
    auth=None,
    include_in_schema=False,
    url_name="unknown-path",
)
def _unknown_path(request, rest: str):
    if request.path_info.endswith("/"):
        canonical = request.path_info.rstrip("/")
        try:
            match = resolve(canonical)
        except Resolver404:
            match = None
        if match is not None and match.url_name != "unknown-path":
            query = request.META.get("QUERY_STRING", "")
            response = HttpResponse(status=308)
            response["Location"] = canonical + (f"?{query}" if query else "")
            return response
    raise Http404


api.add_router("", _fallback)
