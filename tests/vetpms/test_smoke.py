import pytest

from animals.selectors import search
from tests.factories import AnimalFactory, ClientFactory


@pytest.mark.django_db
def test_search_finds_pet_by_name_and_owner_by_phone():
    owner = ClientFactory(last_name="Smith", mobile_phone="+447700900123")
    rex = AnimalFactory(name="Rex", owner=owner)
    assert [h.animal for h in search(query="rex") if h.kind == "animal"] == [rex]
    assert owner in [h.client for h in search(query="07700 900123")]
