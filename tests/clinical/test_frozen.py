"""The database itself refuses changes to a signed consultation and its child rows: raw SQL, past every model
and service, on PostgreSQL and SQLite (DELETE is refused by PostgreSQL's triggers; on SQLite by the models)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from clinical.services import (
    addendum_add,
    consultation_record_vitals,
    consultation_save_draft,
    consultation_set_diagnoses,
    consultation_sign,
    prescription_dispense,
    vaccination_record,
)
from tests.clinical.conftest import in_days

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(walk_in, vet_user, otitis, rabies, amoxicillin, gastritis):
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"examination": "Ears inflamed"})
    consultation_record_vitals(consultation=walk_in, by=vet_user, weight_kg=Decimal("30.2"))
    consultation_set_diagnoses(consultation=walk_in, by=vet_user, diagnoses=[(otitis, "confirmed")])
    vaccination_record(
        animal=walk_in.animal, product=rabies, batch="RB123", batch_expiry=in_days(200), by=vet_user,
        consultation=walk_in, charge=True,
    )  # fmt: skip
    prescription_dispense(
        animal=walk_in.animal, product=amoxicillin, by=vet_user, dose="2 ml", frequency="twice daily",
        quantity=Decimal("28"), consultation=walk_in,
    )  # fmt: skip
    return consultation_sign(consultation=walk_in, by=vet_user)


def _refused(sql: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_update_of_a_signed_consultation_is_refused(signed):
    _refused("UPDATE clinical_consultation SET plan = %s WHERE id = %s", ["rewritten", signed.pk])
    _refused("UPDATE clinical_consultation SET status = 'draft' WHERE id = %s", [signed.pk])
    signed.refresh_from_db()
    assert signed.status == "signed" and signed.plan == ""


def test_raw_update_of_a_draft_is_allowed(walk_in):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinical_consultation SET plan = %s WHERE id = %s", ["fine", walk_in.pk])
    walk_in.refresh_from_db()
    assert walk_in.plan == "fine"


def test_raw_changes_to_the_signed_diagnoses_are_refused(signed, gastritis):
    link = signed.diagnosis_links.get()
    _refused("UPDATE clinical_consultationdiagnosis SET certainty = 'suspected' WHERE id = %s", [link.pk])
    _refused(
        "INSERT INTO clinical_consultationdiagnosis (consultation_id, diagnosis_id, certainty, position) "
        "VALUES (%s, %s, 'confirmed', 9)",
        [signed.pk, gastritis.pk],
    )
    assert list(signed.diagnoses.all()) == [link.diagnosis]


def test_raw_changes_to_a_signed_vaccination_and_prescription_are_refused(signed):
    vaccination = signed.vaccinations.get()
    prescription = signed.prescriptions.get()
    _refused("UPDATE clinical_vaccination SET batch = 'FORGED' WHERE id = %s", [vaccination.pk])
    _refused("UPDATE clinical_prescription SET dose = '20 ml' WHERE id = %s", [prescription.pk])
    _refused("UPDATE animals_weight SET kg = 3 WHERE id = %s", [signed.weight_id])


def test_removing_the_draft_line_that_charged_a_signed_prescription_is_allowed(signed, vet_user):
    """Billing is not the clinical record: the desk may take the charge off the draft invoice."""
    from invoicing.services import invoice_remove_line

    prescription = signed.prescriptions.get()
    invoice_remove_line(line=prescription.invoice_line, by=vet_user)
    prescription.refresh_from_db()
    assert prescription.invoice_line is None and prescription.dose == "2 ml"


def test_raw_update_of_an_addendum_is_refused(signed, vet_user):
    addendum = addendum_add(consultation=signed, by=vet_user, text="Recheck in a week.")
    _refused("UPDATE clinical_addendum SET text = 'nothing happened' WHERE id = %s", [addendum.pk])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite refuses deletion in the models (see 0002)")
def test_raw_delete_of_signed_rows_is_refused_on_postgresql(signed, vet_user):
    addendum = addendum_add(consultation=signed, by=vet_user, text="Recheck in a week.")
    _refused("DELETE FROM clinical_consultationdiagnosis WHERE consultation_id = %s", [signed.pk])
    _refused("DELETE FROM clinical_vaccination WHERE consultation_id = %s", [signed.pk])
    _refused("DELETE FROM clinical_prescription WHERE consultation_id = %s", [signed.pk])
    _refused("DELETE FROM clinical_addendum WHERE id = %s", [addendum.pk])
    _refused("DELETE FROM animals_weight WHERE id = %s", [signed.weight_id])
    _refused("DELETE FROM clinical_consultation WHERE id = %s", [signed.pk])
