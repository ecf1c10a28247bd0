"""/api/v1/clients: each role allowed or refused, each error status, filters, pagination, query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client
from tests.api.conftest import error_fields
from tests.factories import AnimalFactory, ClientFactory, species
from vetpms.audit import entries_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/clients"
NEW = {"first_name": "Jane", "last_name": "Jones", "mobile_phone": "0113 496 0123", "reminder_consent": True}


def detail(client) -> str:
    return f"{URL}/{client.pk}"


# --- who may do what (same matrix as the web pages: vetpms/roles.py) -------------------------------------------

READERS = {"receptionist": 200, "vet_user": 200, "manager": 200, "nobody": 403}


@pytest.mark.parametrize(("role", "expected"), READERS.items())
def test_list_by_role(role, expected, api_for):
    ClientFactory()
    response = api_for(role).get(URL)
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["count"] == 1


@pytest.mark.parametrize(("role", "expected"), READERS.items())
def test_retrieve_by_role(role, expected, api_for):
    assert api_for(role).get(detail(ClientFactory())).status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), {"receptionist": 201, "vet_user": 403, "manager": 201, "nobody": 403}.items()
)
def test_create_by_role(role, expected, api_for):
    response = api_for(role).post(URL, NEW)
    assert response.status_code == expected
    assert Client.objects.filter(last_name="Jones").exists() == (expected == 201)


@pytest.mark.parametrize(("role", "expected"), READERS.items())
def test_patch_by_role(role, expected, api_for):
    client = ClientFactory(last_name="Smith")
    response = api_for(role).patch(detail(client), {"last_name": "Smyth"})
    assert response.status_code == expected
    client.refresh_from_db()
    assert client.last_name == ("Smyth" if expected == 200 else "Smith")


@pytest.mark.parametrize(
    ("role", "expected"), {"receptionist": 200, "vet_user": 403, "manager": 200, "nobody": 403}.items()
)
def test_deactivate_and_reactivate_by_role(role, expected, api_for):
    client = ClientFactory()
    api = api_for(role)
    assert api.post(f"{detail(client)}/deactivate", {"reason": "moved away"}).status_code == expected
    client.refresh_from_db()
    assert client.is_active is (expected != 200)
    client.is_active = False
    client.save()
    assert api.post(f"{detail(client)}/reactivate").status_code == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "/{id}"),
        ("patch", "/{id}"),
        ("post", "/{id}/deactivate"),
        ("post", "/{id}/reactivate"),
    ],
)
def test_every_endpoint_is_401_without_credentials(method, path, anonymous):
    client = ClientFactory()
    url = URL + path.format(id=client.pk)
    response = anonymous.get(url) if method == "get" else getattr(anonymous, method)(url, NEW)
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/{id}"), ("patch", "/{id}"), ("post", "/{id}/deactivate"), ("post", "/{id}/reactivate")],
)
@pytest.mark.parametrize("bad_id", ["999999", "abc", "1.5", "-1", "%20"])
def test_unknown_or_malformed_id_is_404_json(method, path, bad_id, manager, api_as):
    ClientFactory()
    url = URL + path.format(id=bad_id)
    api = api_as(manager)
    body = {"last_name": "X"} if method == "patch" else {}
    response = api.get(url) if method == "get" else getattr(api, method)(url, body)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_wrong_role_is_refused_before_the_lookup(nobody, api_as):
    # A role without access gets 403 whether or not the id exists, so ids cannot be probed.
    assert api_as(nobody).get(f"{URL}/999999").status_code == 403


# --- create, retrieve, update ----------------------------------------------------------------------------------


def test_create_returns_the_client_with_display_fields(receptionist, api_as):
    response = api_as(receptionist).post(URL, NEW | {"title": "Dr", "home_phone": "+33 1 42 68 53 00"})
    assert response.status_code == 201
    body = response.json()
    assert body["display_name"] == "Dr Jane Jones"
    assert body["mobile_phone"] == "+441134960123"
    assert body["phones"] == [
        {"kind": "mobile", "number": "+441134960123", "display": "0113 496 0123"},
        {"kind": "home", "number": "+33142685300", "display": "+33 1 42 68 53 00"},
    ]
    assert body["animals"] == []
    assert body["reminder_consent"] is True
    created = dt.datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None
    assert abs(created - timezone.now()) < dt.timedelta(minutes=1)
    assert dt.datetime.fromisoformat(body["consent_changed_at"]).tzinfo is not None
    assert entries_for(Client.objects.get(pk=body["id"])).get().actor == receptionist


def test_retrieve_includes_the_clients_animals_with_alerts(receptionist, api_as):
    owner = ClientFactory()
    rex = AnimalFactory(owner=owner, name="Rex", alerts="Bites\nAllergic to penicillin")
    body = api_as(receptionist).get(detail(owner)).json()
    assert [(a["name"], a["species"], a["alerts"]) for a in body["animals"]] == [
        ("Rex", "Dog", ["Bites", "Allergic to penicillin"])
    ]
    assert body["animals"][0]["age"] == rex.age != ""


def test_patch_changes_only_the_fields_sent(receptionist, api_as):
    client = ClientFactory(first_name="Ann", last_name="Smith", email="ann@example.com")
    response = api_as(receptionist).patch(detail(client), {"email": "ann.smith@example.com"})
    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.first_name, client.last_name, client.email) == ("Ann", "Smith", "ann.smith@example.com")
    assert entries_for(client).get().changes == {"email": ["ann@example.com", "ann.smith@example.com"]}


def test_patch_can_clear_an_optional_field(receptionist, api_as):
    client = ClientFactory(organisation="Acme Farm")
    assert api_as(receptionist).patch(detail(client), {"organisation": ""}).status_code == 200
    client.refresh_from_db()
    assert client.organisation == ""


def test_patch_with_null_for_a_text_field_is_422(receptionist, api_as):
    client = ClientFactory(last_name="Smith")
    assert error_fields(api_as(receptionist).patch(detail(client), {"last_name": None})) == ["last_name"]


def test_patch_that_would_leave_no_name_is_422(receptionist, api_as):
    client = ClientFactory(last_name="Smith", organisation="")
    assert "last_name" in error_fields(api_as(receptionist).patch(detail(client), {"last_name": ""}))


def test_patch_consent_withdrawal_is_recorded(receptionist, api_as):
    client = ClientFactory(reminder_consent=True)
    body = api_as(receptionist).patch(detail(client), {"reminder_consent": False}).json()
    assert body["reminder_consent"] is False
    assert body["consent_changed_at"] is not None


def test_deactivating_twice_is_a_409_with_a_message(receptionist, api_as):
    client = ClientFactory()
    api = api_as(receptionist)
    assert api.post(f"{detail(client)}/deactivate").json()["is_active"] is False
    response = api.post(f"{detail(client)}/deactivate")
    assert response.status_code == 409
    assert "already inactive" in response.json()["detail"]
    assert api.post(f"{detail(client)}/reactivate").json()["is_active"] is True


# --- bad input -------------------------------------------------------------------------------------------------


def test_five_thousand_character_name_is_422(receptionist, api_as):
    response = api_as(receptionist).post(URL, NEW | {"last_name": "x" * 5000})
    assert error_fields(response) == ["last_name"]
    assert "100" in response.json()["detail"][0]["msg"]
    assert "x" * 200 not in response.content.decode()  # the input is not echoed back


def test_html_in_names_and_notes_is_stored_and_returned_verbatim(receptionist, api_as):
    script = "<script>alert('x')</script>"
    response = api_as(receptionist).post(URL, NEW | {"last_name": f"O'Brien {script}", "notes": f"<b>{script}</b>"})
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["last_name"] == f"O'Brien {script}"
    assert body["notes"] == f"<b>{script}</b>"


@pytest.mark.parametrize("field", ["mobile_phone", "home_phone", "work_phone"])
def test_phone_number_of_letters_is_422_on_that_field(field, receptionist, api_as):
    assert error_fields(api_as(receptionist).post(URL, NEW | {field: "call me maybe"})) == [field]


def test_invalid_email_is_422_on_email(receptionist, api_as):
    assert error_fields(api_as(receptionist).post(URL, NEW | {"email": "not an email"})) == ["email"]


def test_missing_name_is_422(receptionist, api_as):
    assert "last_name" in error_fields(api_as(receptionist).post(URL, {"first_name": "Jane"}))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Lord"}, "title"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"reminder_consent": "perhaps"}, "reminder_consent"),
        ({"lastname": "typo"}, "lastname"),
        ({"notes": "n" * 5001}, "notes"),
        ({"postcode": ["EX1"]}, "postcode"),
    ],
)
def test_schema_violations_are_422_naming_the_field(body, field, receptionist, api_as):
    assert field in error_fields(api_as(receptionist).post(URL, NEW | body))


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2", "\x00\x01", '"just a string"', "[]"])
def test_body_that_is_not_a_json_object_is_a_clean_4xx(body, receptionist, api_as):
    response = api_as(receptionist).post(URL, body)
    assert response.status_code in {400, 422}
    assert response.json()["detail"]


def test_three_megabyte_body_is_413_json(receptionist, api_as):
    response = api_as(receptionist).post(URL, '{"last_name": "' + "x" * (3 * 1024 * 1024) + '"}')
    assert response.status_code == 413
    assert response.json()["detail"]
    assert not Client.objects.exists()


# --- filters and pagination ------------------------------------------------------------------------------------


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["last_name"] for c in response.json()["items"]]


def test_filter_active_and_consent(receptionist, api_as):
    ClientFactory(last_name="Active", reminder_consent=True)
    ClientFactory(last_name="Gone", is_active=False, reminder_consent=False)
    ClientFactory(last_name="Quiet", reminder_consent=False)
    api = api_as(receptionist)
    assert names(api.get(URL)) == ["Active", "Gone", "Quiet"]
    assert names(api.get(URL, {"active": "true"})) == ["Active", "Quiet"]
    assert names(api.get(URL, {"active": "false"})) == ["Gone"]
    assert names(api.get(URL, {"consent": "false", "active": "true"})) == ["Quiet"]


def test_filter_owners_of_a_species(receptionist, api_as):
    cat_owner = ClientFactory(last_name="Catwoman")
    AnimalFactory(owner=cat_owner, species=species("Cat"))
    AnimalFactory(owner=cat_owner, species=species("Cat"))
    AnimalFactory(owner=ClientFactory(last_name="Dogman"), species=species("Dog"))
    response = api_as(receptionist).get(URL, {"species": species("Cat").pk})
    assert names(response) == ["Catwoman"]
    assert response.json()["count"] == 1
    assert response.json()["items"][0]["animal_count"] == 2


def test_filter_created_range_in_local_days(receptionist, api_as):
    old = ClientFactory(last_name="Old")
    new = ClientFactory(last_name="New")
    Client.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    today = timezone.localdate()
    api = api_as(receptionist)
    assert names(api.get(URL, {"created_from": today.isoformat()})) == ["New"]
    assert names(api.get(URL, {"created_to": (today - dt.timedelta(days=1)).isoformat()})) == ["Old"]
    window = {"created_from": (today - dt.timedelta(days=31)).isoformat(), "created_to": today.isoformat()}
    assert names(api.get(URL, window)) == [new.last_name, old.last_name]


@pytest.mark.parametrize("q", ["smi", "SMITH", "0113 496 0555", "+44 113 4960555", "ann@exam"])
def test_q_finds_the_client_as_the_global_search_does(q, receptionist, api_as):
    ClientFactory(first_name="Ann", last_name="Smith", email="ann@example.com", mobile_phone="+441134960555")
    ClientFactory(first_name="Bob", last_name="Goldsmith", email="bob@elsewhere.org", mobile_phone="+441134960666")
    assert names(api_as(receptionist).get(URL, {"q": q})) == ["Smith"]


def test_q_with_nothing_searchable_finds_nothing(receptionist, api_as):
    ClientFactory()
    assert names(api_as(receptionist).get(URL, {"q": "!!!"})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"limit": "ten"},
        {"active": "maybe"},
        {"species": "dog"},
        {"created_from": "yesterday"},
        {"q": "q" * 201},
    ],
)
def test_bad_query_parameters_are_422(params, receptionist, api_as):
    response = api_as(receptionist).get(URL, params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_pagination_with_limit_and_offset(receptionist, api_as):
    for name in ["Adams", "Brown", "Clark", "Davis", "Evans"]:
        ClientFactory(last_name=name)
    api = api_as(receptionist)
    first = api.get(URL, {"limit": 2}).json()
    assert first["count"] == 5
    assert [c["last_name"] for c in first["items"]] == ["Adams", "Brown"]
    assert names(api.get(URL, {"limit": 2, "offset": 4})) == ["Evans"]
    assert names(api.get(URL, {"limit": 2, "offset": 10})) == []


def test_default_page_is_25(receptionist, api_as):
    for _ in range(30):
        ClientFactory()
    body = api_as(receptionist).get(URL).json()
    assert (len(body["items"]), body["count"]) == (25, 30)


def queries_for(api, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_page_size(receptionist, api_as, django_assert_max_num_queries):
    for _ in range(100):
        AnimalFactory(owner=ClientFactory())
    api = api_as(receptionist)
    api.get(URL)  # the first use of a token records last_used_at; measure what follows
    small = queries_for(api, URL, {"limit": 10})
    large = queries_for(api, URL, {"limit": 100})
    assert small == large
    with django_assert_max_num_queries(8):
        api.get(URL, {"limit": 100, "species": species("Dog").pk, "q": "a", "active": "true"})


def test_detail_query_count_does_not_grow_with_the_number_of_animals(receptionist, api_as):
    few, many = ClientFactory(), ClientFactory()
    AnimalFactory(owner=few)
    for _ in range(20):
        AnimalFactory(owner=many)
    api = api_as(receptionist)
    api.get(detail(few))
    assert queries_for(api, detail(few), {}) == queries_for(api, detail(many), {})
