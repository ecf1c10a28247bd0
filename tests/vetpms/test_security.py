"""Security baseline: login everywhere, lockout, idle sessions, CSRF, headers."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("clients:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_then_logout(client, receptionist):
    response = client.post(reverse("login"), {"username": "rita", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("clients:list")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("clients:list")).status_code == 302


def test_repeated_bad_passwords_lock_the_account_even_for_the_right_password(client, receptionist):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "rita", "password": "wrong"})
        assert response.status_code in (200, 429)
    response = client.post(reverse("login"), {"username": "rita", "password": PASSWORD})
    assert response.status_code == 429
    assert b"locked" in response.content.lower()
    assert "_auth_user_id" not in client.session


def _fail(client, times, **meta):
    for _ in range(times):
        client.post(reverse("login"), {"username": "rita", "password": "wrong"}, **meta)


def _sign_in(**meta):
    browser = HttpClient()
    response = browser.post(reverse("login"), {"username": "rita", "password": PASSWORD}, **meta)
    return response.status_code


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_from_another(client, receptionist):
    _fail(client, settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.66")
    assert _sign_in(REMOTE_ADDR="203.0.113.66") == 429
    assert _sign_in(REMOTE_ADDR="198.51.100.20") == 302


def test_behind_a_trusted_proxy_failures_count_per_forwarded_client_address(client, receptionist, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    attacker = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    _fail(client, settings.AXES_FAILURE_LIMIT, **attacker)
    assert _sign_in(**attacker) == 429
    # Rita at the front desk, through the same proxy: her own address, her own counter.
    assert _sign_in(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20") == 302


def test_forwarded_addresses_from_an_untrusted_sender_are_ignored(client, receptionist, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    # An attacker who writes a new X-Forwarded-For on every try still counts against their own address.
    for index in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, 1, REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"192.0.2.{index}")
    assert _sign_in(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.200") == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", "", "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a proxy: the header is the client's word
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "192.0.2.9, 198.51.100.1", "198.51.100.1"),  # the left end is whatever the client sent
        ("10.0.0.1", "198.51.100.1, 10.0.0.2", "198.51.100.1"),  # two proxies in a row
        ("10.0.0.1", "not-an-address", "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        ("", "198.51.100.1", "0.0.0.0"),  # noqa: S104 - an address that names no client, not a bind
    ],
)
def test_client_ip_trusts_forwarded_addresses_only_from_configured_proxies(settings, remote, forwarded, expected):
    from django.test import RequestFactory

    from vetpms.net import client_ip

    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_session_ends_after_inactivity(client, receptionist):
    client.post(reverse("login"), {"username": "rita", "password": PASSWORD})
    assert client.get(reverse("clients:list")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(reverse("clients:list")).status_code == 302


def test_idle_timeout_slides_with_activity_at_most_one_write_a_minute(client, receptionist):
    client.post(reverse("login"), {"username": "rita", "password": PASSWORD})
    assert client.get(reverse("clients:list")).status_code == 200  # the first page touches the session
    session = Session.objects.get()
    soon = timezone.now() + dt.timedelta(minutes=2)
    Session.objects.update(expire_date=soon)
    assert client.get(reverse("clients:list")).status_code == 200
    assert Session.objects.get().expire_date == soon  # touched less than a minute ago: no write
    store = client.session
    store["_touched"] = 0  # last touched long ago
    store.save()
    Session.objects.update(expire_date=soon)
    assert client.get(reverse("clients:list")).status_code == 200
    slid = Session.objects.get().expire_date
    assert slid > soon + dt.timedelta(minutes=settings.SESSION_COOKIE_AGE // 60 - 3)
    assert session.session_key == Session.objects.get().session_key


def test_cookie_authenticated_form_post_needs_csrf(receptionist):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(receptionist)
    response = browser.post(reverse("clients:create"), {"last_name": "Forged"})
    assert response.status_code == 403


def test_pages_carry_security_headers(as_receptionist):
    response = as_receptionist.get(reverse("clients:list"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


# --- Cache-Control -----------------------------------------------------------------------------------------------


def _no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


def test_pages_pdfs_csv_and_api_json_are_never_stored_by_a_cache(as_manager, manager, bearer):
    from tests.factories import ClientFactory

    client = ClientFactory()
    for url in [
        reverse("home"),
        reverse("clients:list"),
        reverse("clients:detail", args=[client.pk]),
        reverse("reports:csv", args=["revenue"]),
        reverse("reports:pdf", args=["revenue"]),
        reverse("staff_list"),
        "/no-such-page/",
    ]:
        response = as_manager.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert _no_store(response), (url, response.get("Cache-Control"))
    for url in ["/api/v1/me", f"/api/v1/clients/{client.pk}", "/api/v1/no-such-thing"]:
        assert _no_store(HttpClient().get(url, headers=bearer(manager))), url
        assert _no_store(as_manager.get(url)), url


def test_a_statement_pdf_is_never_stored_by_a_cache(as_manager):
    from tests.factories import ClientFactory

    client = ClientFactory()
    response = as_manager.get(reverse("invoicing:statement_pdf", args=[client.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert _no_store(response)


def test_the_login_page_and_an_api_401_are_not_stored_either(client):
    assert _no_store(client.get(reverse("login")))
    assert _no_store(client.get("/api/v1/me"))
