"""A small fuzz smoke: hostile values in every field, parameter and id never produce a 500.

Not a property-based fuzzer: a fixed list of values known to break naive code (NUL bytes that PostgreSQL refuses,
integers beyond 64 bits, wrong types, huge strings), tried in every input field one at a time.
"""

import pytest

from animals.schemas import AnimalIn, DeceasedIn, TransferIn, WeightIn
from clients.schemas import ClientIn
from tests.factories import AnimalFactory, ClientFactory, species

pytestmark = pytest.mark.django_db

HOSTILE = [
    None,
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "<script>alert(1)</script>",
    "'; DROP TABLE clients_client; --",
    "🐶" * 40,
    "\u202e\u0000\ufeff",
    -1,
    0,
    2**63,
    10**30,
    1.5,
    float("1e308"),
    True,
    [],
    ["a"],
    {},
    {"id": 1},
]

OK = {200, 201, 400, 404, 409, 413, 422}


def assert_clean(response):
    assert response.status_code in OK, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("field", list(ClientIn.model_fields))
def test_client_create_and_patch_survive_hostile_values(field, manager, api_as):
    api = api_as(manager)
    client = ClientFactory()
    for value in HOSTILE:
        assert_clean(api.post("/api/v1/clients", {"last_name": "Fuzz", field: value}))
        assert_clean(api.patch(f"/api/v1/clients/{client.pk}", {field: value}))


@pytest.mark.parametrize("field", list(AnimalIn.model_fields))
def test_animal_create_and_patch_survive_hostile_values(field, manager, api_as):
    api = api_as(manager)
    owner, rex = ClientFactory(), AnimalFactory()
    base = {"owner": owner.pk, "name": "Fuzz", "species": species().pk}
    for value in HOSTILE:
        assert_clean(api.post("/api/v1/animals", base | {field: value}))
        if field != "owner":
            assert_clean(api.patch(f"/api/v1/animals/{rex.pk}", {field: value}))


@pytest.mark.parametrize(
    ("action", "schema"), [("transfer", TransferIn), ("deceased", DeceasedIn), ("weights", WeightIn)]
)
def test_animal_actions_survive_hostile_values(action, schema, manager, api_as):
    api = api_as(manager)
    for field in schema.model_fields:
        for value in HOSTILE:
            rex = AnimalFactory()
            assert_clean(api.post(f"/api/v1/animals/{rex.pk}/{action}", {field: value}))


QUERY_VALUES = ["", "\x00", "a\x00", "x" * 300, "-1", "99999999999999999999999", "1e9", "true", "%", "_", "\\"]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/clients", ["active", "consent", "species", "created_from", "created_to", "q", "limit", "offset"]),
        ("/api/v1/animals", ["owner", "species", "active", "deceased", "q", "limit", "offset"]),
        ("/api/v1/search", ["q", "limit", "include_inactive"]),
        ("/api/v1/species", ["active"]),
    ],
)
def test_query_parameters_survive_hostile_values(url, params, manager, api_as):
    api = api_as(manager)
    AnimalFactory(name="Rex")
    for param in params:
        for value in QUERY_VALUES:
            base = {"q": "rex"} if url.endswith("search") and param != "q" else {}
            assert_clean(api.get(url, base | {param: value}))


@pytest.mark.parametrize("bad_id", ["0", "-1", "99999999999999999999999", "9223372036854775808", "1%00", "١٢"])
def test_ids_in_urls_survive_hostile_values(bad_id, manager, api_as):
    api = api_as(manager)
    for path in ["clients/{}", "animals/{}", "species/{}/breeds", "animals/{}/weights"]:
        url = "/api/v1/" + path.format(bad_id)
        assert_clean(api.get(url) if not path.endswith("weights") else api.post(url, {"kg": "1"}))
