"""Who may call the API: bearer tokens, sessions with CSRF, lockout after bad tokens."""

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from tests.api.conftest import JsonClient
from tests.factories import ClientFactory, make_token
from vetpms.models import ApiToken
from vetpms.services import api_token_revoke

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
CLIENTS = "/api/v1/clients"


def with_token(secret: str, **kwargs) -> JsonClient:
    return JsonClient({"Authorization": f"Bearer {secret}"}, **kwargs)


def test_good_token_acts_as_its_user_with_that_role(receptionist):
    _, secret = make_token(receptionist)
    response = with_token(secret).get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "rita"
    assert body["roles"] == ["Receptionist"]
    assert body["authenticated_by"] == "token"
    assert "clients.add_client" in body["permissions"]
    assert "vetpms.manage_api_tokens" not in body["permissions"]


def test_token_records_when_it_was_last_used(receptionist):
    token, secret = make_token(receptionist)
    assert token.last_used_at is None
    with_token(secret).get(ME)
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer vpms_not-a-real-token",
        "Bearer ",
        "Bearer " + "vpms_" + "x" * 300,
        "Basic cml0YTpwYXNzd29yZA==",
        "vpms_missing-the-scheme",
    ],
)
def test_missing_or_wrong_credentials_are_401_json(receptionist, header):
    client = JsonClient({"Authorization": header} if header else {})
    for response in (client.get(CLIENTS), client.post(CLIENTS, {"last_name": "Jones"})):
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/json")
        assert "Authentication required" in response.json()["detail"]


def test_revoked_token_is_401(receptionist, manager):
    token, secret = make_token(receptionist)
    assert with_token(secret).get(ME).status_code == 200
    api_token_revoke(token=token, by=manager)
    assert with_token(secret).get(ME).status_code == 401


def test_token_of_a_deactivated_user_is_401(receptionist):
    _, secret = make_token(receptionist)
    receptionist.is_active = False
    receptionist.save(update_fields=["is_active"])
    assert with_token(secret).get(ME).status_code == 401


def test_only_a_hash_of_the_token_is_stored(receptionist):
    token, secret = make_token(receptionist)
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.key_hash, stored.key_prefix, stored.name)
    assert stored.key_hash == ApiToken.hash_secret(secret)


def test_a_user_without_a_role_is_authenticated_but_may_do_nothing(nobody, api_as):
    api = api_as(nobody)
    assert api.get(ME).json()["permissions"] == []
    assert api.get(CLIENTS).status_code == 403


# --- lockout ---------------------------------------------------------------------------------------------------


def test_a_repeated_bad_token_is_locked_out_but_a_valid_token_from_the_same_address_is_not(receptionist):
    _, good = make_token(receptionist)
    bad = with_token("vpms_guessed-token")
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [bad.get(ME).status_code for _ in range(limit)]
    assert statuses[: limit - 1] == [401] * (limit - 1)
    assert statuses[-1] == 429
    response = bad.get(ME)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "Too many failed" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0

    # Failures count per presented token: the same address keeps working with a valid token ...
    assert with_token(good).get(ME).status_code == 200
    # ... and another bad token has its own counter.
    assert with_token("vpms_another-guess").get(ME).status_code == 401


def test_bad_tokens_from_behind_the_proxy_do_not_lock_out_other_clients_of_the_proxy(receptionist, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    _, good = make_token(receptionist)
    behind_proxy = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for index in range(settings.AXES_FAILURE_LIMIT * 2):
        with_token(f"vpms_guess-{index}").get(ME, **behind_proxy)
        with_token("vpms_the-same-guess").get(ME, **behind_proxy)
    assert with_token(good).get(ME, **behind_proxy).status_code == 200
    assert with_token(good).get(ME, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


def test_a_locked_bad_token_is_locked_only_from_the_address_that_sent_it(receptionist):
    bad = with_token("vpms_guessed-token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        bad.get(ME)
    assert bad.get(ME).status_code == 429
    assert bad.get(ME, REMOTE_ADDR="198.51.100.7").status_code == 401


def test_the_token_itself_is_never_stored_by_the_lockout(receptionist):
    from axes.models import AccessAttempt, AccessFailureLog

    for _ in range(2):
        with_token("vpms_secret-looking-guess").get(ME)
    names = list(AccessAttempt.objects.values_list("username", flat=True))
    names += list(AccessFailureLog.objects.values_list("username", flat=True))
    assert names and all(name.startswith("api-token:") and "secret-looking" not in name for name in names)


def test_lockout_answers_json_for_writes_too(receptionist):
    bad = with_token("vpms_guessed-token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        bad.post(CLIENTS, {"last_name": "Jones"})
    response = bad.post(CLIENTS, {"last_name": "Jones"})
    assert response.status_code == 429
    assert "detail" in response.json()


def test_good_tokens_do_not_count_towards_the_lockout(receptionist):
    _, good = make_token(receptionist)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        assert with_token(good).get(ME).status_code == 200


# --- session + CSRF --------------------------------------------------------------------------------------------

CSRF_SECRET = "a" * 32  # an unmasked CSRF secret, valid in cookie and header alike


def csrf_session(user) -> HttpClient:
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(user)
    return http


def test_session_can_read_without_csrf_token(receptionist):
    response = JsonClient(http=csrf_session(receptionist)).get(ME)
    assert response.status_code == 200
    assert response.json()["authenticated_by"] == "session"


def test_session_write_without_csrf_token_is_refused_403_json(receptionist):
    response = JsonClient(http=csrf_session(receptionist)).post(CLIENTS, {"last_name": "Jones"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_session_patch_without_csrf_token_is_refused(receptionist):
    client = ClientFactory(last_name="Smith")
    response = JsonClient(http=csrf_session(receptionist)).patch(f"{CLIENTS}/{client.pk}", {"last_name": "Jones"})
    assert response.status_code == 403
    client.refresh_from_db()
    assert client.last_name == "Smith"


def test_session_write_with_csrf_token_succeeds(receptionist):
    http = csrf_session(receptionist)
    http.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    api = JsonClient({"X-CSRFToken": CSRF_SECRET}, http=http)
    response = api.post(CLIENTS, {"last_name": "Jones"})
    assert response.status_code == 201, response.content


def test_session_write_with_wrong_csrf_token_is_refused(receptionist):
    http = csrf_session(receptionist)
    http.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    response = JsonClient({"X-CSRFToken": "b" * 32}, http=http).post(CLIENTS, {"last_name": "Jones"})
    assert response.status_code == 403


def test_token_writes_need_no_csrf_token(receptionist):
    _, secret = make_token(receptionist)
    http = HttpClient(enforce_csrf_checks=True)
    assert with_token(secret, http=http).post(CLIENTS, {"last_name": "Jones"}).status_code == 201


def test_anonymous_write_is_401_not_a_csrf_403():
    response = JsonClient(http=HttpClient(enforce_csrf_checks=True)).post(CLIENTS, {"last_name": "Jones"})
    assert response.status_code == 401


def test_session_of_a_deactivated_user_is_401(receptionist):
    http = csrf_session(receptionist)
    receptionist.is_active = False
    receptionist.save(update_fields=["is_active"])
    assert JsonClient(http=http).get(ME).status_code == 401


# --- token management (managers) -------------------------------------------------------------------------------


def test_manager_creates_a_token_shown_once_that_then_works(manager, receptionist, api_as):
    response = api_as(manager).post("/api/v1/tokens", {"user": receptionist.pk, "name": "lab integration"})
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith(ApiToken.PREFIX)
    assert body["user_id"] == receptionist.pk
    assert with_token(body["secret"]).get(ME).json()["username"] == receptionist.username

    listed = api_as(manager).get("/api/v1/tokens").json()
    assert body["id"] in [t["id"] for t in listed]
    assert all("secret" not in t for t in listed)


def test_manager_revokes_a_token_and_it_stops_working(manager, receptionist, api_as):
    token, secret = make_token(receptionist)
    response = api_as(manager).post(f"/api/v1/tokens/{token.pk}/revoke")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert with_token(secret).get(ME).status_code == 401
    assert api_as(manager).post(f"/api/v1/tokens/{token.pk}/revoke").status_code == 409


@pytest.mark.parametrize("role", ["receptionist", "vet_user", "nobody"])
def test_only_managers_manage_tokens(role, api_for, receptionist):
    api = api_for(role)
    token, _ = make_token(receptionist)
    assert api.get("/api/v1/tokens").status_code == 403
    assert api.post("/api/v1/tokens", {"user": receptionist.pk, "name": "x"}).status_code == 403
    assert api.post(f"/api/v1/tokens/{token.pk}/revoke").status_code == 403


def test_token_for_an_unknown_user_is_422_on_user(manager, api_as):
    response = api_as(manager).post("/api/v1/tokens", {"user": 999999, "name": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "user"


def test_a_change_made_through_a_token_records_the_user_and_the_token_with_its_creator(receptionist, manager):
    from vetpms.models import AuditEntry
    from vetpms.services import api_token_create

    token, secret = api_token_create(user=receptionist, name="lab integration", by=manager)
    client = ClientFactory(last_name="Smith")
    response = with_token(secret).patch(f"{CLIENTS}/{client.pk}", {"last_name": "Smythe"})
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="update", object_id=str(client.pk))
    assert entry.actor == receptionist and entry.actor_label == "Rita Reception"
    assert entry.via_label == f"API token “lab integration” ({token.key_prefix}…), created by Mona Manager"


def test_a_change_made_in_person_records_no_token(receptionist):
    from clients.services import client_update
    from vetpms.models import AuditEntry

    client = ClientFactory(last_name="Smith")
    client_update(client=client, by=receptionist, data={"last_name": "Smythe"})
    entry = AuditEntry.objects.get(action="update", object_id=str(client.pk))
    assert entry.actor == receptionist and entry.via_label == ""
