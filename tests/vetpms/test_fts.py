"""The search text's substring index (vetpms.fts): on SQLite an FTS5 trigram table per owner and pet table, kept
by triggers; every search and list filter finds exactly what a LIKE over the text finds, before and after rows
change, and a migration that rebuilds the table (dropping its triggers) cannot leave the index stale."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from animals.models import Animal
from animals.selectors import search
from clients.models import Client
from clients.selectors import search_condition
from tests.factories import AnimalFactory, ClientFactory
from vetpms import fts

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's; PostgreSQL has GIN")


@pytest.fixture
def practice():
    rng = random.Random(5)
    surnames = ["Smith", "Goldsmith", "Patel", "O'Brien", "Nguyen", "Smythe", "Van der Berg", "Ångström", "Li"]
    pets = ["Max", "Maxine", "Bella", "Smudge", "Lily", "Zoë", "Bo"]
    for n in range(30):
        owner = ClientFactory(
            last_name=rng.choice(surnames),
            first_name=rng.choice(["Ann", "Bob", "Chloé", "Dev"]),
            email=f"person{n}_x%@example.com" if n % 3 == 0 else f"p{n}@vets.example.org",
            mobile_phone=f"+4477009{n:05d}",
        )
        for k in range(rng.randint(0, 2)):
            AnimalFactory(owner=owner, name=rng.choice(pets), microchip=f"98500000{n:05d}{k:02d}" if n % 4 else "")


# words, prefixes, phones in two forms, a chip, emails, LIKE wildcards, a quote, short and empty
QUERIES = [
    "smi",
    "smith",
    "gold",
    "mit",
    "max",
    "max smith",
    "bella pat",
    "o'brien",
    "van der",
    "zoe",
    "angstrom",
    "07700900012",
    "0770 090 0012",
    "00012",
    "985000000000301",
    "person3_x%@example.com",
    "_x%",
    "p7@vets",
    "example.org",
    "li",
    "bo",
    "b",
    'sm"ith',
    "chloe",
    "dev nguyen",
    "ann",
    "zz",
]


def like_only():
    """The same searches with the index switched off: every word a LIKE over the text."""
    saved = set(fts.TABLES)
    fts.TABLES.clear()
    return saved


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_exactly_what_like_finds(practice, query):
    with_index = search(query=query, limit=200)
    clients = set(Client.objects.filter(search_condition(query) or ~Q_all()).values_list("pk", flat=True))
    animals = set(Animal.objects.filter(search_condition(query) or ~Q_all()).values_list("pk", flat=True))
    saved = like_only()
    try:
        assert search(query=query, limit=200) == with_index
        assert set(Client.objects.filter(search_condition(query) or ~Q_all()).values_list("pk", flat=True)) == clients
        assert set(Animal.objects.filter(search_condition(query) or ~Q_all()).values_list("pk", flat=True)) == animals
    finally:
        fts.TABLES.update(saved)


def Q_all():
    from django.db.models import Q

    return Q(pk__in=[])


@sqlite_only
def test_a_substring_search_reads_the_index_on_sqlite(practice):
    with CaptureQueriesContext(connection) as captured:
        search(query="07700900012")
        list(Client.objects.filter(search_condition("p7@vets")))
    statements = [q["sql"] for q in captured.captured_queries]
    assert all("clients_client_search MATCH" in sql for sql in statements[1:])
    assert "animals_animal_search MATCH" in statements[0]


@sqlite_only
def test_the_index_follows_inserts_updates_and_deletes():
    owner = ClientFactory(last_name="Quixote", first_name="Al", mobile_phone="+447700911111")
    pet = AnimalFactory(owner=owner, name="Rocinante")
    assert [h.client for h in search(query="quixo") if h.kind == "client"] == [owner]
    assert [h.client for h in search(query="0911111") if h.kind == "client"] == [owner]  # inside the phone
    assert [h.animal for h in search(query="al rocin")] == [pet]
    owner.last_name = "Panza"
    owner.search_text = owner.build_search_text()
    owner.save()
    assert list(Client.objects.filter(search_condition("quixote"))) == []
    assert list(Client.objects.filter(search_condition("panza"))) == [owner]
    pet.delete()
    owner.delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM animals_animal_search WHERE animals_animal_search MATCH '\"rocinante\"'")
        assert cursor.fetchone()[0] == 0


@sqlite_only
def test_a_table_rebuilt_by_a_migration_gets_its_triggers_and_a_fresh_index_back():
    owner = ClientFactory(last_name="Hopkins")
    with connection.cursor() as cursor:  # what SQLite's ALTER TABLE (Django's table remake) does to triggers
        for suffix in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER clients_client_search_{suffix}")
    late = ClientFactory(last_name="Hopwood")  # written while the index was not kept
    assert list(Client.objects.filter(search_condition("hopwood"))) == []
    assert fts.ensure_indexes(connection) == ["clients_client"]
    assert list(Client.objects.filter(search_condition("hop")).order_by("pk")) == [owner, late]
    assert fts.ensure_indexes(connection) == []  # nothing to do the second time


def test_the_queries_above_find_something(practice):
    """The comparison above is only worth something if the searches find rows: all but the nonsense do."""
    found = {query for query in QUERIES if search(query=query, limit=200)}
    must = {"07700900012", "00012", "p7@vets", "person3_x%@example.com", "angstrom", "van der"}
    assert len(found) >= 20 and must <= found
    assert "mit" not in found  # names match at the start of a word, with or without the index
