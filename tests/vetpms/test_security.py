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
