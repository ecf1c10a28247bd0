"""FHIR test helpers: a client that speaks FHIR JSON with a token, and validation of every resource returned by an
independent R4 model library (fhirclient, R4 4.0.1) plus the project's own checks of what it cannot see."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tests.factories import make_token
from vetpms.services import api_token_create

BASE = "/fhir/R4/"


def validate(resource: dict) -> Any:
    """Parse ``resource`` with fhirclient's R4 model of its type, strictly (unknown or mistyped elements raise)."""
    type_name = resource["resourceType"]
    module = importlib.import_module(f"fhirclient.models.{type_name.lower()}")
    model = getattr(module, type_name)(resource, strict=True)
    if type_name == "Bundle":
        for entry in resource.get("entry", []):
            validate(entry["resource"])
    return model


def assert_no_empty_elements(value: Any, path: str = "") -> None:
    """FHIR forbids empty strings, lists and objects anywhere (the model library lets them through)."""
    assert value not in ("", [], {}), f"empty element at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_empty_elements(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_empty_elements(item, f"{path}[{i}]")


class FhirClient:
    """django.test.Client for the FHIR server; every JSON answer is validated before it is returned."""

    def __init__(self, secret: str | None = None, http: HttpClient | None = None) -> None:
        self.http = http or HttpClient()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def _url(self, path: str) -> str:
        return path if path.startswith(("/", "http")) else BASE + path

    def get(self, path: str, params: dict | None = None, headers: dict | None = None, validate_body: bool = True):
        response = self.http.get(self._url(path), params or {}, headers={**self.headers, **(headers or {})})
        return self._checked(response, validate_body)

    def send(self, method: str, path: str, body: Any, content_type: str = "application/fhir+json", headers=None):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        response = getattr(self.http, method)(
            self._url(path), data=data, content_type=content_type, headers={**self.headers, **(headers or {})}
        )
        return self._checked(response, True)

    @staticmethod
    def _checked(response, validate_body: bool):
        if response.get("Content-Type", "").startswith("application/fhir+json"):
            data = json.loads(response.content)
            response.fhir = data
            if validate_body:
                validate(data)
                assert_no_empty_elements(data)
        return response


@pytest.fixture
def fhir_as():
    """fhir_as(user, scopes="system/*.*") -> a FhirClient acting through a new token of ``user``."""

    def make(user, scopes: str | None = None) -> FhirClient:
        if scopes is None:
            _, secret = make_token(user)
        else:
            _, secret = api_token_create(user=user, name="fhir test", by=user, scopes=scopes)
        return FhirClient(secret)

    return make


def entries(bundle: dict, type_name: str | None = None) -> list[dict]:
    matches = [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]
    return [r for r in matches if type_name is None or r["resourceType"] == type_name]


def link(bundle: dict, relation: str) -> str | None:
    return next((item["url"] for item in bundle.get("link", []) if item["relation"] == relation), None)


@pytest.fixture
def nurse_user(db):
    from tests.factories import UserFactory
    from vetpms.models import Role

    return UserFactory(username="nina", first_name="Nina", last_name="Nurse", role=Role.NURSE)
