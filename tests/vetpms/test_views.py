"""Home, search, staff, API tokens, audit pages; the layout, the 403/404 pages, sign in and out."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from animals.services import animal_update
from tests.factories import AnimalFactory, ClientFactory, UserFactory, breed, species
from vetpms.models import ApiToken, AuditEntry, Role, User

pytestmark = pytest.mark.django_db


# --- Layout ---------------------------------------------------------------------------------------------------


def test_layout_serves_assets_locally_and_has_no_inline_script_or_style(as_receptionist):
    body = as_receptionist.get(reverse("home")).content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in body
    assert "/static/bootstrap/js/bootstrap.bundle.min.js" in body
    assert "/static/django_htmx/htmx" in body
    assert "includeIndicatorStyles" in body
    assert "hx-headers" in body and "X-CSRFToken" in body
    assert "http://" not in body.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in body
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None  # every script has a src
    assert " style=" not in body and "<style" not in body
    assert re.search(r"\son[a-z]+=", body) is None  # no onclick & co.


def test_footer_shows_version_and_practice(as_receptionist, settings):
    from vetpms import __version__

    body = as_receptionist.get(reverse("home")).content.decode()
    assert f"VetPMS {__version__}" in body
    assert settings.PRACTICE["name"] in body


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("receptionist", ["clients:list", "clients:create"], ["animals:species_list", "staff_list", "token_list"]),
        ("vet", ["clients:list"], ["clients:create", "animals:species_list", "staff_list", "token_list"]),
        ("manager", ["clients:list", "clients:create", "animals:species_list", "staff_list", "token_list"], []),
        ("nobody", [], ["clients:list", "clients:create", "animals:species_list", "staff_list", "search"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_use(users, login, role, visible, hidden):
    body = login(users[role]).get(reverse("home")).content.decode()
    nav = body[body.index("<header") : body.index("</header>")]
    for name in visible:
        assert f'href="{reverse(name)}"' in nav, name
    for name in hidden:
        assert f'"{reverse(name)}"' not in nav, name


def test_logout_is_a_post_form_in_the_navigation(as_receptionist):
    body = as_receptionist.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}"' in body


def test_signing_out_needs_post_and_lands_on_login_with_a_message(as_receptionist):
    assert as_receptionist.get(reverse("logout")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = as_receptionist.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You are signed out." in response.content.decode()
    assert as_receptionist.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_login_page_renders_and_signs_in(client, receptionist):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and "Sign in" in page.content.decode()
    response = client.post(reverse("login"), {"username": "rita", "password": "correct-horse-battery"})
    assert response.status_code == HTTPStatus.FOUND and response.url == reverse("home")


def test_wrong_password_shows_an_error_not_which_part_was_wrong(client, receptionist):
    response = client.post(reverse("login"), {"username": "rita", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_repeated_failures_show_the_locked_out_page(client, receptionist, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "rita", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(
        reverse("login"), {"username": "rita", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed sign-in attempts" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/", "/search/?q=rex", "/staff/", "/staff/new/", "/staff/tokens/", "/staff/tokens/new/", "/audit/client/1/"],
)
def test_anonymous_visitor_is_redirected_to_login(client, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("login") + "?next=")


def test_home_for_a_user_without_role_explains_what_to_do(login, nobody):
    body = login(nobody).get(reverse("home")).content.decode()
    assert "no role yet" in body


def test_forbidden_page_is_friendly(login, nobody):
    response = login(nobody).get(reverse("clients:list"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    body = response.content.decode()
    assert "This page is not part of your role" in body
    assert "Your role does not allow you to see this." in body
    assert f'href="{reverse("home")}"' in body
    assert "No Role" in body  # who is signed in


def test_not_found_page_is_friendly(as_receptionist):
    response = as_receptionist.get("/no/such/page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


# --- Search ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)])
def test_search_needs_client_and_animal_view_permissions(users, login, role, status):
    assert login(users[role]).get(reverse("search"), {"q": "rex"}).status_code == status


def test_search_page_lists_pets_with_owner_phone_and_alerts(as_receptionist):
    owner = ClientFactory(last_name="Smithers", mobile_phone="+447400123456")
    AnimalFactory(name="Rexie", owner=owner, alerts="Bites", breed=breed("Dog", "Labrador Retriever"))
    body = as_receptionist.get(reverse("search"), {"q": "rexie"}).content.decode()
    assert "Rexie" in body and "Smithers" in body and "07400 123456" in body
    assert "Labrador Retriever" in body
    assert "badge text-bg-danger" in body and "Bites" in body


def test_search_by_phone_in_another_format_finds_the_owner(as_receptionist):
    owner = ClientFactory(last_name="Dialled", mobile_phone="+447400123999")
    body = as_receptionist.get(reverse("search"), {"q": "+44 7400 123999"}).content.decode()
    assert "Dialled" in body
    assert reverse("clients:detail", args=[owner.pk]) in body


@pytest.mark.parametrize("query", ["", "a", "   "])
def test_short_search_gives_a_helpful_message(as_receptionist, query):
    response = as_receptionist.get(reverse("search"), {"q": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Type a pet name" in body or "too short" in body


def test_search_with_hostile_input_never_fails(as_receptionist):
    for query in ["%", "_", "'; DROP TABLE x; --", "<script>", "x" * 5000, "🐶🐱", "\\"]:
        response = as_receptionist.get(reverse("search"), {"q": query})
        assert response.status_code == 200
        assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_nothing_found_says_so(as_receptionist):
    body = as_receptionist.get(reverse("search"), {"q": "zzzqqq"}).content.decode()
    assert "Nothing matches" in body


def test_htmx_search_returns_a_dropdown_of_at_most_eight(as_receptionist):
    owner = ClientFactory(last_name="Many")
    for i in range(12):
        AnimalFactory(name=f"Max{i}", owner=owner)
    response = as_receptionist.get(reverse("search"), {"q": "max"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body  # a fragment
    assert body.count('role="option"') == 8
    assert f"{reverse('search')}?q=max" in body


def test_header_search_box_uses_htmx(as_receptionist):
    body = as_receptionist.get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("search")}"' in body
    assert 'hx-trigger="input changed delay:200ms, search"' in body
    assert f'action="{reverse("search")}"' in body


# --- Staff ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_staff_pages_are_for_managers(users, login, role, status):
    http = login(users[role])
    assert http.get(reverse("staff_list")).status_code == status
    assert http.get(reverse("staff_create")).status_code == status


def test_staff_list_shows_role_and_last_login_with_few_queries(as_manager, users, django_assert_max_num_queries):
    for i in range(20):
        UserFactory(username=f"extra{i}", role=Role.VET)
    with django_assert_max_num_queries(10):
        body = as_manager.get(reverse("staff_list")).content.decode()
    assert "Rita" in body and "Receptionist" in body and "Never" in body


def test_manager_creates_a_vet(as_manager):
    data = {
        "username": "newvet",
        "first_name": "Nina",
        "last_name": "Newvet",
        "email": "nina@example.org",
        "role": "Vet",
        "vet_display_name": "Dr Nina",
        "password": "a-long-enough-passphrase",
    }
    response = as_manager.post(reverse("staff_create"), data, follow=True)
    user = User.objects.get(username="newvet")
    assert user.has_role("Vet") and user.vet.display_name == "Dr Nina"
    assert user.check_password("a-long-enough-passphrase")
    assert "can now sign in" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "rita"), ("username", "bad name!"), ("password", "short"), ("role", "Overlord"), ("email", "x")],
)
def test_bad_staff_input_is_a_field_error(as_manager, receptionist, field, value):
    data = {"username": "okname", "first_name": "A", "last_name": "B", "email": "", "role": "Vet", "password": ""}
    data[field] = value
    response = as_manager.post(reverse("staff_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'value="A"' in response.content.decode()


def test_manager_changes_a_role(as_manager, receptionist):
    response = as_manager.post(reverse("staff_role", args=[receptionist.pk]), {f"u{receptionist.pk}-role": "Vet"})
    assert response.status_code == HTTPStatus.FOUND
    receptionist = User.objects.get(pk=receptionist.pk)
    assert receptionist.roles == ["Vet"]


def test_role_change_rejects_get_and_non_managers(as_manager, as_receptionist, vet_user):
    url = reverse("staff_role", args=[vet_user.pk])
    assert as_manager.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert as_receptionist.post(url, {"role": "Manager"}).status_code == HTTPStatus.FORBIDDEN
    assert User.objects.get(pk=vet_user.pk).roles == ["Vet"]


def test_unknown_role_is_refused_with_a_message(as_manager, vet_user):
    response = as_manager.post(reverse("staff_role", args=[vet_user.pk]), {"role": "Overlord"}, follow=True)
    assert "Choose one of the roles" in response.content.decode()
    assert User.objects.get(pk=vet_user.pk).roles == ["Vet"]


# --- API tokens -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_token_pages_need_the_token_permission(users, login, role, status):
    http = login(users[role])
    assert http.get(reverse("token_list")).status_code == status
    assert http.get(reverse("token_create")).status_code == status


def test_token_secret_is_shown_once(as_manager, vet_user):
    response = as_manager.post(reverse("token_create"), {"user": vet_user.pk, "name": "lab integration"})
    assert response.status_code == 200
    body = response.content.decode()
    token = ApiToken.objects.get(name="lab integration")
    secret = re.search(r'value="(vpms_[^"]+)"', body).group(1)
    assert ApiToken.hash_secret(secret) == token.key_hash
    assert "Copy it now" in body
    assert "no-store" in response.headers.get("Cache-Control", "")
    listing = as_manager.get(reverse("token_list")).content.decode()
    assert token.key_prefix in listing and secret not in listing


def test_token_for_an_inactive_user_is_refused(as_manager):
    gone = UserFactory(username="gone", is_active=False)
    response = as_manager.post(reverse("token_create"), {"user": gone.pk, "name": "x"})
    assert "user" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_revoking_a_token(as_manager, vet_user):
    from tests.factories import make_token

    token, _ = make_token(vet_user, name="old")
    assert as_manager.get(reverse("token_revoke", args=[token.pk])).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = as_manager.post(reverse("token_revoke", args=[token.pk]), follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "is revoked" in response.content.decode()
    again = as_manager.post(reverse("token_revoke", args=[token.pk]), follow=True)
    assert "already revoked" in again.content.decode()


# --- Audit ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_audit_trail_is_for_managers(users, login, role, status):
    owner = ClientFactory()
    assert login(users[role]).get(reverse("audit", args=["client", owner.pk])).status_code == status


def test_audit_trail_shows_who_when_and_old_to_new(as_manager, receptionist):
    animal = AnimalFactory(name="Oldname")
    animal_update(animal=animal, by=receptionist, data={"name": "Newname"})
    body = as_manager.get(reverse("audit", args=["animal", animal.pk])).content.decode()
    assert "Rita Reception" in body
    assert "update" in body
    assert "Oldname" in body and "Newname" in body and "→" in body


def test_audit_of_unknown_kind_or_id_is_404(as_manager):
    assert as_manager.get("/audit/no-such-kind/1/").status_code == 404
    assert as_manager.get("/audit/user/999999/").status_code == 404
    assert as_manager.get("/audit/client/999999/").status_code == 404
    assert as_manager.get("/audit/client/abc/").status_code == 404


def test_audit_of_species_and_breed(as_manager):
    from animals.services import breed_save, species_save

    dog = species_save(by=None, species=species("Dog"), name="Dog", is_active=True)
    breed_save(by=None, breed=breed("Dog", "Labrador Retriever"), species=dog, name="Labrador", is_active=True)
    lab = breed("Dog", "Labrador")
    body = as_manager.get(reverse("audit", args=["breed", lab.pk])).content.decode()
    assert "Labrador Retriever" in body and "system" in body
    assert as_manager.get(reverse("audit", args=["species", dog.pk])).status_code == 200


def test_audit_trail_is_paginated(as_manager, receptionist):
    owner = ClientFactory()
    from vetpms import audit

    for i in range(30):
        audit.record(actor=receptionist, obj=owner, action="update", changes={"notes": [str(i), str(i + 1)]})
    first = as_manager.get(reverse("audit", args=["client", owner.pk]))
    assert len(first.context["page"].rows) == 25
    assert first.context["page"].rows[0].changes == {"notes": ["29", "30"]}  # newest first
    second = as_manager.get(reverse("audit", args=["client", owner.pk]), {"cursor": first.context["page"].next_cursor})
    assert [e.changes["notes"][0] for e in second.context["page"].rows] == ["4", "3", "2", "1", "0"]
    assert not second.context["page"].has_next and second.context["page"].has_previous
    assert AuditEntry.objects.count() == 30
