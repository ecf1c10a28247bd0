import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from animals.models import Animal, Ownership
from animals.services import (
    animal_create,
    animal_mark_deceased,
    animal_set_active,
    animal_transfer,
    animal_update,
    breed_save,
    species_save,
    weight_record,
)
from tests.factories import AnimalFactory, ClientFactory, breed, species
from vetpms.audit import entries_for
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
CHIP = "985141000123456"


def test_create_records_first_owner_and_audit(receptionist):
    owner = ClientFactory()
    rex = animal_create(by=receptionist, owner=owner, name="Rex", species=species("Dog"), breed=breed())
    ownership = Ownership.objects.get(animal=rex)
    assert ownership.client == owner and ownership.ended_at is None
    assert entries_for(rex).get().action == "create"


def test_microchip_typed_with_spaces_is_stored_as_digits(receptionist):
    rex = animal_create(
        by=receptionist, owner=ClientFactory(), name="Rex", species=species(), microchip="985 141 000-123 456"
    )
    assert rex.microchip == CHIP


@pytest.mark.parametrize("chip", ["12345", "98514100012345X", "999141000123456", "000000000000000"])
def test_invalid_microchips_are_field_errors(receptionist, chip):
    with pytest.raises(ValidationError) as exc:
        animal_create(by=receptionist, owner=ClientFactory(), name="Rex", species=species(), microchip=chip)
    assert "microchip" in exc.value.message_dict


def test_duplicate_microchip_among_living_animals_is_refused_naming_the_holder(receptionist):
    AnimalFactory(name="Bella", microchip=CHIP)
    with pytest.raises(DomainError) as exc:
        animal_create(by=receptionist, owner=ClientFactory(), name="Rex", species=species(), microchip=CHIP)
    assert exc.value.field == "microchip" and "Bella" in exc.value.message
    assert not Animal.objects.filter(name="Rex").exists()


def test_a_deceased_animals_chip_may_be_recorded_again(receptionist):
    old = AnimalFactory(name="Bella", microchip=CHIP)
    animal_mark_deceased(animal=old, on=timezone.localdate(), by=receptionist)
    rex = animal_create(by=receptionist, owner=ClientFactory(), name="Rex", species=species(), microchip=CHIP)
    assert rex.pk


def test_birth_date_in_the_future_is_refused(receptionist):
    with pytest.raises(ValidationError) as exc:
        animal_create(
            by=receptionist,
            owner=ClientFactory(),
            name="Rex",
            species=species(),
            date_of_birth=timezone.localdate() + dt.timedelta(days=1),
        )
    assert "date_of_birth" in exc.value.message_dict


def test_breed_must_belong_to_the_species(receptionist):
    with pytest.raises(ValidationError) as exc:
        animal_create(by=receptionist, owner=ClientFactory(), name="Tom", species=species("Cat"), breed=breed())
    assert "breed" in exc.value.message_dict


def test_inactive_owner_cannot_get_a_new_animal(receptionist):
    owner = ClientFactory(is_active=False)
    with pytest.raises(DomainError):
        animal_create(by=receptionist, owner=owner, name="Rex", species=species())


def test_transfer_keeps_ownership_history(receptionist):
    first, second = ClientFactory(last_name="First"), ClientFactory(last_name="Second")
    rex = AnimalFactory(owner=first, name="Rex")
    animal_transfer(animal=rex, to_owner=second, by=receptionist, note="rehomed")
    rex.refresh_from_db()
    assert rex.owner == second
    history = list(Ownership.objects.filter(animal=rex).order_by("started_at", "id"))
    assert [o.client for o in history] == [first, second]
    assert history[0].ended_at is not None and history[1].ended_at is None
    assert " second " in rex.search_text and " first " not in rex.search_text
    entry = entries_for(rex).first()
    assert entry.action == "transfer" and entry.note == "rehomed"


def test_transfer_to_the_current_owner_is_refused(receptionist):
    rex = AnimalFactory()
    with pytest.raises(DomainError):
        animal_transfer(animal=rex, to_owner=rex.owner, by=receptionist)


def test_deceased_animal_cannot_be_transferred_or_die_twice(receptionist):
    rex = AnimalFactory()
    animal_mark_deceased(animal=rex, on=timezone.localdate(), by=receptionist)
    with pytest.raises(DomainError):
        animal_transfer(animal=rex, to_owner=ClientFactory(), by=receptionist)
    with pytest.raises(DomainError):
        animal_mark_deceased(animal=rex, on=timezone.localdate(), by=receptionist)


def test_death_date_must_be_plausible(receptionist):
    rex = AnimalFactory(date_of_birth=timezone.localdate() - dt.timedelta(days=100))
    with pytest.raises(ValidationError):
        animal_mark_deceased(animal=rex, on=timezone.localdate() + dt.timedelta(days=1), by=receptionist)
    with pytest.raises(ValidationError):
        animal_mark_deceased(animal=rex, on=timezone.localdate() - dt.timedelta(days=200), by=receptionist)


def test_reactivating_needs_a_free_chip(receptionist):
    rex = AnimalFactory(microchip=CHIP)
    animal_set_active(animal=rex, active=False, by=receptionist)
    with pytest.raises(DomainError):
        animal_set_active(animal=rex, active=False, by=receptionist)
    animal_set_active(animal=rex, active=True, by=receptionist)
    rex.refresh_from_db()
    assert rex.is_active


def test_update_audits_changed_fields(vet_user):
    rex = AnimalFactory(alerts="")
    animal_update(animal=rex, by=vet_user, data={"alerts": "Bites"})
    assert entries_for(rex).first().changes == {"alerts": ["", "Bites"]}


def test_weights_are_positive_and_not_in_the_future(vet_user):
    rex = AnimalFactory()
    w = weight_record(animal=rex, kg=Decimal("31.45"), by=vet_user)
    assert w.kg == Decimal("31.45")
    with pytest.raises(ValidationError):
        weight_record(animal=rex, kg=Decimal("0"), by=vet_user)
    with pytest.raises(ValidationError):
        weight_record(animal=rex, kg=Decimal("3"), by=vet_user, measured_on=timezone.localdate() + dt.timedelta(1))


def test_species_and_breed_names_are_unique(manager):
    axolotl = species_save(by=manager, name="Axolotl")
    breed_save(by=manager, species=axolotl, name="Leucistic")
    with pytest.raises(ValidationError):
        species_save(by=manager, name="Axolotl")
    with pytest.raises(ValidationError):
        breed_save(by=manager, species=axolotl, name="Leucistic")
