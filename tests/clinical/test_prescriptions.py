"""Prescribing and dispensing: only vets prescribe, dispensing charges the owner's draft invoice in the same
transaction, repeats reference the original and are counted against its repeats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from clients.services import client_deactivate
from clinical.models import Prescription
from clinical.services import consultation_charge, prescription_dispense, prescription_dispense_repeat
from invoicing.models import Invoice, InvoiceLine
from tests.clinical.conftest import days_ago
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db


def _dispense(animal, product, by, **kwargs):
    kwargs.setdefault("dose", "2 ml")
    kwargs.setdefault("frequency", "twice daily")
    kwargs.setdefault("quantity", Decimal("28"))
    return prescription_dispense(animal=animal, product=product, by=by, **kwargs)


def test_dispensing_charges_one_line_on_the_owners_draft(consultation, amoxicillin, vet_user):
    prescription = _dispense(consultation.animal, amoxicillin, vet_user, consultation=consultation, repeats=2)
    line = prescription.invoice_line
    assert line.invoice.status == Invoice.Status.DRAFT and line.invoice.client == consultation.animal.owner
    assert (line.product, line.quantity, line.animal, line.vet) == (
        amoxicillin,
        Decimal("28.000"),
        consultation.animal,
        vet_user.vet,
    )
    assert line.appointment == consultation.appointment
    assert line.gross == Decimal("44.69")  # 28 x 1.33 = 37.24 net, 20 % tax 7.45
    assert prescription.prescribed_by == vet_user.vet


def test_a_failed_charge_undoes_the_dispensing(dog, amoxicillin, vet_user, receptionist):
    client_deactivate(client=dog.owner, by=receptionist, reason="moved away")
    with pytest.raises(DomainError):
        _dispense(dog, amoxicillin, vet_user)
    assert not Prescription.objects.exists() and not InvoiceLine.objects.exists()


def test_only_vets_prescribe(dog, amoxicillin, nurse, receptionist, manager):
    for user in (nurse, receptionist, manager):
        with pytest.raises(PermissionDenied):
            _dispense(dog, amoxicillin, user)


def test_repeats_reference_the_original_and_are_counted(dog, amoxicillin, vet_user, nurse):
    original = _dispense(dog, amoxicillin, vet_user, repeats=1, dispensed_on=days_ago(20))
    repeat = prescription_dispense_repeat(original=original, by=nurse)
    assert repeat.repeat_of == original and repeat.prescribed_by == vet_user.vet and repeat.dispensed_by == nurse
    assert repeat.dose == original.dose and repeat.invoice_line is not None
    with pytest.raises(DomainError) as err:
        prescription_dispense_repeat(original=original, by=nurse)
    assert err.value.code == "no_repeats_left"
    with pytest.raises(DomainError):
        prescription_dispense_repeat(original=repeat, by=nurse)


def test_a_vaccine_is_not_dispensed_as_a_medicine(dog, rabies, vet_user):
    with pytest.raises(DomainError):
        _dispense(dog, rabies, vet_user)


def test_charges_of_the_visit(consultation, consult_fee, amoxicillin, vet_user):
    from clinical.selectors import consultation_charges

    consultation_charge(consultation=consultation, by=vet_user, product=consult_fee, quantity=Decimal(1))
    _dispense(consultation.animal, amoxicillin, vet_user, consultation=consultation)
    lines = list(consultation_charges(consultation=consultation))
    assert [line.product for line in lines] == [consult_fee, amoxicillin]
    assert {line.invoice_id for line in lines} == {lines[0].invoice_id}
