"""The FHIR endpoints: metadata, [type] (search, create), [type]/[id] (read, update, patch). Everything goes through
``_serve``, which turns every refusal into an OperationOutcome with its status."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from exchange.fhir import http
from exchange.fhir.capability import capability_statement
from exchange.fhir.errors import FhirError, issue, operation_outcome
from exchange.fhir.registry import ResourceType, resource_type
from vetpms.errors import DomainError


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")


def _serve(request: HttpRequest, handler: Callable[[], HttpResponse]) -> HttpResponse:
    pretty = http.wants_pretty(request)
    try:
        http.negotiate(request)
        return handler()
    except FhirError as error:
        return http.error_response(error, pretty=pretty)
    except DomainError as exc:
        code = "invalid" if exc.code == "invalid" else "conflict"
        status = 422 if exc.code == "invalid" else 409
        return http.error_response(FhirError(status, exc.message, code=code, expression=exc.field), pretty=pretty)
    except ValidationError as exc:
        return http.error_response(FhirError(422, "; ".join(exc.messages), code="invalid"), pretty=pretty)
    except PermissionDenied as exc:
        return http.error_response(FhirError(403, str(exc) or "Not allowed.", code="forbidden"), pretty=pretty)


@csrf_exempt
@login_not_required  # the FHIR server authenticates itself (http.authenticate) and answers 401 in FHIR
def metadata(request: HttpRequest) -> HttpResponse:
    def handle() -> HttpResponse:
        if request.method not in http.SAFE_METHODS:
            raise FhirError(405, "metadata is read-only.", code="not-supported")
        # The CapabilityStatement is public (FHIR clients fetch it before they authenticate); it holds no data.
        return http.fhir_response(capability_statement(base_url(request)), pretty=http.wants_pretty(request))

    return _serve(request, handle)


@csrf_exempt
@login_not_required  # the FHIR server authenticates itself (http.authenticate) and answers 401 in FHIR
def type_endpoint(request: HttpRequest, type_name: str) -> HttpResponse:
    def handle() -> HttpResponse:
        rt = resource_type(type_name)
        scopes = http.authenticate(request)
        if request.method in ("GET", "HEAD"):
            http.check_access(request, scopes, rt, "read")
            return _search(request, rt)
        if request.method == "POST":
            http.check_access(request, scopes, rt, "write")
            if "create" not in rt.interactions():
                rt.create(request, {})  # answers 405
            body = http.resource_body(request, rt.type_name)
            obj = rt.create(request, body)
            obj = rt.get(request, rt.id_of(obj))
            location = f"{base_url(request)}{rt.type_name}/{rt.id_of(obj)}"
            return http.fhir_response(rt.as_resource(obj, request), 201, headers={"Location": location})
        raise FhirError(405, f"{request.method} is not supported on {rt.type_name}.", code="not-supported")

    return _serve(request, handle)


@csrf_exempt
@login_not_required  # the FHIR server authenticates itself (http.authenticate) and answers 401 in FHIR
def instance_endpoint(request: HttpRequest, type_name: str, resource_id: str) -> HttpResponse:
    def handle() -> HttpResponse:
        rt = resource_type(type_name)
        scopes = http.authenticate(request)
        if request.method in ("GET", "HEAD"):
            http.check_access(request, scopes, rt, "read")
            obj = rt.get(request, resource_id)
            return http.fhir_response(rt.as_resource(obj, request), pretty=http.wants_pretty(request))
        if request.method in ("PUT", "PATCH"):
            http.check_access(request, scopes, rt, "write")
            if ("update" if request.method == "PUT" else "patch") not in rt.interactions():
                raise FhirError(405, f"{rt.type_name} does not support {request.method}.", code="not-supported")
            obj = rt.get(request, resource_id)
            if request.method == "PUT":
                body = http.resource_body(request, rt.type_name)
                if str(body.get("id", resource_id)) != resource_id:
                    raise FhirError(400, "The body's id differs from the id in the URL.", code="invalid")
                rt.update(request, obj, body)
            else:
                content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
                allowed = ("application/json-patch+json", "application/merge-patch+json", "application/fhir+json")
                rt.patch(request, obj, http.json_body(request, allowed=allowed), content_type)
            obj = rt.get(request, resource_id)
            return http.fhir_response(rt.as_resource(obj, request))
        raise FhirError(405, f"{request.method} is not supported on {rt.type_name}/[id].", code="not-supported")

    return _serve(request, handle)


@csrf_exempt
@login_not_required  # the FHIR server authenticates itself (http.authenticate) and answers 401 in FHIR
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    def handle() -> HttpResponse:
        raise FhirError(404, "Not a FHIR endpoint of this server (see /metadata).", code="not-found")

    return _serve(request, handle)


def _search(request: HttpRequest, rt: ResourceType) -> HttpResponse:
    query = http.parse_query(request, rt)
    page = rt.search(request, query)
    base = base_url(request)
    links = [{"relation": "self", "url": http.search_link(base, rt.type_name, query, query.cursor)}]
    if page.next_cursor:
        links.append({"relation": "next", "url": http.search_link(base, rt.type_name, query, page.next_cursor)})
    if page.previous_cursor:
        links.append({"relation": "previous", "url": http.search_link(base, rt.type_name, query, page.previous_cursor)})
    entries = []
    for obj in page.rows:
        resource = rt.as_resource(obj, request)
        entries.append(
            {"fullUrl": f"{base}{rt.type_name}/{resource['id']}", "resource": resource, "search": {"mode": "match"}}
        )
    if query.ignored:
        names = ", ".join(sorted(set(query.ignored)))
        outcome = operation_outcome([issue("warning", "not-supported", f"Ignored unknown search parameters: {names}.")])
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    bundle: dict = {"resourceType": "Bundle", "type": "searchset"}
    if page.total is not None:
        bundle["total"] = page.total
    bundle["link"] = links
    if entries:  # FHIR has no empty arrays: an empty page has no entry element
        bundle["entry"] = entries
    return http.fhir_response(bundle, pretty=http.wants_pretty(request))
