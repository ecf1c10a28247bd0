"""/api/v1/species and /api/v1/species/{id}/breeds: read-only reference data."""

import pytest

from animals.models import Species
from tests.factories import species

pytestmark = pytest.mark.django_db


def test_species_list_has_the_seeded_species_in_name_order(vet_user, api_as):
    response = api_as(vet_user).get("/api/v1/species")
    assert response.status_code == 200
    names = [s["name"] for s in response.json()]
    assert {"Dog", "Cat", "Rabbit", "Horse", "Guinea pig", "Ferret", "Bird", "Reptile"} <= set(names)
    assert names == sorted(names)


def test_species_list_can_leave_out_retired_species(vet_user, api_as):
    Species.objects.filter(name="Ferret").update(is_active=False)
    names = [s["name"] for s in api_as(vet_user).get("/api/v1/species", {"active": "true"}).json()]
    assert "Ferret" not in names and "Dog" in names


def test_breeds_of_a_species(vet_user, api_as):
    response = api_as(vet_user).get(f"/api/v1/species/{species('Dog').pk}/breeds")
    assert response.status_code == 200
    names = [b["name"] for b in response.json()]
    assert "Labrador Retriever" in names
    assert names == sorted(names)
    cat_breeds = {b["name"] for b in api_as(vet_user).get(f"/api/v1/species/{species('Cat').pk}/breeds").json()}
    assert not cat_breeds & set(names)


@pytest.mark.parametrize("bad", ["999999", "dog", "1e3"])
def test_breeds_of_an_unknown_species_is_404(bad, vet_user, api_as):
    response = api_as(vet_user).get(f"/api/v1/species/{bad}/breeds")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("role", "expected"), [("receptionist", 200), ("vet_user", 200), ("manager", 200), ("nobody", 403)]
)
def test_reference_data_by_role(role, expected, api_for):
    api = api_for(role)
    assert api.get("/api/v1/species").status_code == expected
    assert api.get(f"/api/v1/species/{species('Dog').pk}/breeds").status_code == expected


def test_reference_data_without_credentials_is_401(anonymous):
    assert anonymous.get("/api/v1/species").status_code == 401
    assert anonymous.get(f"/api/v1/species/{species('Dog').pk}/breeds").status_code == 401
