"""Patient (an animal) and RelatedPerson (its owners): the mapping, identifier search, and the R4 rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from animals.models import Animal, Ownership, Species
from animals.services import animal_transfer
from clients.models import Client
from clients.services import client_update
from exchange.fhir import systems
from tests.exchange.fhir.conftest import entries
from tests.factories import AnimalFactory, ClientFactory, breed, species

pytestmark = pytest.mark.django_db

CHIP = "985141000123456"


def _extension(patient: dict) -> dict[str, dict]:
    (animal,) = [e for e in patient["extension"] if e["url"] == systems.PATIENT_ANIMAL]
    return {part["url"]: part for part in animal["extension"]}


def test_a_dog_is_a_patient_with_the_animal_extension_in_snomed(receptionist, fhir_as):
    owner = ClientFactory(first_name="Jane", last_name="Smith", email="jane@example.org")
    dog = AnimalFactory(
        name="Rex",
        owner=owner,
        microchip=CHIP,
        breed=breed("Dog", "Labrador Retriever"),
        sex=Animal.Sex.MALE,
        neuter_status=Animal.Neuter.ENTIRE,
        date_of_birth=dt.date(2020, 5, 1),
    )
    response = fhir_as(receptionist).get(f"Patient/{dog.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    patient = response.fhir
    assert patient["resourceType"] == "Patient" and patient["id"] == str(dog.pk)
    parts = _extension(patient)
    assert parts["species"]["valueCodeableConcept"]["coding"] == [
        {"system": systems.SNOMED, "code": "448771007", "display": "Dog"}
    ]
    assert parts["breed"]["valueCodeableConcept"]["text"] == "Labrador Retriever"
    gender_status = parts["genderStatus"]["valueCodeableConcept"]["coding"][0]
    assert (gender_status["system"], gender_status["code"]) == (systems.GENDER_STATUS, "intact")
    assert patient["identifier"] == [
        {"use": "official", "type": {"text": "Microchip (ISO 11784)"}, "system": systems.MICROCHIP, "value": CHIP}
    ]
    assert patient["gender"] == "male" and patient["birthDate"] == "2020-05-01"
    assert patient["deceasedBoolean"] is False
    (contact,) = patient["contact"]
    codes = {(c["system"], c["code"]) for c in contact["relationship"][0]["coding"]}
    assert (systems.practice("contact-relationship"), "owner") in codes
    assert contact["name"]["family"] == "Smith"
    assert {"system": "email", "value": "jane@example.org"} in contact["telecom"]
    assert patient["link"][0]["other"]["reference"].startswith("RelatedPerson/")


def test_a_species_without_a_snomed_code_uses_the_practice_code_system(receptionist, fhir_as):
    rabbit = Species.objects.get(name="Rabbit")
    assert rabbit.snomed_code == ""
    bunny = AnimalFactory(species=rabbit, neuter_status=Animal.Neuter.NEUTERED)
    parts = _extension(fhir_as(receptionist).get(f"Patient/{bunny.pk}").fhir)
    coding = parts["species"]["valueCodeableConcept"]["coding"][0]
    assert coding == {"system": systems.practice("species"), "code": str(rabbit.pk), "display": "Rabbit"}
    assert parts["genderStatus"]["valueCodeableConcept"]["coding"][0]["code"] == "neutered"
    assert "breed" not in parts


def test_the_seeded_cat_has_its_snomed_code():
    assert species("Cat").snomed_code == "448169003"
    assert species("Dog").snomed_code == "448771007"


def test_a_deceased_animal_says_when(receptionist, fhir_as):
    cat = AnimalFactory(species=species("Cat"))
    Animal.objects.filter(pk=cat.pk).update(deceased_on=dt.date(2025, 3, 2))
    patient = fhir_as(receptionist).get(f"Patient/{cat.pk}").fhir
    assert patient["deceasedDateTime"] == "2025-03-02"
    assert "deceasedBoolean" not in patient


@pytest.mark.parametrize(
    "value",
    [CHIP, f"{systems.MICROCHIP}|{CHIP}", "985 141 000-123 456", f"{systems.MICROCHIP}|985141000123456,999"],
)
def test_search_by_microchip_finds_the_one_animal(receptionist, fhir_as, value):
    rex = AnimalFactory(microchip=CHIP)
    AnimalFactory(microchip="985141000999999")
    AnimalFactory()  # no chip
    bundle = fhir_as(receptionist).get("Patient", {"identifier": value}).fhir
    assert bundle["type"] == "searchset"
    assert [p["id"] for p in entries(bundle)] == [str(rex.pk)]


def test_search_by_microchip_in_another_system_finds_nothing(receptionist, fhir_as):
    AnimalFactory(microchip=CHIP)
    bundle = fhir_as(receptionist).get("Patient", {"identifier": f"urn:example:other|{CHIP}"}).fhir
    assert entries(bundle) == []


def test_an_empty_identifier_value_is_a_400(receptionist, fhir_as):
    response = fhir_as(receptionist).get("Patient", {"identifier": ""})
    assert response.status_code == 400
    assert response.fhir["resourceType"] == "OperationOutcome"


def test_search_by_name_and_birthdate_prefixes(receptionist, fhir_as):
    old = AnimalFactory(name="Bella", date_of_birth=dt.date(2015, 6, 1))
    young = AnimalFactory(name="Bellamy", date_of_birth=dt.date(2023, 1, 10))
    AnimalFactory(name="Max", date_of_birth=dt.date(2023, 1, 10))
    client = fhir_as(receptionist)

    def ids(params):
        return sorted(int(p["id"]) for p in entries(client.get("Patient", params).fhir))

    assert ids({"name": "bell"}) == [old.pk, young.pk]
    assert ids({"name:exact": "Bella"}) == [old.pk]
    assert ids({"name": "bell", "birthdate": "ge2020"}) == [young.pk]
    assert ids({"name": "bell", "birthdate": "lt2020-01-01"}) == [old.pk]
    assert ids({"name": "bell", "birthdate": "2023-01"}) == [young.pk]
    assert ids({"name": "bell", "birthdate": ["ge2015-06-01", "le2015-06-01"]}) == [old.pk]
    assert ids({"_id": f"{young.pk},{old.pk}"}) == [old.pk, young.pk]


def test_last_updated_filters_by_the_change_time(receptionist, fhir_as):
    before = AnimalFactory(name="Alpha")
    Animal.objects.filter(pk=before.pk).update(updated_at=timezone.now() - dt.timedelta(days=10))
    after = AnimalFactory(name="Alphonse")
    since = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    client = fhir_as(receptionist)
    found = [p["id"] for p in entries(client.get("Patient", {"name": "alph", "_lastUpdated": f"ge{since}"}).fhir)]
    assert found == [str(after.pk)]
    found = [p["id"] for p in entries(client.get("Patient", {"name": "alph", "_lastUpdated": f"lt{since}"}).fhir)]
    assert found == [str(before.pk)]


def test_related_person_is_an_owner_of_one_animal_with_the_period(receptionist, manager, fhir_as):
    first, second = ClientFactory(last_name="First"), ClientFactory(last_name="Second")
    dog = AnimalFactory(owner=first)
    animal_transfer(animal=dog, to_owner=second, by=manager, note="sold")
    client = fhir_as(receptionist)
    patient = client.get(f"Patient/{dog.pk}").fhir
    assert patient["contact"][0]["name"]["family"] == "Second"
    people = [client.get(item["other"]["reference"]).fhir for item in patient["link"]]
    assert [p["name"][0]["family"] for p in people] == ["First", "Second"]
    for person in people:
        assert person["patient"]["reference"] == f"Patient/{dog.pk}"
        assert person["relationship"][0]["coding"][0]["code"] == "owner"
    assert "end" in people[0]["period"] and "end" not in people[1]["period"]
    assert people[0]["active"] is False and people[1]["active"] is True
    found = entries(client.get("RelatedPerson", {"patient": f"Patient/{dog.pk}"}).fhir)
    assert sorted(p["id"] for p in found) == sorted(p["id"] for p in people)


def test_related_person_changes_with_its_ownership_its_client_and_its_animal(receptionist, manager, fhir_as):
    """meta.lastUpdated and _lastUpdated: the latest of the ownership's end (or start), the client's change and the
    animal's, since the resource shows the client's details and the animal's name."""
    old, kept = ClientFactory(last_name="Old"), ClientFactory(last_name="Kept")
    sold, stays = AnimalFactory(owner=old, name="Sold"), AnimalFactory(owner=kept, name="Stays")
    long_ago = timezone.now() - dt.timedelta(days=30)
    Ownership.objects.update(started_at=long_ago)
    Client.objects.update(updated_at=long_ago)
    Animal.objects.update(updated_at=long_ago)
    client = fhir_as(receptionist)
    (person,) = entries(client.get("RelatedPerson", {"patient": f"Patient/{stays.pk}"}).fhir)
    assert dt.datetime.fromisoformat(person["meta"]["lastUpdated"]) == long_ago

    cut = timezone.now()
    since = {"_lastUpdated": f"ge{cut.isoformat().replace('+00:00', 'Z')}"}
    assert entries(client.get("RelatedPerson", since).fhir) == []
    animal_transfer(animal=sold, to_owner=kept, by=manager)  # ends Old's ownership, starts Kept's
    changed = entries(client.get("RelatedPerson", since).fhir)
    assert sorted((p["name"][0]["family"], p["patient"]["reference"]) for p in changed) == [
        ("Kept", f"Patient/{sold.pk}"),  # the new ownership
        ("Old", f"Patient/{sold.pk}"),  # the one it ended
    ]
    # A change to the client shows in every RelatedPerson that carries their details.
    client_update(client=kept, by=manager, data={"town": "Leeds"})
    changed = entries(client.get("RelatedPerson", since).fhir)
    assert sorted(p["patient"]["reference"] for p in changed if p["name"][0]["family"] == "Kept") == sorted(
        [f"Patient/{sold.pk}", f"Patient/{stays.pk}"]
    )


def test_an_unknown_patient_is_a_404_outcome(receptionist, fhir_as):
    client = fhir_as(receptionist)
    for path in ("Patient/999999", "Patient/abc", "Patient/12.5"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.fhir["issue"][0]["code"] == "not-found"
