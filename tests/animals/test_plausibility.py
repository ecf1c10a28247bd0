"""Plausibility of weights and vitals per species and breed (animals/plausibility.py)."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from animals.plausibility import SPECIES_RANGES, check_vital, expected_range
from vetpms.errors import DomainError

D = Decimal


@pytest.mark.parametrize(
    ("species", "breed", "quantity", "value"),
    [
        ("Dog", "Labrador Retriever", "weight_kg", D("34")),
        ("Dog", "Chihuahua", "weight_kg", D("2.4")),
        ("Cat", "", "temperature_c", D("40.6")),  # a fever is a finding, not a typo
        ("Horse", "", "heart_rate", 36),
        ("Horse", "Shire", "weight_kg", D("1000")),
        ("Bird", "Budgerigar", "heart_rate", 450),
        ("Reptile", "Bearded Dragon", "temperature_c", D("24")),
        ("Rabbit", "Flemish Giant", "weight_kg", D("9")),
    ],
)
def test_real_readings_pass(species, breed, quantity, value):
    check_vital(quantity=quantity, value=value, species=species, breed=breed)


@pytest.mark.parametrize(
    ("species", "breed", "quantity", "value"),
    [
        ("Dog", "Chihuahua", "weight_kg", D("32")),
        ("Cat", "", "weight_kg", D("45")),
        ("Bird", "Budgerigar", "weight_kg", D("2")),
        ("Rabbit", "Netherland Dwarf", "weight_kg", D("6")),
        ("Dog", "", "temperature_c", D("30")),
        ("Dog", "", "heart_rate", 20),
        ("Horse", "", "heart_rate", 300),
        ("Cat", "", "respiratory_rate", 140),
    ],
)
def test_unusual_readings_ask_for_confirmation(species, breed, quantity, value):
    with pytest.raises(DomainError) as err:
        check_vital(quantity=quantity, value=value, species=species, breed=breed)
    assert err.value.code == "confirm_required" and err.value.field == quantity
    check_vital(quantity=quantity, value=value, species=species, breed=breed, confirm=True)


@pytest.mark.parametrize(
    ("quantity", "value"),
    [
        ("heart_rate", 0),
        ("temperature_c", D("60")),
        ("respiratory_rate", 0),
        ("weight_kg", D("0")),
        ("weight_kg", D("2500")),
    ],
)
def test_impossible_readings_are_refused_even_when_confirmed(quantity, value):
    with pytest.raises(ValidationError) as err:
        check_vital(quantity=quantity, value=value, species="Dog", confirm=True)
    assert quantity in err.value.message_dict


def test_a_species_the_practice_added_gets_only_the_hard_limits():
    check_vital(quantity="weight_kg", value=D("900"), species="Alpaca")
    with pytest.raises(ValidationError):
        check_vital(quantity="heart_rate", value=0, species="Alpaca", confirm=True)


def test_breed_bounds_only_lower_the_species_ceiling():
    assert expected_range(quantity="weight_kg", species="Dog", breed="Chihuahua").high == D("6")
    assert expected_range(quantity="weight_kg", species="Dog", breed="Rottweiler") == SPECIES_RANGES["Dog"].weight_kg
    assert (
        expected_range(quantity="temperature_c", species="Dog", breed="Chihuahua")
        == SPECIES_RANGES["Dog"].temperature_c
    )


def test_every_seeded_species_has_ranges():
    seeded = importlib.import_module("animals.migrations.0004_seed_species").SPECIES
    assert set(seeded) == set(SPECIES_RANGES)
