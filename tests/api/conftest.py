"""API test helpers: a JSON client per user (acting through an API token) and a few assertions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tests.factories import make_token

ROLES = ["receptionist", "vet_user", "manager", "nobody"]


class JsonClient:
    """django.test.Client speaking JSON, with fixed headers (e.g. an API token)."""

    def __init__(self, headers: dict[str, str] | None = None, http: HttpClient | None = None) -> None:
        self.http = http or HttpClient()
        self.headers = headers or {}

    def get(self, url: str, params: dict[str, Any] | None = None, **extra: Any):
        return self.http.get(url, params or {}, headers=self.headers, **extra)

    def _send(self, method: str, url: str, body: Any, **extra: Any):
        data = body if isinstance(body, str | bytes) else json.dumps(body if body is not None else {})
        return getattr(self.http, method)(
            url, data=data, content_type="application/json", headers=self.headers, **extra
        )

    def post(self, url: str, body: Any = None, **extra: Any):
        return self._send("post", url, body, **extra)

    def patch(self, url: str, body: Any = None, **extra: Any):
        return self._send("patch", url, body, **extra)


@pytest.fixture
def api_as():
    """api_as(user) -> a JsonClient authenticated with a fresh API token of ``user``."""

    def make(user) -> JsonClient:
        _, secret = make_token(user)
        return JsonClient({"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def anonymous() -> JsonClient:
    return JsonClient()


@pytest.fixture
def api_for(request, api_as):
    """api_for("vet_user") -> a JsonClient acting as the user of that fixture (for tests parametrized by role)."""

    def make(role: str) -> JsonClient:
        return api_as(request.getfixturevalue(role))

    return make


def error_fields(response) -> list[str]:
    """The field names a 422 response complains about (the last element of each error's loc)."""
    assert response.status_code == 422, response.content
    return [error["loc"][-1] for error in response.json()["detail"]]


# --- Appointments API (tests/api/test_appointments*.py) ----------------------------------------------------------
# The appointment-book fixtures of tests/appointments/conftest.py (a vet working 09:00-17:00 every day, a 15-minute
# consultation type, a pet, next week's Monday), made available to the API tests.
from tests.appointments.conftest import book, consult, monday, pet, vet  # noqa: E402, F401

# --- Clinical API (tests/api/test_clinical_api.py) -----------------------------------------------------------------
# The clinical fixtures of tests/clinical/conftest.py (a nurse, a second vet, a Labrador and a Chihuahua, a diagnosis,
# a rabies reminder type renewed by the rabies vaccine, an appointment and consultations opened through the services).
from tests.clinical.conftest import (  # noqa: E402, F401
    appointment,
    chihuahua,
    consultation,
    dog,
    gastritis,
    nurse,
    other_vet,
    otitis,
    rabies_type,
    walk_in,
)

# --- Invoicing API (tests/api/test_invoicing*.py) ----------------------------------------------------------------
# The invoicing fixtures of tests/invoicing/conftest.py (tax categories, a consultation 45.00, a rabies vaccine 38.50,
# amoxicillin 1.33/ml, Zoë Ångström with her pet Mírzá, an issued invoice of 100.20), made available to the API tests.
from tests.invoicing.conftest import (  # noqa: E402, F401
    amoxicillin,
    consult_fee,
    issued,
    owner_pet,
    rabies,
    standard,
    zero_rated,
)

# --- Every answer checked against the published OpenAPI schema (tests/api/openapi_check.py) -------------------


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_schema(monkeypatch):
    """Each API answer a test receives is one the schema documents: its status, and its JSON body's shape."""
    from django.test import Client as DjangoClient

    from tests.api.openapi_check import check_response

    original = DjangoClient.request

    def request(self, **kwargs):
        response = original(self, **kwargs)
        if not getattr(response, "streaming", False):
            check_response(
                kwargs.get("REQUEST_METHOD", "GET"),
                kwargs.get("PATH_INFO", ""),
                response.status_code,
                response.get("Content-Type", ""),
                response.content,
            )
        return response

    monkeypatch.setattr(DjangoClient, "request", request)
