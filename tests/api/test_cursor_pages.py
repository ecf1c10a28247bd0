"""The API's list endpoints page by cursor (vetpms.api_utils.Page): ``next`` leads through every row once while
rows are added between requests, a page costs the same queries deep or shallow, bad cursors are 422s."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db


def walk(api, url: str, params: dict, between=None) -> tuple[list[dict], set[int]]:
    items: list[dict] = []
    query_counts = set()
    cursor = None
    api.get(url, {"limit": 1})  # the token's first use of the day is recorded once; not part of a page
    while True:
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(url, params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.content
        query_counts.add(len(ctx.captured_queries))
        body = response.json()
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items, query_counts
        if between:
            between()


def test_clients_follow_next_through_every_row_once_while_clients_are_added(receptionist, api_as):
    for name in ["Baker", "Baker", "Clark", "Abbott", "Evans", "Baker", "Dyer", "Fox", "Abbott", "Grey", "Hill"]:
        ClientFactory(last_name=name)
    before = {c["id"] for c in api_as(receptionist).get("/api/v1/clients", {"limit": 100}).json()["items"]}
    added = []
    items, query_counts = walk(
        api_as(receptionist),
        "/api/v1/clients",
        {"limit": 3},
        between=lambda: added.extend(  # each new one sorts after the last: first names in order
            [ClientFactory(last_name="Aardvark"), ClientFactory(last_name="Zed", first_name=f"Z{len(added):03d}")]
        ),
    )
    ids = [c["id"] for c in items]
    assert len(ids) == len(set(ids)) and before <= set(ids)
    assert {c.pk for c in added if c.last_name == "Zed"} <= set(ids)
    assert not {c.pk for c in added if c.last_name == "Aardvark"} & set(ids)
    assert len(query_counts) == 1  # the same statements on every page


def test_previous_goes_back_and_the_first_page_has_none(receptionist, api_as):
    for name in ["Adams", "Brown", "Clark", "Davis", "Evans"]:
        ClientFactory(last_name=name)
    api = api_as(receptionist)
    first = api.get("/api/v1/clients", {"limit": 2}).json()
    second = api.get("/api/v1/clients", {"limit": 2, "cursor": first["next"]}).json()
    back = api.get("/api/v1/clients", {"limit": 2, "cursor": second["previous"]}).json()
    assert first["previous"] is None and [c["last_name"] for c in second["items"]] == ["Clark", "Davis"]
    assert back["items"] == first["items"] and back["previous"] is None
    assert (first["count"], first["count_capped"]) == (5, False)


def test_animals_pages_cost_the_same_queries_for_10_or_60_rows(receptionist, api_as):
    for _ in range(10):
        AnimalFactory()
    few_items, few = walk(api_as(receptionist), "/api/v1/animals", {"limit": 4})
    for _ in range(50):
        AnimalFactory()
    many_items, many = walk(api_as(receptionist), "/api/v1/animals", {"limit": 4})
    assert (len(few_items), len(many_items)) == (10, 60)
    assert few == many and len(many) == 1


@pytest.mark.parametrize(
    "params",
    [{"cursor": "nonsense"}, {"cursor": "W1tdXQ"}, {"offset": 10_001}, {"cursor": "x" * 2001}],
)
def test_a_bad_cursor_or_a_deep_offset_is_a_422(receptionist, api_as, params):
    response = api_as(receptionist).get("/api/v1/clients", params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_a_cursor_with_an_offset_is_a_422(receptionist, api_as):
    for name in ["Adams", "Brown", "Clark"]:
        ClientFactory(last_name=name)
    api = api_as(receptionist)
    cursor = api.get("/api/v1/clients", {"limit": 1}).json()["next"]
    response = api.get("/api/v1/clients", {"limit": 1, "cursor": cursor, "offset": 1})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "offset"]


def test_deliveries_pages_cost_the_same_queries_whatever_the_pets_species(receptionist, api_as):
    from tests.factories import species
    from tests.reminders.ui_data import make_delivery, make_reminder, make_type

    booster = make_type("DHPP booster")
    for name in ["Dog", "Cat", "Rabbit"]:
        pet = AnimalFactory(species=species(name))
        make_delivery([make_reminder(booster, animal=pet)])
    few_items, few = walk(api_as(receptionist), "/api/v1/reminder-deliveries", {"limit": 100})
    for i in range(12):
        pet = AnimalFactory(species=species(["Dog", "Cat", "Rabbit"][i % 3]))
        make_delivery([make_reminder(booster, animal=pet)])
    many_items, many = walk(api_as(receptionist), "/api/v1/reminder-deliveries", {"limit": 100})
    assert (len(few_items), len(many_items)) == (3, 15)
    assert {n["animal"]["species"] for d in many_items for n in d["notices"]} == {"Dog", "Cat", "Rabbit"}
    assert few == many
