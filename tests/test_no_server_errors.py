"""No 500, anywhere: every page and every API operation, given hostile input by every role, answers below 500.

The walk is generated, not listed: the pages come from Django's URL resolver and the API operations from the
published OpenAPI schema, so a new page or endpoint is walked without anyone remembering to add it. What each
page reads is discovered from the page itself: the fields of its forms (GET forms become query strings, POST
forms bodies), plus the query parameter names that the views read (found in their source). Path ids are real
records of the kind the URL names, so the walk gets past the lookup into the code that parses the rest.

Values are sampled, not exhaustive (the suite runs on two databases, twice): each field gets one hostile value per
request, dates and everything else in separate requests so that a bad number elsewhere in a form does not hide
a date that would crash. Every request runs inside a savepoint that is rolled back, so hostile writes never
change what the next request sees, and one error on PostgreSQL cannot poison the rest of the walk.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from appointments.models import AppointmentType, BookException, CalendarFeed, WorkingHours
from appointments.services import appointment_book
from clinical.models import Diagnosis
from clinical.services import (
    attachment_add,
    consultation_open,
    consultation_save_draft,
    prescription_dispense,
    problem_save,
    vaccination_record,
)
from exchange.importing.services import job_create
from exchange.models import ExportJob, WebhookDelivery
from exchange.webhooks.services import endpoint_create
from invoicing.models import Payor, Policy, Product, TaxCategory
from invoicing.services import (
    claim_create,
    invoice_add_line,
    invoice_draft_for,
    invoice_finalise,
    payment_record,
)
from reminders.models import Reminder, ReminderDelivery, ReminderRun, ReminderType
from tests.factories import AnimalFactory, make_token
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

BAD_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "\u0662\u0660\u0662\u0666-01-01"]  # the last in Arabic digits
BAD_VALUES = ["-1", "99999999999999999999999", "a\x00b", "\uff11\uff12\x07\U0001f436" + "x" * 3000]
BAD_PATH_INTS = ["99999999999999999999999", "0"]
BAD_PATH_STRS = ["a\x00b", "é" * 300]

DATE_NAME = re.compile(r"(date|day|from|to|start|end|week|month|_on|until|since|when|^d$)", re.I)
SKIP_PAGES = {"logout", "login"}  # signing out would end the walk; the login form has its own lockout tests


# --- A small practice with one record of every kind a URL can name ------------------------------------------


@pytest.fixture
def practice(receptionist, vet_user, manager, settings):
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)]
    )
    kind = AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3366cc")
    pet = AnimalFactory(name="Rex")
    owner = pet.owner
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = appointment_book(
        animal=pet, vet=vet, type=kind, start=local_datetime(tomorrow, dt.time(10)), minutes=15, by=receptionist
    )
    exception = BookException.objects.create(vet=vet, date=tomorrow + dt.timedelta(days=7), kind="closed")
    feed = CalendarFeed.objects.create(vet=vet)
    standard = TaxCategory.objects.get(code="standard")
    product = Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"), tax_category=standard
    )
    issued = invoice_draft_for(client=owner, by=receptionist)
    invoice_add_line(invoice=issued, by=receptionist, product=product, quantity=Decimal(1), animal=pet)
    invoice_finalise(invoice=issued, by=receptionist)
    draft = invoice_draft_for(client=owner, by=receptionist)
    line = invoice_add_line(invoice=draft, by=receptionist, product=product, quantity=Decimal(1), animal=pet)
    payment = payment_record(client=owner, amount=Decimal("10.00"), method="cash", by=receptionist)
    payor = Payor.objects.create(name="PetCover")
    policy = Policy.objects.create(
        animal=pet,
        payor=payor,
        policy_number="PC-1",
        starts_on=timezone.localdate() - dt.timedelta(days=30),
        ends_on=timezone.localdate() + dt.timedelta(days=300),
    )
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    reminder_type = ReminderType.objects.create(
        name="Booster", interval=12, interval_unit="months", stages=[-14, 0], subject="{pets}", body_text="{items}"
    )
    reminder = Reminder.objects.create(animal=pet, type=reminder_type, due_on=tomorrow)
    run = ReminderRun.objects.create(trigger="manual", for_date=timezone.localdate())
    notice = ReminderDelivery.objects.create(client=owner, run=run, to_email="owner@example.org", subject="Booster")
    token, _ = make_token(manager)
    clinical = _clinical_record(pet, vet_user, standard, today=tomorrow - dt.timedelta(days=1))
    moving_in = job_create(
        by=manager, source_system="OldVet", files=[("clients.csv", b"ID,Surname,First name\r\n7,Smith,Ann\r\n")]
    )
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # a receiver that refuses at once: nothing leaves the machine
    endpoint, _secret = endpoint_create(by=manager, url="http://127.0.0.1:9/hooks", event_types=["client.updated"])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="client.updated",
        object_key=f"client:{owner.pk}",
        msg_id="msg_walk",
        payload="{}",
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    export_job = ExportJob.objects.create(
        level="system",
        types=["Patient"],
        request_url="/fhir/R4/$export",
        requested_by=manager,
        status=ExportJob.Status.COMPLETED,
        transaction_time=timezone.now(),
    )
    ids = {
        "client": owner.pk,
        "animal": pet.pk,
        "appointment": appointment.pk,
        "exception": exception.pk,
        "vet": vet.pk,
        "type": kind.pk,
        "invoice": issued.pk,
        "draft": draft.pk,
        "line": line.pk,
        "payment": payment.pk,
        "payor": payor.pk,
        "policy": policy.pk,
        "claim": claim.pk,
        "product": product.pk,
        "reminder": reminder.pk,
        "reminder_type": reminder_type.pk,
        "run": run.pk,
        "reminder_delivery": notice.pk,
        "species": pet.species_id,
        "breed": pet.breed_id or 1,
        "user": receptionist.pk,
        "token": token.pk,
        **clinical,
        "import": moving_in.pk,
        "file": moving_in.files.get().pk,
        "webhook": endpoint.pk,
        "delivery": delivery.pk,
    }
    return {"ids": ids, "feed": feed.token, "export_job": str(export_job.pk)}


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 60)).save(out, format="PNG")
    return out.getvalue()


def _clinical_record(pet, vet_user, standard, *, today: dt.date) -> dict[str, int]:
    """A draft consultation (so writes reach their validation, not the signed record's refusal) with a
    vaccination, a prescription with a repeat, a file and a weight, a problem and a diagnosis-list entry."""
    diagnosis = Diagnosis.objects.create(name="Otitis externa", code="1234", code_system="VeNom")
    consultation = consultation_open(animal=pet, by=vet_user)
    consultation_save_draft(consultation=consultation, by=vet_user, data={"weight_kg": Decimal("12.500")})
    vaccine = Product.objects.create(
        code="VAC-RAB", name="Rabies vaccine", category="vaccine", unit_price=Decimal("38.50"), tax_category=standard
    )
    medicine = Product.objects.create(
        code="AMOX",
        name="Amoxicillin",
        category="medication",
        unit="ml",
        unit_price=Decimal("1.33"),
        tax_category=standard,
    )
    vaccination = vaccination_record(
        animal=pet,
        product=vaccine,
        batch="RB-1",
        batch_expiry=today + dt.timedelta(days=200),
        by=vet_user,
        consultation=consultation,
    )
    prescription = prescription_dispense(
        animal=pet,
        product=medicine,
        by=vet_user,
        dose="1 ml",
        frequency="twice daily",
        quantity=Decimal("10"),
        repeats=1,
        consultation=consultation,
        charge=False,
    )
    attachment = attachment_add(
        animal=pet,
        by=vet_user,
        upload=SimpleUploadedFile("ear.png", _png()),
        title="Left ear",
        kind="photo",
        consultation=consultation,
    )
    problem = problem_save(animal=pet, by=vet_user, data={"condition": "Otitis externa", "diagnosis": diagnosis})
    consultation.refresh_from_db()
    return {
        "consultation": consultation.pk,
        "vaccination": vaccination.pk,
        "prescription": prescription.pk,
        "attachment": attachment.pk,
        "problem": problem.pk,
        "diagnosis": diagnosis.pk,
        "weight": consultation.weight_id,
    }


# Which record an ``<int:...>`` in a page URL names: the path segment before it, or the parameter's own name.
SEGMENT_KINDS = {
    "staff": "user",
    "tokens": "token",
    "clients": "client",
    "animals": "animal",
    "appointments": "appointment",
    "vets": "vet",
    "exceptions": "exception",
    "types": "type",
    "invoices": "invoice",
    "lines": "line",
    "payors": "payor",
    "policies": "policy",
    "claims": "claim",
    "catalogue": "product",
    "reminders": "reminder",
    "runs": "run",
    "follow-up": "reminder",
    "species": "species",
    "breeds": "breed",
    "payments": "payment",
    "products": "product",
    "tax-rates": "product",
    "reminder-types": "reminder_type",
    "reminder-runs": "run",
    "reminder-deliveries": "reminder_delivery",
    "client": "client",
    "consultations": "consultation",
    "vaccinations": "vaccination",
    "prescriptions": "prescription",
    "attachments": "attachment",
    "problems": "problem",
    "diagnoses": "diagnosis",
    "weights": "weight",
    "import": "import",
    "imports": "import",
    "files": "file",
    "webhooks": "webhook",
    "webhook-endpoints": "webhook",
    "deliveries": "delivery",
    "audit": "client",  # audit/<model>/<pk>/: the walk's model is "client"
}


def _kind_of(path_before: str, name: str) -> str | None:
    stem = name.removesuffix("_pk").removesuffix("_id")
    segments = [s for s in path_before.split("/") if s and not s.startswith(("<", "{"))]
    if segments and segments[-1] in SEGMENT_KINDS:
        kind = SEGMENT_KINDS[segments[-1]]
        # A parameter named for another kind wins (clients/<client_id>/...), unless it is the segment's own kind
        # said shorter (reminder-deliveries/<delivery_id> names a reminder delivery, not a webhook delivery).
        if stem not in {"pk", "id"} and stem in SEGMENT_KINDS.values() and not kind.endswith(stem):
            return stem
        if segments[-1] == "types" and "reminders" in segments:
            return "reminder_type"
        return kind
    return stem if stem in SEGMENT_KINDS.values() else None


# --- Pages ---------------------------------------------------------------------------------------------------


def _page_patterns() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and entry.name not in SKIP_PAGES:
                found.append((prefix + _as_route(str(entry.pattern)), entry.name or ""))

    walk(get_resolver(), "")
    return [(route, name) for route, name in found if not route.startswith(("admin/", "api/"))]


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _as_route(pattern: str) -> str:
    """A ``re_path`` pattern (the FHIR server's ``^(?P<type_name>...)/?$``) as a route with ``<name>`` parameters."""
    if not pattern.startswith("^"):
        return pattern
    return REGEX_GROUP.sub(r"<\1>", pattern[1:]).removesuffix("$").removesuffix("/?")


def _fill(route: str, practice: dict, *, hostile: str | None = None) -> list[str]:
    """Concrete URLs for ``route``: real ids (and known words) first; with ``hostile``, one URL per parameter
    with that parameter replaced by hostile values of its converter's kind."""
    ids = practice["ids"]
    values: list[tuple[str, str, str]] = []  # (converter, name, good value)
    for match in PARAM.finditer(route):
        converter, name = match.group(1) or "str", match.group(2)
        before = route[: match.start()]
        if converter == "int":
            good = str(ids.get(_kind_of(before, name) or "", 1))
            if name == "pk" and "/lines/" in route[match.end() :]:  # lines are added to a draft
                good = str(ids["draft"])
            if name == "line_pk":
                good, values = str(ids["line"]), [(c, n, str(ids["draft"]) if n == "pk" else v) for c, n, v in values]
        elif name == "model":
            good = "client"
        elif name == "action":
            good = "submit"
        elif name == "token":
            good = practice["feed"]
        elif name == "type_name":  # the FHIR server: a type it serves, and a record of it
            good = "Patient"
        elif name == "resource_id":
            good = str(ids["animal"])
        elif name == "rest":
            good = "Nonsense/1"
        elif name == "job_id":
            good = practice["export_job"]
        elif name == "name" and "files/" in route:
            good = "Patient.ndjson"
        else:
            good = "revenue"  # reports/<slug:name>/
        values.append((converter, name, good))

    def build(chosen: list[str]) -> str:
        parts = iter(chosen)
        return "/" + PARAM.sub(lambda _m: quote(next(parts), safe=""), route)

    urls = [build([v for _c, _n, v in values])]
    if hostile is not None:
        for index, (converter, _name, _good) in enumerate(values):
            for bad in BAD_PATH_INTS if converter == "int" else BAD_PATH_STRS:
                urls.append(build([bad if i == index else v for i, (_c, _n, v) in enumerate(values)]))
    return urls


class _Forms(HTMLParser):
    """Field names of a page's forms: (method, action, {name: default value}, {names of date inputs})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str], set[str]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "form":
            self.forms.append((attrs.get("method", "get").lower(), attrs.get("action", ""), {}, set()))
        elif tag in {"input", "select", "textarea"} and self.forms and attrs.get("name"):
            name = attrs["name"]
            if name == "csrfmiddlewaretoken" or attrs.get("type") in {"submit", "button", "file"}:
                return
            fields = self.forms[-1][2]
            if attrs.get("type") in {"checkbox", "radio"} and "checked" not in attrs and name in fields:
                return
            fields.setdefault(name, attrs.get("value", ""))
            if attrs.get("type") == "date":
                self.forms[-1][3].add(name)
            self._select = name if tag == "select" else None
        elif tag == "option" and self._select and self.forms:
            fields = self.forms[-1][2]
            if not fields.get(self._select) or "selected" in attrs:
                fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _source_query_names() -> set[str]:
    """Query parameter names the views read directly (request.GET.get("x"), request.GET["x"], getlist)."""
    names: set[str] = set()
    for path in ROOT.glob("*/views.py"):
        names |= set(re.findall(r"GET(?:\.get|\.getlist)?[\(\[]\s*\"(\w+)\"", path.read_text(encoding="utf-8")))
    return names


def _variants(fields: dict[str, str], dates: set[str], *, full: bool) -> list[dict[str, str]]:
    date_fields = {name for name in fields if name in dates or DATE_NAME.search(name)}
    others = [name for name in fields if name not in date_fields]
    variants = []
    for bad in BAD_DATES[:3] if full else BAD_DATES[:2]:
        if date_fields:
            variants.append(fields | {name: bad for name in date_fields})
    for bad in BAD_VALUES if full else BAD_VALUES[1:3]:
        if others:
            variants.append(fields | {name: bad for name in others})
    return variants


class Walk:
    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.failures: list[str] = []
        self.unreached: list[str] = []  # pages whose real ids still answered 404: the walk never got inside

    def send(self, method: str, url: str, data: Any = None, **extra: Any):
        savepoint = transaction.savepoint()
        try:
            if method == "get":
                response = self.http.get(url, data or {}, **extra)
            else:
                response = getattr(self.http, method)(url, data if data is not None else {}, **extra)
        finally:
            transaction.savepoint_rollback(savepoint)
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            reason = repr(exc[1])[:200] if exc else response.content[:200]
            shown = {k: (v[:40] if isinstance(v, str) else v) for k, v in (data or {}).items()}
            self.failures.append(f"{method.upper()} {url[:120]} {str(shown)[:300]} -> {response.status_code} {reason}")
        return response


# Pages whose 404 for the walk's records is the right answer: the FHIR server's catch-all for unknown paths, a
# finished export's file that the walk's job never wrote, and the add-line form asked for without its product.
ANSWER_404 = {"unknown", "export_file", "line_new"}


def _walk_pages(walk: Walk, practice: dict, *, full: bool) -> None:
    query_names = _source_query_names()
    for route, _name in _page_patterns():
        urls = _fill(route, practice, hostile="yes" if full else None)
        for url in urls[1:]:
            walk.send("get", url)
        url = urls[0]
        page = walk.send("get", url)
        if page.status_code == 404 and _name not in ANSWER_404:
            walk.unreached.append(url)
        forms = _Forms()
        if page.status_code == 200 and "html" in page.get("Content-Type", ""):
            forms.feed(page.content.decode("utf-8", "replace"))
        query = {name: "" for name in query_names}
        posts: list[tuple[str, dict[str, str], set[str]]] = []
        for method, action, fields, dates in forms.forms:
            target = action.split("?")[0] or url
            if method == "get" and target == url:
                query |= fields
            elif method == "post" and (target == url or not full):
                posts.append((target, fields, dates))
        for variant in _variants(query, set(), full=full):
            walk.send("get", url, variant)
        if full:
            for target, fields, dates in posts[:3]:
                for variant in _variants(fields, dates, full=False):
                    walk.send("post", target, variant)
            walk.send("post", url, {name: BAD_VALUES[2] for name in query})


@pytest.mark.parametrize("role", ["manager", "receptionist", "vet_user", "nobody"])
def test_every_page_survives_hostile_input(request, practice, role):
    http = HttpClient(raise_request_exception=False)
    http.force_login(request.getfixturevalue(role))
    walk = Walk(http)
    _walk_pages(walk, practice, full=role == "manager")
    assert not walk.failures, "\n".join(walk.failures)
    if role == "manager":  # every record the walk names exists: each page was entered, not refused at the lookup
        assert not walk.unreached, "\n".join(walk.unreached)


def test_every_page_survives_hostile_input_anonymously(practice):
    walk = Walk(HttpClient(raise_request_exception=False))
    for route, _name in _page_patterns():
        for url in _fill(route, practice, hostile="yes"):
            walk.send("get", url, {"q": BAD_VALUES[2], "date": BAD_DATES[1]})
    walk.send("get", "/accounts/login/", {"next": BAD_VALUES[2]})
    walk.send("post", "/accounts/login/", {"username": BAD_VALUES[2], "password": BAD_VALUES[3]})
    assert not walk.failures, "\n".join(walk.failures)


# --- API operations --------------------------------------------------------------------------------------------


def _schema() -> dict:
    from vetpms.api import api

    return api.get_openapi_schema()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "allOf", "oneOf"):
        if key in node:
            options = [_resolve(schema, n) for n in node[key] if n.get("type") != "null"]
            if options:
                return options[0]
    return node


def _bad_for(node: dict, profile: int) -> Any:
    """A hostile value of the kind ``node`` describes (profile picks which)."""
    kind, fmt = node.get("type"), node.get("format")
    if fmt == "date" or fmt == "date-time":
        return BAD_DATES[profile % len(BAD_DATES)] + ("T10:00:00Z" if fmt == "date-time" else "")
    if kind == "integer":
        return [2**70, -1, 0, "12", True, 1.5][profile % 6]
    if kind == "number":
        return [1e308, -1, "NaN", True, 2**70, 0][profile % 6]
    if kind == "boolean":
        return ["yes", 2, None, "\x00", [], "true"][profile % 6]
    if kind == "array":
        return [[BAD_VALUES[2]], [2**70], "x", [None], [[]], [{}]][profile % 6]
    if kind == "object":
        return [{"a": "\x00"}, [], "x", 1, None, {}][profile % 6]
    return ["a\x00b", "x" * 3000, "\uff11\uff12.\uff10\uff10", " 12.00 ", "\x1b[31m\x07", "\U0001f436" * 50][
        profile % 6
    ]


def _operations(practice: dict) -> list[tuple[str, str, dict]]:
    schema = _schema()
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            operations.append((method, path, operation))
    return operations


def _api_url(path: str, operation: dict, practice: dict, *, bad_path: str | None = None) -> str:
    ids = practice["ids"]

    def value(match: re.Match) -> str:
        name = match.group(1)
        if bad_path is not None:
            return quote(bad_path, safe="")
        if name == "name":  # reports/{name}
            return "revenue"
        kind = _kind_of(path[: match.start()], name)
        if name == "invoice_id" and "/lines/" in path:
            kind = "draft"
        return str(ids.get(kind or "", 1))

    return re.sub(r"\{(\w+)\}", value, path)


def _walk_api(walk: Walk, practice: dict, headers: dict, *, profiles: range) -> None:
    schema = _schema()
    for method, path, operation in _operations(practice):
        params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        body_ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        body = _resolve(schema, body_ref) if body_ref else None
        url = _api_url(path, operation, practice)
        if method == "get" and walk.send("get", url, headers=headers).status_code == 404:
            walk.unreached.append(url)
        if "{" in path and profiles.stop > 1:
            for bad in BAD_PATH_INTS[:1]:
                walk.send(method, _api_url(path, operation, practice, bad_path=bad), headers=headers)
        for profile in profiles:
            query = {p["name"]: _bad_for(_resolve(schema, p.get("schema", {})), profile) for p in params}
            query = {k: v for k, v in query.items() if v is not None and not isinstance(v, list | dict)}
            encoded = "&".join(f"{quote(k)}={quote(str(v), safe='')}" for k, v in query.items())
            target = f"{url}?{encoded}" if encoded else url
            if method == "get":
                walk.send("get", target, headers=headers)
            else:
                payload = {}
                if body is not None:
                    for name, node in body.get("properties", {}).items():
                        payload[name] = _bad_for(_resolve(schema, node), profile)
                walk.send(method, target, json.dumps(payload), content_type="application/json", headers=headers)


@pytest.mark.parametrize("role", ["manager", "receptionist", "vet_user", "nobody"])
def test_every_api_operation_survives_hostile_input(request, practice, role):
    user = request.getfixturevalue(role)
    _, secret = make_token(user)
    walk = Walk(HttpClient(raise_request_exception=False))
    _walk_api(walk, practice, {"Authorization": f"Bearer {secret}"}, profiles=range(6 if role == "manager" else 1))
    assert not walk.failures, "\n".join(walk.failures)
    if role == "manager":  # every operation was entered with records that exist
        assert not walk.unreached, "\n".join(walk.unreached)
