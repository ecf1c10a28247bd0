"""Clinical FHIR fixtures, star-imported by the test_clinical_* and test_bulk_* modules: one dog with a whole
clinical record made through the services (a signed consultation with vitals, weight and two diagnoses, a problem,
a vaccination that renewed a reminder, a prescription with repeats, an attachment), and a checker that validates
resources with fhirclient's R4 models."""

from __future__ import annotations

import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinical.models import Diagnosis
from clinical.services import (
    attachment_add,
    consultation_open,
    consultation_save_draft,
    consultation_set_diagnoses,
    consultation_sign,
    prescription_dispense,
    problem_save,
    vaccination_record,
)
from reminders.models import Reminder
from tests.clinical.conftest import (  # noqa: F401 - shared fixtures
    amoxicillin,
    at,
    book,
    chihuahua,
    consult,
    consult_fee,
    dog,
    in_days,
    monday,
    nurse,
    owner_pet,
    pet,
    rabies,
    rabies_type,
    standard,
    vet,
)

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

# FHIR type -> fhirclient module
_MODULES = {
    "Encounter": "encounter",
    "Observation": "observation",
    "Condition": "condition",
    "Immunization": "immunization",
    "ImmunizationRecommendation": "immunizationrecommendation",
    "MedicationRequest": "medicationrequest",
    "DocumentReference": "documentreference",
    "Patient": "patient",
    "Bundle": "bundle",
}


def fhir_valid(resource: dict) -> dict:
    """Parse ``resource`` with fhirclient's R4 model of its type, strictly (unknown or mistyped elements, missing
    required ones raise); returns the model's own JSON for comparison."""
    kind = resource["resourceType"]
    module = importlib.import_module(f"fhirclient.models.{_MODULES.get(kind, kind.lower())}")
    model = getattr(module, kind)(resource, strict=True)
    return model.as_json()


@pytest.fixture
def record(dog, vet_user, nurse, rabies, rabies_type, amoxicillin):  # noqa: F811
    otitis = Diagnosis.objects.create(name="Otitis externa", code="1234", code_system="VeNom")
    gastritis = Diagnosis.objects.create(name="Gastritis")
    consultation = consultation_open(animal=dog, by=vet_user)
    consultation_save_draft(
        consultation=consultation,
        by=vet_user,
        data={
            "complaint": "Shaking head for two days",
            "examination": "Red left ear canal",
            "weight_kg": Decimal("31.400"),
            "temperature_c": Decimal("38.6"),
            "heart_rate": 96,
            "respiratory_rate": 24,
        },
    )
    consultation_set_diagnoses(
        consultation=consultation, by=vet_user, diagnoses=[(otitis, "confirmed"), (gastritis, "suspected")]
    )
    vaccination = vaccination_record(
        animal=dog,
        product=rabies,
        batch="RB-2231",
        batch_expiry=in_days(200),
        by=nurse,
        supervising_vet=vet_user.vet,
        site="left lateral thorax",
        manufacturer="Acme Animal Health",
        consultation=consultation,
    )
    prescription = prescription_dispense(
        animal=dog,
        product=amoxicillin,
        by=vet_user,
        dose="1.5 ml",
        frequency="twice daily",
        quantity=Decimal("30"),
        duration="7 days",
        instructions="Give with food.",
        repeats=2,
        consultation=consultation,
        strength="50 mg/ml",
        charge=False,
    )
    attachment = attachment_add(
        animal=dog,
        by=vet_user,
        upload=SimpleUploadedFile("bloods.pdf", PDF),
        title="Bloods",
        kind="lab",
        consultation=consultation,
    )
    consultation_sign(consultation=consultation, by=vet_user)
    problem = problem_save(
        animal=dog,
        by=vet_user,
        data={"condition": "Otitis externa", "diagnosis": otitis, "notes": "Recurs each summer", "is_alert": True},
    )
    consultation.refresh_from_db()
    return SimpleNamespace(
        animal=dog,
        consultation=consultation,
        weight=consultation.weight,
        otitis=otitis,
        gastritis=gastritis,
        vaccination=vaccination,
        reminder=Reminder.objects.get(animal=dog, status=Reminder.Status.PENDING),
        prescription=prescription,
        attachment=attachment,
        problem=problem,
    )
