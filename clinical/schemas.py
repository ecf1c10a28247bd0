"""API schemas of the clinical record. Names are unique across the whole API (the OpenAPI components share one
namespace), hence the ``Clinical``/``Consultation`` prefixes on small references.

Text of consultations and addenda is ``null`` for a user who may see the record but not its notes
(receptionists, unless the practice sets CLINICAL_NOTES_FOR_RECEPTION); ``notes_visible`` says which.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import field_validator

from clinical.models import Attachment, Consultation, ConsultationDiagnosis, Problem, Route
from vetpms.api_utils import Id, InputSchema, QuerySchema


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def notes_visible(obj: Any, context: Any) -> bool:
    """Whether the request's user may read the record's text (a flag set on the object wins, for non-API use)."""
    flag = getattr(obj, "notes_visible", None)
    if flag is not None:
        return bool(flag)
    request = (context or {}).get("request")
    if request is None:
        return False
    from clinical.selectors import can_read_notes

    cached = getattr(request, "_clinical_notes_visible", None)
    if cached is None:
        cached = can_read_notes(request.user)
        request._clinical_notes_visible = cached
    return cached


class ClinicalAnimalRef(Schema):
    id: int
    name: str


class ClinicalVetRef(Schema):
    id: int
    display_name: str


class ClinicalProductRef(Schema):
    id: int
    code: str
    name: str
    unit: str


class DiagnosisOut(Schema):
    id: int
    name: str
    code: str
    code_system: str
    is_active: bool


class DiagnosisIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    code: str = Field("", max_length=40)
    code_system: str = Field("", max_length=60, description='e.g. "VeNom" or "SNOMED CT"; needed with a code.')
    is_active: bool = True


class DiagnosisPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    code: str | None = Field(None, max_length=40)
    code_system: str | None = Field(None, max_length=60)
    is_active: bool | None = None


class DiagnosisFilters(QuerySchema):
    q: str = Field("", max_length=100, description="Part of the name, or an exact code.")
    active: bool | None = True


class QuickTextOut(Schema):
    id: int
    title: str
    section: str = Field(..., description="subjective, objective, assessment or plan.")
    appointment_type_id: int | None = Field(..., description="null: offered for every consultation.")
    text: str


class ConsultationDiagnosisOut(Schema):
    diagnosis: DiagnosisOut
    certainty: str


class AddendumOut(Schema):
    id: int
    author: str
    created_at: dt.datetime
    text: str | None = Field(..., description="null when your role may not read clinical notes.")

    @staticmethod
    def resolve_author(obj) -> str:
        return str(obj.author)

    @staticmethod
    def resolve_text(obj, context) -> str | None:
        return obj.text if notes_visible(obj, context) else None


class AddendumIn(InputSchema):
    text: str = Field(..., min_length=1, max_length=10000)


_TEXTS = ("complaint", "history", "examination", "assessment", "plan")


class ConsultationOut(Schema):
    id: int
    animal: ClinicalAnimalRef
    vet: ClinicalVetRef
    appointment_id: int | None
    status: str = Field(..., description='"draft" or "signed".')
    opened_at: dt.datetime
    updated_at: dt.datetime
    signed_at: dt.datetime | None
    signed_by: str | None
    notes_visible: bool = Field(..., description="Whether the text fields below are shown to you.")
    complaint: str | None
    history: str | None
    examination: str | None
    assessment: str | None
    plan: str | None
    weight_kg: str | None = Field(..., description="The weight recorded (a row of the animal's weight history).")
    temperature_c: str | None
    heart_rate: int | None
    respiratory_rate: int | None
    body_condition_score: int | None
    pain_score: int | None
    mucous_membranes: str
    capillary_refill: str
    diagnoses: list[ConsultationDiagnosisOut]

    @staticmethod
    def resolve_signed_by(obj: Consultation) -> str | None:
        return str(obj.signed_by) if obj.signed_by_id else None

    @staticmethod
    def resolve_notes_visible(obj, context) -> bool:
        return notes_visible(obj, context)

    @staticmethod
    def resolve_weight_kg(obj: Consultation) -> str | None:
        return _dec(obj.weight.kg) if obj.weight_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_temperature_c(obj: Consultation) -> str | None:
        return _dec(obj.temperature_c)

    @staticmethod
    def resolve_diagnoses(obj: Consultation) -> list[ConsultationDiagnosis]:
        return list(obj.diagnosis_links.all())

    @staticmethod
    def resolve_complaint(obj, context) -> str | None:
        return obj.complaint if notes_visible(obj, context) else None

    @staticmethod
    def resolve_history(obj, context) -> str | None:
        return obj.history if notes_visible(obj, context) else None

    @staticmethod
    def resolve_examination(obj, context) -> str | None:
        return obj.examination if notes_visible(obj, context) else None

    @staticmethod
    def resolve_assessment(obj, context) -> str | None:
        return obj.assessment if notes_visible(obj, context) else None

    @staticmethod
    def resolve_plan(obj, context) -> str | None:
        return obj.plan if notes_visible(obj, context) else None


class ConsultationDetailOut(ConsultationOut):
    addenda: list[AddendumOut]


class ConsultationFilters(QuerySchema):
    animal: Id | None = None
    vet: Id | None = None
    status: str | None = Field(None, pattern="^(draft|signed)$")
    unsigned_overdue: bool = Field(False, description="Only drafts opened more than a day ago (oldest first).")


class ConsultationOpenIn(InputSchema):
    appointment: Id | None = Field(None, description="Start from this appointment (idempotent).")
    animal: Id | None = Field(None, description="For a consultation without an appointment.")
    vet: Id | None = Field(None, description="The responsible vet when not the caller (a nurse opening one).")


class ConsultationDraftIn(InputSchema):
    """Only the fields sent are changed (autosave sends what changed). ``confirm`` keeps unusual vitals."""

    complaint: str | None = Field(None, max_length=5000)
    history: str | None = Field(None, max_length=20000)
    examination: str | None = Field(None, max_length=20000)
    assessment: str | None = Field(None, max_length=20000)
    plan: str | None = Field(None, max_length=20000)
    # The bounds are what no living patient can show (animals.plausibility.IMPOSSIBLE), published in the schema;
    # values inside them but unusual for the species answer 409 confirm_required.
    weight_kg: Decimal | None = Field(None, gt=0, le=2000, max_digits=7, decimal_places=3)
    temperature_c: Decimal | None = Field(None, ge=5, le=46, max_digits=4, decimal_places=1)
    heart_rate: int | None = Field(None, ge=1, le=1000)
    respiratory_rate: int | None = Field(None, ge=1, le=300)
    body_condition_score: int | None = Field(None, ge=1, le=9)
    pain_score: int | None = Field(None, ge=0, le=10)
    mucous_membranes: Consultation.MucousMembranes | None = None
    capillary_refill: Consultation.CapillaryRefill | None = None
    confirm: bool = Field(False, description="Keep vitals that are unusual for the species (else 409).")


class DiagnosisChoiceIn(InputSchema):
    diagnosis: Id
    certainty: ConsultationDiagnosis.Certainty = ConsultationDiagnosis.Certainty.CONFIRMED


class DiagnosesSetIn(InputSchema):
    diagnoses: list[DiagnosisChoiceIn] = Field(..., max_length=50)


class ConsultationChargeIn(InputSchema):
    product: Id
    quantity: Decimal = Field(Decimal(1), gt=0, le=Decimal("9999999.999"), max_digits=10, decimal_places=3)
    unit_price: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2)


class ConsultationChargeOut(Schema):
    id: int
    invoice_id: int
    invoice_status: str
    product: ClinicalProductRef | None
    description: str
    quantity: str
    unit_price: str
    gross: str
    service_date: dt.date

    @staticmethod
    def resolve_invoice_status(obj) -> str:
        return obj.invoice.status

    @staticmethod
    def resolve_quantity(obj) -> str:
        return f"{obj.quantity.normalize():f}"

    @staticmethod
    def resolve_unit_price(obj) -> str:
        return f"{obj.unit_price:f}"

    @staticmethod
    def resolve_gross(obj) -> str:
        return f"{obj.gross:f}"


class ProductPickFilters(QuerySchema):
    q: str = Field("", max_length=100)
    limit: int = Field(20, ge=1, le=50)


class ProblemOut(Schema):
    id: int
    animal_id: int
    diagnosis: DiagnosisOut | None
    condition: str
    onset: dt.date | None
    status: str
    resolved_on: dt.date | None
    is_alert: bool
    notes: str | None = Field(..., description="null when your role may not read clinical notes.")
    consultation_ids: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_notes(obj, context) -> str | None:
        return obj.notes if notes_visible(obj, context) else None

    @staticmethod
    def resolve_consultation_ids(obj: Problem) -> list[int]:
        return sorted(c.pk for c in obj.consultations.all())


class ProblemIn(InputSchema):
    condition: str = Field("", max_length=200, description="Defaults to the diagnosis name.")
    diagnosis: Id | None = None
    onset: dt.date | None = None
    status: Problem.Status = Problem.Status.ACTIVE
    resolved_on: dt.date | None = None
    is_alert: bool = False
    notes: str = Field("", max_length=5000)
    consultations: list[Id] | None = Field(None, max_length=200)


class ProblemPatch(InputSchema):
    condition: str | None = Field(None, min_length=1, max_length=200)
    diagnosis: Id | None = None
    onset: dt.date | None = None
    status: Problem.Status | None = None
    resolved_on: dt.date | None = None
    is_alert: bool | None = None
    notes: str | None = Field(None, max_length=5000)
    consultations: list[Id] | None = Field(None, max_length=200)


class VaccinationOut(Schema):
    id: int
    animal_id: int
    consultation_id: int | None
    product: ClinicalProductRef
    manufacturer: str
    batch: str
    batch_expiry: dt.date
    route: str
    site: str
    given_on: dt.date
    given_by: str
    supervising_vet: ClinicalVetRef
    next_due_on: dt.date | None
    invoice_line_id: int | None

    @staticmethod
    def resolve_given_by(obj) -> str:
        return str(obj.given_by)


class VaccinationIn(InputSchema):
    animal: Id
    product: Id
    batch: str = Field(..., min_length=1, max_length=60)
    batch_expiry: dt.date
    consultation: Id | None = None
    manufacturer: str = Field("", max_length=100)
    route: Route = Route.SUBCUTANEOUS
    site: str = Field("", max_length=100)
    given_on: dt.date | None = Field(None, description="Defaults to today.")
    next_due_on: dt.date | None = Field(None, description="Defaults from the vaccine's reminder interval.")
    supervising_vet: Id | None = Field(None, description="Needed when a nurse gives it outside a consultation.")
    charge: bool = Field(False, description="Also charge the vaccine on the owner's draft invoice (one line).")


class PrescriptionOut(Schema):
    id: int
    animal_id: int
    consultation_id: int | None
    product: ClinicalProductRef
    strength: str
    dose: str
    route: str
    frequency: str
    duration: str
    quantity: str
    instructions: str
    repeats: int
    repeats_used: int
    prescribed_by: ClinicalVetRef
    dispensed_by: str
    dispensed_on: dt.date
    repeat_of_id: int | None
    invoice_line_id: int | None

    @staticmethod
    def resolve_quantity(obj) -> str:
        return f"{obj.quantity.normalize():f}"

    @staticmethod
    def resolve_dispensed_by(obj) -> str:
        return str(obj.dispensed_by)

    @staticmethod
    def resolve_repeats_used(obj) -> int:
        used = getattr(obj, "repeats_used", None)
        return used if used is not None else obj.repeat_dispensings.count()


class PrescriptionIn(InputSchema):
    animal: Id
    product: Id
    dose: str = Field(..., min_length=1, max_length=100)
    frequency: str = Field(..., min_length=1, max_length=60)
    quantity: Decimal = Field(..., gt=0, le=Decimal("9999999.999"), max_digits=10, decimal_places=3)
    consultation: Id | None = None
    strength: str = Field("", max_length=60)
    route: Route = Route.ORAL
    duration: str = Field("", max_length=60)
    instructions: str = Field("", max_length=1000)
    repeats: int = Field(0, ge=0, le=12)
    dispensed_on: dt.date | None = None
    charge: bool = Field(True, description="Charge the quantity on the owner's draft invoice (one line).")


class RepeatIn(InputSchema):
    quantity: Decimal | None = Field(None, gt=0, le=Decimal("9999999.999"), max_digits=10, decimal_places=3)
    dispensed_on: dt.date | None = None
    charge: bool = True


class AttachmentOut(Schema):
    id: int
    animal_id: int
    consultation_id: int | None
    kind: str
    title: str
    original_name: str
    content_type: str
    size: int
    has_thumbnail: bool
    uploaded_by: str
    created_at: dt.datetime

    @staticmethod
    def resolve_has_thumbnail(obj: Attachment) -> bool:
        return bool(obj.thumbnail)

    @staticmethod
    def resolve_uploaded_by(obj) -> str:
        return str(obj.uploaded_by)


class HistoryParams(QuerySchema):
    kinds: list[str] | None = Field(
        None,
        description="Any of consultation, vaccination, prescription, weight, attachment, appointment, charge.",
    )
    since: dt.date | None = None
    until: dt.date | None = None
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=100)

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: list[str] | None) -> list[str] | None:
        from clinical.selectors import KINDS

        if value is not None:
            unknown = sorted(set(value) - set(KINDS))
            if unknown:
                raise ValueError(f"Unknown kinds: {', '.join(unknown)}.")
        return value


class HistoryEntryOut(Schema):
    kind: str
    id: int
    at: dt.datetime = Field(..., description="Date-only entries stand at the start of their local day.")
    date_only: bool
    title: str
    detail: str
    diagnoses: list[str] = Field(default_factory=list)


class HistoryPageOut(Schema):
    items: list[HistoryEntryOut]
    next_cursor: str | None
