"""The one NinjaAPI, mounted at /api/v1. Each app contributes a Router; errors map to HTTP here, once.

Authentication: the browser's session (with CSRF on writes) or ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.security import SessionAuth

from vetpms import __version__
from vetpms.auth import BearerToken
from vetpms.errors import DomainError

api = NinjaAPI(
    title="VetPMS API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), SessionAuth(csrf=True)],
    docs_url="/docs",
    description=f"VetPMS {__version__}. Authenticate with a session (and CSRF token) or an API token.",
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
            {"loc": ["body", field if field != "__all__" else "non_field_errors"], "msg": msg, "type": "value_error"}
            for field, messages in exc.message_dict.items()
            for msg in messages
        ]
    else:
        errors = [{"loc": ["body"], "msg": msg, "type": "value_error"} for msg in exc.messages]
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "You do not have permission to do this."}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return api.create_response(request, {"detail": "Not found."}, status=404)
