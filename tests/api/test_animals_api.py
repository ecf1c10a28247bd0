"""/api/v1/animals: each role allowed or refused, each error status, transfer, death, weights, filters."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from animals.models import Animal, Ownership, Weight
from animals.services import animal_mark_deceased
from tests.api.conftest import error_fields
from tests.factories import AnimalFactory, ClientFactory, WeightFactory, breed, species

pytestmark = pytest.mark.django_db

URL = "/api/v1/animals"
CHIP = "985141000123456"


def detail(animal) -> str:
    return f"{URL}/{animal.pk}"


def new_animal(owner, **extra) -> dict:
    return {"owner": owner.pk, "name": "Rex", "species": species("Dog").pk} | extra


# --- who may do what -------------------------------------------------------------------------------------------

ALL_STAFF = {"receptionist": 200, "vet_user": 200, "manager": 200, "nobody": 403}
FRONT_DESK = {"receptionist": 200, "vet_user": 403, "manager": 200, "nobody": 403}


@pytest.mark.parametrize(("role", "expected"), ALL_STAFF.items())
def test_list_and_retrieve_by_role(role, expected, api_for):
    rex = AnimalFactory()
    api = api_for(role)
    assert api.get(URL).status_code == expected
    assert api.get(detail(rex)).status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), {"receptionist": 201, "vet_user": 201, "manager": 201, "nobody": 403}.items()
)
def test_create_by_role(role, expected, api_for):
    owner = ClientFactory()
    assert api_for(role).post(URL, new_animal(owner)).status_code == expected
    assert Animal.objects.filter(owner=owner).exists() == (expected == 201)


@pytest.mark.parametrize(("role", "expected"), ALL_STAFF.items())
def test_patch_by_role(role, expected, api_for):
    rex = AnimalFactory(name="Rex")
    assert api_for(role).patch(detail(rex), {"name": "Rexy"}).status_code == expected
    rex.refresh_from_db()
    assert rex.name == ("Rexy" if expected == 200 else "Rex")


@pytest.mark.parametrize(("role", "expected"), FRONT_DESK.items())
def test_transfer_by_role(role, expected, api_for):
    rex, new_owner = AnimalFactory(), ClientFactory()
    assert api_for(role).post(f"{detail(rex)}/transfer", {"to_owner": new_owner.pk}).status_code == expected
    rex.refresh_from_db()
    assert (rex.owner == new_owner) == (expected == 200)


@pytest.mark.parametrize(("role", "expected"), ALL_STAFF.items())
def test_mark_deceased_by_role(role, expected, api_for):
    rex = AnimalFactory()
    today = timezone.localdate().isoformat()
    assert api_for(role).post(f"{detail(rex)}/deceased", {"on": today}).status_code == expected


@pytest.mark.parametrize(("role", "expected"), FRONT_DESK.items())
def test_deactivate_and_reactivate_by_role(role, expected, api_for):
    rex = AnimalFactory()
    api = api_for(role)
    assert api.post(f"{detail(rex)}/deactivate").status_code == expected
    Animal.objects.filter(pk=rex.pk).update(is_active=False)
    assert api.post(f"{detail(rex)}/reactivate").status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), {"receptionist": 201, "vet_user": 201, "manager": 201, "nobody": 403}.items()
)
def test_add_weight_by_role(role, expected, api_for):
    rex = AnimalFactory()
    assert api_for(role).post(f"{detail(rex)}/weights", {"kg": "12.5"}).status_code == expected


ENDPOINTS = [
    ("get", "/{id}", None),
    ("patch", "/{id}", {"name": "X"}),
    ("post", "/{id}/transfer", {"to_owner": 1}),
    ("post", "/{id}/deceased", {"on": "2024-01-01"}),
    ("post", "/{id}/deactivate", None),
    ("post", "/{id}/reactivate", None),
    ("post", "/{id}/weights", {"kg": "1"}),
]


@pytest.mark.parametrize(("method", "path", "body"), [("get", "", None), ("post", "", {"name": "X"}), *ENDPOINTS])
def test_every_endpoint_is_401_without_credentials(method, path, body, anonymous):
    url = URL + path.format(id=AnimalFactory().pk)
    response = anonymous.get(url) if method == "get" else getattr(anonymous, method)(url, body)
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("bad_id", ["999999", "rex", "0x1"])
def test_unknown_or_malformed_id_is_404_json(method, path, body, bad_id, manager, api_as):
    AnimalFactory()
    url = URL + path.format(id=bad_id)
    api = api_as(manager)
    response = api.get(url) if method == "get" else getattr(api, method)(url, body)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- create and retrieve ---------------------------------------------------------------------------------------


def test_create_returns_the_animal_with_display_fields(receptionist, api_as):
    owner = ClientFactory(first_name="Ann", last_name="Smith")
    born = timezone.localdate() - dt.timedelta(weeks=6)
    body = new_animal(
        owner,
        breed=breed("Dog", "Labrador Retriever").pk,
        sex="male",
        date_of_birth=born.isoformat(),
        date_of_birth_estimated=True,
        microchip="985 141 000-123 456",
        alerts=["Bites", "  Allergic to   penicillin ", ""],
    )
    response = api_as(receptionist).post(URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["species"] == {"id": species("Dog").pk, "name": "Dog"}
    assert data["breed"]["name"] == "Labrador Retriever"
    assert data["owner"]["display_name"] == "Mrs Ann Smith"
    assert data["microchip"] == CHIP
    assert data["alerts"] == ["Bites", "Allergic to penicillin"]
    assert data["age"] == "~6 w"
    assert [o["client"]["id"] for o in data["ownerships"]] == [owner.pk]
    assert dt.datetime.fromisoformat(data["created_at"]).tzinfo is not None


def test_retrieve_includes_weights_as_decimal_strings_newest_first(receptionist, api_as):
    rex = AnimalFactory()
    today = timezone.localdate()
    WeightFactory(animal=rex, kg="10.250", measured_on=today - dt.timedelta(days=30))
    WeightFactory(animal=rex, kg="11.000", measured_on=today)
    weights = api_as(receptionist).get(detail(rex)).json()["weights"]
    assert [(w["kg"], w["measured_on"]) for w in weights] == [
        ("11.000", today.isoformat()),
        ("10.250", (today - dt.timedelta(days=30)).isoformat()),
    ]


def test_patch_changes_only_the_fields_sent_and_can_clear_the_breed(receptionist, api_as):
    rex = AnimalFactory(name="Rex", breed=breed(), colour="black")
    response = api_as(receptionist).patch(detail(rex), {"breed": None, "alerts": ["Nervous"]})
    assert response.status_code == 200
    rex.refresh_from_db()
    assert (rex.name, rex.breed, rex.colour, rex.alert_list) == ("Rex", None, "black", ["Nervous"])


def test_patch_species_with_a_breed_of_the_old_species_is_422_on_breed(receptionist, api_as):
    rex = AnimalFactory(breed=breed("Dog", "Labrador Retriever"))
    assert error_fields(api_as(receptionist).patch(detail(rex), {"species": species("Cat").pk})) == ["breed"]


# --- bad input -------------------------------------------------------------------------------------------------


def test_five_thousand_character_name_is_422(receptionist, api_as):
    assert error_fields(api_as(receptionist).post(URL, new_animal(ClientFactory(), name="R" * 5000))) == ["name"]


def test_html_in_the_name_and_alerts_comes_back_verbatim(receptionist, api_as):
    body = new_animal(ClientFactory(), name="<script>alert(1)</script>", alerts=["<img src=x onerror=alert(1)>"])
    data = api_as(receptionist).post(URL, body).json()
    assert data["name"] == "<script>alert(1)</script>"
    assert data["alerts"] == ["<img src=x onerror=alert(1)>"]


@pytest.mark.parametrize("chip", ["12345", "98514100012345X", "999141000123456", "000141000123456", "9" * 30])
def test_invalid_microchip_is_422_on_microchip(chip, receptionist, api_as):
    response = api_as(receptionist).post(URL, new_animal(ClientFactory(), microchip=chip))
    assert set(error_fields(response)) == {"microchip"}


def test_duplicate_live_microchip_is_409_naming_the_holder(receptionist, api_as):
    AnimalFactory(name="Bella", microchip=CHIP, owner=ClientFactory(first_name="Ann", last_name="Holder"))
    response = api_as(receptionist).post(URL, new_animal(ClientFactory(), microchip=CHIP))
    assert response.status_code == 409
    body = response.json()
    assert body["field"] == "microchip"
    assert "Bella" in body["detail"] and "Holder" in body["detail"]
    assert Animal.objects.filter(microchip=CHIP).count() == 1


def test_microchip_of_a_deceased_animal_may_be_registered_again(receptionist, api_as):
    old = AnimalFactory(microchip=CHIP)
    animal_mark_deceased(animal=old, on=timezone.localdate(), by=receptionist)
    assert api_as(receptionist).post(URL, new_animal(ClientFactory(), microchip=CHIP)).status_code == 201


def test_birth_date_in_the_future_is_422(receptionist, api_as):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = api_as(receptionist).post(URL, new_animal(ClientFactory(), date_of_birth=tomorrow))
    assert error_fields(response) == ["date_of_birth"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"species": 999999}, "species"),
        ({"species": "dog"}, "species"),
        ({"breed": 999999}, "breed"),
        ({"owner": 999999}, "owner"),
        ({"sex": "yes"}, "sex"),
        ({"date_of_birth": "31/12/2020"}, "date_of_birth"),
        ({"date_of_birth": "2021-02-30"}, "date_of_birth"),
        ({"alerts": "Bites"}, "alerts"),
        ({"alerts": ["x" * 201]}, "alerts"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_bad_fields_are_422_on_that_field(extra, field, receptionist, api_as):
    assert field in error_fields(api_as(receptionist).post(URL, new_animal(ClientFactory()) | extra))


def test_breed_of_another_species_is_422_on_breed(receptionist, api_as):
    body = new_animal(ClientFactory(), species=species("Cat").pk, breed=breed("Dog", "Labrador Retriever").pk)
    assert error_fields(api_as(receptionist).post(URL, body)) == ["breed"]


def test_animal_for_an_inactive_owner_is_409(receptionist, api_as):
    response = api_as(receptionist).post(URL, new_animal(ClientFactory(is_active=False)))
    assert response.status_code == 409
    assert response.json()["field"] == "owner"


def test_three_megabyte_body_is_413_json(receptionist, api_as):
    response = api_as(receptionist).post(URL, '{"name": "' + "x" * (3 * 1024 * 1024) + '"}')
    assert response.status_code == 413
    assert response.json()["detail"]


def test_body_that_is_not_json_is_400(receptionist, api_as):
    response = api_as(receptionist).post(URL, "name=Rex&species=1")
    assert response.status_code == 400
    assert response.json()["detail"]


# --- transfer, death, activity, weights ------------------------------------------------------------------------


def test_transfer_keeps_the_ownership_history(receptionist, api_as):
    first, second = ClientFactory(last_name="First"), ClientFactory(last_name="Second")
    rex = AnimalFactory(owner=first)
    response = api_as(receptionist).post(f"{detail(rex)}/transfer", {"to_owner": second.pk, "note": "rehomed"})
    assert response.status_code == 200
    data = response.json()
    assert data["owner"]["id"] == second.pk
    history = data["ownerships"]
    assert [(o["client"]["id"], o["ended_at"] is None, o["note"]) for o in history] == [
        (second.pk, True, "rehomed"),
        (first.pk, False, ""),
    ]
    assert history[1]["ended_at"] == history[0]["started_at"]
    assert Ownership.objects.filter(animal=rex).count() == 2


def test_transfer_to_the_current_owner_is_409(receptionist, api_as):
    rex = AnimalFactory()
    response = api_as(receptionist).post(f"{detail(rex)}/transfer", {"to_owner": rex.owner_id})
    assert response.status_code == 409
    assert response.json()["field"] == "to_owner"


def test_transfer_to_an_unknown_client_is_422_on_to_owner(receptionist, api_as):
    rex = AnimalFactory()
    assert error_fields(api_as(receptionist).post(f"{detail(rex)}/transfer", {"to_owner": 999999})) == ["to_owner"]


def test_mark_deceased_then_again_is_409(receptionist, api_as):
    rex = AnimalFactory()
    api = api_as(receptionist)
    today = timezone.localdate().isoformat()
    data = api.post(f"{detail(rex)}/deceased", {"on": today, "note": "peacefully"}).json()
    assert (data["is_deceased"], data["deceased_on"]) == (True, today)
    response = api.post(f"{detail(rex)}/deceased", {"on": today})
    assert response.status_code == 409
    assert "already recorded" in response.json()["detail"]


def test_date_of_death_in_the_future_is_422_on_on(receptionist, api_as):
    rex = AnimalFactory()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert error_fields(api_as(receptionist).post(f"{detail(rex)}/deceased", {"on": tomorrow})) == ["on"]
    rex.refresh_from_db()
    assert rex.deceased_on is None


def test_deactivate_twice_is_409_and_reactivate_restores(receptionist, api_as):
    rex = AnimalFactory()
    api = api_as(receptionist)
    assert api.post(f"{detail(rex)}/deactivate").json()["is_active"] is False
    assert api.post(f"{detail(rex)}/deactivate").status_code == 409
    assert api.post(f"{detail(rex)}/reactivate").json()["is_active"] is True


def test_add_weight_returns_kg_as_a_decimal_string(vet_user, api_as):
    rex = AnimalFactory()
    response = api_as(vet_user).post(f"{detail(rex)}/weights", {"kg": "12.5", "measured_on": "2024-03-01"})
    assert response.status_code == 201
    assert response.json()["kg"] == "12.500"
    weight = Weight.objects.get(animal=rex)
    assert (weight.kg, weight.measured_on, weight.recorded_by) == (Decimal("12.5"), dt.date(2024, 3, 1), vet_user)


@pytest.mark.parametrize("kg", ["0", "-1", "abc", "2000.001", "1.0001", None])
def test_impossible_weights_are_422_on_kg(kg, vet_user, api_as):
    rex = AnimalFactory()
    assert error_fields(api_as(vet_user).post(f"{detail(rex)}/weights", {"kg": kg})) == ["kg"]
    assert not Weight.objects.exists()


def test_weight_measured_in_the_future_is_422(vet_user, api_as):
    rex = AnimalFactory()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = api_as(vet_user).post(f"{detail(rex)}/weights", {"kg": "3", "measured_on": tomorrow})
    assert error_fields(response) == ["measured_on"]


# --- filters, pagination, query counts -------------------------------------------------------------------------


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [a["name"] for a in response.json()["items"]]


def test_filters_owner_species_active_deceased(receptionist, api_as):
    smith = ClientFactory(last_name="Smith")
    AnimalFactory(name="Alpha", owner=smith)
    AnimalFactory(name="Bravo", owner=smith, species=species("Cat"))
    AnimalFactory(name="Charlie", is_active=False)
    dead = AnimalFactory(name="Delta")
    animal_mark_deceased(animal=dead, on=timezone.localdate(), by=receptionist)
    api = api_as(receptionist)
    assert names(api.get(URL)) == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert names(api.get(URL, {"owner": smith.pk})) == ["Alpha", "Bravo"]
    assert names(api.get(URL, {"species": species("Cat").pk})) == ["Bravo"]
    assert names(api.get(URL, {"active": "false"})) == ["Charlie"]
    assert names(api.get(URL, {"deceased": "true"})) == ["Delta"]
    assert names(api.get(URL, {"deceased": "false", "active": "true"})) == ["Alpha", "Bravo"]


@pytest.mark.parametrize("q", ["rex", "REX SMI", "smith", CHIP, "0113 496 0777"])
def test_q_matches_pet_owner_phone_and_chip(q, receptionist, api_as):
    owner = ClientFactory(last_name="Smith", mobile_phone="+441134960777")
    AnimalFactory(name="Rex", owner=owner, microchip=CHIP)
    AnimalFactory(name="Tibbles", owner=ClientFactory(last_name="Jones", mobile_phone="+441134960888"))
    assert names(api_as(receptionist).get(URL, {"q": q})) == ["Rex"]


def test_pagination(receptionist, api_as):
    for name in ["A", "B", "C"]:
        AnimalFactory(name=name)
    body = api_as(receptionist).get(URL, {"limit": 2, "offset": 1}).json()
    assert (body["count"], [a["name"] for a in body["items"]]) == (3, ["B", "C"])


def count_queries(api, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_page_size(receptionist, api_as, django_assert_max_num_queries):
    owner = ClientFactory()
    for i in range(100):
        AnimalFactory(owner=owner if i % 2 else ClientFactory(), breed=breed(), alerts="Bites")
    api = api_as(receptionist)
    api.get(URL)
    assert count_queries(api, URL, {"limit": 10}) == count_queries(api, URL, {"limit": 100})
    with django_assert_max_num_queries(7):
        api.get(URL, {"limit": 100, "q": "a"})


def test_detail_query_count_does_not_grow_with_weights_and_owners(receptionist, api_as):
    plain, busy = AnimalFactory(), AnimalFactory()
    for _ in range(10):
        WeightFactory(animal=busy)
    for _ in range(3):
        Ownership.objects.filter(animal=busy, ended_at__isnull=True).update(ended_at=timezone.now())
        Ownership.objects.create(animal=busy, client=ClientFactory())
    api = api_as(receptionist)
    api.get(detail(plain))
    assert count_queries(api, detail(plain)) == count_queries(api, detail(busy))
