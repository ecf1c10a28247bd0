"""Issue 13: weights are checked for the species and breed, refused after death, and removed only with a reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from animals.models import Weight
from animals.services import animal_mark_deceased, weight_delete, weight_record
from clinical.services import consultation_open, consultation_record_vitals
from tests.clinical.conftest import days_ago
from tests.factories import AnimalFactory, species
from vetpms.errors import DomainError
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_an_implausible_weight_needs_confirmation(chihuahua, receptionist):
    with pytest.raises(DomainError) as err:
        weight_record(animal=chihuahua, kg=Decimal("32"), by=receptionist)
    assert err.value.code == "confirm_required" and err.value.field == "kg"
    assert weight_record(animal=chihuahua, kg=Decimal("32"), by=receptionist, confirm=True).kg == Decimal("32")


def test_a_45_kg_cat_needs_confirmation_and_a_4_kg_cat_does_not(receptionist):
    cat = AnimalFactory(species=species("Cat"))
    with pytest.raises(DomainError):
        weight_record(animal=cat, kg=Decimal("45"), by=receptionist)
    weight_record(animal=cat, kg=Decimal("4.2"), by=receptionist)


def test_a_weight_after_death_is_refused(dog, receptionist):
    animal_mark_deceased(animal=dog, on=days_ago(10), by=receptionist)
    with pytest.raises(ValidationError) as err:
        weight_record(animal=dog, kg=Decimal("30"), by=receptionist, measured_on=days_ago(5))
    assert "measured_on" in err.value.message_dict
    weight_record(animal=dog, kg=Decimal("30"), by=receptionist, measured_on=days_ago(12))


def test_a_weight_is_removed_with_a_reason_and_audited(dog, receptionist):
    weight = weight_record(animal=dog, kg=Decimal("3.1"), by=receptionist)
    with pytest.raises(ValidationError):
        weight_delete(weight=weight, by=receptionist, reason="  ")
    weight_delete(weight=weight, by=receptionist, reason="typed 3.1 for 31")
    assert not Weight.objects.filter(pk=weight.pk).exists()
    entry = AuditEntry.objects.get(action="weight removed", object_id=str(dog.pk))
    assert entry.note == "typed 3.1 for 31" and entry.actor == receptionist


def test_a_consultations_weight_is_not_removed_from_the_animal_page(dog, vet_user):
    consultation = consultation_open(animal=dog, by=vet_user)
    consultation_record_vitals(consultation=consultation, by=vet_user, weight_kg=Decimal("30.5"))
    consultation.refresh_from_db()
    with pytest.raises(DomainError) as err:
        weight_delete(weight=consultation.weight, by=vet_user, reason="mistake")
    assert err.value.code == "weight_in_consultation"


def test_a_deceased_animals_page_offers_no_weight_form(dog, as_receptionist, receptionist):
    page = as_receptionist.get(reverse("animals:detail", args=[dog.pk]))
    assert reverse("animals:weight_add", args=[dog.pk]) in page.content.decode()
    animal_mark_deceased(animal=dog, on=timezone.localdate() - dt.timedelta(days=1), by=receptionist)
    page = as_receptionist.get(reverse("animals:detail", args=[dog.pk]))
    assert reverse("animals:weight_add", args=[dog.pk]) not in page.content.decode()
    response = as_receptionist.post(reverse("animals:weight_add", args=[dog.pk]), {"kg": "30", "measured_on": ""})
    assert response.status_code == 302 and not Weight.objects.filter(animal=dog).exists()


def test_the_weight_form_asks_to_confirm_an_unusual_weight(chihuahua, as_receptionist):
    url = reverse("animals:weight_add", args=[chihuahua.pk])
    today = timezone.localdate().isoformat()
    page = as_receptionist.post(url, {"kg": "32", "measured_on": today})
    assert page.status_code == 200 and "unusual" in page.content.decode() and 'name="confirm"' in page.content.decode()
    response = as_receptionist.post(url, {"kg": "32", "measured_on": today, "confirm": "on"})
    assert response.status_code == 302 and Weight.objects.get(animal=chihuahua).kg == Decimal("32")
