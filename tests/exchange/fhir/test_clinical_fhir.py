"""The clinical types on the FHIR server: read and search (patient, date, status, code), keyset paging across the
sources of a type, role checks as in the REST API (a receptionist never gets a consultation's text), the
attachment's content only through the permission-checked download, and 400s for bad values."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from clinical.models import ConsultationDiagnosis
from clinical.services import prescription_dispense_repeat
from tests.exchange.fhir.clinical_fixtures import *  # noqa: F403 - the fixtures
from tests.exchange.fhir.clinical_fixtures import PDF, fhir_valid
from tests.factories import WeightFactory, make_token

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    bundle = response.fhir
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [entry["resource"]["id"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"]


def next_link(response) -> str | None:
    return next((link["url"] for link in response.fhir["link"] if link["relation"] == "next"), None)


def test_every_clinical_resource_reads_by_id(record, vet_user, fhir_as):
    fhir = fhir_as(vet_user)
    c = record.consultation
    link = ConsultationDiagnosis.objects.filter(consultation=c).first()
    for path in [
        f"Encounter/{c.pk}",
        f"Observation/wt-{record.weight.pk}",
        f"Observation/temp-{c.pk}",
        f"Observation/hr-{c.pk}",
        f"Observation/rr-{c.pk}",
        f"Condition/prob-{record.problem.pk}",
        f"Condition/dx-{link.pk}",
        f"Immunization/{record.vaccination.pk}",
        f"ImmunizationRecommendation/{record.reminder.pk}",
        f"MedicationRequest/{record.prescription.pk}",
        f"MedicationDispense/{record.prescription.pk}",
        f"DocumentReference/{record.attachment.pk}",
    ]:
        response = fhir.get(path)
        assert response.status_code == 200, (path, response.content)
        assert response["Content-Type"].startswith("application/fhir+json")
        kind, resource_id = path.split("/")
        assert (response.fhir["resourceType"], response.fhir["id"]) == (kind, resource_id)
        fhir_valid(response.fhir)


@pytest.mark.parametrize(
    "path", ["Observation/wt-999999", "Observation/xx-1", "Observation/12", "Condition/prob-abc", "Encounter/wt-1"]
)
def test_unknown_ids_are_404(record, vet_user, fhir_as, path):
    response = fhir_as(vet_user).get(path)
    assert response.status_code == 404 and response.fhir["resourceType"] == "OperationOutcome"


def test_observation_search_by_patient_pages_across_weights_and_vitals(record, vet_user, fhir_as, chihuahua):
    WeightFactory(animal=record.animal, kg="30.100")
    WeightFactory(animal=chihuahua, kg="2.100")  # another patient's: never in the results
    fhir = fhir_as(vet_user)
    everything = ids(fhir.get("Observation", {"patient": record.animal.pk}))
    assert len(everything) == 5 and all(i.startswith(("wt-", "temp-", "hr-", "rr-")) for i in everything)
    seen, url, pages = [], f"Observation?patient=Patient/{record.animal.pk}&_count=2", 0
    while url:
        parts = urlsplit(url)
        response = fhir.get(parts.path + ("?" + parts.query if parts.query else ""))
        seen += ids(response)
        url = next_link(response)
        pages += 1
    assert seen == everything and pages == 3


def test_observation_search_by_code_date_and_status(record, vet_user, fhir_as):
    fhir = fhir_as(vet_user)
    animal = record.animal.pk
    assert ids(fhir.get("Observation", {"patient": animal, "code": "http://loinc.org|29463-7"})) == [
        f"wt-{record.weight.pk}"
    ]
    assert ids(fhir.get("Observation", {"patient": animal, "code": "8310-5"})) == [f"temp-{record.consultation.pk}"]
    assert ids(fhir.get("Observation", {"patient": animal, "status": "preliminary"})) == []  # all signed
    assert ids(fhir.get("Observation", {"patient": animal, "status": "not-a-status"})) == []
    assert len(ids(fhir.get("Observation", {"patient": animal, "status": "final", "category": "vital-signs"}))) == 4
    day = record.weight.measured_on.isoformat()
    assert len(ids(fhir.get("Observation", {"patient": animal, "date": day}))) == 4
    assert ids(fhir.get("Observation", {"patient": animal, "date": "lt2000-01-01"})) == []


def test_condition_immunization_and_other_searches(record, vet_user, fhir_as):
    fhir = fhir_as(vet_user)
    animal = record.animal.pk
    problem = f"prob-{record.problem.pk}"
    assert ids(fhir.get("Condition", {"patient": animal, "clinical-status": "active"})) == [problem]
    assert len(ids(fhir.get("Condition", {"patient": animal, "category": "encounter-diagnosis"}))) == 2
    assert ids(fhir.get("Immunization", {"patient": animal})) == [str(record.vaccination.pk)]
    assert ids(fhir.get("ImmunizationRecommendation", {"patient": animal, "status": "due"})) == [
        str(record.reminder.pk)
    ]
    assert ids(fhir.get("ImmunizationRecommendation", {"patient": animal, "status": "overdue"})) == []
    assert ids(fhir.get("MedicationRequest", {"patient": animal, "status": "active"})) == [str(record.prescription.pk)]
    assert ids(fhir.get("MedicationRequest", {"patient": animal, "status": "completed"})) == []
    assert ids(fhir.get("Encounter", {"patient": animal, "status": "finished"})) == [str(record.consultation.pk)]
    assert ids(fhir.get("DocumentReference", {"patient": animal})) == [str(record.attachment.pk)]


def test_each_dispensing_is_a_medication_dispense_of_its_prescription(record, vet_user, nurse, fhir_as):
    fhir = fhir_as(vet_user)
    original = record.prescription
    repeat = prescription_dispense_repeat(original=original, by=nurse, quantity=Decimal("20"), charge=False)
    first = fhir.get(f"MedicationDispense/{original.pk}").fhir
    assert first["status"] == "completed" and first["type"]["coding"][0]["code"] == "FF"
    assert first["authorizingPrescription"] == [{"reference": f"MedicationRequest/{original.pk}"}]
    assert first["subject"]["reference"] == f"Patient/{record.animal.pk}"
    assert first["context"]["reference"] == f"Encounter/{record.consultation.pk}"
    assert first["quantity"]["value"] == 30 and first["whenHandedOver"] == original.dispensed_on.isoformat()
    assert first["performer"][0]["actor"]["reference"] == f"Practitioner/{vet_user.vet.pk}"
    assert "twice daily" in first["dosageInstruction"][0]["text"]
    again = fhir.get(f"MedicationDispense/{repeat.pk}").fhir
    assert again["type"]["coding"][0]["code"] == "RF" and again["quantity"]["value"] == 20
    # The repeat is dispensed under the original prescription, which stays the one MedicationRequest.
    assert again["authorizingPrescription"] == [{"reference": f"MedicationRequest/{original.pk}"}]
    assert fhir.get(f"MedicationRequest/{repeat.pk}").status_code == 404
    both = [str(original.pk), str(repeat.pk)]
    assert ids(fhir.get("MedicationDispense", {"prescription": f"MedicationRequest/{original.pk}"})) == both
    assert ids(fhir.get("MedicationDispense", {"patient": record.animal.pk, "status": "completed"})) == both
    assert ids(fhir.get("MedicationDispense", {"whenhandedover": f"gt{original.dispensed_on}"})) == []
    assert fhir.get("MedicationDispense", {"prescription": "Patient/1"}).status_code == 400


@pytest.mark.parametrize(
    "path, params",
    [
        ("Observation", {"date": "yesterday"}),
        ("Observation", {"date": "2026-02-30"}),
        ("Observation", {"_cursor": "junk"}),
        ("Observation", {"_cursor": "9.1"}),
        ("Condition", {"recorded-date": "ge2026-13"}),
        ("Encounter", {"patient": "Practitioner/1"}),
    ],
)
def test_bad_values_are_400(record, vet_user, fhir_as, path, params):
    response = fhir_as(vet_user).get(path, params)
    assert response.status_code == 400 and response.fhir["resourceType"] == "OperationOutcome"


def test_a_receptionist_gets_the_record_but_not_the_consultation_text(record, receptionist, vet_user, fhir_as):
    path = f"Encounter/{record.consultation.pk}"
    as_reception = fhir_as(receptionist).get(path)
    assert as_reception.status_code == 200 and "reasonCode" not in as_reception.fhir
    assert "Shaking head" not in as_reception.content.decode()
    search = fhir_as(receptionist).get("Encounter", {"patient": record.animal.pk})
    assert "Shaking head" not in search.content.decode()
    assert fhir_as(vet_user).get(path).fhir["reasonCode"] == [{"text": "Shaking head for two days"}]


def test_clinical_types_need_their_view_permissions(record, nobody, fhir_as, client):
    for kind in ("Encounter", "Observation", "Condition", "Immunization", "MedicationRequest", "DocumentReference"):
        assert fhir_as(nobody).get(kind).status_code == 403
        assert client.get(f"/fhir/R4/{kind}").status_code == 401


def test_document_content_is_served_only_through_the_permission_check(record, receptionist, nobody, fhir_as, client):
    reference = fhir_as(receptionist).get(f"DocumentReference/{record.attachment.pk}").fhir
    url = urlsplit(reference["content"][0]["attachment"]["url"]).path
    assert url == f"/api/v1/attachments/{record.attachment.pk}/file"
    allowed = client.get(url, headers={"Authorization": f"Bearer {make_token(receptionist)[1]}"})
    assert allowed.status_code == 200 and b"".join(allowed.streaming_content) == PDF
    assert client.get(url, headers={"Authorization": f"Bearer {make_token(nobody)[1]}"}).status_code == 403
    assert client.get(url).status_code == 401


def test_searches_cost_the_same_for_a_long_history(record, vet_user, fhir_as, django_assert_max_num_queries):
    fhir = fhir_as(vet_user)
    fhir.get("Observation", {"patient": record.animal.pk})  # the token's first use writes last_used_at
    with django_assert_max_num_queries(12) as few:
        fhir.get("Observation", {"patient": record.animal.pk})
    for _ in range(30):
        WeightFactory(animal=record.animal, kg="30.000")
    with django_assert_max_num_queries(len(few.captured_queries)):
        fhir.get("Observation", {"patient": record.animal.pk, "_count": 50})
