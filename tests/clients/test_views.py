"""Client pages: who may open them, the list's filters and query count, forms with good and bad input."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from tests.factories import AnimalFactory, ClientFactory, species
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db

VALID = {
    "title": "Ms",
    "first_name": "Jane",
    "last_name": "Doe",
    "organisation": "",
    "email": "jane@example.com",
    "mobile_phone": "07712 345678",
    "home_phone": "",
    "work_phone": "",
    "preferred_channel": "email",
    "address_line1": "2 High Street",
    "address_line2": "",
    "town": "Exampletown",
    "county": "",
    "postcode": "EX1 1AA",
    "country": "",
    "reminder_consent": "on",
    "notes": "Prefers mornings.",
}


# --- Who may open what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)],
)
def test_client_list_and_detail_follow_view_permission(users, login, role, status):
    client = ClientFactory()
    http = login(users[role])
    assert http.get(reverse("clients:list")).status_code == status
    assert http.get(reverse("clients:detail", args=[client.pk])).status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("receptionist", 200), ("vet", 403), ("manager", 200), ("nobody", 403)],
)
def test_only_receptionists_and_managers_may_create_clients(users, login, role, status):
    assert login(users[role]).get(reverse("clients:create")).status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)],
)
def test_client_edit_page_follows_change_permission(users, login, role, status):
    client = ClientFactory()
    assert login(users[role]).get(reverse("clients:update", args=[client.pk])).status_code == status


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("receptionist", True), ("vet", False), ("manager", True), ("nobody", False)],
)
def test_deactivating_a_client_needs_the_deactivate_permission(users, login, role, allowed):
    client = ClientFactory()
    response = login(users[role]).post(reverse("clients:deactivate", args=[client.pk]))
    client.refresh_from_db()
    if allowed:
        assert response.status_code == HTTPStatus.FOUND
        assert client.is_active is False
    else:
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert client.is_active is True


@pytest.mark.parametrize("name", ["clients:list", "clients:create"])
def test_anonymous_visitor_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("login"))


def test_anonymous_visitor_is_sent_to_login_from_client_detail(client):
    target = ClientFactory()
    response = client.get(reverse("clients:detail", args=[target.pk]))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("login"))


def test_deactivate_rejects_get(as_receptionist):
    client = ClientFactory()
    assert as_receptionist.get(reverse("clients:deactivate", args=[client.pk])).status_code == 405
    client.refresh_from_db()
    assert client.is_active


def test_reactivate_brings_a_client_back(as_manager):
    client = ClientFactory(is_active=False)
    response = as_manager.post(reverse("clients:reactivate", args=[client.pk]), follow=True)
    client.refresh_from_db()
    assert client.is_active
    assert "is active again" in response.content.decode()


def test_unknown_client_is_404_with_friendly_page(as_receptionist):
    response = as_receptionist.get("/clients/999999/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_non_numeric_client_id_is_404(as_receptionist):
    assert as_receptionist.get("/clients/abc/").status_code == 404
    assert as_receptionist.get("/clients/1%20OR%201=1/edit/").status_code == 404


# --- List -----------------------------------------------------------------------------------------------------


def test_client_list_shows_active_clients_with_pet_count(as_receptionist):
    owner = ClientFactory(last_name="Abbott", mobile_phone="+447400123456")
    AnimalFactory(owner=owner)
    AnimalFactory(owner=owner)
    ClientFactory(last_name="Gone", is_active=False)
    response = as_receptionist.get(reverse("clients:list"))
    body = response.content.decode()
    assert "Abbott" in body
    assert "07400 123456" in body  # phone shown in national format
    assert "Gone" not in body  # inactive clients hidden by default
    row = next(r for r in response.context["table"].page.object_list if r.record.pk == owner.pk)
    assert row.record.animal_count == 2


def test_client_list_status_filter_shows_inactive(as_receptionist):
    ClientFactory(last_name="Gone", is_active=False)
    ClientFactory(last_name="Here")
    body = as_receptionist.get(reverse("clients:list"), {"status": "inactive"}).content.decode()
    assert "Gone" in body
    assert "Here" not in body


def test_client_list_text_filter_matches_surname_and_phone(as_receptionist):
    ClientFactory(last_name="Fairweather", mobile_phone="+447400111555")
    ClientFactory(last_name="Other", mobile_phone="+447400111777")
    by_name = as_receptionist.get(reverse("clients:list"), {"q": "fairw"}).content.decode()
    assert "Fairweather" in by_name and "Other" not in by_name
    by_phone = as_receptionist.get(reverse("clients:list"), {"q": "07400 111555"}).content.decode()
    assert "Fairweather" in by_phone and "Other" not in by_phone


def test_client_list_consent_filter(as_receptionist):
    ClientFactory(last_name="Yesplease", reminder_consent=True)
    ClientFactory(last_name="Nothanks", reminder_consent=False)
    body = as_receptionist.get(reverse("clients:list"), {"reminder_consent": "false"}).content.decode()
    assert "Nothanks" in body and "Yesplease" not in body


def test_client_list_species_filter_does_not_inflate_pet_count(as_receptionist):
    cat_owner = ClientFactory(last_name="Catperson")
    AnimalFactory(owner=cat_owner, species=species("Cat"))
    AnimalFactory(owner=cat_owner, species=species("Cat"))
    AnimalFactory(owner=cat_owner)  # a dog
    ClientFactory(last_name="Dogonly")
    response = as_receptionist.get(reverse("clients:list"), {"species": species("Cat").pk})
    records = [row.record for row in response.context["table"].page.object_list]
    assert [r.last_name for r in records] == ["Catperson"]
    assert records[0].animal_count == 3


def test_client_list_created_range_filter(as_receptionist):
    old = ClientFactory(last_name="Oldtimer")
    Client.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    ClientFactory(last_name="Newcomer")
    since = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    body = as_receptionist.get(reverse("clients:list"), {"created_after": since}).content.decode()
    assert "Newcomer" in body and "Oldtimer" not in body


def test_client_list_ignores_garbage_parameters(as_receptionist):
    ClientFactory(last_name="Stillhere")
    response = as_receptionist.get(
        reverse("clients:list"),
        {"page": "zzz", "per_page": "-5", "sort": "nonsense", "species": "abc", "created_after": "not a date"},
    )
    assert response.status_code == 200


def test_client_list_sorts_by_pet_count(as_receptionist):
    many = ClientFactory(last_name="Many")
    for _ in range(3):
        AnimalFactory(owner=many)
    ClientFactory(last_name="Aaa")
    response = as_receptionist.get(reverse("clients:list"), {"sort": "-animal_count"})
    first = response.context["table"].page.object_list[0].record
    assert first.pk == many.pk


@pytest.mark.parametrize("per_page", [25, 100])
def test_client_list_query_count_does_not_grow_with_page_size(as_receptionist, django_assert_max_num_queries, per_page):
    for _ in range(per_page):
        owner = ClientFactory()
        AnimalFactory(owner=owner)
    with django_assert_max_num_queries(10):
        response = as_receptionist.get(reverse("clients:list"), {"per_page": per_page})
    assert len(response.context["table"].page.object_list) == per_page


# --- Detail ---------------------------------------------------------------------------------------------------


def test_client_detail_shows_contact_consent_pets_and_alerts(as_receptionist):
    owner = ClientFactory(last_name="Holmes", mobile_phone="+447400333321", notes="Gate code 1234")
    AnimalFactory(owner=owner, name="Biscuit", alerts="Bites\nAllergic to penicillin")
    dead = AnimalFactory(owner=owner, name="Oldboy")
    dead.deceased_on = timezone.localdate()
    dead.save()
    body = as_receptionist.get(reverse("clients:detail", args=[owner.pk])).content.decode()
    assert "07400 333321" in body
    assert "Consents" in body
    assert "Biscuit" in body and "Bites" in body and "Allergic to penicillin" in body
    assert "badge text-bg-danger" in body
    assert "Deceased" in body
    assert "Gate code 1234" in body


def test_audit_link_on_client_page_only_for_managers(as_receptionist, as_manager):
    owner = ClientFactory()
    url = reverse("audit", args=["client", owner.pk])
    assert url not in as_receptionist.get(reverse("clients:detail", args=[owner.pk])).content.decode()
    assert url in as_manager.get(reverse("clients:detail", args=[owner.pk])).content.decode()


def test_vet_sees_no_deactivate_button(as_vet):
    owner = ClientFactory()
    body = as_vet.get(reverse("clients:detail", args=[owner.pk])).content.decode()
    assert reverse("clients:deactivate", args=[owner.pk]) not in body


def test_client_detail_query_count_is_flat_with_many_animals(as_receptionist, django_assert_max_num_queries):
    owner = ClientFactory()
    for i in range(40):
        AnimalFactory(owner=owner, alerts="Bites" if i % 2 else "")
    as_receptionist.get(reverse("home"))  # the session's once-a-minute touch is not part of the page's cost
    with django_assert_max_num_queries(10):
        response = as_receptionist.get(reverse("clients:detail", args=[owner.pk]))
    assert response.status_code == 200
    assert len(response.context["animals"]) == 40


# --- Create and edit ------------------------------------------------------------------------------------------


def test_receptionist_creates_a_client(as_receptionist, receptionist):
    response = as_receptionist.post(reverse("clients:create"), VALID, follow=True)
    client = Client.objects.get(last_name="Doe")
    assert response.redirect_chain[-1][0] == reverse("clients:detail", args=[client.pk])
    assert client.mobile_phone == "+447712345678"  # normalised
    assert client.reminder_consent and client.consent_changed_at is not None
    assert "Client Ms Jane Doe created." in response.content.decode()
    assert AuditEntry.objects.filter(action="create", object_id=str(client.pk), actor=receptionist).exists()


def test_phone_of_letters_is_an_error_beside_the_field_and_input_is_kept(as_receptionist):
    data = {**VALID, "mobile_phone": "call me maybe", "notes": "Keep this note"}
    response = as_receptionist.post(reverse("clients:create"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "mobile_phone" in form.errors
    body = response.content.decode()
    assert 'value="call me maybe"' in body
    assert "Keep this note" in body
    assert 'value="Jane"' in body
    assert "is-invalid" in body
    assert not Client.objects.exists()


def test_client_needs_a_last_name_or_organisation(as_receptionist):
    data = {**VALID, "last_name": "", "organisation": ""}
    response = as_receptionist.post(reverse("clients:create"), data)
    assert response.status_code == 200
    assert "Give a last name or an organisation name." in response.context["form"].errors["last_name"]


def test_five_thousand_character_name_is_a_field_error(as_receptionist):
    data = {**VALID, "last_name": "x" * 5000}
    response = as_receptionist.post(reverse("clients:create"), data)
    assert response.status_code == 200
    assert "last_name" in response.context["form"].errors
    assert not Client.objects.exists()


def test_invalid_email_is_a_field_error(as_receptionist):
    response = as_receptionist.post(reverse("clients:create"), {**VALID, "email": "not-an-email"})
    assert "email" in response.context["form"].errors


def test_long_formatted_phone_is_accepted_and_normalised(as_receptionist):
    as_receptionist.post(reverse("clients:create"), {**VALID, "mobile_phone": "+44 (0) 7712 - 345 - 678"})
    assert Client.objects.get().mobile_phone == "+447712345678"


def test_editing_a_client_saves_and_records_the_change(as_vet, vet_user):
    client = ClientFactory(last_name="Before", reminder_consent=True)
    data = {**VALID, "last_name": "After", "reminder_consent": ""}
    response = as_vet.post(reverse("clients:update", args=[client.pk]), data, follow=True)
    client.refresh_from_db()
    assert client.last_name == "After"
    assert client.reminder_consent is False
    assert "saved" in response.content.decode()
    entry = AuditEntry.objects.filter(object_id=str(client.pk), action="update").get()
    assert entry.changes["last_name"] == ["Before", "After"]
    assert entry.actor == vet_user


def test_invalid_edit_keeps_typed_values_and_old_heading(as_receptionist):
    client = ClientFactory(last_name="Original")
    data = {**VALID, "last_name": "Typed", "work_phone": "12"}
    response = as_receptionist.post(reverse("clients:update", args=[client.pk]), data)
    body = response.content.decode()
    assert "work_phone" in response.context["form"].errors
    assert 'value="Typed"' in body
    assert "Edit Mrs" in body and "Original" in body
    client.refresh_from_db()
    assert client.last_name == "Original"


# --- Escaping -------------------------------------------------------------------------------------------------


def test_html_in_names_and_notes_is_escaped_everywhere(as_manager):
    evil = "<script>alert(1)</script>"
    owner = ClientFactory(first_name=evil, last_name="<b>Bold</b>", notes=evil, organisation="")
    AnimalFactory(owner=owner, name=evil, alerts=evil)
    pages = [
        reverse("clients:list"),
        reverse("clients:detail", args=[owner.pk]),
        reverse("clients:update", args=[owner.pk]),
        reverse("audit", args=["client", owner.pk]),
    ]
    for url in pages:
        body = as_manager.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
        assert "<b>Bold</b>" not in body, url
    detail = as_manager.get(reverse("clients:detail", args=[owner.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
