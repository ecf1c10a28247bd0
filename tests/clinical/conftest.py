"""Clinical fixtures: a nurse, a vaccine that renews a yearly reminder, a medicine, a diagnosis list, a booked
appointment and a consultation opened from it (through the services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from clinical.models import Diagnosis
from clinical.services import consultation_open
from reminders.models import ReminderType
from reminders.services import reminder_type_save
from tests.appointments.conftest import at, book, consult, monday, pet, vet  # noqa: F401 - shared fixtures
from tests.factories import AnimalFactory, UserFactory, breed, species
from tests.invoicing.conftest import amoxicillin, consult_fee, owner_pet, rabies, standard  # noqa: F401
from vetpms.models import Role


@pytest.fixture
def nurse(db):
    return UserFactory(username="nina", first_name="Nina", last_name="Nurse", role=Role.NURSE)


@pytest.fixture
def other_vet(db):
    return UserFactory(username="vera", first_name="Vera", last_name="Vet", role=Role.VET)


@pytest.fixture
def rabies_type(rabies, manager):  # noqa: F811
    """Rabies vaccination, yearly; invoicing the rabies vaccine renews it (reminders' product link)."""
    return reminder_type_save(
        by=manager,
        data={
            "name": "Rabies vaccination",
            "interval": 12,
            "interval_unit": ReminderType.Unit.MONTHS,
            "stages": [-14, 0, 30],
            "subject": "{pets}: vaccination due",
            "body_text": "Dear {owner_name}, {items} Call {practice_phone}.",
        },
        products=[rabies],
    )


@pytest.fixture
def dog(db):
    return AnimalFactory(name="Bramble", species=species("Dog"), breed=breed("Dog", "Labrador Retriever"))


@pytest.fixture
def chihuahua(db):
    return AnimalFactory(name="Pip", species=species("Dog"), breed=breed("Dog", "Chihuahua"))


@pytest.fixture
def otitis(db):
    return Diagnosis.objects.create(name="Otitis externa", code="123", code_system="VeNom")


@pytest.fixture
def gastritis(db):
    return Diagnosis.objects.create(name="Gastritis")


@pytest.fixture
def appointment(book, monday, dog):  # noqa: F811
    return book(at(monday, 10), minutes=15, animal=dog)


@pytest.fixture
def consultation(appointment, vet_user):
    return consultation_open(appointment=appointment, by=vet_user)


@pytest.fixture
def walk_in(dog, vet_user):
    return consultation_open(animal=dog, by=vet_user)


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def in_days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


KG = Decimal
