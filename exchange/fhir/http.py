"""The HTTP side of the FHIR server: authentication with scopes, content negotiation, the query string, bodies and
responses. Views in ``views.py`` stay thin on top of these."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse

from exchange.fhir.errors import FhirError, bad_request, issue, operation_outcome
from exchange.fhir.registry import DEFAULT_COUNT, MAX_COUNT, Query, ResourceType
from exchange.fhir.search import CONTROL, split_values
from vetpms.auth import ApiLockedOut, token_user
from vetpms.params import is_ascii_number
from vetpms.scopes import Scopes, token_scopes

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
_JSON_MEDIA = {"*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir"}


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)  # FHIR decimals; json writes a float's shortest exact form (12.5, not 12.50000001)
        return super().default(o)


def fhir_json(data: dict, *, pretty: bool = False, compact: bool = False) -> str:
    """A resource or Bundle as FHIR JSON, the one way every answer and every bulk export line is written."""
    separators = (",", ":") if compact else None
    return json.dumps(data, cls=_Encoder, ensure_ascii=False, indent=2 if pretty else None, separators=separators)


def fhir_response(data: dict, status: int = 200, *, pretty: bool = False, headers: dict | None = None) -> HttpResponse:
    body = fhir_json(data, pretty=pretty)
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: FhirError, *, pretty: bool = False) -> HttpResponse:
    outcome = operation_outcome([issue(error.severity, error.code, error.diagnostics, error.expression)])
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="fhir"')
    return fhir_response(outcome, error.status, pretty=pretty, headers=headers)


def wants_pretty(request: HttpRequest) -> bool:
    return request.GET.get("_pretty", "").lower() == "true"


# --- who is asking ---------------------------------------------------------------------------------------------------


def authenticate(request: HttpRequest) -> Scopes:
    """Log the request in with its bearer token (or, for reads only, the browser's session); returns its scopes.

    A session may read so a logged-in member of staff can open a FHIR URL in the browser; writes need a token,
    which also means no write can ride on a cookie (so no CSRF token is needed here)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise FhirError(401, "Use Authorization: Bearer <API token>.", code="login")
        try:
            user = token_user(request, token)
        except ApiLockedOut as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
            raise FhirError(429, str(exc), code="throttled", headers=headers) from exc
        if user is None:
            raise FhirError(
                401, "The API token is not valid (unknown, revoked, or its user is inactive).", code="login"
            )
        return token_scopes(user)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise FhirError(401, "Authentication required: send Authorization: Bearer <API token>.", code="login")
    if request.method not in SAFE_METHODS:
        raise FhirError(403, "Writes to the FHIR server need an API token (Bearer), not a browser session.")
    return Scopes.full()


def check_access(request: HttpRequest, scopes: Scopes, rt: ResourceType, action: str) -> None:
    """The token's scope for this type and action, then the user's role (as the REST API checks it)."""
    if not scopes.allows(rt.type_name, action):
        raise FhirError(403, f"This token's scopes do not allow {action} of {rt.type_name}.", code="forbidden")
    perms = rt.read_permissions if action == "read" else (*rt.read_permissions, *rt.write_permissions)
    if not request.user.has_perms(perms):
        raise FhirError(403, f"Your role does not allow {action} of {rt.type_name}.", code="forbidden")


# --- formats -------------------------------------------------------------------------------------------------------


def negotiate(request: HttpRequest) -> None:
    """Only JSON is served: ``_format`` (which wins) or ``Accept`` asking for anything else is a 406."""
    fmt = request.GET.get("_format")
    if fmt is not None:
        if fmt.split(";")[0].strip().lower() not in _JSON_FORMATS:
            raise FhirError(406, f"_format={fmt}: this server speaks FHIR JSON only.", code="not-supported")
        return
    accept = request.META.get("HTTP_ACCEPT", "").strip()
    if not accept:
        return
    for media_range in accept.split(","):
        media, *params = (part.strip() for part in media_range.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.lower() in _JSON_MEDIA and quality > 0:
            return
    raise FhirError(406, f"Accept: {accept[:100]}: this server speaks FHIR JSON only.", code="not-supported")


def json_body(request: HttpRequest, *, allowed: tuple[str, ...]) -> Any:
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in allowed:
        raise FhirError(415, f"Send the body as {' or '.join(allowed)}.", code="not-supported")
    try:
        return json.loads(request.body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"The body is not JSON: {exc}.") from exc


def resource_body(request: HttpRequest, type_name: str) -> dict:
    body = json_body(request, allowed=("application/fhir+json", "application/json"))
    if not isinstance(body, dict) or body.get("resourceType") != type_name:
        raise bad_request(f"The body must be a {type_name} resource (resourceType {type_name}).")
    return body


# --- the query ------------------------------------------------------------------------------------------------------


def strict_handling(request: HttpRequest) -> bool:
    prefer = request.META.get("HTTP_PREFER", "")
    return any(part.strip().replace(" ", "") == "handling=strict" for part in prefer.split(","))


def parse_query(request: HttpRequest, rt: ResourceType) -> Query:
    params = rt.all_search_params()
    strict = strict_handling(request)
    filters, used, ignored = [], [], []
    count, cursor = DEFAULT_COUNT, None
    for key in request.GET:
        for value in request.GET.getlist(key):
            if "\x00" in key or "\x00" in value:
                raise bad_request("NUL characters are not allowed in the query.")
            if key == "_count":
                if not is_ascii_number(value) or len(value) > 9 or int(value) < 1:
                    raise bad_request("_count must be a whole number of at least 1.", expression="_count")
                count = min(int(value), MAX_COUNT)
            elif key == "_cursor":
                cursor = value
            elif key in CONTROL:
                continue
            else:
                name, _, modifier = key.partition(":")
                param = params.get(name)
                if param is None:
                    if strict:
                        raise bad_request(
                            f"{rt.type_name} has no search parameter {key!r} (Prefer: handling=strict).",
                            expression=key,
                        )
                    ignored.append(key)
                    continue
                filters.append((param, modifier, split_values(value)))
                used.append((key, value))
    return Query(filters, count, cursor, used, ignored)


def search_link(base: str, type_name: str, query: Query, cursor: str | None = None) -> str:
    pairs = [*query.used, ("_count", str(query.count))]
    if cursor:
        pairs.append(("_cursor", cursor))
    return f"{base}{type_name}?{urlencode(pairs)}"
