"""A plain-HTTP FHIR client against a running server: finds the animal by its microchip, then reads its
immunizations and its weight history as FHIR resources, as a partner system (a referral hospital, a pet app)
would, with nothing but an API token and urllib."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from animals.models import Animal
from tests.exchange.fhir.clinical_fixtures import *  # noqa: F403 - the fixtures
from tests.exchange.fhir.clinical_fixtures import fhir_valid
from tests.factories import WeightFactory, make_token

CHIP = "826098765432101"
LOINC_WEIGHT = "http://loinc.org|29463-7"


def fetch(base: str, path: str, token: str, **params: str) -> dict:
    url = f"{base}/fhir/R4/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    assert url.startswith("http://")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the test's own server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test's own server
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/fhir+json")
        return json.loads(response.read())


def entries(bundle: dict) -> list[dict]:
    fhir_valid(bundle)
    return [entry["resource"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"]


@pytest.mark.django_db(transaction=True)
def test_a_partner_reads_immunizations_and_weights_over_http(live_server, record, receptionist):
    Animal.objects.filter(pk=record.animal.pk).update(microchip=CHIP)
    older = WeightFactory(animal=record.animal, kg="29.750")
    _, token = make_token(receptionist, "referral hospital")
    base = live_server.url

    (patient,) = entries(fetch(base, "Patient", token, identifier=f"urn:oid:1.0.11784|{CHIP}"))
    assert patient["id"] == str(record.animal.pk)

    immunizations = entries(fetch(base, "Immunization", token, patient=f"Patient/{patient['id']}"))
    assert [(i["lotNumber"], i["vaccineCode"]["text"]) for i in immunizations] == [("RB-2231", "Rabies vaccine")]
    for immunization in immunizations:
        fhir_valid(immunization)

    weights = entries(fetch(base, "Observation", token, patient=patient["id"], code=LOINC_WEIGHT))
    assert sorted((w["valueQuantity"]["value"], w["valueQuantity"]["code"]) for w in weights) == [
        (float(older.kg), "kg"),
        (31.4, "kg"),
    ]
    assert all(w["subject"]["reference"] == f"Patient/{patient['id']}" for w in weights)

    # Each one reads back by its id.
    weight = fetch(base, f"Observation/{weights[0]['id']}", token)
    assert weight == weights[0]
