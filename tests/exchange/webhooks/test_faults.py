"""A worker process killed (SIGKILL) while a message is in the receiver's hands, then a new worker: every event
arrives at least once, each object's messages arrive in order, every signature verifies.

The workers are real processes (``manage.py webhooks_deliver``, the code the django-q2 task runs) on the test
database, posting to the real receiver in this process; only the one message the kill caught is received twice
(with the same webhook-id, so a receiver can drop it)."""

import json
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from clients import services as client_services
from exchange.models import WebhookAttempt, WebhookDelivery
from exchange.webhooks import services
from tests.factories import UserFactory
from tests.reference_data import ensure_reference_data
from tests.reminders.workers import worker_env
from vetpms.models import Role

ROOT = Path(__file__).resolve().parents[3]
CLIENTS = 8
UPDATES = 4  # per client, after its creation: 40 messages about 8 objects


def start_worker(**extra: str) -> subprocess.Popen:
    env = worker_env(0, WEBHOOKS_ALLOW_PRIVATE="1", WEBHOOK_TIMEOUT_SECONDS="30", **extra)
    return subprocess.Popen(
        [sys.executable, "manage.py", "webhooks_deliver", "--seconds", "120"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill_at", [1, 17])
def test_a_worker_killed_during_delivery_loses_nothing_and_keeps_the_order(receiver, settings, kill_at):
    ensure_reference_data()
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    _endpoint, secret = services.endpoint_create(
        by=manager, url=receiver.url("/ok"), event_types=["client.created", "client.updated"]
    )
    expected: dict[int, list[str]] = defaultdict(list)  # client id -> its messages' ids in event order
    for i in range(CLIENTS):
        client = client_services.client_create(
            by=manager, confirm_new=True, first_name=f"K{i}", last_name="Kill", email=f"k{i}@example.com"
        )
        for n in range(UPDATES):
            client_services.client_update(client=client, by=manager, data={"town": f"Town {n}"})
    for row in WebhookDelivery.objects.order_by("id"):
        expected[int(row.object_key.rsplit(":", 1)[1])].append(row.msg_id)
    total = CLIENTS * (1 + UPDATES)
    assert sum(map(len, expected.values())) == total

    receiver.hold_at = kill_at
    first = start_worker(WEBHOOK_BATCH_SIZE="5")
    try:
        assert receiver.holding.wait(120), first.communicate(timeout=5)
        os.kill(first.pid, signal.SIGKILL)  # the kill_at-th message is in the receiver's hands
        first.wait(30)
    finally:
        receiver.release.set()
    assert first.returncode == -signal.SIGKILL
    assert WebhookDelivery.objects.filter(status="sending").exists()  # the dead worker's claims

    second = start_worker(WEBHOOK_LEASE_SECONDS="0")  # we know the first is dead: its lease may end at once
    _out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert WebhookAttempt.objects.filter(error__startswith="The worker stopped").exists()

    received: dict[int, list[str]] = defaultdict(list)
    for request in receiver.requests:
        message = Webhook(secret).verify(request.body, request.headers)  # raises if a signature fails
        assert request.headers["webhook-id"] == request.headers["webhook-id"].strip()
        received[message["data"]["id"]].append(request.headers["webhook-id"])
    # Every message at least once; only the one the kill caught twice.
    counts = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert set(counts) == {m for ids in expected.values() for m in ids}
    assert sorted(counts.values())[-1] == 2 and sum(counts.values()) == total + 1
    # In order per object: with the one repeat folded, each client's messages arrive as they happened.
    for client_id, ids in expected.items():
        folded = [m for i, m in enumerate(received[client_id]) if i == 0 or m != received[client_id][i - 1]]
        assert folded == ids
    assert json.loads(receiver.requests[0].body)["type"] == "client.created"
