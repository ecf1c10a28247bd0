"""/api/v1/webhook-endpoints and the pages under /exchange/webhooks/: managers only (every role and anonymous
checked), the secret shown once, rotation, the delivery log paged by key, replay."""

import json

import pytest
from standardwebhooks.webhooks import Webhook

from exchange.models import WebhookDelivery, WebhookEndpoint
from exchange.webhooks import delivery, services
from tests.api.conftest import JsonClient
from tests.exchange.webhooks.test_events_and_outbox import make_client
from tests.factories import make_token

API = "/api/v1/webhook-endpoints"
NOT_MANAGERS = ["receptionist", "vet_user", "nobody"]


@pytest.fixture
def api(request):
    def make(role: str | None) -> JsonClient:
        if role is None:
            return JsonClient()
        _, secret = make_token(request.getfixturevalue(role))
        return JsonClient({"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def endpoint(manager, allow_private, receiver):
    made, _ = services.endpoint_create(by=manager, url=receiver.url("/ok"), event_types=["client.created"])
    return made


def api_calls(endpoint_id: int, delivery_id: int):
    body = {"url": "http://127.0.0.1:9/x", "event_types": ["client.created"]}
    return [
        ("get", API, None),
        ("get", f"{API}/event-types", None),
        ("post", API, body),
        ("get", f"{API}/{endpoint_id}", None),
        ("patch", f"{API}/{endpoint_id}", {"description": "x"}),
        ("post", f"{API}/{endpoint_id}/rotate-secret", {"overlap_hours": 1}),
        ("get", f"{API}/{endpoint_id}/deliveries", None),
        ("get", f"{API}/{endpoint_id}/deliveries/{delivery_id}", None),
        ("post", f"{API}/{endpoint_id}/deliveries/{delivery_id}/replay", None),
        ("delete", f"{API}/{endpoint_id}", None),
    ]


def call(client: JsonClient, method: str, url: str, body):
    if method == "get":
        return client.get(url)
    if method == "delete":
        return client.http.delete(url, headers=client.headers)
    return getattr(client, method)(url, body)


@pytest.mark.parametrize("role", [None, *NOT_MANAGERS])
def test_only_managers_reach_the_api(db, api, role, endpoint, manager):
    make_client(manager)
    delivery.deliver_due(seconds=10)
    row = WebhookDelivery.objects.get()
    client = api(role)
    for method, url, body in api_calls(endpoint.pk, row.pk):
        response = call(client, method, url, body)
        assert response.status_code == (401 if role is None else 403), (method, url, response.content)
    assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_a_manager_registers_rotates_reads_the_log_and_replays(db, api, manager, allow_private, receiver):
    client = api("manager")
    created = client.post(API, {"url": receiver.url("/ok"), "event_types": ["client.created"], "description": "CRM"})
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    pk = body["id"]
    shown = client.get(f"{API}/{pk}").json()
    assert "secret" not in shown and secret not in json.dumps(client.get(API).json())
    types = {t["name"] for t in client.get(f"{API}/event-types").json()}
    assert {"appointment.booked", "invoice.finalised", "reminder.sent"} <= types

    make_client(manager)
    delivery.deliver_due(seconds=10)
    Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)

    rotated = client.post(f"{API}/{pk}/rotate-secret", {"overlap_hours": 2})
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, None)
    assert rotated.json()["previous_secret_valid_until"] is not None

    log = client.get(f"{API}/{pk}/deliveries").json()
    assert [d["status"] for d in log["items"]] == ["succeeded"]
    assert log["items"][0]["payload"]["type"] == "client.created"
    row_id = log["items"][0]["id"]
    detail = client.get(f"{API}/{pk}/deliveries/{row_id}").json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [200]

    replay = client.post(f"{API}/{pk}/deliveries/{row_id}/replay")
    assert replay.status_code == 201 and replay.json()["status"] == "pending"
    again = client.post(f"{API}/{pk}/deliveries/{replay.json()['id']}/replay")
    assert again.status_code == 409  # still on its way
    delivery.deliver_due(seconds=10)
    assert len(receiver.requests) == 2
    assert client.get(f"{API}/{pk}/deliveries", {"status": "pending"}).json()["items"] == []

    patched = client.patch(f"{API}/{pk}", {"enabled": False, "event_types": ["animal.created", "client.updated"]})
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert client.http.delete(f"{API}/{pk}", headers=client.headers).status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://10.0.0.1/x", "event_types": ["client.created"]}, "url"),
        ({"url": "https://93.184.215.14/x", "event_types": ["client.renamed"]}, "event_types"),
        ({"url": "https://93.184.215.14/x", "event_types": []}, "event_types"),
        ({"url": "notaurl", "event_types": ["client.created"]}, "url"),
        ({"url": "https://93.184.215.14/x"}, "event_types"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(db, api, settings, body, field):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = api("manager").post(API, body)
    assert response.status_code == 422, response.content
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_unknown_ids_are_404(db, api, endpoint):
    client = api("manager")
    assert client.get(f"{API}/999999").status_code == 404
    assert client.get(f"{API}/{endpoint.pk}/deliveries/999999").status_code == 404
    assert client.post(f"{API}/{endpoint.pk}/deliveries/999999/replay").status_code == 404


def test_the_delivery_log_pages_by_key(db, api, endpoint, manager):
    for i in range(30):
        make_client(manager, first_name=f"P{i}", email=f"p{i}@example.com")
    client = api("manager")
    first = client.get(f"{API}/{endpoint.pk}/deliveries", {"limit": 20}).json()
    second = client.get(f"{API}/{endpoint.pk}/deliveries", {"limit": 20, "cursor": first["next"]}).json()
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 30 and second["next"] is None


# --- Pages --------------------------------------------------------------------------------------------------------

PAGES = ["", "new", "{pk}/", "{pk}/edit"]
POSTS = ["{pk}/rotate", "{pk}/delete", "{pk}/deliveries/{d}/replay"]


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_other_roles_get_403_on_every_page(db, login, request, role, endpoint, manager):
    make_client(manager)
    row = WebhookDelivery.objects.get()
    http = login(request.getfixturevalue(role))
    for page in PAGES:
        assert http.get("/exchange/webhooks/" + page.format(pk=endpoint.pk)).status_code == 403, page
    for page in POSTS:
        url = "/exchange/webhooks/" + page.format(pk=endpoint.pk, d=row.pk)
        assert http.post(url, {"overlap_hours": 1}).status_code == 403, page
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_anonymous_is_sent_to_log_in(db, client, endpoint):
    for page in PAGES:
        response = client.get("/exchange/webhooks/" + page.format(pk=endpoint.pk))
        assert response.status_code == 302 and "/login" in response["Location"], page
    response = client.post(f"/exchange/webhooks/{endpoint.pk}/delete")
    assert response.status_code == 302 and WebhookEndpoint.objects.exists()


def test_a_manager_creates_an_endpoint_and_sees_its_secret_once(db, as_manager, allow_private, receiver):
    form = as_manager.get("/exchange/webhooks/new")
    assert form.status_code == 200 and b"appointment.booked" in form.content
    response = as_manager.post(
        "/exchange/webhooks/new",
        {"url": receiver.url("/ok"), "description": "Pet app", "event_types": ["appointment.booked"], "enabled": "on"},
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.encode() in response.content and b"shown only once" in response.content
    for page in ["", f"{endpoint.pk}/", f"{endpoint.pk}/edit"]:
        shown = as_manager.get(f"/exchange/webhooks/{page}")
        assert shown.status_code == 200 and endpoint.secret.encode() not in shown.content
    rotated = as_manager.post(f"/exchange/webhooks/{endpoint.pk}/rotate", {"overlap_hours": 12})
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert rotated.status_code == 200 and endpoint.secret != old and endpoint.secret.encode() in rotated.content
    assert endpoint.previous_secret == old


def test_the_form_shows_errors_instead_of_failing(db, as_manager, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = as_manager.post("/exchange/webhooks/new", {"url": "http://127.0.0.1/x", "event_types": []})
    assert response.status_code == 422
    assert b"Choose" in response.content or b"required" in response.content
    response = as_manager.post(
        "/exchange/webhooks/new", {"url": "http://127.0.0.1/x", "event_types": ["client.created"]}
    )
    assert response.status_code == 422 and b"public addresses only" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_the_log_page_shows_attempts_and_replays(
    db, as_manager, endpoint, manager, receiver, django_assert_max_num_queries
):
    for i in range(30):
        make_client(manager, first_name=f"P{i}", email=f"p{i}@example.com")
    delivery.deliver_due(seconds=30)
    newest = WebhookDelivery.objects.order_by("-id").first()
    with django_assert_max_num_queries(12):
        page = as_manager.get(f"/exchange/webhooks/{endpoint.pk}/?open={newest.pk}")
    assert page.status_code == 200
    assert page.content.count(b"client.created") >= 25 and b"Older" in page.content
    assert b" ms</td>" in page.content  # the opened message's attempts, with their response times
    older = page.context["page"].next_cursor
    assert as_manager.get(f"/exchange/webhooks/{endpoint.pk}/", {"cursor": older}).status_code == 200
    response = as_manager.post(f"/exchange/webhooks/{endpoint.pk}/deliveries/{newest.pk}/replay")
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(replay_of=newest).count() == 1
    assert as_manager.get(f"/exchange/webhooks/{endpoint.pk}/", {"status": "pending"}).status_code == 200
    assert as_manager.get(f"/exchange/webhooks/{endpoint.pk}/", {"status": "bogus", "cursor": "zzz"}).status_code == 200
