"""/api/v1/imports: managers only (tokens and sessions), the same dry-run-first flow as the page, 4xx on bad input."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clients.models import Client
from exchange.importing import services

pytestmark = pytest.mark.django_db


class Api:
    """A test client that sends one user's API token with every request."""

    def __init__(self, headers):
        from django.test import Client as HttpClient

        self.http, self.headers = HttpClient(), headers

    def __getattr__(self, method):
        return lambda *a, **kw: getattr(self.http, method)(*a, headers=self.headers, **kw)


URL = "/api/v1/imports"
CSV = b"Client ID,Surname,Email\nA1,Smith,ann@example.com\nA2,Jones,bad-email\n"


@pytest.mark.parametrize("role", ["receptionist", "vet", "nobody"])
def test_other_roles_are_refused(users, bearer, role):
    http = Api(bearer(users[role]))
    assert http.get(URL).status_code == HTTPStatus.FORBIDDEN
    response = http.post(URL, {"source_system": "S", "files": [SimpleUploadedFile("clients.csv", CSV)]})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_anonymous_is_refused(client):
    assert client.get(URL).status_code == HTTPStatus.UNAUTHORIZED


def test_upload_map_dry_run_apply(bearer, manager):
    http = Api(bearer(manager))
    response = http.post(URL, {"source_system": "OldVet", "files": [SimpleUploadedFile("clients.csv", CSV)]})
    assert response.status_code == HTTPStatus.CREATED, response.content
    job = response.json()
    file = job["files"][0]
    assert file["entity"] == "clients" and file["column_map"] == {"0": "source_id", "1": "last_name", "2": "email"}
    assert http.post(f"{URL}/{job['id']}/apply").status_code == HTTPStatus.CONFLICT
    bad = http.put(
        f"{URL}/{job['id']}/mapping",
        {"files": [{"id": file["id"], "column_map": {"0": "nonsense"}}]},
        content_type="application/json",
    )
    assert bad.status_code == HTTPStatus.CONFLICT and "nonsense" in bad.json()["detail"]
    assert http.post(f"{URL}/{job['id']}/dry-run").status_code == HTTPStatus.ACCEPTED
    services.job_run(job_id=job["id"])
    issues = http.get(f"{URL}/{job['id']}/issues").json()["items"]
    assert [(i["row_number"], i["column"]) for i in issues] == [(3, "email")]
    assert http.post(f"{URL}/{job['id']}/apply").status_code == HTTPStatus.ACCEPTED
    services.job_run(job_id=job["id"])
    assert http.get(f"{URL}/{job['id']}").json()["created_count"] == 1
    assert list(Client.objects.values_list("last_name", flat=True)) == ["Smith"]


def test_unknown_job_is_404(bearer, manager):
    assert Api(bearer(manager)).get(f"{URL}/999999").status_code == HTTPStatus.NOT_FOUND


def test_the_catalogue_and_balances_go_through_the_api(bearer, manager):
    from decimal import Decimal

    from invoicing.models import Product
    from invoicing.selectors import client_balance

    http = Api(bearer(manager))
    files = [
        SimpleUploadedFile("clients.csv", CSV),
        SimpleUploadedFile("products.csv", b"Code,Name,Price,VAT,Item ID\nCONS,Consultation,45.00,standard,P1\n"),
        SimpleUploadedFile("balances.csv", b"Balance ID,Client ID,Balance\nO1,A1,12.30\nO2,A2,5.00\nO3,A1,abc\n"),
    ]
    job = http.post(URL, {"source_system": "OldVet", "files": files}).json()
    assert [f["entity"] for f in job["files"]] == ["clients", "products", "opening_balances"]
    assert http.post(f"{URL}/{job['id']}/dry-run").status_code == HTTPStatus.ACCEPTED
    services.job_run(job_id=job["id"])
    issues = http.get(f"{URL}/{job['id']}/issues").json()["items"]
    # A2's email is bad, so its balance has no client; O3's amount is not a number.
    assert {(i["file"], i["row_number"], i["column"]) for i in issues} == {
        ("clients.csv", 3, "email"),
        ("balances.csv", 3, "client_source_id"),
        ("balances.csv", 4, "balance"),
    }
    assert http.post(f"{URL}/{job['id']}/apply").status_code == HTTPStatus.ACCEPTED
    services.job_run(job_id=job["id"])
    assert http.get(f"{URL}/{job['id']}").json()["created_count"] == 3
    assert Product.objects.get(code="CONS").unit_price == Decimal("45.00")
    assert client_balance(client=Client.objects.get(last_name="Smith")).balance == Decimal("12.30")
