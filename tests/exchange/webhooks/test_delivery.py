"""Delivery to a real local HTTP receiver: signatures, outcomes, backoff, ordering per object, rotation, replays,
and the secrets stored encrypted."""

import datetime as dt
import importlib
import json
import random
import time
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from clients import services as client_services
from exchange.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from exchange.webhooks import delivery, secret_box, services, signing
from tests.exchange.webhooks.test_events_and_outbox import make_client

D = WebhookDelivery


def run():
    return delivery.deliver_due(seconds=30)


def verify(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_a_2xx_answer_delivers_a_message_that_standardwebhooks_verifies(db, manager, endpoint_for, receiver):
    _endpoint, secret = endpoint_for(receiver.url("/ok"), "client.created")
    client = make_client(manager)
    result = run()
    assert (result.succeeded, result.retrying, result.failed) == (1, 0, 0)
    [request] = receiver.requests
    message = verify(secret, request)
    assert message["type"] == "client.created" and message["data"]["id"] == client.pk
    row = D.objects.get()
    assert request.headers["webhook-id"] == row.msg_id
    assert request.headers["content-type"] == "application/json"
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 1, 200)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.response_ms is not None
    # A different secret, or a changed body, does not verify.
    other, _ = endpoint_for(receiver.url("/ok"), "client.created")
    with pytest.raises(WebhookVerificationError):
        verify(other.secret, request)
    request.body = request.body.replace(b"client.created", b"client.updated")
    with pytest.raises(WebhookVerificationError):
        verify(secret, request)


def test_a_5xx_is_retried_later_with_backoff_then_delivered(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url("/flaky"), "client.created")
    make_client(manager)
    before = timezone.now()
    assert run().retrying == 1
    row = D.objects.get()
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("pending", 1, 500, "HTTP 500")
    wait = (row.next_attempt_at - before).total_seconds()
    assert 0.75 * 30 <= wait <= 1.25 * 30 + 5  # the first retry: 30 s with jitter
    assert run().attempted == 0  # not before its time
    D.objects.update(next_attempt_at=timezone.now())
    receiver.flaky_ok.set()
    assert run().succeeded == 1
    assert [r.path for r in receiver.requests] == ["/flaky", "/flaky"]
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert list(WebhookAttempt.objects.order_by("id").values_list("status_code", flat=True)) == [500, 200]


def test_a_receiver_that_does_not_answer_in_time_is_retried(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url("/slow"), "client.created")
    receiver.slow_seconds = 3  # the sender waits 1 s (allow_private sets WEBHOOK_TIMEOUT_SECONDS=1)
    make_client(manager)
    assert run().retrying == 1
    row = D.objects.get()
    assert row.status == "pending" and row.last_status_code is None
    assert "No answer within 1 s" in row.last_error
    assert WebhookAttempt.objects.get().response_ms < 2900


def test_410_gone_fails_the_message_and_disables_the_endpoint(db, manager, endpoint_for, receiver):
    endpoint, _ = endpoint_for(receiver.url("/gone"), "client.created", "client.updated")
    client = make_client(manager)
    client_services.client_update(client=client, by=manager, data={"town": "York"})
    result = run()
    assert (result.failed, result.succeeded) == (1, 0)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    first, second = D.objects.order_by("id")
    assert first.status == "failed" and "410" in first.last_error
    assert second.status == "pending" and second.attempts == 0  # not sent to a gone receiver
    assert len(receiver.requests) == 1
    # Nothing new is written for a disabled endpoint.
    client_services.client_update(client=client, by=manager, data={"town": "Hull"})
    assert D.objects.count() == 2


def test_retries_back_off_exponentially_with_jitter_for_about_three_days(settings):
    rng = random.Random(7)
    delays = [delivery.retry_delay(n, rng=rng).total_seconds() for n in range(1, 40)]
    for n, seconds in enumerate(delays, start=1):
        nominal = min(30 * 2 ** (n - 1), 6 * 3600)
        assert 0.75 * nominal <= seconds <= 1.25 * nominal
    assert len({round(d) for d in delays[-10:]}) > 1  # jitter: capped delays still differ
    # How many attempts fit in the three days, and when the last one is.
    elapsed, attempts = 0.0, 1
    for seconds in delays:
        if elapsed + seconds > settings.WEBHOOK_GIVE_UP_SECONDS:
            break
        elapsed += seconds
        attempts += 1
    assert 15 <= attempts <= 25
    assert 2.5 * 86400 <= elapsed <= 3 * 86400


def test_a_message_is_given_up_three_days_after_its_event(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url("/fail"), "client.created")
    make_client(manager)
    D.objects.update(created_at=timezone.now() - dt.timedelta(days=3) + dt.timedelta(seconds=10))
    assert run().failed == 1
    row = D.objects.get()
    assert row.status == "failed" and row.last_error.startswith("Gave up: HTTP 500")


def test_messages_about_one_object_keep_their_order(db, manager, endpoint_for, receiver):
    """A later message about the same object waits while an earlier one is retried; other objects go on."""
    endpoint, secret = endpoint_for(receiver.url("/flaky"), "client.created", "client.updated")
    first = make_client(manager)
    client_services.client_update(client=first, by=manager, data={"town": "York"})
    client_services.client_update(client=first, by=manager, data={"town": "Hull"})
    run()  # the creation fails (500); the two updates wait behind it
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["client.created"]
    endpoint.url = receiver.url("/ok")
    endpoint.save()
    second = make_client(manager, first_name="Sam", email="sam@example.com")
    run()  # the other client's message is not held up by the first client's retry
    assert json.loads(receiver.requests[-1].body)["data"]["id"] == second.pk
    D.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    run()
    first_client = [
        (json.loads(r.body)["type"], r.headers["webhook-id"])
        for r in receiver.requests
        if json.loads(r.body)["data"]["id"] == first.pk
    ]
    expected = list(
        D.objects.filter(object_key=f"clients.client:{first.pk}").order_by("id").values_list("event_type", "msg_id")
    )
    assert [t for t, _ in first_client] == ["client.created", "client.created", "client.updated", "client.updated"]
    assert first_client[1:] == expected
    for request in receiver.requests:
        verify(secret, request)


def test_a_later_message_waits_for_an_earlier_one_being_sent(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url("/ok"), "client.created", "client.updated")
    client = make_client(manager)
    client_services.client_update(client=client, by=manager, data={"town": "York"})
    _token, batch = delivery.claim_batch(size=10)
    assert [d.event_type for d in batch] == ["client.created"]  # the update waits behind it
    assert delivery.claim_batch(size=10)[1] == []  # and no second worker may take either


def test_during_a_rotation_both_secrets_sign(db, manager, endpoint_for, receiver):
    endpoint, old = endpoint_for(receiver.url("/ok"), "client.created")
    endpoint, new = services.endpoint_rotate_secret(endpoint=endpoint, by=manager, overlap_hours=24)
    assert new != old and new.startswith("whsec_")
    make_client(manager)
    run()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(old, request)  # a receiver still on the old secret
    verify(new, request)  # and one already on the new
    endpoint, newest = services.endpoint_rotate_secret(endpoint=endpoint, by=manager, overlap_hours=0)
    make_client(manager, first_name="Ann", email="ann@example.com")
    run()
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    verify(newest, request)
    with pytest.raises(WebhookVerificationError):
        verify(new, request)


def test_replay_sends_the_same_message_again(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url("/ok"), "client.created")
    make_client(manager)
    run()
    original = D.objects.get()
    replay = services.delivery_replay(delivery=original, by=manager)
    assert replay.replay_of == original and replay.status == "pending"
    run()
    first, again = receiver.requests
    assert first.body == again.body and first.headers["webhook-id"] == again.headers["webhook-id"]


def test_a_replay_keeps_the_webhook_id_and_is_signed_afresh_with_the_current_secret(
    db, manager, endpoint_for, receiver, monkeypatch
):
    """A replay is the same message (same webhook-id and body, so a receiver that has it can drop it), signed when
    it is sent: a fresh webhook-timestamp (a receiver refuses stale ones) and the secrets valid then."""
    endpoint, old = endpoint_for(receiver.url("/ok"), "client.created")
    make_client(manager)
    ten_minutes_ago = time.time() - 600
    monkeypatch.setattr(delivery, "time", SimpleNamespace(time=lambda: ten_minutes_ago, monotonic=time.monotonic))
    run()  # the original went out ten minutes ago
    monkeypatch.undo()
    original = D.objects.get()
    endpoint, new = services.endpoint_rotate_secret(endpoint=endpoint, by=manager, overlap_hours=0)
    services.delivery_replay(delivery=original, by=manager)
    run()
    first, again = receiver.requests
    assert again.headers["webhook-id"] == first.headers["webhook-id"] == original.msg_id
    assert again.body == first.body
    assert int(again.headers["webhook-timestamp"]) >= int(first.headers["webhook-timestamp"]) + 600
    verify(new, again)  # within the receiver's 5 minutes, under the secret valid now
    with pytest.raises(WebhookVerificationError):
        verify(old, again)


def test_secrets_are_stored_encrypted_and_open_only_with_the_key(db, manager, endpoint_for, receiver, settings):
    endpoint, secret = endpoint_for(receiver.url("/ok"), "client.created")
    stored = WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("secret_encrypted", flat=True).get()
    assert stored.startswith("fernet$") and secret not in stored and secret[6:] not in stored
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    # Two seals of one secret differ (a fresh IV each), and an altered one is refused, never misread.
    assert secret_box.seal(secret) != secret_box.seal(secret)
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.unseal(tampered)

    # A new SECRET_KEY with the old one as a fallback still opens it...
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "another key " * 5, [old_key]
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    # ...without it nothing is sent: the attempt records why, and the message waits for a retry.
    settings.SECRET_KEY_FALLBACKS = []
    make_client(manager)
    run()
    assert receiver.requests == []
    row = D.objects.get()
    assert row.status == D.Status.PENDING and "SECRET_KEY" in row.last_error and row.attempts == 1
    # Rotating seals a new secret under the current key, and delivery resumes.
    _endpoint, newest = services.endpoint_rotate_secret(endpoint=endpoint, by=manager, overlap_hours=0)
    D.objects.update(next_attempt_at=timezone.now())
    run()
    [request] = receiver.requests
    verify(newest, request)


def test_the_migration_seals_the_secrets_already_stored(db, manager, endpoint_for, receiver):
    migration = importlib.import_module("exchange.migrations.0009_webhook_secrets_encrypted")
    endpoint, _ = endpoint_for(receiver.url("/ok"), "client.created")
    plain = signing.generate_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=plain, previous_secret_encrypted="")
    editor = SimpleNamespace(connection=connection)
    migration.seal_stored_secrets(django_apps, editor)
    sealed = WebhookEndpoint.objects.values_list("secret_encrypted", flat=True).get(pk=endpoint.pk)
    assert secret_box.is_sealed(sealed) and secret_box.unseal(sealed) == plain
    migration.seal_stored_secrets(django_apps, editor)  # a second run leaves sealed values alone
    assert WebhookEndpoint.objects.values_list("secret_encrypted", flat=True).get(pk=endpoint.pk) == sealed
    migration.open_stored_secrets(django_apps, editor)  # and the way back opens them
    assert WebhookEndpoint.objects.values_list("secret_encrypted", flat=True).get(pk=endpoint.pk) == plain
