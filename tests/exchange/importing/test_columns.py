"""The shared column spec: loose header matching and the round-trip property (canonical headers map to themselves)."""

import pytest

from exchange.importing.columns import ANIMALS, CLIENTS, ENTITIES, guess_entity, match_header, propose_mapping


@pytest.mark.parametrize("header", ["Surname", "Last name", "Client Last Name", "CLIENT_LAST_NAME", "last_name"])
def test_surname_headers_mean_last_name(header):
    assert match_header(CLIENTS, header) == "last_name"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Pet Name", "name"), ("Owner ID", "owner_source_id"), ("Chip No", "microchip"), ("D.O.B.", "date_of_birth")],
)
def test_animal_headers(header, expected):
    assert match_header(ANIMALS, header) == expected


def test_unknown_header_is_not_guessed():
    assert match_header(CLIENTS, "Favourite colour") is None


@pytest.mark.parametrize("entity", list(ENTITIES.values()), ids=lambda e: e.name)
def test_canonical_headers_map_to_themselves(entity):
    """What an export writes imports back with nothing to map."""
    names = entity.column_names
    assert len(set(names)) == len(names)
    assert propose_mapping(entity, names) == dict(enumerate(names))
    assert guess_entity(entity.filename, names) is entity


def test_a_column_is_claimed_once():
    mapping = propose_mapping(CLIENTS, ["Surname", "Last name", "Email"])
    assert mapping == {0: "last_name", 2: "email"}
