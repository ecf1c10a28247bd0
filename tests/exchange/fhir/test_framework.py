"""The server's common behaviour: authentication and scopes, formats, errors as OperationOutcome, unknown
parameters under Prefer: handling, keyset paging, and the CapabilityStatement against what is routed."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from exchange.fhir.registry import registry
from tests.exchange.fhir.conftest import BASE, FhirClient, entries, link, validate
from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_outcome_with_a_bearer_challenge():
    response = FhirClient().get("Patient")
    assert response.status_code == 401
    assert response.fhir["issue"][0]["code"] == "login"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert FhirClient("vpms_not-a-token").get("Patient/1").status_code == 401


def test_a_user_without_the_role_gets_403(nobody, fhir_as):
    response = fhir_as(nobody).get("Patient")
    assert response.status_code == 403
    assert response.fhir["issue"][0]["code"] == "forbidden"


def test_a_browser_session_may_read_but_not_write(receptionist):
    http = HttpClient()
    http.force_login(receptionist)
    dog = AnimalFactory()
    session = FhirClient(http=http)
    assert session.get(f"Patient/{dog.pk}").status_code == 200
    response = session.send("post", "Patient", {"resourceType": "Patient"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"_format": "xml"}, {}, 406),
        ({"_format": "application/fhir+xml"}, {}, 406),
        ({"_format": "json"}, {}, 200),
        ({"_format": "application/fhir+json"}, {"Accept": "application/fhir+xml"}, 200),
        ({}, {"Accept": "application/fhir+xml"}, 406),
        ({}, {"Accept": "text/html"}, 406),
        ({}, {"Accept": "application/fhir+xml;q=1, application/fhir+json;q=0.5"}, 200),
        ({}, {"Accept": "application/json;q=0"}, 406),
        ({}, {"Accept": "*/*"}, 200),
        ({}, {"Accept": "application/fhir+json"}, 200),
    ],
)
def test_format_and_accept_are_honoured(receptionist, fhir_as, params, headers, status):
    response = fhir_as(receptionist).get("Patient", params, headers=headers)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/fhir+json")
    if status == 406:
        assert response.fhir["resourceType"] == "OperationOutcome"


def test_unknown_parameters_are_ignored_and_reported_when_lenient(receptionist, fhir_as):
    rex = AnimalFactory(name="Rexy")
    for headers in ({}, {"Prefer": "handling=lenient"}):
        bundle = fhir_as(receptionist).get("Patient", {"name": "rexy", "colour": "brown"}, headers=headers).fhir
        assert [p["id"] for p in entries(bundle)] == [str(rex.pk)]
        self_query = parse_qs(urlsplit(link(bundle, "self")).query)
        assert "colour" not in self_query and self_query["name"] == ["rexy"]
        outcomes = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
        assert "colour" in outcomes[0]["issue"][0]["diagnostics"]


def test_unknown_parameters_are_a_400_when_strict(receptionist, fhir_as):
    response = fhir_as(receptionist).get("Patient", {"colour": "brown"}, headers={"Prefer": "handling=strict"})
    assert response.status_code == 400
    assert "colour" in response.fhir["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "params",
    [
        {"birthdate": "yesterday"},
        {"birthdate": "ge2020-13-01"},
        {"birthdate": "ge2020-02-30"},
        {"birthdate": "0000"},
        {"_lastUpdated": "gt2020-01-01T10:00:00+99:00"},
        {"_count": "0"},
        {"_count": "-5"},
        {"_count": "ten"},
        {"_cursor": "garbage"},
        {"_cursor": "eyJ4IjoxfQ"},
        {"name:sounds": "rex"},
        {"identifier:text": "x"},
        {"name": ""},
    ],
)
def test_bad_parameters_are_400_outcomes(receptionist, fhir_as, params):
    response = fhir_as(receptionist).get("Patient", params)
    assert response.status_code == 400, response.content
    assert response.fhir["resourceType"] == "OperationOutcome"


def test_unknown_types_paths_and_methods(receptionist, fhir_as):
    client = fhir_as(receptionist)
    assert client.get("Spaceship").status_code == 404
    assert client.get("Spaceship/1").status_code == 404
    assert client.get("Patient/1/_history/2").status_code == 404
    dog = AnimalFactory()
    for method in ("put", "patch", "delete"):
        response = client.send(method, f"Patient/{dog.pk}", {"resourceType": "Patient"})
        assert response.status_code == 405, method
    assert client.send("post", "Patient", {"resourceType": "Patient"}).status_code == 405


def test_search_pages_by_key_through_next_and_previous_links(receptionist, fhir_as):
    made = sorted(AnimalFactory(name=f"Pager{i}").pk for i in range(7))
    client = fhir_as(receptionist)
    bundle = client.get("Patient", {"name": "pager", "_count": "3"}).fhir
    assert "total" not in bundle  # no count over the table
    assert link(bundle, "previous") is None
    seen, pages = [], []
    while True:
        page_ids = [int(p["id"]) for p in entries(bundle)]
        seen += page_ids
        pages.append(bundle)
        next_url = link(bundle, "next")
        if next_url is None:
            break
        assert "_cursor=" in next_url and "_offset" not in next_url and "page=" not in next_url
        bundle = client.get(next_url).fhir
    assert seen == made
    assert len(pages) == 3
    back = client.get(link(pages[2], "previous")).fhir
    assert [int(p["id"]) for p in entries(back)] == made[3:6]


def test_a_deep_page_costs_the_same_queries_as_the_first(receptionist, fhir_as):
    owner = ClientFactory()
    for i in range(30):
        AnimalFactory(name=f"Deep{i:02}", owner=owner)
    client = fhir_as(receptionist)
    first_url = f"{BASE}Patient?name=deep&_count=5"
    client.get(first_url)  # warm up: the token's last-used stamp is written once a minute at most
    with CaptureQueriesContext(connection) as first:
        bundle = client.get(first_url).fhir
    for _ in range(4):
        bundle = client.get(link(bundle, "next")).fhir
    with CaptureQueriesContext(connection) as deep:
        bundle = client.get(link(bundle, "next")).fhir
    assert [p["name"][0]["text"] for p in entries(bundle)] == [f"Deep{i:02}" for i in range(25, 30)]
    assert len(deep.captured_queries) == len(first.captured_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in deep.captured_queries)
    assert not any("COUNT(" in q["sql"].upper() for q in deep.captured_queries)


def test_metadata_is_a_valid_capability_statement_listing_what_is_routed():
    response = FhirClient().get("metadata")  # public, like every FHIR server's
    assert response.status_code == 200
    statement = response.fhir
    assert statement["fhirVersion"] == "4.0.1"
    listed = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(listed) == set(registry)
    assert "Patient" in listed and {"read", "search-type"} <= {i["code"] for i in listed["Patient"]["interaction"]}
    patient_params = {p["name"] for p in listed["Patient"]["searchParam"]}
    assert {"identifier", "name", "birthdate", "_id", "_lastUpdated"} <= patient_params


def test_every_listed_interaction_and_parameter_is_served(receptionist, manager, fhir_as):
    """Walk the CapabilityStatement: each type's search and read URLs resolve to the FHIR views, each listed search
    parameter is accepted under strict handling, and an unlisted one is refused; a type not listed is a 404."""
    statement = FhirClient().get("metadata").fhir
    client = fhir_as(manager)
    for resource in statement["rest"][0]["resource"]:
        type_name = resource["type"]
        assert resolve(f"{BASE}{type_name}").url_name == "type"
        assert resolve(f"{BASE}{type_name}/1").url_name == "instance"
        codes = {i["code"] for i in resource["interaction"]}
        strict = {"Prefer": "handling=strict"}
        if "search-type" in codes:
            for param in resource["searchParam"]:
                value = _sample_value(param["type"], type_name)
                response = client.get(type_name, {param["name"]: value}, headers=strict)
                # Served: 200, or a 400 about the value (a status that is not a code), never "no such parameter".
                assert response.status_code in (200, 400), (type_name, param["name"], response.content)
                assert "has no search parameter" not in response.content.decode(), (type_name, param["name"])
            refused = client.get(type_name, {"not-a-parameter": "1"}, headers=strict)
            assert refused.status_code == 400
        read = client.get(f"{type_name}/0")
        assert read.status_code == 404 and read.fhir["issue"][0]["code"] == "not-found"
        for method, code in (("put", "update"), ("patch", "patch")):
            if code not in codes:
                response = client.send(method, f"{type_name}/0", {"resourceType": type_name})
                assert response.status_code == 405, (type_name, method)
        if "create" not in codes:
            assert client.send("post", type_name, {"resourceType": type_name}).status_code == 405
    assert client.get("Medication").status_code == 404


SAMPLES = {
    "date": "ge2020-01-01",
    "string": "a",
    "token": "1",
    "number": "1",
    "uri": "http://example.org/x",
}


def _sample_value(param_type: str, type_name: str) -> str:
    if param_type == "reference":
        return "1"
    return SAMPLES.get(param_type, "1")


def test_every_answer_is_fhir_json_never_a_500(receptionist, fhir_as):
    client = fhir_as(receptionist)
    dog = AnimalFactory()
    nasty = ["%", "'", '"', "\\", "ge", "eq", "|", "||", "a|b|c", "x" * 5000, "2020-01-01T25:00", "9" * 40, "ñ", "١٢"]
    for type_name in registry:
        for value in nasty:
            for name in ("_id", "_lastUpdated", *[p.name for p in registry[type_name].search_params]):
                response = client.get(type_name, {name: value}, validate_body=False)
                assert response.status_code in (200, 400), (type_name, name, value, response.status_code)
                body = json.loads(response.content)
                validate(body)
    for path in (f"Patient/{dog.pk}x", "Patient/" + "9" * 64, "Patient/-1"):
        assert client.get(path).status_code == 404
