"""The checker that holds every API answer of tests/api to the published schema (tests/api/openapi_check.py):
it checks the schema that is really published, it catches what it is there to catch, and it is switched on."""

from __future__ import annotations

import json

import pytest
from django.test import Client as DjangoClient

from tests.api.openapi_check import SchemaMismatch, check_response, operation_for, published_schema

pytestmark = pytest.mark.django_db


def test_the_checker_uses_the_schema_that_is_published(anonymous):
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == published_schema()


def test_literal_paths_win_over_parameters():
    assert operation_for("get", "/api/v1/vets/any/free-slots")["summary"] == "Free starts with any active vet"
    assert operation_for("get", "/api/v1/vets/3/free-slots")["summary"] == "Free starts in one vet's book"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"id": 1}, "required property"),  # a client without its name
        (200, [{"id": 1}], "is not of type"),
        (418, {"detail": "teapot"}, "status not documented"),
        (404, {"message": "Not found."}, "required property 'detail'"),
        (409, {"detail": "No.", "code": 7}, "is not of type"),
        (422, {"detail": "bad"}, "is not of type"),
    ],
)
def test_the_checker_refuses_what_the_schema_does_not_document(status, body, expected):
    with pytest.raises(SchemaMismatch, match=expected):
        check_response("PATCH", "/api/v1/clients/5", status, "application/json", json.dumps(body).encode())


def test_every_operation_documents_its_error_answers():
    for path, methods in published_schema()["paths"].items():
        for method, operation in methods.items():
            statuses = set(operation["responses"])
            if operation.get("security"):
                assert {"401", "403"} <= statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in statuses, (method, path)
            for status, answer in operation["responses"].items():
                if status >= "400":
                    schema = answer["content"]["application/json"]["schema"]
                    if "$ref" in schema:
                        schema = published_schema()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                    assert "detail" in schema["required"], (method, path, status)


def test_the_check_is_installed_on_the_test_client():
    assert DjangoClient.request.__name__ == "request" and DjangoClient.request.__module__ == "tests.api.conftest"
