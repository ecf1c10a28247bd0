"""Staff management for leavers and forgotten passwords: pages and /api/v1/staff, managers only, audited."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tests.api.conftest import JsonClient
from tests.factories import UserFactory, make_token
from vetpms import services
from vetpms.errors import DomainError
from vetpms.models import AuditEntry, Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-new-long-passphrase-42"
STAFF = "/api/v1/staff"


def api(user) -> JsonClient:
    _, secret = make_token(user)
    return JsonClient({"Authorization": f"Bearer {secret}"})


def signed_in(user) -> HttpClient:
    http = HttpClient()
    assert http.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    return http


def actions(user) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=str(user.pk), object_repr=str(user)).values_list("action", flat=True)
    )


# --- Leavers ---------------------------------------------------------------------------------------------------


def test_deactivating_a_leaver_ends_their_session_and_tokens_at_once(as_manager, manager, receptionist):
    browser = signed_in(receptionist)
    assert browser.get(reverse("clients:list")).status_code == 200
    _, secret = make_token(receptionist)
    token_client = JsonClient({"Authorization": f"Bearer {secret}"})
    assert token_client.get("/api/v1/me").status_code == 200

    response = as_manager.post(reverse("staff_active", args=[receptionist.pk]), {"active": "0"}, follow=True)
    assert "signed out everywhere" in response.content.decode()

    assert browser.get(reverse("clients:list")).status_code == 302  # back to the sign-in page
    assert token_client.get("/api/v1/me").status_code == 401
    assert HttpClient().post(reverse("login"), {"username": "rita", "password": PASSWORD}).status_code == 200
    receptionist.refresh_from_db()
    assert not receptionist.is_active and not receptionist.api_tokens.live().exists()
    entry = AuditEntry.objects.get(action="deactivate")
    assert entry.actor == manager and entry.changes == {"is_active": [True, False]} and "1 API token" in entry.note

    as_manager.post(reverse("staff_active", args=[receptionist.pk]), {"active": "1"})
    assert signed_in(receptionist).get(reverse("clients:list")).status_code == 200
    assert token_client.get("/api/v1/me").status_code == 401  # a revoked token stays revoked


def test_the_last_active_manager_cannot_deactivate_themselves_or_drop_the_role(manager, as_manager):
    with pytest.raises(DomainError, match="only active manager"):
        services.staff_deactivate(user=manager, by=manager)
    with pytest.raises(DomainError, match="only active manager"):
        services.staff_set_role(user=manager, role=Role.VET, by=manager)
    response = as_manager.post(reverse("staff_active", args=[manager.pk]), {"active": "0"}, follow=True)
    assert "only active manager" in response.content.decode()
    response = as_manager.post(reverse("staff_role", args=[manager.pk]), {"role": "Vet"}, follow=True)
    assert "only active manager" in response.content.decode()
    assert api(manager).post(f"{STAFF}/{manager.pk}/deactivate").status_code == 409
    assert api(manager).patch(f"{STAFF}/{manager.pk}", {"role": "Receptionist"}).status_code == 409
    manager.refresh_from_db()
    assert manager.is_active and manager.roles == ["Manager"]


def test_with_a_second_manager_a_manager_may_step_down(manager):
    other = UserFactory(username="otto", role=Role.MANAGER)
    services.staff_set_role(user=manager, role=Role.VET, by=manager)
    assert manager.roles == ["Vet"]
    with pytest.raises(DomainError):
        services.staff_deactivate(user=other, by=other)  # now the last one


# --- Editing and passwords -------------------------------------------------------------------------------------


def test_a_manager_edits_a_member_of_staff_audited(as_manager, receptionist):
    url = reverse("staff_edit", args=[receptionist.pk])
    assert as_manager.get(url).status_code == 200
    data = {"first_name": "Rita", "last_name": "Renamed", "email": "rita@example.org"}
    assert as_manager.post(url, data).status_code == 302
    receptionist.refresh_from_db()
    assert (receptionist.last_name, receptionist.email) == ("Renamed", "rita@example.org")
    assert AuditEntry.objects.get(action="update").changes["last_name"] == ["Reception", "Renamed"]
    assert "error" in as_manager.post(url, data | {"email": "not-an-email"}).content.decode().lower()


def test_a_manager_resets_a_password_the_old_one_and_its_sessions_stop(as_manager, receptionist):
    browser = signed_in(receptionist)
    url = reverse("staff_password", args=[receptionist.pk])
    assert "at least" in as_manager.post(url, {"password": "short"}).content.decode().lower()
    assert as_manager.post(url, {"password": NEW_PASSWORD}).status_code == 302
    assert browser.get(reverse("clients:list")).status_code == 302
    assert HttpClient().post(reverse("login"), {"username": "rita", "password": NEW_PASSWORD}).status_code == 302
    assert AuditEntry.objects.filter(action="password reset").count() == 1
    assert NEW_PASSWORD not in str(list(AuditEntry.objects.values_list("changes", "note")))


@pytest.mark.parametrize("role", ["receptionist", "vet_user", "manager", "nobody"])
def test_every_user_changes_their_own_password(request, role):
    user = request.getfixturevalue(role)
    browser = signed_in(user)
    page = browser.get("/accounts/password_change/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    wrong = browser.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    done = browser.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert browser.get("/accounts/password_change/").status_code == 200  # this session stays signed in
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.get(action="password changed").actor == user


def test_the_password_change_page_needs_a_login(client):
    response = client.get("/accounts/password_change/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- Who may -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet_user", 403), ("nobody", 403)])
def test_staff_management_is_for_managers_only(request, role, status, manager):
    user = request.getfixturevalue(role)
    http = HttpClient()
    http.force_login(user)
    for url in (reverse("staff_edit", args=[manager.pk]), reverse("staff_password", args=[manager.pk])):
        assert http.get(url).status_code == status
    assert http.post(reverse("staff_active", args=[manager.pk]), {"active": "0"}).status_code == status
    client = api(user)
    assert client.get(STAFF).status_code == status
    assert client.get(f"{STAFF}/{manager.pk}").status_code == status
    assert client.post(
        STAFF, {"username": "x", "first_name": "X", "last_name": "Y", "role": "Manager"}
    ).status_code == (status)
    assert client.patch(f"{STAFF}/{manager.pk}", {"role": "Vet"}).status_code == status
    assert client.post(f"{STAFF}/{manager.pk}/deactivate").status_code == status
    assert client.post(f"{STAFF}/{manager.pk}/password", {"password": NEW_PASSWORD}).status_code == status
    manager.refresh_from_db()
    assert manager.is_active and manager.roles == ["Manager"]


def test_the_staff_api_lists_creates_changes_deactivates_and_resets(manager, receptionist):
    client = api(manager)
    listed = client.get(STAFF).json()
    roles = {m["username"]: m["role"] for m in listed["items"]}
    assert (roles["rita"], roles["mona"], listed["count"]) == ("Receptionist", "Manager", 2)
    created = client.post(
        STAFF,
        {"username": "nina", "first_name": "Nina", "last_name": "Nurse", "role": "Receptionist"},
    )
    assert created.status_code == 201, created.content
    nina = created.json()
    assert nina["role"] == "Receptionist" and nina["is_active"] is True
    assert (
        client.post(STAFF, {"username": "nina", "first_name": "N", "last_name": "N", "role": "Vet"}).status_code == 409
    )
    changed = client.patch(f"{STAFF}/{nina['id']}", {"last_name": "Newname", "role": "Vet"})
    assert changed.status_code == 200 and changed.json()["role"] == "Vet" and changed.json()["last_name"] == "Newname"
    assert client.post(f"{STAFF}/{nina['id']}/password", {"password": "short"}).status_code == 422
    assert client.post(f"{STAFF}/{nina['id']}/password", {"password": NEW_PASSWORD}).status_code == 204
    gone = client.post(f"{STAFF}/{receptionist.pk}/deactivate")
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    assert client.post(f"{STAFF}/{receptionist.pk}/deactivate").status_code == 409
    assert client.post(f"{STAFF}/{receptionist.pk}/reactivate").json()["is_active"] is True
    assert client.get(f"{STAFF}/999999").status_code == 404
    assert client.patch(f"{STAFF}/{nina['id']}", {"owner": True}).status_code == 422
