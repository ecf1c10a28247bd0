"""Where each clinical FHIR resource comes from: a ``Source`` is one table (with the joins its mapping needs) that
yields resources of one type. Most types have one source; Observation has four (the weight history and three vitals
of consultations) and Condition two (problems and consultation diagnoses), told apart by the id prefix.

The FHIR types (exchange.fhir.resources.clinical) search and page their sources in primary-key order by keyset
(``pk > last``), so a page (or a chunk of the bulk export, which pages through the same search) costs the same
wherever it is in the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from animals.models import Weight
from clinical.models import Attachment, Consultation, ConsultationDiagnosis, Prescription, Problem, Vaccination
from exchange.fhir import clinical as m
from reminders.models import Reminder
from vetpms.params import is_ascii_number


@dataclass(frozen=True)
class Context:
    """What a mapping may depend on besides the row: whether the reader may see clinical notes, the address the
    attachment links start with, and the practice's today (overdue recommendations)."""

    with_notes: bool
    base_url: str | None = None
    today: dt.date = field(default_factory=timezone.localdate)


@dataclass(frozen=True)
class Source:
    resource_type: str
    prefix: str  # "" when the id is the plain primary key
    queryset: Callable[[], QuerySet]
    render: Callable[[Any, Context], dict]
    updated: str  # the field _since and _lastUpdated read
    date: str | None = None  # the field the type's ``date`` search reads
    date_is_date: bool = False
    patient: str = "animal_id"
    where: Q = field(default_factory=Q)
    # FHIR status code -> the rows of this source that have it (a code absent here matches none of them)
    statuses: dict[str, Q] = field(default_factory=dict)
    permissions: tuple[str, ...] = ()

    def resource_id(self, pk: int) -> str:
        return f"{self.prefix}-{pk}" if self.prefix else str(pk)

    def rows(self) -> QuerySet:
        return self.queryset().filter(self.where)


def _consultations() -> QuerySet[Consultation]:
    return Consultation.objects.select_related("vet").prefetch_related(
        Prefetch(
            "diagnosis_links", queryset=ConsultationDiagnosis.objects.select_related("diagnosis").order_by("position")
        )
    )


def _vitals() -> QuerySet[Consultation]:
    return Consultation.objects.select_related("vet")


def _weights() -> QuerySet[Weight]:
    return Weight.objects.select_related("recorded_by__vet").annotate(consultation_pk=F("consultation__id"))


def _problems() -> QuerySet[Problem]:
    return Problem.objects.select_related("diagnosis")


def _diagnoses() -> QuerySet[ConsultationDiagnosis]:
    return ConsultationDiagnosis.objects.select_related("diagnosis", "consultation__vet")


def _vaccinations() -> QuerySet[Vaccination]:
    return Vaccination.objects.select_related("product", "given_by__vet", "supervising_vet")


def _reminders() -> QuerySet[Reminder]:
    return Reminder.objects.select_related("type")


def _prescriptions() -> QuerySet[Prescription]:
    used = (
        Prescription.objects.filter(repeat_of=OuterRef("pk"))
        .order_by()
        .values("repeat_of")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Prescription.objects.filter(repeat_of__isnull=True)
        .select_related("product", "prescribed_by")
        .annotate(repeats_used=Coalesce(Subquery(used, output_field=IntegerField()), 0))
    )


def _dispensings() -> QuerySet[Prescription]:
    return Prescription.objects.select_related("product", "dispensed_by__vet")


def _attachments() -> QuerySet[Attachment]:
    return Attachment.objects.select_related("uploaded_by__vet")


_SIGNED = Q(status=Consultation.Status.SIGNED)
_DRAFT = Q(status=Consultation.Status.DRAFT)


def _vital_source(prefix: str) -> Source:
    return Source(
        "Observation",
        prefix,
        _vitals,
        lambda row, ctx: m.vital_observation(row, prefix),
        updated="updated_at",
        date="opened_at",
        where=Q(**{f"{m.VITAL_FIELDS[prefix]}__isnull": False}),
        statuses={"final": _SIGNED, "preliminary": _DRAFT},
        permissions=("clinical.view_consultation",),
    )


_ALL = Q(pk__isnull=False)  # every row (an empty Q() would vanish when OR-ed with another)

SOURCES: dict[str, list[Source]] = {
    "Encounter": [
        Source(
            "Encounter",
            "",
            _consultations,
            lambda row, ctx: m.encounter(row, with_notes=ctx.with_notes),
            updated="updated_at",
            date="opened_at",
            statuses={"finished": _SIGNED, "in-progress": _DRAFT},
            permissions=("clinical.view_consultation",),
        )
    ],
    "Observation": [
        Source(
            "Observation",
            "wt",
            _weights,
            lambda row, ctx: m.weight_observation(row, consultation_id=row.consultation_pk),
            updated="created_at",
            date="measured_on",
            date_is_date=True,
            statuses={"final": _ALL},
            permissions=("animals.view_animal",),
        ),
        _vital_source("temp"),
        _vital_source("hr"),
        _vital_source("rr"),
    ],
    "Condition": [
        Source(
            "Condition",
            "prob",
            _problems,
            lambda row, ctx: m.problem_condition(row),
            updated="updated_at",
            date="created_at",
            statuses={
                "active": Q(status__in=[Problem.Status.ACTIVE, Problem.Status.CHRONIC]),
                "resolved": Q(status=Problem.Status.RESOLVED),
            },
            permissions=("clinical.view_problem",),
        ),
        Source(
            "Condition",
            "dx",
            _diagnoses,
            lambda row, ctx: m.diagnosis_condition(row),
            updated="consultation__updated_at",
            date="consultation__opened_at",
            patient="consultation__animal_id",
            permissions=("clinical.view_consultation", "clinical.view_diagnosis"),
        ),
    ],
    "Immunization": [
        Source(
            "Immunization",
            "",
            _vaccinations,
            lambda row, ctx: m.immunization(row),
            updated="created_at",
            date="given_on",
            date_is_date=True,
            statuses={"completed": _ALL},
            permissions=("clinical.view_vaccination",),
        )
    ],
    "ImmunizationRecommendation": [
        Source(
            "ImmunizationRecommendation",
            "",
            _reminders,
            lambda row, ctx: m.immunization_recommendation(row, today=ctx.today),
            updated="updated_at",
            date="due_on",
            date_is_date=True,
            permissions=("reminders.view_reminder",),
        )
    ],
    "MedicationRequest": [
        Source(
            "MedicationRequest",
            "",
            _prescriptions,
            lambda row, ctx: m.medication_request(row, repeats_used=row.repeats_used),
            updated="created_at",
            date="dispensed_on",
            date_is_date=True,
            permissions=("clinical.view_prescription",),
        )
    ],
    "MedicationDispense": [
        Source(
            "MedicationDispense",
            "",
            _dispensings,
            lambda row, ctx: m.medication_dispense(row),
            updated="created_at",
            date="dispensed_on",
            date_is_date=True,
            statuses={"completed": _ALL},
            permissions=("clinical.view_prescription",),
        )
    ],
    "DocumentReference": [
        Source(
            "DocumentReference",
            "",
            _attachments,
            lambda row, ctx: m.document_reference(row, base_url=ctx.base_url),
            updated="created_at",
            date="created_at",
            statuses={"current": _ALL},
            permissions=("clinical.view_attachment",),
        )
    ],
}

CLINICAL_TYPES = tuple(SOURCES)


def source_for_id(resource_type: str, resource_id: str) -> tuple[Source, int] | None:
    """The source and primary key a clinical id names (``wt-12`` -> weights, 12), or None for no such id."""
    prefix, _, number = resource_id.rpartition("-")
    if not is_ascii_number(number) or len(number) > 17:
        return None
    for source in SOURCES.get(resource_type, []):
        if source.prefix == prefix:
            return source, int(number)
    return None
