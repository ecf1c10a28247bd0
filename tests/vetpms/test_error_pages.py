"""Branded error pages (400, 403, 404, 500) with no stack trace, and the requests that earn them."""

from __future__ import annotations

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import include, path

pytestmark = pytest.mark.django_db


def _crash(request):
    raise RuntimeError("secret-internal-detail")


def _suspicious(request):
    raise SuspiciousOperation("tampered")


urlpatterns = [
    path("crash/", _crash),
    path("suspicious/", _suspicious),
    path("", include("vetpms.urls")),
]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_shows_the_branded_page_without_a_stack_trace(receptionist):
    http = HttpClient(raise_request_exception=False)
    http.force_login(receptionist)
    response = http.get("/crash/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and "VetPMS" in body
    assert "Traceback" not in body and "secret-internal-detail" not in body and "RuntimeError" not in body


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_bad_request_shows_the_branded_400_page(receptionist):
    http = HttpClient(raise_request_exception=False)
    http.force_login(receptionist)
    response = http.get("/suspicious/")
    assert response.status_code == 400
    assert "We could not read that request" in response.content.decode()
    assert "tampered" not in response.content.decode()


def test_not_found_and_forbidden_are_branded(as_vet):
    missing = as_vet.get("/clients/999999/")
    assert missing.status_code == 404 and "We could not find that page" in missing.content.decode()
    forbidden = as_vet.get("/staff/")
    assert forbidden.status_code == 403 and "This page is not part of your role" in forbidden.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/search/?q=a%00b", "/appointments/new/?q=a%00b", "/clients/?q=%00", "/calendar/a%00b.ics", "/search/?a%00=1"],
)
def test_a_nul_character_in_the_address_is_a_branded_400(as_receptionist, url):
    response = as_receptionist.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode() and "We could not read that request" in response.content.decode()


def test_a_nul_character_anonymously_and_in_a_form_is_400_too(client, as_receptionist):
    assert client.get("/calendar/a%00b.ics").status_code == 400
    form = "application/x-www-form-urlencoded"
    assert as_receptionist.post("/clients/new/", "last_name=Jo%00nes", content_type=form).status_code == 400
    api = as_receptionist.get("/api/v1/search?q=a%00b")
    assert api.status_code == 400 and api.json() == {"detail": "The request contains a NUL character."}
