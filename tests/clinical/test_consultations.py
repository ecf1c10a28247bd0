"""Consultations: opening (from an appointment, idempotently, or as a walk-in), drafts, vitals plausibility,
diagnoses, signing, addenda and the unsigned list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from animals.models import Weight
from appointments.models import AppointmentStatus
from clinical import selectors
from clinical.models import Consultation, FrozenRecord
from clinical.services import (
    addendum_add,
    consultation_open,
    consultation_record_vitals,
    consultation_save_draft,
    consultation_set_diagnoses,
    consultation_sign,
)
from tests.factories import AnimalFactory
from vetpms.errors import DomainError
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_opening_from_an_appointment_moves_it_to_in_consultation(appointment, vet_user):
    consultation = consultation_open(appointment=appointment, by=vet_user)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_CONSULTATION
    assert consultation.appointment == appointment
    assert consultation.vet == appointment.vet
    assert consultation.animal == appointment.animal
    assert consultation.status == Consultation.Status.DRAFT
    # booked -> arrived -> in consultation, each move recorded
    assert list(appointment.events.values_list("to_status", flat=True)) == ["booked", "arrived", "in_consultation"]


def test_opening_twice_returns_the_same_consultation(appointment, vet_user, nurse):
    first = consultation_open(appointment=appointment, by=vet_user)
    second = consultation_open(appointment=appointment, by=nurse)
    assert first.pk == second.pk
    assert Consultation.objects.filter(appointment=appointment).count() == 1


def test_a_cancelled_appointment_cannot_be_consulted(appointment, vet_user, receptionist):
    from appointments.services import appointment_transition

    appointment_transition(appointment=appointment, to="cancelled", by=receptionist, note="owner called")
    with pytest.raises(DomainError) as err:
        consultation_open(appointment=appointment, by=vet_user)
    assert err.value.code == "bad_status"


def test_walk_in_without_appointment_takes_the_callers_vet(dog, vet_user):
    consultation = consultation_open(animal=dog, by=vet_user)
    assert consultation.appointment is None
    assert consultation.vet == vet_user.vet


def test_a_nurse_opening_a_walk_in_names_the_vet(dog, nurse, vet_user):
    with pytest.raises(ValidationError) as err:
        consultation_open(animal=dog, by=nurse)
    assert "vet" in err.value.message_dict
    consultation = consultation_open(animal=dog, by=nurse, vet=vet_user.vet)
    assert consultation.vet == vet_user.vet and consultation.opened_by == nurse


def test_a_deceased_animal_cannot_be_opened(vet_user):
    animal = AnimalFactory(deceased_on=timezone.localdate())
    with pytest.raises(DomainError):
        consultation_open(animal=animal, by=vet_user)


def test_draft_saves_partially_and_audits_without_the_text(walk_in, vet_user):
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"complaint": "Scratching left ear"})
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"examination": "Erythema, brown discharge"})
    walk_in.refresh_from_db()
    assert walk_in.complaint == "Scratching left ear"
    assert walk_in.examination == "Erythema, brown discharge"
    entries = AuditEntry.objects.filter(object_id=str(walk_in.pk), action="draft saved")
    assert entries.count() == 2
    assert "Scratching" not in str(list(entries.values_list("changes", flat=True)))


def test_vitals_weight_is_a_row_of_the_weight_history(walk_in, vet_user):
    consultation_record_vitals(
        consultation=walk_in, by=vet_user, weight_kg=Decimal("31.4"), temperature_c=Decimal("38.6"), heart_rate=96
    )
    walk_in.refresh_from_db()
    weight = Weight.objects.get(animal=walk_in.animal)
    assert walk_in.weight == weight and weight.kg == Decimal("31.400")
    # A corrected value replaces the draft's own row: still one weight, never a copy.
    consultation_record_vitals(consultation=walk_in, by=vet_user, weight_kg=Decimal("31.9"))
    assert list(Weight.objects.filter(animal=walk_in.animal).values_list("kg", flat=True)) == [Decimal("31.900")]


def test_a_32_kg_chihuahua_needs_confirmation(chihuahua, vet_user):
    consultation = consultation_open(animal=chihuahua, by=vet_user)
    with pytest.raises(DomainError) as err:
        consultation_record_vitals(consultation=consultation, by=vet_user, weight_kg=Decimal("32"))
    assert err.value.code == "confirm_required" and err.value.field == "weight_kg"
    assert "Chihuahua" in err.value.message
    assert not Weight.objects.filter(animal=chihuahua).exists()
    consultation_record_vitals(consultation=consultation, by=vet_user, weight_kg=Decimal("32"), confirm=True)
    assert Weight.objects.get(animal=chihuahua).kg == Decimal("32.000")


@pytest.mark.parametrize(
    ("vital", "value"),
    [("temperature_c", Decimal("60")), ("heart_rate", 0), ("respiratory_rate", 0), ("temperature_c", Decimal("4"))],
)
def test_impossible_vitals_are_refused_even_when_confirmed(walk_in, vet_user, vital, value):
    with pytest.raises(ValidationError) as err:
        consultation_record_vitals(consultation=walk_in, by=vet_user, confirm=True, **{vital: value})
    assert vital in err.value.message_dict
    walk_in.refresh_from_db()
    assert getattr(walk_in, vital) is None


def test_an_unusual_heart_rate_is_kept_once_confirmed(walk_in, vet_user):
    with pytest.raises(DomainError):
        consultation_record_vitals(consultation=walk_in, by=vet_user, heart_rate=20)
    consultation_record_vitals(consultation=walk_in, by=vet_user, heart_rate=20, confirm=True)
    walk_in.refresh_from_db()
    assert walk_in.heart_rate == 20


def test_body_condition_score_is_1_to_9(walk_in, vet_user):
    with pytest.raises(ValidationError):
        consultation_record_vitals(consultation=walk_in, by=vet_user, body_condition_score=10)
    consultation_record_vitals(consultation=walk_in, by=vet_user, body_condition_score=5, mucous_membranes="pink")
    walk_in.refresh_from_db()
    assert walk_in.body_condition_score == 5 and walk_in.mucous_membranes == "pink"


def test_diagnoses_replace_in_order(walk_in, vet_user, otitis, gastritis):
    consultation_set_diagnoses(
        consultation=walk_in, by=vet_user, diagnoses=[(gastritis, "suspected"), (otitis, "confirmed")]
    )
    links = list(walk_in.diagnosis_links.order_by("position"))
    assert [(link.diagnosis, link.certainty) for link in links] == [(gastritis, "suspected"), (otitis, "confirmed")]
    consultation_set_diagnoses(consultation=walk_in, by=vet_user, diagnoses=[(otitis, "confirmed")])
    assert list(walk_in.diagnoses.all()) == [otitis]


def _signed(consultation, vet_user, diagnosis=None):
    consultation_save_draft(consultation=consultation, by=vet_user, data={"examination": "Ears inflamed"})
    if diagnosis is not None:
        consultation_set_diagnoses(consultation=consultation, by=vet_user, diagnoses=[(diagnosis, "confirmed")])
    return consultation_sign(consultation=consultation, by=vet_user)


def test_signing_freezes_and_completes_the_appointment(consultation, vet_user, otitis):
    signed = _signed(consultation, vet_user, otitis)
    assert signed.status == "signed" and signed.signed_by == vet_user and signed.signed_at is not None
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == AppointmentStatus.COMPLETED
    with pytest.raises(DomainError) as err:
        consultation_save_draft(consultation=signed, by=vet_user, data={"plan": "changed my mind"})
    assert err.value.code == "signed"
    with pytest.raises(DomainError):
        consultation_set_diagnoses(consultation=signed, by=vet_user, diagnoses=[])
    with pytest.raises(DomainError):
        consultation_sign(consultation=signed, by=vet_user)


def test_the_models_refuse_changing_or_deleting_a_signed_consultation(walk_in, vet_user, otitis):
    signed = _signed(walk_in, vet_user, otitis)
    signed.plan = "edited behind the service's back"
    with pytest.raises(FrozenRecord):
        signed.save()
    with pytest.raises(FrozenRecord):
        Consultation.objects.get(pk=signed.pk).delete()
    with pytest.raises(FrozenRecord):
        signed.diagnosis_links.get().delete()


def test_only_the_consultations_vet_signs(walk_in, vet_user, other_vet, nurse):
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"examination": "Bright, alert"})
    with pytest.raises(PermissionDenied):
        consultation_sign(consultation=walk_in, by=other_vet)
    with pytest.raises(PermissionDenied):
        consultation_sign(consultation=walk_in, by=nurse)


def test_an_empty_consultation_cannot_be_signed(walk_in, vet_user):
    with pytest.raises(DomainError) as err:
        consultation_sign(consultation=walk_in, by=vet_user)
    assert err.value.code == "empty"


def test_addenda_come_after_signing_with_author_and_time(walk_in, vet_user, nurse):
    with pytest.raises(DomainError):
        addendum_add(consultation=walk_in, by=vet_user, text="Too early")
    signed = _signed(walk_in, vet_user)
    first = addendum_add(consultation=signed, by=vet_user, text="Owner reports improvement on day 3.")
    second = addendum_add(consultation=signed, by=nurse, text="Recheck booked.")
    assert [a.author for a in signed.addenda.all()] == [vet_user, nurse]
    assert first.created_at <= second.created_at
    first.text = "rewritten"
    with pytest.raises(FrozenRecord):
        first.save()


def test_unsigned_consultations_older_than_a_day_per_vet_and_for_managers(dog, vet_user, other_vet):
    old_mine = consultation_open(animal=dog, by=vet_user)
    old_theirs = consultation_open(animal=dog, by=other_vet)
    consultation_open(animal=dog, by=vet_user)  # today's: not yet overdue
    Consultation.objects.filter(pk__in=[old_mine.pk, old_theirs.pk]).update(
        opened_at=timezone.now() - dt.timedelta(days=2)
    )
    assert list(selectors.unsigned_overdue(vet=vet_user.vet)) == [old_mine]
    assert set(selectors.unsigned_overdue()) == {old_mine, old_theirs}
