"""Pages of the clinical record: starting a consultation (from the day list or as a walk-in), the consultation page
with its autosaved SOAP notes, vitals, diagnoses, vaccinations, dispensing, charges, attachments, signing and
addenda; the problem list; the patient history (and its PDF); the vaccination certificate and dispensing labels;
the list of consultations left unsigned.

Views are thin: parse, call a service or a selector, render. What a role may do is a permission check here; the
rules that hold whoever asks (a signed record never changes, only the consultation's vet signs, only vets
prescribe) are the services'. htmx requests get the card they changed; the same URLs work as plain form posts.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from animals.models import Animal
from appointments.models import Appointment
from clinical import selectors, services
from clinical.forms import (
    AddendumForm,
    AttachmentForm,
    HistoryFilterForm,
    PrescriptionForm,
    ProblemForm,
    VaccinationForm,
    VitalsForm,
    WalkInForm,
)
from clinical.models import Attachment, Consultation, ConsultationDiagnosis, Diagnosis, Prescription, Problem
from clinical.pdf import render_certificate, render_history, render_label
from clinical.signals import default_next_due
from invoicing.models import Product
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.models import Vet
from vetpms.params import is_ascii_number
from vetpms.permissions import permission_required
from vetpms.timeutils import to_local

SEARCH_MAX = 100
RESULTS = 12
HISTORY_PAGE = 30
# (field, label, rows, the quick-text section that fills it)
SOAP_FIELDS = [
    ("complaint", "Presenting complaint (S)", 2, ""),
    ("history", "History (S)", 3, "subjective"),
    ("examination", "Examination (O)", 4, "objective"),
    ("assessment", "Assessment (A)", 3, "assessment"),
    ("plan", "Plan (P)", 3, "plan"),
]
KIND_LABELS = {
    "consultation": "Consultations",
    "vaccination": "Vaccinations",
    "prescription": "Medicines",
    "weight": "Weights",
    "attachment": "Files",
    "appointment": "Appointments",
    "charge": "Charges",
}
# A kind of the history is shown to those who may see its rows.
KIND_PERMS = {
    "consultation": "clinical.view_consultation",
    "vaccination": "clinical.view_vaccination",
    "prescription": "clinical.view_prescription",
    "weight": "animals.view_animal",
    "attachment": "clinical.view_attachment",
    "appointment": "appointments.view_appointment",
    "charge": "invoicing.view_invoice",
}


def _pk(raw: str | None) -> int | None:
    """An id from a form or query string; None when it is not a plain positive integer in range."""
    raw = (raw or "").strip()
    if not is_ascii_number(raw) or not 0 < int(raw) < 2**31:
        return None
    return int(raw)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


# --- Starting a consultation -------------------------------------------------------------------------------------


@require_POST
@permission_required("clinical.add_consultation")
def consultation_start(request, appointment_pk: int):
    """ "Start consultation" on the day list: one click opens it (the appointment moves to in consultation)."""
    appointment = get_object_or_404(Appointment, pk=appointment_pk)
    try:
        consultation = services.consultation_open(appointment=appointment, by=request.user)
    except (DomainError, ValidationError) as exc:
        messages.error(request, _error_text(exc))
        return redirect(reverse("appointments:detail", args=[appointment.pk]))
    return redirect("clinical:consultation", pk=consultation.pk)


@require_POST
@permission_required("clinical.add_consultation")
def consultation_walk_in(request, animal_pk: int):
    """A consultation without an appointment (walk-in, phone advice, hospital round) from the animal page."""
    animal = get_object_or_404(Animal, pk=animal_pk)
    form = WalkInForm(request.POST)
    vet = form.cleaned_data["vet"] if form.is_valid() else None
    try:
        consultation = services.consultation_open(animal=animal, vet=vet, by=request.user)
    except (DomainError, ValidationError) as exc:
        messages.error(request, _error_text(exc))
        return redirect("animals:detail", pk=animal.pk)
    return redirect("clinical:consultation", pk=consultation.pk)


# --- The consultation page ---------------------------------------------------------------------------------------


def _consultation_or_404(pk: int) -> Consultation:
    try:
        return selectors.consultation_detail(pk=pk)
    except Consultation.DoesNotExist:
        raise Http404("No such consultation.") from None


def _vaccines(consultation: Consultation) -> list[Product]:
    """The vaccines that fit the patient's species (a few), each with its default next due date for today."""
    vaccines = [
        p
        for p in selectors.products_for_species(species=consultation.animal.species, limit=50)
        if p.category == Product.Category.VACCINE
    ]
    today = timezone.localdate()
    for product in vaccines:
        product.next_due_default = default_next_due(product=product, animal=consultation.animal, given_on=today)
    return vaccines


def _vaccination_form(consultation: Consultation, data=None) -> VaccinationForm:
    vaccines = _vaccines(consultation)
    form = VaccinationForm(data, vaccines=Product.objects.filter(pk__in=[p.pk for p in vaccines]).order_by("name"))
    form.fields["product"].choices = [("", "Choose…")] + [(p.pk, p.name) for p in vaccines]
    form.vaccine_options = [(p.pk, p.name, p.next_due_default) for p in vaccines]
    return form


def _permissions(request, consultation: Consultation) -> dict:
    user = request.user
    draft = not consultation.is_signed
    return {
        "can_read_notes": selectors.can_read_notes(user),
        "can_edit": draft and user.has_perm("clinical.change_consultation"),
        "can_sign": draft and user.has_perm("clinical.sign_consultation") and consultation.vet.user_id == user.pk,
        "can_vaccinate": draft and user.has_perm("clinical.add_vaccination"),
        "can_prescribe": draft and user.has_perm("clinical.add_prescription"),
        "can_charge": user.has_perm("invoicing.change_invoice"),
        "can_attach": user.has_perm("clinical.add_attachment"),
        "can_add_addendum": consultation.is_signed and user.has_perm("clinical.add_addendum"),
    }


def _consultation_context(request, consultation: Consultation, **forms) -> dict:
    perms = _permissions(request, consultation)
    context = {
        "consultation": consultation,
        "animal": consultation.animal,
        "diagnosis_links": list(consultation.diagnosis_links.all()),
        "problems": list(selectors.problems(animal=consultation.animal, current_only=True, linked="none")),
        "vaccinations": list(consultation.vaccinations.all()),
        "prescriptions": list(consultation.prescriptions.all()),
        "attachments": list(consultation.attachments.all()),
        "addenda": list(consultation.addenda.all()),
        "nav": "day-list",
        **perms,
    }
    quick_texts = list(selectors.quick_texts_for(consultation=consultation)) if perms["can_edit"] else []
    context["soap_fields"] = [
        (name, label, rows, getattr(consultation, name), [q for q in quick_texts if q.section == section])
        for name, label, rows, section in SOAP_FIELDS
    ]
    if perms["can_edit"]:
        context["vitals_form"] = forms.get("vitals_form") or VitalsForm(initial=VitalsForm.initial_for(consultation))
    if perms["can_charge"]:
        context |= _charges_context(consultation)
    if perms["can_vaccinate"]:
        context["vaccination_form"] = forms.get("vaccination_form") or _vaccination_form(consultation)
    if perms["can_prescribe"]:
        context["prescription_form"] = forms.get("prescription_form") or PrescriptionForm()
        context["picked_medicine"] = forms.get("picked_medicine")
    if perms["can_attach"]:
        context["attachment_form"] = forms.get("attachment_form") or AttachmentForm()
    if perms["can_add_addendum"]:
        context["addendum_form"] = forms.get("addendum_form") or AddendumForm()
    return context


@require_GET
@permission_required("clinical.view_consultation")
def consultation_detail(request, pk: int):
    consultation = _consultation_or_404(pk)
    return render(request, "clinical/consultation.html", _consultation_context(request, consultation))


def _editable(request, pk: int) -> Consultation:
    consultation = get_object_or_404(Consultation.objects.select_related("animal__species", "vet"), pk=pk)
    return consultation


@require_POST
@permission_required("clinical.change_consultation")
def consultation_autosave(request, pk: int):
    """htmx autosave of the SOAP texts (each box posts itself as the vet types; the page's script also sends what
    is pending when the tab closes). Answers a small status line; 409/422 with the reason when refused."""
    consultation = _editable(request, pk)
    data = {name: request.POST[name] for name in services.TEXT_FIELDS if name in request.POST}
    if not data:
        return HttpResponseBadRequest("Nothing to save.")
    status = 200
    try:
        services.consultation_save_draft(consultation=consultation, by=request.user, data=data)
        message, tone = f"Saved {to_local(timezone.now()):%H:%M:%S}", "success"
    except DomainError as exc:
        message, tone, status = f"Not saved: {exc.message}", "danger", 409
    except ValidationError as exc:
        message, tone, status = f"Not saved: {' '.join(exc.messages)}", "danger", 422
    if not request.htmx:
        if status == 200:
            return redirect("clinical:consultation", pk=pk)
        messages.error(request, message)
        return redirect("clinical:consultation", pk=pk)
    return render(request, "clinical/_save_status.html", {"message": message, "tone": tone}, status=status)


@require_POST
@permission_required("clinical.change_consultation")
def consultation_vitals(request, pk: int):
    consultation = _editable(request, pk)
    form = VitalsForm(request.POST)
    ask_confirm = False
    if form.is_valid():
        try:
            consultation = services.consultation_record_vitals(
                consultation=consultation, by=request.user, confirm=form.cleaned_data["confirm"], **form.vitals()
            )
        except (DomainError, ValidationError) as exc:
            ask_confirm = isinstance(exc, DomainError) and exc.code == "confirm_required"
            apply_service_error(form, exc, default_field="weight_kg")
        else:
            if not request.htmx:
                messages.success(request, "Vitals saved.")
                return redirect("clinical:consultation", pk=pk)
            consultation = _consultation_or_404(pk)
            form = VitalsForm(initial=VitalsForm.initial_for(consultation))
            return render(
                request, "clinical/_vitals.html",
                {"consultation": consultation, "vitals_form": form, "can_edit": True, "saved": True},
            )  # fmt: skip
    if request.htmx:
        return render(
            request, "clinical/_vitals.html",
            {"consultation": consultation, "vitals_form": form, "can_edit": True, "ask_confirm": ask_confirm},
        )  # fmt: skip
    consultation = _consultation_or_404(pk)
    context = _consultation_context(request, consultation, vitals_form=form)
    context["ask_confirm"] = ask_confirm
    return render(request, "clinical/consultation.html", context, status=422)


# --- Diagnoses ---------------------------------------------------------------------------------------------------


@require_GET
@permission_required("clinical.view_diagnosis")
def diagnosis_search(request):
    """Diagnoses as you type (name or code). ``consultation`` makes each result an "add" button for it;
    ``pick`` makes it fill the problem form instead."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    consultation_pk = _pk(request.GET.get("consultation"))
    results = list(selectors.diagnoses(query=query)[:RESULTS]) if query else []
    return render(
        request,
        "clinical/_diagnosis_results.html",
        {"results": results, "query": query, "consultation_pk": consultation_pk, "pick": "pick" in request.GET},
    )


def _diagnoses_card(request, consultation: Consultation, error: str = ""):
    consultation = _consultation_or_404(consultation.pk)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(reverse("clinical:consultation", args=[consultation.pk]) + "#diagnoses")
    context = {
        "consultation": consultation,
        "diagnosis_links": list(consultation.diagnosis_links.all()),
        "can_edit": _permissions(request, consultation)["can_edit"],
        "diagnosis_error": error,
    }
    return render(request, "clinical/_diagnoses.html", context)


@require_POST
@permission_required("clinical.change_consultation")
def diagnosis_add(request, pk: int):
    consultation = _editable(request, pk)
    diagnosis = get_object_or_404(Diagnosis, pk=_pk(request.POST.get("diagnosis")) or 0)
    certainty = request.POST.get("certainty") or ConsultationDiagnosis.Certainty.CONFIRMED
    current = [(link.diagnosis, link.certainty) for link in consultation.diagnosis_links.select_related("diagnosis")]
    wanted = [(d, c) for d, c in current if d.pk != diagnosis.pk] + [(diagnosis, certainty)]
    error = ""
    try:
        services.consultation_set_diagnoses(consultation=consultation, by=request.user, diagnoses=wanted)
    except (DomainError, ValidationError) as exc:
        error = _error_text(exc)
    return _diagnoses_card(request, consultation, error)


@require_POST
@permission_required("clinical.change_consultation")
def diagnosis_remove(request, pk: int):
    consultation = _editable(request, pk)
    remove = _pk(request.POST.get("diagnosis"))
    current = [(link.diagnosis, link.certainty) for link in consultation.diagnosis_links.select_related("diagnosis")]
    error = ""
    try:
        services.consultation_set_diagnoses(
            consultation=consultation, by=request.user, diagnoses=[(d, c) for d, c in current if d.pk != remove]
        )
    except (DomainError, ValidationError) as exc:
        error = _error_text(exc)
    return _diagnoses_card(request, consultation, error)


# --- Vaccinations and dispensing ---------------------------------------------------------------------------------


@require_POST
@permission_required("clinical.add_vaccination")
def vaccination_add(request, pk: int):
    consultation = _consultation_or_404(pk)
    form = _vaccination_form(consultation, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            vaccination = services.vaccination_record(
                animal=consultation.animal,
                consultation=consultation,
                product=data["product"],
                manufacturer=data["manufacturer"],
                batch=data["batch"],
                batch_expiry=data["batch_expiry"],
                route=data["route"],
                site=data["site"],
                given_on=data["given_on"],
                next_due_on=data["next_due_on"],
                charge=data["charge"],
                by=request.user,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="product")
        else:
            due = f"; next due {vaccination.next_due_on:%d %b %Y}" if vaccination.next_due_on else ""
            messages.success(request, f"{vaccination.product.name} (batch {vaccination.batch}) recorded{due}.")
            return redirect(reverse("clinical:consultation", args=[pk]) + "#vaccinations")
    context = _consultation_context(request, consultation, vaccination_form=form)
    return render(request, "clinical/consultation.html", context, status=422)


@require_POST
@permission_required("clinical.add_prescription")
def prescription_add(request, pk: int):
    consultation = _consultation_or_404(pk)
    form = PrescriptionForm(request.POST)
    if form.is_valid():
        try:
            prescription = services.prescription_dispense(
                animal=consultation.animal, consultation=consultation, by=request.user, **form.service_data()
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="quantity")
        else:
            messages.success(request, f"{prescription} dispensed.")
            return redirect(reverse("clinical:consultation", args=[pk]) + "#medicines")
    picked = form.cleaned_data.get("product") if hasattr(form, "cleaned_data") else None
    context = _consultation_context(request, consultation, prescription_form=form, picked_medicine=picked)
    return render(request, "clinical/consultation.html", context, status=422)


@require_GET
@permission_required("clinical.view_prescription")
def prescription_label(request, pk: int):
    prescription = get_object_or_404(
        Prescription.objects.select_related("animal__owner", "animal__species", "product", "prescribed_by"), pk=pk
    )
    body = render_label(prescription)
    response = HttpResponse(body, content_type="application/pdf")
    name = slugify(f"label-{prescription.animal.name}-{prescription.product.name}") or "label"
    response["Content-Disposition"] = f'inline; filename="{name}-{prescription.pk}.pdf"'
    return response


# --- Charges -----------------------------------------------------------------------------------------------------


USUAL_PRODUCTS = 8


def _charges_context(consultation: Consultation, *, with_usual: bool = False) -> dict:
    """The visit's charges. The species' most used items (a count over six months of charges) load after the
    page, by htmx, unless ``with_usual`` (the panel redrawn after adding a charge)."""
    lines = list(selectors.consultation_charges(consultation=consultation, with_product=False))
    usual = None
    if with_usual:
        usual = selectors.products_for_species(species=consultation.animal.species, limit=USUAL_PRODUCTS)
    return {
        "charges": lines,
        "charges_total": sum((line.gross for line in lines), Decimal("0.00")),
        "usual_products": usual,
    }


@require_GET
@permission_required("clinical.view_consultation", "invoicing.view_product")
def product_search(request, pk: int):
    """Catalogue products that fit the patient as you type (most used first). ``for=charge`` answers add buttons,
    ``for=medicine`` buttons that pick the medicine of the dispensing form."""
    consultation = get_object_or_404(Consultation.objects.select_related("animal__species"), pk=pk)
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    purpose = "medicine" if request.GET.get("for") == "medicine" else "charge"
    if request.GET.get("usual") and not query:
        usual = selectors.products_for_species(species=consultation.animal.species, limit=USUAL_PRODUCTS)
        context = {"consultation": consultation, "usual_products": usual}
        return render(request, "clinical/_usual_products.html", context)
    products = selectors.products_for_species(species=consultation.animal.species, query=query, limit=RESULTS)
    if purpose == "medicine":
        products = [p for p in products if p.category in services.DISPENSABLE]
    return render(
        request,
        "clinical/_product_results.html",
        {"consultation": consultation, "products": products, "query": query, "purpose": purpose},
    )


@require_POST
@permission_required("clinical.view_consultation", "invoicing.change_invoice")
def charge_add(request, pk: int):
    consultation = get_object_or_404(Consultation.objects.select_related("animal__species"), pk=pk)
    product = get_object_or_404(Product, pk=_pk(request.POST.get("product")) or 0)
    error = ""
    try:
        raw = request.POST.get("quantity") or "1"
        if not raw.isascii():  # digits 0-9 only (vetpms.params.DIGITS_MESSAGE)
            raise InvalidOperation
        quantity = Decimal(raw)
        if not quantity.is_finite() or quantity <= 0 or quantity > 100000:
            raise InvalidOperation
    except InvalidOperation:
        error = "Enter a quantity above zero."
    else:
        try:
            line = services.consultation_charge(
                consultation=consultation, by=request.user, product=product, quantity=quantity
            )
        except (DomainError, ValidationError, PermissionDenied) as exc:
            error = _error_text(exc)
        else:
            if not request.htmx:
                messages.success(request, f"{line.description} charged.")
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(reverse("clinical:consultation", args=[pk]) + "#charges")
    context = {
        "consultation": consultation,
        "can_charge": True,
        "charge_error": error,
        **_charges_context(consultation, with_usual=True),
    }
    return render(request, "clinical/_charges.html", context)


# --- Signing and addenda -----------------------------------------------------------------------------------------


@require_POST
@permission_required("clinical.sign_consultation")
def consultation_sign(request, pk: int):
    consultation = get_object_or_404(Consultation, pk=pk)
    try:
        services.consultation_sign(consultation=consultation, by=request.user)
    except (DomainError, ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Consultation signed. It can no longer be changed; corrections are addenda.")
    return redirect("clinical:consultation", pk=pk)


@require_POST
@permission_required("clinical.add_addendum")
def addendum_add(request, pk: int):
    consultation = _consultation_or_404(pk)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(consultation=consultation, by=request.user, text=form.cleaned_data["text"])
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="text")
        else:
            messages.success(request, "Addendum added.")
            return redirect(reverse("clinical:consultation", args=[pk]) + "#addenda")
    context = _consultation_context(request, consultation, addendum_form=form)
    return render(request, "clinical/consultation.html", context, status=422)


# --- Attachments -------------------------------------------------------------------------------------------------


@require_POST
@permission_required("clinical.add_attachment")
def attachment_add(request, animal_pk: int):
    animal = get_object_or_404(Animal, pk=animal_pk)
    consultation = None
    if request.POST.get("consultation"):
        consultation = get_object_or_404(Consultation, pk=_pk(request.POST.get("consultation")) or 0, animal=animal)
    form = AttachmentForm(request.POST, request.FILES)
    back = (
        reverse("clinical:consultation", args=[consultation.pk])
        if consultation
        else reverse("animals:detail", args=[animal.pk])
    ) + "#attachments"
    if form.is_valid():
        try:
            attachment = services.attachment_add(
                animal=animal,
                consultation=consultation,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                by=request.user,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="file")
        else:
            messages.success(request, f"{attachment.title} attached.")
            return redirect(back)
    if consultation is not None:
        context = _consultation_context(request, _consultation_or_404(consultation.pk), attachment_form=form)
        return render(request, "clinical/consultation.html", context, status=422)
    messages.error(request, "Not attached: " + " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(back)


def _attachment_response(request, pk: int, *, thumbnail: bool) -> FileResponse:
    attachment = get_object_or_404(Attachment, pk=pk)
    field = attachment.thumbnail if thumbnail else attachment.file
    if not field:
        raise Http404("No thumbnail.")
    try:
        handle = field.storage.open(field.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing from the store.") from None
    content_type = "image/png" if thumbnail else attachment.content_type
    extension = mimetypes.guess_extension(attachment.content_type) or ""
    name = attachment.original_name or f"{slugify(attachment.title) or 'attachment'}{extension}"
    response = FileResponse(handle, content_type=content_type, as_attachment="download" in request.GET, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
@permission_required("clinical.view_attachment")
def attachment_file(request, pk: int):
    """An attachment's file, only through here (never a public URL)."""
    return _attachment_response(request, pk, thumbnail=False)


@require_GET
@permission_required("clinical.view_attachment")
def attachment_thumbnail(request, pk: int):
    return _attachment_response(request, pk, thumbnail=True)


# --- Problems ----------------------------------------------------------------------------------------------------


def _problem_form_page(request, form: ProblemForm, animal: Animal, problem: Problem | None):
    picked = None
    if form.is_bound and (_pk(form.data.get("diagnosis_id"))):
        picked = Diagnosis.objects.filter(pk=_pk(form.data.get("diagnosis_id"))).first()
    elif problem is not None and problem.diagnosis_id:
        picked = problem.diagnosis
    return render(
        request,
        "clinical/problem_form.html",
        {"form": form, "animal": animal, "problem": problem, "picked": picked, "nav": "clients"},
    )


def _save_problem(request, form: ProblemForm, *, animal: Animal, problem: Problem | None):
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "diagnosis_id"}
        diagnosis_pk = form.cleaned_data.get("diagnosis_id")
        data["diagnosis"] = Diagnosis.objects.filter(pk=diagnosis_pk).first() if diagnosis_pk else None
        data["condition"] = data.get("condition") or ""
        try:
            saved = services.problem_save(by=request.user, data=data, animal=animal, problem=problem)
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="condition")
        else:
            messages.success(request, f"Problem list of {animal.name}: {saved.condition} saved.")
            return redirect(reverse("animals:detail", args=[animal.pk]) + "#problems")
    return _problem_form_page(request, form, animal, problem)


@permission_required("clinical.add_problem")
def problem_add(request, animal_pk: int):
    animal = get_object_or_404(Animal, pk=animal_pk)
    form = ProblemForm(request.POST or None, initial={"onset": timezone.localdate()})
    return _save_problem(request, form, animal=animal, problem=None)


@permission_required("clinical.change_problem")
def problem_edit(request, pk: int):
    problem = get_object_or_404(Problem.objects.select_related("animal", "diagnosis"), pk=pk)
    form = ProblemForm(request.POST or None, instance=problem, initial={"diagnosis_id": problem.diagnosis_id})
    return _save_problem(request, form, animal=problem.animal, problem=problem)


# --- The patient history -----------------------------------------------------------------------------------------


def history_kinds(user) -> list[str]:
    return [kind for kind in selectors.KINDS if user.has_perm(KIND_PERMS[kind])]


def _history_filters(request) -> tuple[HistoryFilterForm, list[str], dt.date | None, dt.date | None]:
    allowed = history_kinds(request.user)
    form = HistoryFilterForm(request.GET or None, kinds=[(k, KIND_LABELS[k]) for k in allowed])
    kinds, since, until = allowed, None, None
    if form.is_bound and form.is_valid():
        kinds = form.cleaned_data["kind"] or allowed
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    elif form.is_bound:
        messages.warning(request, "Some filters were not understood and were left out.")
    return form, kinds, since, until


def history_filters_context(request, animal: Animal) -> dict:
    """The history's filters as the request sets them (no query): the animal page's history card, whose entries
    load after the page (htmx, from the history view), and the history page."""
    form, kinds, since, until = _history_filters(request)
    query = request.GET.copy()
    query.pop("cursor", None)
    return {
        "animal": animal,
        "history_form": form,
        "history_kinds": [(k, KIND_LABELS[k]) for k in history_kinds(request.user)],
        "chosen_kinds": kinds,
        "since": since,
        "until": until,
        "filter_query": query.urlencode(),
        "can_read_notes": selectors.can_read_notes(request.user),
    }


def history_page_context(request, animal: Animal) -> dict:
    """The first (or the cursor's) page of the animal's history with its filters."""
    context = history_filters_context(request, animal)
    cursor = request.GET.get("cursor") or None
    try:
        context["history"] = selectors.history(
            animal=animal,
            kinds=context["chosen_kinds"],
            since=context["since"],
            until=context["until"],
            cursor=cursor,
            limit=HISTORY_PAGE,
            full=False,
        )
    except ValueError:
        raise Http404("Not a page of this history.") from None
    return context


@require_GET
@permission_required("animals.view_animal")
def history(request, animal_pk: int):
    """The patient history: one time-ordered list, filterable by kind and dates, paged by key ("Load more");
    htmx asks for the entries only (a new filter, older entries, the animal page's card), which need only the id."""
    animals = Animal.objects.only("id") if request.htmx else Animal.objects.select_related("owner", "species", "breed")
    animal = get_object_or_404(animals, pk=animal_pk)
    context = history_page_context(request, animal)
    if request.htmx:
        # A new filter (not "older entries") also updates the PDF link to the same filter.
        context["refresh_pdf_link"] = "cursor" not in request.GET
        return render(request, "clinical/_history_entries.html", context)
    return render(request, "clinical/history.html", context | {"nav": "clients"})


@require_GET
@permission_required("animals.view_animal", "clinical.view_consultation")
def history_pdf(request, animal_pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species", "breed"), pk=animal_pk)
    _, kinds, since, until = _history_filters(request)
    clinical_kinds = [k for k in kinds if k in ("consultation", "vaccination", "prescription", "weight", "attachment")]
    body = render_history(
        animal,
        since=since,
        until=until,
        kinds=clinical_kinds or None,
        with_notes=selectors.can_read_notes(request.user),
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="history-{slugify(animal.name) or animal.pk}.pdf"'
    return response


@require_GET
@permission_required("animals.view_animal", "clinical.view_vaccination")
def vaccination_certificate(request, animal_pk: int):
    animal = get_object_or_404(Animal.objects.select_related("owner", "species", "breed"), pk=animal_pk)
    response = HttpResponse(render_certificate(animal), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="vaccinations-{slugify(animal.name) or animal.pk}.pdf"'
    return response


# --- Unsigned consultations --------------------------------------------------------------------------------------


@require_GET
@permission_required("clinical.view_consultation", "clinical.view_clinical_notes")
def unsigned(request):
    """Consultations still unsigned a day after they were opened: a vet's own by default; everyone's with
    ``?all=1`` (the manager, who has no book of their own, always sees everyone's)."""
    own = Vet.objects.filter(user=request.user, is_active=True).first()
    show_all = own is None or request.GET.get("all") == "1"
    rows = list(selectors.unsigned_overdue(vet=None if show_all else own)[:200])
    return render(
        request, "clinical/unsigned.html", {"rows": rows, "own": own, "show_all": show_all, "nav": "day-list"}
    )
