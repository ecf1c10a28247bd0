"""A plain-HTTP FHIR client against a running server, as a partner system (a referral hospital, a pet app) would
use it with nothing but an API token and urllib: finds the animal by its microchip, reads its owner, its
immunizations and its weight history, finds a free slot in its vet's book and books it; the booking is then on the
vet's day list (issue 11's round trip)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import urllib.request

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from animals.models import Animal
from exchange.fhir import systems
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


def post(base: str, path: str, token: str, resource: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        f"{base}/fhir/R4/{path}",
        data=json.dumps(resource).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/fhir+json",
            "Content-Type": "application/fhir+json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test's own server
        return response.status, json.loads(response.read())


def entries(bundle: dict) -> list[dict]:
    fhir_valid(bundle)
    return [entry["resource"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"]


@pytest.mark.django_db(transaction=True)
def test_a_partner_reads_the_record_and_books_over_http(live_server, record, receptionist, vet, consult):
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

    # Its owner, through the Patient's link.
    owner = fetch(base, patient["link"][0]["other"]["reference"], token)
    assert owner["resourceType"] == "RelatedPerson" and owner["patient"]["reference"] == f"Patient/{patient['id']}"
    assert owner["name"][0]["family"] == record.animal.owner.last_name

    # A free slot a week ahead in the vet's book, booked; the booking is on that vet's day list.
    week_ahead = timezone.localdate() + dt.timedelta(days=7)
    slot = entries(fetch(base, "Slot", token, schedule=f"Schedule/{vet.pk}", start=f"ge{week_ahead}", status="free"))[0]
    status, booked = post(
        base,
        "Appointment",
        token,
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "serviceType": [{"coding": [{"system": systems.practice("appointment-type"), "code": str(consult.pk)}]}],
            "participant": [{"actor": {"reference": f"Patient/{patient['id']}"}, "status": "accepted"}],
        },
    )
    assert status == 201 and booked["status"] == "booked"
    day = dt.datetime.fromisoformat(slot["start"]).astimezone(timezone.get_current_timezone()).date()
    desk = HttpClient()
    desk.force_login(receptionist)
    day_list = desk.get("/appointments/day/", {"vet": vet.pk, "date": day.isoformat()}).content.decode()
    assert record.animal.name in day_list and record.animal.appointments.get().pk == int(booked["id"])
