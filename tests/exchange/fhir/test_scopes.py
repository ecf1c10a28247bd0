"""Token scopes (vetpms.scopes): a read-only or one-type token, on the FHIR server and on the REST API."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from tests.factories import AnimalFactory, make_token
from vetpms.errors import DomainError
from vetpms.models import ApiToken
from vetpms.scopes import Scopes
from vetpms.services import api_token_create

pytestmark = pytest.mark.django_db


def test_a_token_made_without_scopes_has_full_access(receptionist):
    token, _ = make_token(receptionist)
    assert token.scopes == "system/*.*"
    assert Scopes.parse(token.scopes).allows("Appointment", "write")


def test_a_read_only_token_reads_fhir_but_every_write_is_403(receptionist, fhir_as):
    dog = AnimalFactory()
    client = fhir_as(receptionist, scopes="system/*.read")
    assert client.get(f"Patient/{dog.pk}").status_code == 200
    refused = client.send("post", "Patient", {"resourceType": "Patient"})
    assert refused.status_code == 403
    assert "scopes" in refused.fhir["issue"][0]["diagnostics"]


def test_a_one_type_token_reads_only_that_type(receptionist, fhir_as):
    dog = AnimalFactory()
    client = fhir_as(receptionist, scopes="system/Patient.read")
    assert client.get(f"Patient/{dog.pk}").status_code == 200
    assert client.get("RelatedPerson", {"patient": str(dog.pk)}).status_code == 403


def test_scopes_do_not_widen_the_role(nobody, fhir_as):
    assert fhir_as(nobody, scopes="system/*.*").get("Patient").status_code == 403


def test_a_read_only_token_is_refused_writes_on_the_rest_api(receptionist):
    _, secret = api_token_create(user=receptionist, name="partner", by=receptionist, scopes="system/*.read")
    http = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    assert http.get("/api/v1/clients").status_code == 200
    response = http.post("/api/v1/clients", data={"last_name": "Blocked"}, content_type="application/json")
    assert response.status_code == 403
    _, full = make_token(receptionist)
    allowed = HttpClient(headers={"Authorization": f"Bearer {full}"}).post(
        "/api/v1/clients", data={"last_name": "Allowed"}, content_type="application/json"
    )
    assert allowed.status_code in (200, 201)


def test_a_fhir_only_token_cannot_use_the_rest_api(receptionist):
    _, secret = api_token_create(user=receptionist, name="fhir", by=receptionist, scopes="system/Patient.read")
    http = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    assert http.get("/api/v1/clients").status_code == 403


@pytest.mark.parametrize("scopes", ["everything", "system/*.delete", "patient/*.read", "system/patient.read"])
def test_invalid_scopes_are_refused_when_the_token_is_made(receptionist, scopes):
    with pytest.raises(DomainError) as caught:
        api_token_create(user=receptionist, name="bad", by=receptionist, scopes=scopes)
    assert caught.value.field == "scopes"
    assert not ApiToken.objects.filter(name="bad").exists()


def test_scopes_are_stored_normalised(receptionist):
    token, _ = api_token_create(
        user=receptionist, name="two", by=receptionist, scopes="system/Patient.read  system/Appointment.*"
    )
    assert token.scopes == "system/Appointment.* system/Patient.read"
    parsed = Scopes.parse(token.scopes)
    assert parsed.allows("Appointment", "write") and not parsed.allows("Patient", "write")


def test_the_token_page_offers_read_only_and_exact_scopes(as_manager, vet_user):
    from django.urls import reverse

    page = as_manager.get(reverse("token_create")).content.decode()
    assert "system/*.read" in page
    as_manager.post(reverse("token_create"), {"user": vet_user.pk, "name": "partner", "access": "system/*.read"})
    assert ApiToken.objects.get(name="partner").scopes == "system/*.read"
    as_manager.post(reverse("token_create"), {"user": vet_user.pk, "name": "one type", "scopes": "system/Patient.read"})
    assert ApiToken.objects.get(name="one type").scopes == "system/Patient.read"
    response = as_manager.post(reverse("token_create"), {"user": vet_user.pk, "name": "bad", "scopes": "all"})
    assert "scopes" in response.context["form"].errors
    assert not ApiToken.objects.filter(name="bad").exists()
    listing = as_manager.get(reverse("token_list")).content.decode()
    assert "system/Patient.read" in listing


def test_the_token_api_takes_and_returns_scopes(manager, vet_user):
    _, secret = make_token(manager)
    http = HttpClient(headers={"Authorization": f"Bearer {secret}"})
    response = http.post(
        "/api/v1/tokens",
        data={"user": vet_user.pk, "name": "partner", "scopes": "system/*.read"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["scopes"] == "system/*.read"
    bad = http.post(
        "/api/v1/tokens", data={"user": vet_user.pk, "name": "x", "scopes": "root"}, content_type="application/json"
    )
    assert bad.status_code in (409, 422)
