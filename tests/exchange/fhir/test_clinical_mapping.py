"""The clinical mappings (exchange.fhir.clinical): every resource parses strictly with fhirclient's R4 models, and
the codes, units and values the models cannot judge are checked here against the record they came from."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinical.models import ConsultationDiagnosis
from exchange.fhir import clinical as m
from exchange.fhir.clinical_sources import SOURCES, Context
from tests.exchange.fhir.clinical_fixtures import *  # noqa: F403 - the fixtures
from tests.exchange.fhir.clinical_fixtures import fhir_valid

pytestmark = pytest.mark.django_db

VITAL_SIGNS = {"system": m.OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}


def _codings(concept: dict) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def test_a_signed_consultation_is_a_finished_encounter(record):
    c = record.consultation
    resource = m.encounter(c, with_notes=True)
    fhir_valid(resource)
    assert resource["status"] == "finished" and resource["subject"] == {"reference": f"Patient/{record.animal.pk}"}
    assert resource["participant"][0]["individual"]["reference"] == f"Practitioner/{c.vet_id}"
    assert resource["period"]["end"] == m.instant(c.signed_at)
    assert resource["reasonCode"] == [{"text": "Shaking head for two days"}]
    links = list(ConsultationDiagnosis.objects.filter(consultation=c).order_by("position"))
    assert [d["condition"]["reference"] for d in resource["diagnosis"]] == [f"Condition/dx-{x.pk}" for x in links]
    assert [d["rank"] for d in resource["diagnosis"]] == [1, 2]


def test_the_complaint_is_left_out_for_a_reader_without_clinical_notes(record):
    resource = m.encounter(record.consultation, with_notes=False)
    fhir_valid(resource)
    assert "reasonCode" not in resource and "Shaking" not in str(resource)


def test_weight_and_vitals_are_loinc_coded_with_ucum_units(record):
    weight = m.weight_observation(record.weight, consultation_id=record.consultation.pk)
    vitals = {o["id"].split("-")[0]: o for o in m.consultation_vitals(record.consultation)}
    expected = {
        "wt": ("29463-7", "kg", 31.4),
        "temp": ("8310-5", "Cel", 38.6),
        "hr": ("8867-4", "/min", 96),
        "rr": ("9279-1", "/min", 24),
    }
    for prefix, resource in {"wt": weight, **vitals}.items():
        fhir_valid(resource)
        code, unit, value = expected[prefix]
        assert _codings(resource["code"]) == {(m.LOINC, code)}
        assert resource["category"] == [{"coding": [VITAL_SIGNS]}]
        assert resource["valueQuantity"] == {"value": value, "unit": unit, "system": m.UCUM, "code": unit}
        assert resource["status"] == "final"  # signed
        assert resource["encounter"] == {"reference": f"Encounter/{record.consultation.pk}"}
    assert weight["effectiveDateTime"] == record.weight.measured_on.isoformat()
    assert set(vitals) == {"temp", "hr", "rr"}


def test_a_problem_and_the_diagnoses_are_conditions_with_their_codes(record):
    problem = m.problem_condition(record.problem)
    fhir_valid(problem)
    assert _codings(problem["clinicalStatus"]) == {(m.CONDITION_CLINICAL, "active")}
    assert _codings(problem["code"]) == {("http://www.venomcoding.org", "1234")}
    assert problem["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert problem["note"] == [{"text": "Recurs each summer"}]
    links = ConsultationDiagnosis.objects.select_related("consultation__vet", "diagnosis").order_by("position")
    confirmed, suspected = (m.diagnosis_condition(link) for link in links)
    for resource in (confirmed, suspected):
        fhir_valid(resource)
        assert resource["encounter"] == {"reference": f"Encounter/{record.consultation.pk}"}
        assert resource["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert _codings(confirmed["verificationStatus"]) == {(m.CONDITION_VERIFICATION, "confirmed")}
    assert _codings(suspected["verificationStatus"]) == {(m.CONDITION_VERIFICATION, "provisional")}
    # Gastritis has no code: text only, never an empty or invented coding.
    assert suspected["code"] == {"text": "Gastritis"}


def test_a_resolved_problem_has_its_abatement(record, vet_user):
    from clinical.services import problem_save

    problem = problem_save(problem=record.problem, by=vet_user, data={"status": "resolved"})
    resource = m.problem_condition(problem)
    fhir_valid(resource)
    assert _codings(resource["clinicalStatus"]) == {(m.CONDITION_CLINICAL, "resolved")}
    assert resource["abatementDateTime"] == timezone.localdate().isoformat()


def test_a_vaccination_is_an_immunization_with_batch_route_site_and_performers(record, nurse, vet_user):
    v = record.vaccination
    resource = m.immunization(v)
    fhir_valid(resource)
    assert resource["status"] == "completed" and resource["patient"]["reference"] == f"Patient/{record.animal.pk}"
    assert _codings(resource["vaccineCode"]) == {(m.practice_system("product"), "VAC-RAB")}
    assert resource["lotNumber"] == "RB-2231" and resource["expirationDate"] == v.batch_expiry.isoformat()
    assert _codings(resource["route"]) == {(m.ROUTE_OF_ADMINISTRATION, "SQ")}
    assert resource["site"] == {"text": "left lateral thorax"}
    assert resource["occurrenceDateTime"] == v.given_on.isoformat()
    performers = {p["function"]["coding"][0]["code"]: p["actor"] for p in resource["performer"]}
    assert performers["AP"] == {"display": nurse.get_full_name()}  # a nurse is no Practitioner resource
    assert performers["OP"]["reference"] == f"Practitioner/{vet_user.vet.pk}"


def test_a_reminder_is_an_immunization_recommendation_with_its_due_date(record):
    r = record.reminder
    resource = m.immunization_recommendation(r)
    fhir_valid(resource)
    (rec,) = resource["recommendation"]
    assert rec["dateCriterion"][0]["value"] == r.due_on.isoformat()
    assert _codings(rec["dateCriterion"][0]["code"]) == {(m.LOINC, "30980-7")}
    assert _codings(rec["forecastStatus"]) == {(m.RECOMMENDATION_STATUS, "due")}
    overdue = m.immunization_recommendation(r, today=r.due_on + dt.timedelta(days=1))
    assert _codings(overdue["recommendation"][0]["forecastStatus"]) == {(m.RECOMMENDATION_STATUS, "overdue")}


def test_a_prescription_is_a_medication_request_with_dosage_quantity_and_repeats(record, vet_user):
    p = record.prescription
    resource = m.medication_request(p)
    fhir_valid(resource)
    assert resource["status"] == "active" and resource["intent"] == "order"
    assert resource["dosageInstruction"][0]["text"] == "1.5 ml Oral (PO) twice daily for 7 days. Give with food."
    assert resource["dispenseRequest"] == {"quantity": {"value": 30, "unit": "ml"}, "numberOfRepeatsAllowed": 2}
    assert resource["requester"]["reference"] == f"Practitioner/{vet_user.vet.pk}"
    assert m.medication_request(p, repeats_used=2)["status"] == "completed"


def test_an_attachment_is_a_document_reference_pointing_at_the_checked_download(record):
    a = record.attachment
    resource = m.document_reference(a, base_url="https://vets.example")
    fhir_valid(resource)
    (content,) = resource["content"]
    assert content["attachment"]["url"] == f"https://vets.example/api/v1/attachments/{a.pk}/file"
    assert content["attachment"]["contentType"] == "application/pdf" and content["attachment"]["size"] == a.size
    assert content["attachment"]["title"] == "bloods.pdf"
    assert resource["context"]["encounter"] == [{"reference": f"Encounter/{record.consultation.pk}"}]
    assert a.file.name not in str(resource)  # the storage path never leaks


def test_every_source_renders_what_it_reads_and_each_resource_is_valid(record, django_assert_max_num_queries):
    ctx = Context(with_notes=True)
    seen: dict[str, list[str]] = {}
    for type_name, sources in SOURCES.items():
        for source in sources:
            with django_assert_max_num_queries(2):  # the rows and one prefetch at most
                rows = list(source.rows().order_by("pk"))
            for row in rows:
                resource = source.render(row, ctx)
                fhir_valid(resource)
                assert resource["resourceType"] == type_name and resource["id"] == source.resource_id(row.pk)
                seen.setdefault(type_name, []).append(resource["id"])
    assert sorted(seen["Observation"]) == sorted(
        [f"wt-{record.weight.pk}", *(f"{p}-{record.consultation.pk}" for p in ("temp", "hr", "rr"))]
    )
    assert len(seen["Condition"]) == 3 and seen["MedicationRequest"] == [str(record.prescription.pk)]
