"""The global search: one box, pets and owners, best matches first."""

import pytest
from django.utils import timezone

from animals.selectors import search
from animals.services import animal_mark_deceased
from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db


def kinds_and_labels(query, **kwargs):
    return [(h.kind, h.label) for h in search(query=query, **kwargs)]


def test_exact_pet_name_ranks_before_prefix_matches():
    AnimalFactory(name="Rexford")
    AnimalFactory(name="Rex")
    AnimalFactory(name="Rexy")
    labels = [label for kind, label in kinds_and_labels("rex") if kind == "animal"]
    assert labels[0] == "Rex"
    assert set(labels) == {"Rex", "Rexford", "Rexy"}


def test_surname_matches_at_word_start_exact_surname_first():
    smithson = ClientFactory(last_name="Smithson", first_name="Al")
    smith = ClientFactory(last_name="Smith", first_name="Zoe")
    ClientFactory(last_name="Goldsmith")
    clients = [h.client for h in search(query="Smith") if h.kind == "client"]
    assert clients == [smith, smithson]


def test_first_name_finds_the_owner():
    jane = ClientFactory(first_name="Jane", last_name="Doe")
    assert jane in [h.client for h in search(query="jan")]


@pytest.mark.parametrize(
    "typed",
    ["0113 496 0123", "+44 113 496 0123", "01134960123", "(0113) 4960123", "0044 113 4960123", "4960123"],
)
def test_phone_in_any_format_finds_the_owner_and_their_pets(typed):
    owner = ClientFactory(last_name="Patel", mobile_phone="", home_phone="+441134960123")
    pet = AnimalFactory(owner=owner, name="Biscuit")
    ClientFactory(last_name="Other", home_phone="+441134960999")
    hits = search(query=typed)
    assert {h.client for h in hits} == {owner}
    assert pet in [h.animal for h in hits]


def test_email_finds_the_owner():
    owner = ClientFactory(email="jane.smith@example.com")
    assert [h.client for h in search(query="jane.smith@example.com") if h.kind == "client"] == [owner]


def test_microchip_finds_the_pet_first():
    chipped = AnimalFactory(name="Luna", microchip="985141000123456")
    AnimalFactory(name="Luna")
    hits = search(query="985 141 000 123 456")
    assert hits[0].animal == chipped


def test_pet_and_owner_words_combine():
    smith = ClientFactory(last_name="Smith")
    jones = ClientFactory(last_name="Jones")
    rex_smith = AnimalFactory(name="Rex", owner=smith)
    AnimalFactory(name="Rex", owner=jones)
    assert [h.animal for h in search(query="rex smith") if h.kind == "animal"] == [rex_smith]


def test_accents_and_case_do_not_matter():
    owner = ClientFactory(last_name="Müller", first_name="Zoë")
    assert owner in [h.client for h in search(query="MULLER zoe")]


def test_organisation_is_searchable():
    farm = ClientFactory(first_name="", last_name="", organisation="Hill Top Farm")
    assert [h.client for h in search(query="hill top") if h.kind == "client"] == [farm]


def test_deceased_pet_ranks_below_a_living_one(receptionist):
    old = AnimalFactory(name="Max")
    animal_mark_deceased(animal=old, on=timezone.localdate(), by=receptionist)
    alive = AnimalFactory(name="Max")
    animals = [h.animal for h in search(query="max") if h.kind == "animal"]
    assert animals == [alive, old]
    assert old not in [h.animal for h in search(query="max", include_inactive=False)]


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "'; drop table clients_client; --"])
def test_empty_or_wildcard_queries_find_nothing_and_do_not_fail(query):
    ClientFactory(last_name="Smith")
    AnimalFactory(name="Rex")
    assert search(query=query) == []


def test_very_long_query_is_cut_not_failed():
    ClientFactory(last_name="Smith")
    assert search(query="smith " + "x" * 5000) == []


def test_search_costs_two_queries_whatever_the_number_of_hits(django_assert_num_queries):
    owner = ClientFactory(last_name="Brown")
    for i in range(30):
        AnimalFactory(name=f"Brownie{i}", owner=owner)
    with django_assert_num_queries(2):
        hits = search(query="brown", limit=50)
        [(h.client.display_name, h.animal and h.animal.species.name) for h in hits]
    assert len(hits) == 31
