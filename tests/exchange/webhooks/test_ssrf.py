"""The SSRF guard: private, loopback, link-local and reserved addresses are refused at registration and again at
each delivery, and a delivery connects to the address that was checked (no DNS rebinding, no redirects)."""

import socket

import pytest
from django.core.exceptions import ValidationError

from exchange.models import WebhookDelivery
from exchange.webhooks import delivery, net, services
from tests.exchange.webhooks.test_events_and_outbox import make_client

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://240.0.0.1/hook",
    "http://224.0.0.1/hook",
]


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("url", REFUSED)
def test_private_and_reserved_addresses_are_refused_at_registration(db, manager, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(by=manager, url=url, event_types=["client.created"])
    assert "url" in refused.value.message_dict


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "https://user:pw@example.com/x", "javascript:alert(1)", "http:///x", "http://[::1"]
)
def test_malformed_urls_are_refused(db, manager, url):
    with pytest.raises(ValidationError):
        services.endpoint_create(by=manager, url=url, event_types=["client.created"])


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14", "10.0.0.7"]})
    with pytest.raises(net.UnsafeUrl, match=r"10\.0\.0\.7"):
        net.resolve("https://hooks.example.com/in")
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14"]})
    assert net.resolve("https://hooks.example.com/in").address == "93.184.215.14"


def test_the_setting_allows_private_addresses(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert net.resolve("http://127.0.0.1:9/x").address == "127.0.0.1"


def test_a_name_that_turns_private_after_registration_is_refused_at_delivery(db, manager, settings, monkeypatch):
    """DNS rebinding: public when registered, loopback when delivering. Nothing is sent; the attempt says why."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14"]})
    services.endpoint_create(by=manager, url="http://hooks.example.com/in", event_types=["client.created"])
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0)
    make_client(manager)
    assert delivery.deliver_due(seconds=10).retrying == 1
    row = WebhookDelivery.objects.get()
    assert row.status == "pending" and row.last_error.startswith("Refused:") and "127.0.0.1" in row.last_error
    assert connections == []


def test_delivery_connects_to_the_checked_address_and_sends_the_name_as_host(
    db, manager, allow_private, receiver, monkeypatch
):
    fake_dns(monkeypatch, {"receiver.example.com": ["127.0.0.1"]})
    services.endpoint_create(
        by=manager, url=f"http://receiver.example.com:{receiver.port}/ok", event_types=["client.created"]
    )
    make_client(manager)
    assert delivery.deliver_due(seconds=10).succeeded == 1
    assert receiver.requests[0].headers["host"] == f"receiver.example.com:{receiver.port}"


def test_redirects_are_not_followed(db, manager, allow_private, receiver):
    services.endpoint_create(by=manager, url=receiver.url("/redirect"), event_types=["client.created"])
    make_client(manager)
    assert delivery.deliver_due(seconds=10).retrying == 1
    assert [r.path for r in receiver.requests] == ["/redirect"]  # the Location was not fetched
    assert WebhookDelivery.objects.get().last_error == "HTTP 307"
