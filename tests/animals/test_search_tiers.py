"""The tiered global search (issue 14): exact and prefix matches first, each tier in its index's order, the
substring match only to fill up; only the rows a page shows are read. Runs on both databases."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from animals.selectors import _after_prefix, search
from animals.services import animal_mark_deceased
from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db


def animals_of(hits):
    return [h.animal for h in hits if h.kind == "animal"]


def clients_of(hits):
    return [h.client for h in hits if h.kind == "client"]


def test_pet_name_prefix_comes_before_the_owner_surname_tier_and_the_substring_fill():
    # Pets named "Qu...", pets whose owner is called "Qu...", and a pet matched only by a later word of its
    # owner's search text (the postcode "QU1 1AA"): the tiers in that order.
    named = [AnimalFactory(name=n) for n in ("Quince", "Quark")]
    by_owner = [AnimalFactory(name="Biscuit", owner=ClientFactory(last_name=n, first_name="Al")) for n in ("Quill",)]
    by_postcode = AnimalFactory(
        name="Pebble", owner=ClientFactory(last_name="Brown", first_name="Al", postcode="QU1 1AA")
    )
    assert animals_of(search(query="qu", limit=10)) == [*sorted(named, key=lambda a: a.name), *by_owner, by_postcode]


def test_a_full_prefix_tier_leaves_no_room_for_later_tiers():
    names = ["Zephyr", "Zelda", "Zeus", "Zena"]
    for name in names:
        AnimalFactory(name=name)
    AnimalFactory(name="Biscuit", owner=ClientFactory(last_name="Zeller", first_name="Al"))
    hits = search(query="ze", limit=3)
    # The first three pet names in the index's (alphabetical) order; nothing from the owner-surname tier.
    assert [a.name for a in animals_of(hits)] == sorted(names)[:3]


def test_an_exact_name_ranks_first_within_its_prefix_tier():
    for name in ("Maxwell", "Maxine", "Max", "Maximus"):
        AnimalFactory(name=name)
    assert animals_of(search(query="max", limit=4))[0].name == "Max"


def test_exact_phone_and_email_tiers_come_before_name_prefixes():
    by_email = ClientFactory(first_name="Ann", last_name="Able", email="quentin@example.com")
    by_name = ClientFactory(first_name="Quentin", last_name="Ward")
    assert clients_of(search(query="quentin@example.com", limit=5)) == [by_email]
    phone_owner = ClientFactory(last_name="Patel", mobile_phone="+442079460777")
    assert clients_of(search(query="020 7946 0777", limit=5)) == [phone_owner]
    assert by_name in clients_of(search(query="quentin", limit=5))


def test_client_tiers_surname_then_organisation_then_first_name():
    first = ClientFactory(first_name="Jorvik", last_name="Anders", organisation="")
    org = ClientFactory(first_name="", last_name="", organisation="Jorvik Farm")
    surname = ClientFactory(first_name="Ann", last_name="Jorvikson")
    assert clients_of(search(query="jorvik", limit=10)) == [surname, org, first]


def test_a_row_matching_several_tiers_is_listed_once():
    sam = ClientFactory(first_name="Sam", last_name="Samson", organisation="Samson Kennels", email="sam@example.com")
    pet = AnimalFactory(name="Samba", owner=sam)
    hits = search(query="sam", limit=20)
    assert clients_of(hits) == [sam]
    assert animals_of(hits) == [pet]


def test_accented_names_missed_by_the_prefix_tiers_are_found_by_the_fill():
    # The prefix tiers compare lower-case names; "Östlund" does not start with "ost" there, but the folded search
    # text does, so the substring tier still finds the owner.
    owner = ClientFactory(first_name="Åsa", last_name="Östlund")
    assert clients_of(search(query="ost", limit=5)) == [owner]


def test_leaving_out_the_inactive_applies_to_every_tier(receptionist):
    gone = AnimalFactory(name="Yarrow")
    animal_mark_deceased(animal=gone, on=timezone.localdate(), by=receptionist)
    living = AnimalFactory(name="Yarrow")
    by_owner = AnimalFactory(name="Biscuit", owner=ClientFactory(last_name="Yarrowby", first_name="Al"))
    by_owner_gone = AnimalFactory(name="Rolo", owner=by_owner.owner)
    animal_mark_deceased(animal=by_owner_gone, on=timezone.localdate(), by=receptionist)
    assert set(animals_of(search(query="yarrow", include_inactive=False))) == {living, by_owner}
    assert set(animals_of(search(query="yarrow"))) == {living, gone, by_owner, by_owner_gone}


def test_words_after_the_first_narrow_every_tier():
    smith = ClientFactory(last_name="Smith", first_name="Al")
    jones = ClientFactory(last_name="Jones", first_name="Al")
    rex_smith = AnimalFactory(name="Rexa", owner=smith)
    AnimalFactory(name="Rexb", owner=jones)
    assert animals_of(search(query="rex smith")) == [rex_smith]


def test_a_two_letter_query_costs_two_queries_and_reads_only_a_page(django_assert_num_queries):
    owner = ClientFactory(last_name="Kowalski", first_name="Al")
    for i in range(40):
        AnimalFactory(name=f"Kobe{i:02d}", owner=owner)
    with django_assert_num_queries(2):
        hits = search(query="ko", limit=8)
        [(h.client.display_name, h.animal and h.animal.species.name) for h in hits]
    assert [a.name for a in animals_of(hits)] == [f"Kobe{i:02d}" for i in range(8)]


def test_the_owners_substring_tier_is_left_out_when_pets_fill_the_page():
    for name in ("Wombleby", "Womble", "Wombat"):
        AnimalFactory(name=name)
    with CaptureQueriesContext(connection) as captured:
        search(query="womb", limit=3)
    client_sql = captured.captured_queries[1]["sql"]
    assert "clients_client" in client_sql and "tier3" in client_sql and "tier4" not in client_sql
    with CaptureQueriesContext(connection) as captured:
        search(query="womb", limit=10)  # fewer pets than the page: the owners' substring tier fills up
    assert "tier4" in captured.captured_queries[1]["sql"]


@pytest.mark.parametrize(("prefix", "after"), [("sm", "sn"), ("a", "b"), ("z", "{"), ("mü", "mý")])
def test_the_range_end_of_a_prefix(prefix, after):
    assert _after_prefix(prefix) == after
    assert prefix + "zzzz" < after and prefix < after


def test_no_range_end_after_the_largest_character():
    assert _after_prefix("a" + chr(0x10FFFF)) is None
