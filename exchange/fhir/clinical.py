"""The clinical record as FHIR R4 (4.0.1) resources (DESIGN.md section 8): pure functions from a model row to the
resource's JSON dict. They read only the row and what the selectors in ``exchange.fhir.clinical_sources`` join to
it, so a page or an export chunk costs a bounded number of queries.

| VetPMS                                   | FHIR R4                     | id            |
|------------------------------------------|-----------------------------|---------------|
| Consultation                             | Encounter                   | ``<pk>``      |
| Weight history row                       | Observation (29463-7, kg)   | ``wt-<pk>``   |
| Consultation temperature                 | Observation (8310-5, Cel)   | ``temp-<pk>`` |
| Consultation heart rate                  | Observation (8867-4, /min)  | ``hr-<pk>``   |
| Consultation respiratory rate            | Observation (9279-1, /min)  | ``rr-<pk>``   |
| Problem                                  | Condition (problem-list)    | ``prob-<pk>`` |
| Diagnosis of a consultation              | Condition (encounter-dx)    | ``dx-<pk>``   |
| Vaccination given                        | Immunization                | ``<pk>``      |
| Reminder                                 | ImmunizationRecommendation  | ``<pk>``      |
| Prescription (not its repeat dispensings)| MedicationRequest           | ``<pk>``      |
| Prescription and each repeat dispensing  | MedicationDispense          | ``<pk>``      |
| Attachment                               | DocumentReference           | ``<pk>``      |

The vitals of a consultation are one Observation per measurement (the weight measured in a consultation is a row
of the animal's weight history, so it appears once, as ``wt-``). Text a role may not read (a consultation's
presenting complaint, for receptionists: ``clinical.selectors.can_read_notes``) is left out, never blanked.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from animals.models import Weight
from clinical.models import Attachment, Consultation, ConsultationDiagnosis, Prescription, Problem, Route, Vaccination
from reminders.models import Reminder

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROUTE_OF_ADMINISTRATION = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
PERFORMER_FUNCTION = "http://terminology.hl7.org/CodeSystem/v2-0443"
RECOMMENDATION_STATUS = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"

# (LOINC code, display, UCUM unit) of each measurement, keyed by the id prefix.
VITALS: dict[str, tuple[str, str, str]] = {
    "wt": ("29463-7", "Body weight", "kg"),
    "temp": ("8310-5", "Body temperature", "Cel"),
    "hr": ("8867-4", "Heart rate", "/min"),
    "rr": ("9279-1", "Respiratory rate", "/min"),
}
# The consultation field each consultation vital reads.
VITAL_FIELDS = {"temp": "temperature_c", "hr": "heart_rate", "rr": "respiratory_rate"}

# Routes with a code in HL7 v3 RouteOfAdministration; the others are sent as text only.
ROUTE_CODES: dict[str, tuple[str, str]] = {
    Route.SUBCUTANEOUS: ("SQ", "Injection, subcutaneous"),
    Route.INTRAMUSCULAR: ("IM", "Injection, intramuscular"),
    Route.INTRAVENOUS: ("IVINJ", "Injection, intravenous"),
    Route.INTRADERMAL: ("IDINJ", "Injection, intradermal"),
    Route.ORAL: ("PO", "Swallow, oral"),
}

# Terminologies a practice may load into its diagnosis list, by the name it gives them, and their FHIR system.
KNOWN_CODE_SYSTEMS = {
    "snomed ct": SNOMED,
    "snomed": SNOMED,
    "snomedct": SNOMED,
    "venom": "http://www.venomcoding.org",
}


def practice_system(name: str) -> str:
    """The URI of one of the practice's own code systems (its product catalogue, an uncoded terminology)."""
    return f"{settings.SITE_URL}/fhir/R4/CodeSystem/{name}"


def code_system_uri(name: str) -> str:
    """The FHIR ``system`` of a diagnosis code: the terminology's URI when known, a practice system otherwise."""
    known = KNOWN_CODE_SYSTEMS.get(name.strip().lower())
    if known:
        return known
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-") or "local"
    return practice_system(f"diagnosis-{slug}")


def ref(resource_type: str, pk: Any, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"{resource_type}/{pk}"}
    if display:
        out["display"] = display
    return out


def instant(value: dt.datetime) -> str:
    """An aware datetime as a FHIR instant/dateTime in UTC (``2026-12-04T09:30:00Z``)."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def number(value: Decimal | int) -> int | float:
    """A JSON number: integers stay integers, decimals become the float of their exact text."""
    if isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)


def meta(updated: dt.datetime | None) -> dict[str, str]:
    return {"lastUpdated": instant(updated)} if updated else {}


def _with_meta(resource: dict[str, Any], updated: dt.datetime | None) -> dict[str, Any]:
    if updated:
        resource["meta"] = meta(updated)
    return resource


def _practitioner(vet) -> dict[str, str]:
    return ref("Practitioner", vet.pk, vet.display_name)


def _user_actor(user) -> dict[str, str]:
    """A staff member as a reference: the Practitioner when the user is a vet, their name otherwise."""
    vet = getattr(user, "vet", None) if user is not None else None
    if vet is not None:
        return _practitioner(vet)
    name = (user.get_full_name() or user.get_username()) if user is not None else "Unknown"
    return {"display": name}


def _route(route: str) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": Route(route).label if route in Route.values else route}
    if route in ROUTE_CODES:
        code, display = ROUTE_CODES[route]
        concept["coding"] = [{"system": ROUTE_OF_ADMINISTRATION, "code": code, "display": display}]
    return concept


def _product_concept(product, extra: str = "") -> dict[str, Any]:
    text = f"{product.name} {extra}".strip()
    return {
        "coding": [{"system": practice_system("product"), "code": product.code, "display": product.name}],
        "text": text,
    }


# --- Encounter ----------------------------------------------------------------------------------------------------


def encounter(consultation: Consultation, *, with_notes: bool) -> dict[str, Any]:
    """A consultation: in progress while a draft, finished once signed. The presenting complaint is its reason,
    for roles that may read clinical notes; the diagnoses point at their ``dx-`` Conditions."""
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(consultation.pk),
        "status": "finished" if consultation.is_signed else "in-progress",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": ref("Patient", consultation.animal_id),
        "participant": [{"individual": _practitioner(consultation.vet)}],
        "period": {"start": instant(consultation.opened_at)},
    }
    if consultation.signed_at:
        resource["period"]["end"] = instant(consultation.signed_at)
    if consultation.appointment_id:
        resource["appointment"] = [ref("Appointment", consultation.appointment_id)]
    if with_notes and consultation.complaint:
        resource["reasonCode"] = [{"text": consultation.complaint}]
    links = list(consultation.diagnosis_links.all())
    if links:
        resource["diagnosis"] = [
            {"condition": ref("Condition", f"dx-{link.pk}", link.diagnosis.name), "rank": index}
            for index, link in enumerate(links, start=1)
        ]
    return _with_meta(resource, consultation.updated_at)


# --- Observation --------------------------------------------------------------------------------------------------


def _observation(
    *, prefix: str, pk: int, animal_id: int, value: Decimal | int, status: str, effective: str
) -> dict[str, Any]:
    code, display, unit = VITALS[prefix]
    return {
        "resourceType": "Observation",
        "id": f"{prefix}-{pk}",
        "status": status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": ref("Patient", animal_id),
        "effectiveDateTime": effective,
        "valueQuantity": {"value": number(value), "unit": unit, "system": UCUM, "code": unit},
    }


def weight_observation(weight: Weight, *, consultation_id: int | None = None) -> dict[str, Any]:
    """A row of the animal's weight history (in kg). ``consultation_id``: the consultation that measured it."""
    resource = _observation(
        prefix="wt",
        pk=weight.pk,
        animal_id=weight.animal_id,
        value=weight.kg,
        status="final",
        effective=weight.measured_on.isoformat(),
    )
    if consultation_id:
        resource["encounter"] = ref("Encounter", consultation_id)
    if weight.recorded_by_id and getattr(weight.recorded_by, "vet", None) is not None:
        resource["performer"] = [_practitioner(weight.recorded_by.vet)]
    return _with_meta(resource, weight.created_at)


def vital_observation(consultation: Consultation, prefix: str) -> dict[str, Any]:
    """One measurement of a consultation (``temp``, ``hr`` or ``rr``): final once signed, preliminary before."""
    value = getattr(consultation, VITAL_FIELDS[prefix])
    if value is None:
        raise ValueError(f"Consultation {consultation.pk} has no {VITAL_FIELDS[prefix]}.")
    resource = _observation(
        prefix=prefix,
        pk=consultation.pk,
        animal_id=consultation.animal_id,
        value=value,
        status="final" if consultation.is_signed else "preliminary",
        effective=instant(consultation.opened_at),
    )
    resource["encounter"] = ref("Encounter", consultation.pk)
    resource["performer"] = [_practitioner(consultation.vet)]
    return _with_meta(resource, consultation.updated_at)


def consultation_vitals(consultation: Consultation) -> list[dict[str, Any]]:
    """Every vital (not the weight) a consultation recorded, as Observations."""
    return [
        vital_observation(consultation, prefix)
        for prefix, field in VITAL_FIELDS.items()
        if getattr(consultation, field) is not None
    ]


# --- Condition ----------------------------------------------------------------------------------------------------


def _diagnosis_code(diagnosis, text: str) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if diagnosis is not None and diagnosis.code and diagnosis.code_system:
        concept["coding"] = [
            {"system": code_system_uri(diagnosis.code_system), "code": diagnosis.code, "display": diagnosis.name}
        ]
    return concept


PROBLEM_CLINICAL_STATUS = {
    Problem.Status.ACTIVE: "active",
    Problem.Status.CHRONIC: "active",
    Problem.Status.RESOLVED: "resolved",
}


def problem_condition(problem: Problem) -> dict[str, Any]:
    """An entry of the problem list (chronic problems are active in FHIR's terms, the text says chronic)."""
    status = PROBLEM_CLINICAL_STATUS[Problem.Status(problem.status)]
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"prob-{problem.pk}",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": status}], "text": problem.status},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "category": [
            {"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item", "display": "Problem List Item"}]}
        ],
        "code": _diagnosis_code(problem.diagnosis, problem.condition),
        "subject": ref("Patient", problem.animal_id),
        "recordedDate": instant(problem.created_at),
    }
    if problem.onset:
        resource["onsetDateTime"] = problem.onset.isoformat()
    if problem.resolved_on:
        resource["abatementDateTime"] = problem.resolved_on.isoformat()
    if problem.notes:
        resource["note"] = [{"text": problem.notes}]
    return _with_meta(resource, problem.updated_at)


DIAGNOSIS_VERIFICATION = {
    ConsultationDiagnosis.Certainty.CONFIRMED: "confirmed",
    ConsultationDiagnosis.Certainty.SUSPECTED: "provisional",
    ConsultationDiagnosis.Certainty.DIFFERENTIAL: "differential",
}


def diagnosis_condition(link: ConsultationDiagnosis) -> dict[str, Any]:
    """A diagnosis made in a consultation (needs ``link.consultation`` and ``link.diagnosis`` joined)."""
    consultation = link.consultation
    verification = DIAGNOSIS_VERIFICATION[ConsultationDiagnosis.Certainty(link.certainty)]
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"dx-{link.pk}",
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": verification}]},
        "category": [
            {
                "coding": [
                    {"system": CONDITION_CATEGORY, "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}
                ]
            }
        ],
        "code": _diagnosis_code(link.diagnosis, link.diagnosis.name),
        "subject": ref("Patient", consultation.animal_id),
        "encounter": ref("Encounter", consultation.pk),
        "recordedDate": instant(consultation.opened_at),
        "recorder": _practitioner(consultation.vet),
    }
    return _with_meta(resource, consultation.updated_at)


# --- Immunization and its recommendation ---------------------------------------------------------------------------


def immunization(vaccination: Vaccination) -> dict[str, Any]:
    """A vaccine given: the product (catalogue code), batch and its expiry, route, site, who gave it (AP) and the
    vet responsible (OP), when."""
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": str(vaccination.pk),
        "status": "completed",
        "vaccineCode": _product_concept(vaccination.product),
        "patient": ref("Patient", vaccination.animal_id),
        "occurrenceDateTime": vaccination.given_on.isoformat(),
        "recorded": instant(vaccination.created_at),
        "primarySource": True,
        "lotNumber": vaccination.batch,
        "expirationDate": vaccination.batch_expiry.isoformat(),
        "route": _route(vaccination.route),
        "performer": [
            {
                "function": {
                    "coding": [{"system": PERFORMER_FUNCTION, "code": "AP", "display": "Administering Provider"}]
                },
                "actor": _user_actor(vaccination.given_by),
            },
            {
                "function": {"coding": [{"system": PERFORMER_FUNCTION, "code": "OP", "display": "Ordering Provider"}]},
                "actor": _practitioner(vaccination.supervising_vet),
            },
        ],
    }
    if vaccination.consultation_id:
        resource["encounter"] = ref("Encounter", vaccination.consultation_id)
    if vaccination.manufacturer:
        resource["manufacturer"] = {"display": vaccination.manufacturer}
    if vaccination.site:
        resource["site"] = {"text": vaccination.site}
    return _with_meta(resource, vaccination.created_at)


def recommendation_status(reminder: Reminder, today: dt.date) -> dict[str, Any]:
    """``due`` / ``overdue`` while pending, ``complete`` once done; a cancelled reminder has no code (text only)."""
    if reminder.status == Reminder.Status.PENDING:
        code = "overdue" if reminder.due_on < today else "due"
        return {"coding": [{"system": RECOMMENDATION_STATUS, "code": code}], "text": "Pending"}
    if reminder.status == Reminder.Status.COMPLETED:
        return {"coding": [{"system": RECOMMENDATION_STATUS, "code": "complete"}], "text": "Completed"}
    return {"text": "Cancelled"}


def immunization_recommendation(reminder: Reminder, *, today: dt.date | None = None) -> dict[str, Any]:
    """A reminder (needs ``reminder.type`` joined): what is due (the reminder type), when, and its status."""
    today = today or timezone.localdate()
    recommendation: dict[str, Any] = {
        "vaccineCode": [
            {
                "coding": [
                    {
                        "system": practice_system("reminder-type"),
                        "code": str(reminder.type_id),
                        "display": reminder.type.name,
                    }
                ],
                "text": reminder.type.name,
            }
        ],
        "forecastStatus": recommendation_status(reminder, today),
        "dateCriterion": [
            {
                "code": {"coding": [{"system": LOINC, "code": "30980-7", "display": "Date vaccine due"}]},
                "value": reminder.due_on.isoformat(),
            }
        ],
        "description": reminder.type.name,
    }
    if reminder.completed_by_vaccination_id:
        recommendation["supportingImmunization"] = [ref("Immunization", reminder.completed_by_vaccination_id)]
    resource = {
        "resourceType": "ImmunizationRecommendation",
        "id": str(reminder.pk),
        "patient": ref("Patient", reminder.animal_id),
        "date": instant(reminder.created_at),
        "recommendation": [recommendation],
    }
    return _with_meta(resource, reminder.updated_at)


# --- MedicationRequest ----------------------------------------------------------------------------------------------


def dosage_text(prescription: Prescription) -> str:
    route = Route(prescription.route).label if prescription.route in Route.values else prescription.route
    text = f"{prescription.dose} {route} {prescription.frequency}".strip()
    if prescription.duration:
        text += f" for {prescription.duration}"
    if prescription.instructions:
        text += f". {prescription.instructions}"
    return text


def medication_request(prescription: Prescription, *, repeats_used: int = 0) -> dict[str, Any]:
    """A prescription as dispensed (needs ``product`` and ``prescribed_by`` joined). Active while repeats remain,
    completed otherwise; ``repeats_used`` is the count of its repeat dispensings."""
    remaining = prescription.repeats - repeats_used
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": str(prescription.pk),
        "status": "active" if remaining > 0 else "completed",
        "intent": "order",
        "medicationCodeableConcept": _product_concept(prescription.product, prescription.strength),
        "subject": ref("Patient", prescription.animal_id),
        "authoredOn": prescription.dispensed_on.isoformat(),
        "requester": _practitioner(prescription.prescribed_by),
        "dosageInstruction": [{"text": dosage_text(prescription), "route": _route(prescription.route)}],
        "dispenseRequest": {
            "quantity": {"value": number(prescription.quantity), "unit": prescription.product.unit},
            "numberOfRepeatsAllowed": prescription.repeats,
        },
    }
    if prescription.consultation_id:
        resource["encounter"] = ref("Encounter", prescription.consultation_id)
    return _with_meta(resource, prescription.created_at)


# --- MedicationDispense ---------------------------------------------------------------------------------------------


def medication_dispense(prescription: Prescription) -> dict[str, Any]:
    """One dispensing: a prescription's first (type FF, first fill) or one of its repeats (RF, refill), each a row
    of its own (needs ``product`` and ``dispensed_by__vet`` joined). authorizingPrescription is the
    MedicationRequest, which is the original prescription's id for a repeat too."""
    repeat = prescription.repeat_of_id is not None
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": str(prescription.pk),
        "status": "completed",
        "medicationCodeableConcept": _product_concept(prescription.product, prescription.strength),
        "subject": ref("Patient", prescription.animal_id),
        "performer": [{"actor": _user_actor(prescription.dispensed_by)}],
        "authorizingPrescription": [ref("MedicationRequest", prescription.repeat_of_id or prescription.pk)],
        "type": {
            "coding": [
                {"system": ACT_CODE, "code": "RF", "display": "Refill"}
                if repeat
                else {"system": ACT_CODE, "code": "FF", "display": "First Fill"}
            ]
        },
        "quantity": {"value": number(prescription.quantity), "unit": prescription.product.unit},
        "whenHandedOver": prescription.dispensed_on.isoformat(),
        "dosageInstruction": [{"text": dosage_text(prescription), "route": _route(prescription.route)}],
    }
    if prescription.consultation_id:
        resource["context"] = ref("Encounter", prescription.consultation_id)
    return _with_meta(resource, prescription.created_at)


# --- DocumentReference ----------------------------------------------------------------------------------------------


def attachment_url(attachment_id: int, base_url: str | None = None) -> str:
    """The file, behind the API's permission check (a bearer token or a session works)."""
    path = reverse("api:download_attachment", kwargs={"attachment_id": attachment_id})
    return f"{(base_url or settings.SITE_URL).rstrip('/')}{path}"


def document_reference(attachment: Attachment, *, base_url: str | None = None) -> dict[str, Any]:
    """An attachment: its details here, its content only through ``attachment_url`` (never the storage's URL)."""
    kind = Attachment.Kind(attachment.kind) if attachment.kind in Attachment.Kind.values else None
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(attachment.pk),
        "status": "current",
        "type": {"text": kind.label if kind else attachment.kind},
        "subject": ref("Patient", attachment.animal_id),
        "date": instant(attachment.created_at),
        "author": [_user_actor(attachment.uploaded_by)],
        "description": attachment.title,
        "content": [
            {
                "attachment": {
                    "contentType": attachment.content_type,
                    "url": attachment_url(attachment.pk, base_url),
                    "size": attachment.size,
                    "title": attachment.original_name or attachment.title,
                    "creation": instant(attachment.created_at),
                }
            }
        ],
    }
    if attachment.consultation_id:
        resource["context"] = {"encounter": [ref("Encounter", attachment.consultation_id)]}
    return _with_meta(resource, attachment.created_at)
