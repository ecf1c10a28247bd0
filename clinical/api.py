"""/api/v1 endpoints of the clinical record: thin endpoints over clinical.selectors and clinical.services.

Routers (mounted in vetpms.api):

* ``/consultations``: list (by animal, vet, status, or the unsigned ones older than a day), open (from an
  appointment, idempotent: the same consultation again, 200; a new one, 201), get, ``PATCH`` the draft (SOAP text,
  vitals; ``confirm`` keeps unusual vitals), ``PUT {id}/diagnoses``, ``POST {id}/sign``, ``GET/POST {id}/addenda``,
  ``GET/POST {id}/charges`` (what this visit charged to the owner's draft; add a line) and ``GET {id}/products``
  (the catalogue that fits the patient, most used first, ``q`` to search), ``GET {id}/quick-texts``.
* ``/diagnoses``: the practice's diagnosis list; managers add and change entries.
* ``/animals/{id}/problems``, ``/problems/{id}``: the problem list.
* ``/vaccinations``, ``/animals/{id}/vaccinations``: record one (an expired batch is a 409 on batch_expiry).
* ``/prescriptions``, ``/animals/{id}/prescriptions``, ``POST /prescriptions/{id}/repeats``: prescribe and dispense
  (vets), dispense a repeat (409 when none is left).
* ``/animals/{id}/attachments`` (multipart upload: ``file``, ``title``, ``kind``, ``consultation``),
  ``/attachments/{id}``, ``/attachments/{id}/file``, ``/attachments/{id}/thumbnail``.
* ``/animals/{id}/history``: the patient history, paged by ``cursor``.

Error contract as everywhere (vetpms.api): changing a signed record is a 409 with ``code`` ``signed``; unusual vitals
a 409 ``confirm_required``; bad input a 422; a role without the permission a 403 before any lookup; an unknown id
in the URL a 404, in a body a 422 on that field. Consultation and addendum text is ``null`` for roles that may
see the record but not its notes.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from animals.models import Animal
from appointments.models import Appointment
from clinical import selectors, services
from clinical.models import Attachment, Consultation, Diagnosis, Prescription, Problem, Vaccination
from clinical.schemas import (
    AddendumIn,
    AddendumOut,
    AttachmentOut,
    ConsultationChargeIn,
    ConsultationChargeOut,
    ConsultationDetailOut,
    ConsultationDraftIn,
    ConsultationFilters,
    ConsultationOpenIn,
    ConsultationOut,
    DiagnosesSetIn,
    DiagnosisFilters,
    DiagnosisIn,
    DiagnosisOut,
    DiagnosisPatch,
    HistoryEntryOut,
    HistoryPageOut,
    HistoryParams,
    PrescriptionIn,
    PrescriptionOut,
    ProblemIn,
    ProblemOut,
    ProblemPatch,
    ProductPickFilters,
    QuickTextOut,
    RepeatIn,
    VaccinationIn,
    VaccinationOut,
)
from invoicing.models import Product
from invoicing.schemas import ProductOut
from vetpms.api_utils import Page, body_record, url_id
from vetpms.models import Vet
from vetpms.permissions import require_perm

consultations_router = Router(tags=["consultations"])
diagnoses_router = Router(tags=["diagnoses"])
problems_router = Router(tags=["problems"])
vaccinations_router = Router(tags=["vaccinations"])
prescriptions_router = Router(tags=["prescriptions"])
attachments_router = Router(tags=["attachments"])
# Mounted under /animals beside the animals app's router (animals never imports clinical).
animal_records_router = Router(tags=["clinical record"])

C = "clinical."


def _animal(pk: int) -> Animal:
    return Animal.objects.select_related("species", "breed", "owner").get(pk=url_id(pk))  # DoesNotExist -> 404


def _consultation(request: HttpRequest, pk: int) -> Consultation:
    return selectors.consultation_detail(pk=url_id(pk))


# --- Consultations -------------------------------------------------------------------------------------------------


@consultations_router.get("", response=list[ConsultationOut], summary="List consultations")
@paginate(Page)
def list_consultations(request: HttpRequest, filters: Query[ConsultationFilters]):
    require_perm(request.user, C + "view_consultation")
    if filters.unsigned_overdue:
        vet = Vet.objects.filter(pk=filters.vet).first() if filters.vet else None
        qs = selectors.unsigned_overdue(vet=vet) if filters.vet is None or vet else Consultation.objects.none()
    else:
        qs = selectors.consultations().order_by("-opened_at", "-id")
        if filters.vet:
            qs = qs.filter(vet_id=filters.vet)
        if filters.status:
            qs = qs.filter(status=filters.status)
    if filters.animal:
        qs = qs.filter(animal_id=filters.animal)
    return qs


@consultations_router.post(
    "", response={200: ConsultationDetailOut, 201: ConsultationDetailOut}, summary="Open a consultation"
)
def open_consultation(request: HttpRequest, payload: ConsultationOpenIn):
    require_perm(request.user, C + "add_consultation")
    if payload.appointment is None and payload.animal is None:
        raise ValidationError({"animal": "Give an appointment or an animal."})
    appointment = body_record(Appointment, payload.appointment, "appointment")
    existed = appointment is not None and Consultation.objects.filter(appointment=appointment).exists()
    consultation = services.consultation_open(
        by=request.user,
        appointment=appointment,
        animal=body_record(Animal, payload.animal, "animal"),
        vet=body_record(Vet, payload.vet, "vet"),
    )
    return Status(200 if existed else 201, _consultation(request, consultation.pk))


@consultations_router.get("/{int:consultation_id}", response=ConsultationDetailOut, summary="One consultation")
def get_consultation(request: HttpRequest, consultation_id: int):
    require_perm(request.user, C + "view_consultation")
    return _consultation(request, consultation_id)


@consultations_router.patch(
    "/{int:consultation_id}", response=ConsultationDetailOut, summary="Save the draft (only the fields sent)"
)
def save_draft(request: HttpRequest, consultation_id: int, payload: ConsultationDraftIn):
    require_perm(request.user, C + "change_consultation")
    consultation = selectors.consultation_detail(pk=url_id(consultation_id))
    data = payload.model_dump(exclude_unset=True)
    confirm = data.pop("confirm", False)
    services.consultation_save_draft(consultation=consultation, by=request.user, data=data, confirm=confirm)
    return _consultation(request, consultation_id)


@consultations_router.put(
    "/{int:consultation_id}/diagnoses", response=ConsultationDetailOut, summary="Set the diagnoses, in order"
)
def set_diagnoses(request: HttpRequest, consultation_id: int, payload: DiagnosesSetIn):
    require_perm(request.user, C + "change_consultation")
    consultation = selectors.consultation_detail(pk=url_id(consultation_id))
    found = {d.pk: d for d in Diagnosis.objects.filter(pk__in=[c.diagnosis for c in payload.diagnoses])}
    missing = [c.diagnosis for c in payload.diagnoses if c.diagnosis not in found]
    if missing:
        raise ValidationError({"diagnoses": f"There is no diagnosis with id {missing[0]}."})
    services.consultation_set_diagnoses(
        consultation=consultation,
        by=request.user,
        diagnoses=[(found[c.diagnosis], str(c.certainty)) for c in payload.diagnoses],
    )
    return _consultation(request, consultation_id)


@consultations_router.post(
    "/{int:consultation_id}/sign", response=ConsultationDetailOut, summary="Sign: the record becomes permanent"
)
def sign_consultation(request: HttpRequest, consultation_id: int):
    require_perm(request.user, C + "sign_consultation")
    consultation = selectors.consultation_detail(pk=url_id(consultation_id))
    services.consultation_sign(consultation=consultation, by=request.user)
    return _consultation(request, consultation_id)


@consultations_router.get("/{int:consultation_id}/addenda", response=list[AddendumOut], summary="Addenda")
def list_addenda(request: HttpRequest, consultation_id: int):
    require_perm(request.user, C + "view_consultation")
    return _consultation(request, consultation_id).addenda.all()


@consultations_router.post(
    "/{int:consultation_id}/addenda", response={201: AddendumOut}, summary="Add an addendum to a signed one"
)
def add_addendum(request: HttpRequest, consultation_id: int, payload: AddendumIn):
    require_perm(request.user, C + "add_addendum")
    consultation = Consultation.objects.get(pk=url_id(consultation_id))
    return Status(201, services.addendum_add(consultation=consultation, by=request.user, text=payload.text))


@consultations_router.get(
    "/{int:consultation_id}/charges", response=list[ConsultationChargeOut], summary="What this visit charged"
)
def list_charges(request: HttpRequest, consultation_id: int):
    require_perm(request.user, C + "view_consultation", "invoicing.view_invoice")
    consultation = Consultation.objects.get(pk=url_id(consultation_id))
    return selectors.consultation_charges(consultation=consultation)


@consultations_router.post(
    "/{int:consultation_id}/charges", response={201: ConsultationChargeOut}, summary="Charge for this visit"
)
def add_charge(request: HttpRequest, consultation_id: int, payload: ConsultationChargeIn):
    require_perm(request.user, C + "view_consultation", "invoicing.add_invoice", "invoicing.change_invoice")
    consultation = Consultation.objects.get(pk=url_id(consultation_id))
    line = services.consultation_charge(
        consultation=consultation,
        by=request.user,
        product=body_record(Product, payload.product, "product"),
        quantity=payload.quantity,
        unit_price=payload.unit_price,
    )
    return Status(201, line)


@consultations_router.get(
    "/{int:consultation_id}/products", response=list[ProductOut], summary="Products that fit the patient"
)
def pick_products(request: HttpRequest, consultation_id: int, filters: Query[ProductPickFilters]):
    require_perm(request.user, C + "view_consultation", "invoicing.view_product")
    consultation = Consultation.objects.select_related("animal__species").get(pk=url_id(consultation_id))
    return selectors.products_for_species(species=consultation.animal.species, query=filters.q, limit=filters.limit)


@consultations_router.get(
    "/{int:consultation_id}/quick-texts", response=list[QuickTextOut], summary="Quick texts for this consultation"
)
def list_quick_texts(request: HttpRequest, consultation_id: int, section: str | None = None):
    require_perm(request.user, C + "view_quicktext")
    consultation = Consultation.objects.select_related("appointment").get(pk=url_id(consultation_id))
    return selectors.quick_texts_for(consultation=consultation, section=section)


# --- Diagnosis list ------------------------------------------------------------------------------------------------


@diagnoses_router.get("", response=list[DiagnosisOut], summary="The diagnosis list")
@paginate(Page)
def list_diagnoses(request: HttpRequest, filters: Query[DiagnosisFilters]):
    require_perm(request.user, C + "view_diagnosis")
    return selectors.diagnoses(active=filters.active, query=filters.q)


@diagnoses_router.post("", response={201: DiagnosisOut}, summary="Add a diagnosis (managers)")
def add_diagnosis(request: HttpRequest, payload: DiagnosisIn):
    require_perm(request.user, C + "add_diagnosis")
    return Status(201, services.diagnosis_save(by=request.user, data=payload.model_dump()))


@diagnoses_router.patch("/{int:diagnosis_id}", response=DiagnosisOut, summary="Change a diagnosis (managers)")
def change_diagnosis(request: HttpRequest, diagnosis_id: int, payload: DiagnosisPatch):
    require_perm(request.user, C + "change_diagnosis")
    diagnosis = Diagnosis.objects.get(pk=url_id(diagnosis_id))
    return services.diagnosis_save(by=request.user, data=payload.model_dump(exclude_unset=True), diagnosis=diagnosis)


# --- Problems ------------------------------------------------------------------------------------------------------


def _problem_data(payload: ProblemIn | ProblemPatch, *, partial: bool) -> tuple[dict[str, Any], list | None]:
    data = payload.model_dump(exclude_unset=partial)
    ids = data.pop("consultations", None)
    if "diagnosis" in data:
        data["diagnosis"] = body_record(Diagnosis, data["diagnosis"], "diagnosis")
    if "status" in data and data["status"] is not None:
        data["status"] = str(data["status"])
    consultations = None
    if ids is not None:
        consultations = [body_record(Consultation, pk, "consultations") for pk in ids]
    return data, consultations


@animal_records_router.get("/{int:animal_id}/problems", response=list[ProblemOut], summary="The problem list")
def list_problems(request: HttpRequest, animal_id: int, current: bool = False):
    require_perm(request.user, C + "view_problem")
    return selectors.problems(animal=_animal(animal_id), current_only=current)


@animal_records_router.post("/{int:animal_id}/problems", response={201: ProblemOut}, summary="Add a problem")
def add_problem(request: HttpRequest, animal_id: int, payload: ProblemIn):
    require_perm(request.user, C + "add_problem")
    animal = _animal(animal_id)
    data, consultations = _problem_data(payload, partial=False)
    problem = services.problem_save(by=request.user, animal=animal, data=data, consultations=consultations)
    return Status(201, selectors.problems(animal=animal).get(pk=problem.pk))


@problems_router.get("/{int:problem_id}", response=ProblemOut, summary="One problem")
def get_problem(request: HttpRequest, problem_id: int):
    require_perm(request.user, C + "view_problem")
    return Problem.objects.select_related("diagnosis").get(pk=url_id(problem_id))


@problems_router.patch("/{int:problem_id}", response=ProblemOut, summary="Change a problem (resolve, alert, ...)")
def change_problem(request: HttpRequest, problem_id: int, payload: ProblemPatch):
    require_perm(request.user, C + "change_problem")
    problem = Problem.objects.get(pk=url_id(problem_id))
    data, consultations = _problem_data(payload, partial=True)
    services.problem_save(by=request.user, problem=problem, data=data, consultations=consultations)
    return Problem.objects.select_related("diagnosis").get(pk=problem.pk)


# --- Vaccinations --------------------------------------------------------------------------------------------------


def _vaccinations():
    return Vaccination.objects.select_related("product", "given_by", "supervising_vet")


@vaccinations_router.post("", response={201: VaccinationOut}, summary="Record a vaccination")
def record_vaccination(request: HttpRequest, payload: VaccinationIn):
    require_perm(request.user, C + "add_vaccination")
    if payload.charge:
        require_perm(request.user, "invoicing.add_invoice", "invoicing.change_invoice")
    vaccination = services.vaccination_record(
        animal=body_record(Animal, payload.animal, "animal"),
        product=body_record(Product, payload.product, "product"),
        batch=payload.batch,
        batch_expiry=payload.batch_expiry,
        by=request.user,
        consultation=body_record(Consultation, payload.consultation, "consultation"),
        manufacturer=payload.manufacturer,
        route=str(payload.route),
        site=payload.site,
        given_on=payload.given_on,
        next_due_on=payload.next_due_on,
        supervising_vet=body_record(Vet, payload.supervising_vet, "supervising_vet"),
        charge=payload.charge,
    )
    return Status(201, _vaccinations().get(pk=vaccination.pk))


@vaccinations_router.get("/{int:vaccination_id}", response=VaccinationOut, summary="One vaccination")
def get_vaccination(request: HttpRequest, vaccination_id: int):
    require_perm(request.user, C + "view_vaccination")
    return _vaccinations().get(pk=url_id(vaccination_id))


@animal_records_router.get("/{int:animal_id}/vaccinations", response=list[VaccinationOut], summary="Vaccinations given")
@paginate(Page)
def list_vaccinations(request: HttpRequest, animal_id: int):
    require_perm(request.user, C + "view_vaccination")
    return selectors.vaccinations(animal=_animal(animal_id))


# --- Prescriptions -------------------------------------------------------------------------------------------------


@prescriptions_router.post("", response={201: PrescriptionOut}, summary="Prescribe and dispense (vets)")
def dispense(request: HttpRequest, payload: PrescriptionIn):
    require_perm(request.user, C + "add_prescription")
    if payload.charge:
        require_perm(request.user, "invoicing.add_invoice", "invoicing.change_invoice")
    prescription = services.prescription_dispense(
        animal=body_record(Animal, payload.animal, "animal"),
        product=body_record(Product, payload.product, "product"),
        by=request.user,
        dose=payload.dose,
        frequency=payload.frequency,
        quantity=payload.quantity,
        consultation=body_record(Consultation, payload.consultation, "consultation"),
        strength=payload.strength,
        route=str(payload.route),
        duration=payload.duration,
        instructions=payload.instructions,
        repeats=payload.repeats,
        dispensed_on=payload.dispensed_on,
        charge=payload.charge,
    )
    return Status(201, selectors.prescriptions(animal=prescription.animal).get(pk=prescription.pk))


@prescriptions_router.get("/{int:prescription_id}", response=PrescriptionOut, summary="One prescription")
def get_prescription(request: HttpRequest, prescription_id: int):
    require_perm(request.user, C + "view_prescription")
    prescription = Prescription.objects.select_related("animal").get(pk=url_id(prescription_id))
    return selectors.prescriptions(animal=prescription.animal).get(pk=prescription.pk)


@prescriptions_router.post(
    "/{int:prescription_id}/repeats", response={201: PrescriptionOut}, summary="Dispense a repeat"
)
def dispense_repeat(request: HttpRequest, prescription_id: int, payload: RepeatIn):
    require_perm(request.user, C + "dispense_repeat")
    if payload.charge:
        require_perm(request.user, "invoicing.add_invoice", "invoicing.change_invoice")
    original = Prescription.objects.get(pk=url_id(prescription_id))
    repeat = services.prescription_dispense_repeat(
        original=original,
        by=request.user,
        quantity=payload.quantity,
        dispensed_on=payload.dispensed_on,
        charge=payload.charge,
    )
    return Status(201, selectors.prescriptions(animal=original.animal).get(pk=repeat.pk))


@animal_records_router.get(
    "/{int:animal_id}/prescriptions", response=list[PrescriptionOut], summary="Prescriptions and dispensings"
)
@paginate(Page)
def list_prescriptions(request: HttpRequest, animal_id: int):
    require_perm(request.user, C + "view_prescription")
    return selectors.prescriptions(animal=_animal(animal_id))


# --- Attachments ---------------------------------------------------------------------------------------------------


@animal_records_router.post(
    "/{int:animal_id}/attachments", response={201: AttachmentOut}, summary="Attach a file (PDF, JPEG, PNG)"
)
def upload_attachment(
    request: HttpRequest,
    animal_id: int,
    file: File[UploadedFile],
    title: Form[str] = "",
    kind: Form[str] = Attachment.Kind.OTHER,
    consultation: Form[int | None] = None,
):
    require_perm(request.user, C + "add_attachment")
    animal = _animal(animal_id)
    attachment = services.attachment_add(
        animal=animal,
        by=request.user,
        upload=file,
        title=title[:200],
        kind=kind,
        consultation=body_record(Consultation, consultation, "consultation"),
    )
    return Status(201, attachment)


@animal_records_router.get("/{int:animal_id}/attachments", response=list[AttachmentOut], summary="Files on the animal")
@paginate(Page)
def list_attachments(request: HttpRequest, animal_id: int):
    require_perm(request.user, C + "view_attachment")
    return selectors.attachments(animal=_animal(animal_id))


def _attachment(request: HttpRequest, pk: int) -> Attachment:
    require_perm(request.user, C + "view_attachment")
    return Attachment.objects.select_related("uploaded_by").get(pk=url_id(pk))


@attachments_router.get("/{int:attachment_id}", response=AttachmentOut, summary="One attachment's details")
def get_attachment(request: HttpRequest, attachment_id: int):
    return _attachment(request, attachment_id)


def serve_attachment(attachment: Attachment, *, thumbnail: bool = False) -> FileResponse:
    """The file (or its thumbnail) as a download, never cached by shared caches. The HTML view uses it too."""
    field = attachment.thumbnail if thumbnail else attachment.file
    if not field:
        raise Http404
    response = FileResponse(
        field.open("rb"),
        content_type="image/png" if thumbnail else attachment.content_type,
        as_attachment=not thumbnail and attachment.content_type == "application/pdf",
        filename=attachment.original_name or f"attachment-{attachment.pk}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@attachments_router.get("/{int:attachment_id}/file", response={200: None}, summary="Download the file")
def download_attachment(request: HttpRequest, attachment_id: int):
    return serve_attachment(_attachment(request, attachment_id))


@attachments_router.get("/{int:attachment_id}/thumbnail", response={200: None}, summary="An image's thumbnail")
def download_thumbnail(request: HttpRequest, attachment_id: int):
    return serve_attachment(_attachment(request, attachment_id), thumbnail=True)


# --- History -------------------------------------------------------------------------------------------------------


@animal_records_router.get("/{int:animal_id}/history", response=HistoryPageOut, summary="The patient history")
def patient_history(request: HttpRequest, animal_id: int, params: Query[HistoryParams]):
    require_perm(request.user, "animals.view_animal", C + "view_consultation")
    animal = _animal(animal_id)
    try:
        page = selectors.history(
            animal=animal,
            kinds=params.kinds,
            since=params.since,
            until=params.until,
            cursor=params.cursor,
            limit=params.limit,
            full=False,
        )
    except ValueError as exc:
        from ninja.errors import ValidationError as SchemaValidationError

        raise SchemaValidationError([{"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}]) from None
    visible = selectors.can_read_notes(request.user)
    items = []
    for entry in page.entries:
        title, detail, diagnoses = selectors.entry_summary(entry, notes_visible=visible)
        items.append(
            HistoryEntryOut(
                kind=entry.kind,
                id=entry.id,
                at=entry.at,
                date_only=entry.is_date_only,
                title=title,
                detail=detail,
                diagnoses=diagnoses,
            )
        )
    return {"items": items, "next_cursor": page.next_cursor}
