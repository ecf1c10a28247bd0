"""/api/v1/search: the global search over pets and owners, best matches first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from animals.services import animal_mark_deceased
from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/search"


def hits(api, q, **params):
    response = api.get(URL, {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_pet_named_exactly_like_the_query_comes_first(receptionist, api_as):
    AnimalFactory(name="Rexford")
    AnimalFactory(name="Rexy", owner=ClientFactory(last_name="Rex"))
    rex = AnimalFactory(name="Rex")
    AnimalFactory(name="Bella", owner=ClientFactory(first_name="Rexanne"))
    found = hits(api_as(receptionist), "Rex")
    assert (found[0]["kind"], found[0]["animal"]["id"]) == ("animal", rex.pk)
    assert found[0]["score"] >= max(h["score"] for h in found)
    assert [h["score"] for h in found] == sorted((h["score"] for h in found), reverse=True)


def test_hit_carries_owner_summary_and_animal_alerts(receptionist, api_as):
    owner = ClientFactory(first_name="Ann", last_name="Smith", mobile_phone="+441134960123")
    AnimalFactory(name="Rex", owner=owner, alerts="Bites\nAllergic to penicillin")
    hit = hits(api_as(receptionist), "rex")[0]
    assert hit["kind"] == "animal"
    assert hit["client"] == {
        "id": owner.pk,
        "display_name": "Mrs Ann Smith",
        "main_phone": "0113 496 0123",
        "email": owner.email,
        "is_active": True,
    }
    assert hit["animal"]["alerts"] == ["Bites", "Allergic to penicillin"]
    assert hit["animal"]["species"]["name"] == "Dog"


def test_owner_without_pets_is_a_client_hit(receptionist, api_as):
    owner = ClientFactory(last_name="Petless")
    found = hits(api_as(receptionist), "petless")
    assert [(h["kind"], h["client"]["id"], h["animal"]) for h in found] == [("client", owner.pk, None)]


@pytest.mark.parametrize("typed", ["01134960123", "0113 496 0123", "+44 113 496 0123", "(0113) 4960123"])
def test_phone_in_any_format_finds_the_owner_and_pets(typed, receptionist, api_as):
    owner = ClientFactory(mobile_phone="+441134960123")
    AnimalFactory(name="Rex", owner=owner)
    ClientFactory(mobile_phone="+441134960999")
    found = hits(api_as(receptionist), typed)
    assert {h["client"]["id"] for h in found} == {owner.pk}


def test_microchip_finds_its_animal_first(receptionist, api_as):
    chipped = AnimalFactory(name="Zed", microchip="985141000123456")
    AnimalFactory(name="985")  # a pet named like the start of the chip should not outrank the chip itself
    found = hits(api_as(receptionist), "985141000123456")
    assert found[0]["animal"]["id"] == chipped.pk


def test_deceased_pets_rank_below_living_ones_and_can_be_left_out(receptionist, api_as):
    dead = AnimalFactory(name="Rex")
    animal_mark_deceased(animal=dead, on=timezone.localdate(), by=receptionist)
    living = AnimalFactory(name="Rexie")
    api = api_as(receptionist)
    animals = [h["animal"]["id"] for h in hits(api, "rex") if h["kind"] == "animal"]
    assert animals == [living.pk, dead.pk]
    animals = [h["animal"]["id"] for h in hits(api, "rex", include_inactive="false") if h["kind"] == "animal"]
    assert animals == [living.pk]


def test_limit_caps_the_number_of_hits(receptionist, api_as):
    for i in range(8):
        AnimalFactory(name=f"Rex{i}")
    assert len(hits(api_as(receptionist), "rex", limit=3)) == 3


def test_query_with_nothing_searchable_returns_no_hits(receptionist, api_as):
    AnimalFactory(name="Rex")
    assert hits(api_as(receptionist), "  !!  ") == []


@pytest.mark.parametrize("params", [{}, {"q": "x" * 201}, {"q": "rex", "limit": 0}, {"q": "rex", "limit": 51}])
def test_bad_search_parameters_are_422(params, receptionist, api_as):
    response = api_as(receptionist).get(URL, params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_long_hostile_query_is_handled(receptionist, api_as):
    found = hits(api_as(receptionist), "%_' OR 1=1; -- <script>" * 8)
    assert found == []


@pytest.mark.parametrize(
    ("role", "expected"), [("receptionist", 200), ("vet_user", 200), ("manager", 200), ("nobody", 403)]
)
def test_search_by_role(role, expected, api_for):
    assert api_for(role).get(URL, {"q": "rex"}).status_code == expected


def test_search_without_credentials_is_401(anonymous):
    assert anonymous.get(URL, {"q": "rex"}).status_code == 401


def test_search_query_count_does_not_grow_with_the_hits(receptionist, api_as):
    AnimalFactory(name="Rex", owner=ClientFactory(last_name="Rexham"))
    api = api_as(receptionist)
    hits(api, "rex")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            hits(api, "rex", limit=50)
        return len(ctx.captured_queries)

    few = count()
    for i in range(40):
        AnimalFactory(name=f"Rex{i}", owner=ClientFactory(last_name=f"Rexham{i}"))
    assert count() == few
