"""One-click unsubscribe (RFC 8058) from the links in reminder emails: owners do not log in."""

import datetime as dt
import json
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core import signing

from clients.models import Client
from reminders import sending, unsubscribe
from reminders.models import ReminderDelivery, ReminderRun, ReminderType
from reminders.services import reminder_create
from tests.factories import AnimalFactory, ClientFactory, species
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner():
    return ClientFactory(email="owner@example.com", reminder_consent=True)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def consent_entries(client):
    return AuditEntry.objects.filter(action="consent withdrawn", object_id=str(client.pk))


def test_opening_the_link_shows_a_button_and_changes_nothing(client, owner):
    url = path_of(unsubscribe.unsubscribe_url(client_id=owner.pk))
    response = client.get(url)
    assert response.status_code == 200
    assert b"Unsubscribe from reminder emails" in response.content
    assert b"o***@example.com" in response.content and b"owner@example.com" not in response.content
    owner.refresh_from_db()
    assert owner.reminder_consent is True


def test_the_button_withdraws_consent_with_the_time_and_twice_is_harmless(client, owner):
    url = path_of(unsubscribe.unsubscribe_url(client_id=owner.pk))
    first = client.post(url)
    assert first.status_code == 200 and b"You are unsubscribed" in first.content
    owner.refresh_from_db()
    assert owner.reminder_consent is False and owner.consent_changed_at is not None
    changed_at = owner.consent_changed_at

    again = client.post(url)
    assert again.status_code == 200 and b"already unsubscribed" in again.content
    owner.refresh_from_db()
    assert owner.consent_changed_at == changed_at
    assert consent_entries(owner).count() == 1


def test_mail_programs_one_click_post_without_cookies_or_csrf(owner):
    from django.test import Client as Browser

    browser = Browser(enforce_csrf_checks=True)
    url = path_of(unsubscribe.unsubscribe_url(client_id=owner.pk, delivery_id=7))
    response = browser.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.reminder_consent is False
    assert "one-click" in consent_entries(owner).get().note


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_gets_a_clear_page_and_nothing_changes(client, owner, method):
    token = unsubscribe.make_token(client_id=owner.pk)
    other = ClientFactory(email="other@example.com")
    _payload, stamp, signature = token.rsplit(":", 2)
    other_payload = signing.b64_encode(json.dumps({"c": other.pk, "d": None}, separators=(",", ":")).encode())
    forged = f"{other_payload.decode()}:{stamp}:{signature}"  # another owner's id under this token's signature
    for bad in (token[:-3] + "abc", forged, "not-a-token", token + "x"):
        response = getattr(client, method)(f"/r/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert b"not valid" in response.content and b"Nothing has been changed" in response.content
    assert set(Client.objects.values_list("reminder_consent", flat=True)) == {True}


def test_an_expired_token_gets_a_clear_page_and_nothing_changes(client, owner, settings, monkeypatch):
    settings.REMINDER_UNSUBSCRIBE_MAX_AGE_DAYS = 30
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 31 * 86400)
    token = unsubscribe.make_token(client_id=owner.pk)
    monkeypatch.setattr(signing.time, "time", real)
    response = client.post(f"/r/unsubscribe/{token}/")
    assert response.status_code == 400 and b"expired" in response.content
    owner.refresh_from_db()
    assert owner.reminder_consent is True


def test_a_token_for_a_client_that_no_longer_exists_is_refused(client):
    response = client.get(f"/r/unsubscribe/{unsubscribe.make_token(client_id=999999)}/")
    assert response.status_code == 400


def test_after_unsubscribing_the_owner_gets_no_more_reminder_emails(client, owner, manager, smtp_server):
    reminder_type = ReminderType.objects.create(
        name="Rabies", interval=12, interval_unit="months", stages=[0, 30], subject="{pets}", body_text="{items}"
    )
    today = dt.date(2027, 5, 3)
    pet = AnimalFactory(owner=owner, species=species("Dog"))
    reminder = reminder_create(animal=pet, reminder_type=reminder_type, due_on=today, by=manager)
    sending.execute_run(run_id=ReminderRun.objects.create(trigger="manual", for_date=today).pk)
    (message,) = smtp_server.messages

    url = message["List-Unsubscribe"].strip()[1:-1]
    response = client.post(path_of(url), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200

    later = today + dt.timedelta(days=30)
    sending.execute_run(run_id=ReminderRun.objects.create(trigger="manual", for_date=later).pk)
    assert len(smtp_server.messages) == 1
    follow_up = ReminderDelivery.objects.get(status=ReminderDelivery.Status.NO_CHANNEL)
    assert follow_up.client == owner and follow_up.notices.get().reminder == reminder


def demo_site_url(*, host: str, port: int) -> str:
    """The SITE_URL `make demo HOST=... PORT=...` gives the app it serves (read from make's dry run)."""
    recipe = subprocess.run(  # noqa: S603 - make with fixed arguments
        ["make", "--no-print-directory", "-n", "serve", f"HOST={host}", f"PORT={port}"],  # noqa: S607
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SITE_URL"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r'SITE_URL="([^"]+)"', recipe)
    assert found, recipe
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_the_links_in_a_demo_email_open_the_running_app(live_server, owner, smtp_server, settings):
    """`make demo PORT=...` serves the app on that port, and the links in the emails it sends lead there."""
    address = urllib.parse.urlsplit(live_server.url)
    settings.SITE_URL = demo_site_url(host=address.hostname, port=address.port)
    assert live_server.url == settings.SITE_URL
    reminder_type = ReminderType.objects.create(
        name="Rabies", interval=12, interval_unit="months", stages=[0], subject="{pets}", body_text="{items}"
    )
    today = dt.date(2027, 5, 3)
    pet = AnimalFactory(owner=owner, species=species("Dog"))
    reminder_create(animal=pet, reminder_type=reminder_type, due_on=today, by=None)
    sending.execute_run(run_id=ReminderRun.objects.create(trigger="manual", for_date=today).pk)
    (message,) = smtp_server.messages

    in_text = re.search(r"To stop them, open: (\S+)", message.get_body(("plain",)).get_content()).group(1)
    with urllib.request.urlopen(in_text, timeout=30) as page:  # noqa: S310 - the live test server
        assert page.status == 200 and b"Unsubscribe from reminder emails" in page.read()
    one_click = message["List-Unsubscribe"].strip()[1:-1]
    form = urllib.parse.urlencode({"List-Unsubscribe": "One-Click"}).encode()
    with urllib.request.urlopen(one_click, data=form, timeout=30) as answer:  # noqa: S310 - the live test server
        assert answer.status == 200 and answer.read() == b"Unsubscribed.\n"
    owner.refresh_from_db()
    assert owner.reminder_consent is False
