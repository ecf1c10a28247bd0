"""Every write to the clinical record goes through here (DESIGN.md section 7).

Each service is keyword-only, owns its transaction, refuses broken rules with a DomainError naming the field (a
409 from the API, a form error on pages) or a ValidationError for bad input (422), and writes the audit entry.
Permissions (which role may call what) are checked by the views and endpoints; rules that hold whoever asks (only
a vet prescribes or signs, a signed consultation never changes) are checked here.

Signed records: every service that would change a consultation or its child rows refuses a signed one first
(``code="signed"``); the models and the database triggers of migration 0002 refuse the same underneath.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from animals.models import Animal, Weight
from animals.plausibility import check_vital
from animals.services import weight_record
from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_transition
from clinical.models import (
    Addendum,
    Attachment,
    Consultation,
    ConsultationDiagnosis,
    Diagnosis,
    Prescription,
    Problem,
    QuickText,
    Vaccination,
    attachment_max_bytes,
)
from clinical.signals import consultation_signed, default_next_due, vaccination_recorded
from invoicing.models import InvoiceLine, Product
from invoicing.services import invoice_add_line, invoice_draft_for
from vetpms import audit, events
from vetpms.errors import DomainError
from vetpms.models import User, Vet
from vetpms.timeutils import to_local

S = AppointmentStatus


# --- Helpers -----------------------------------------------------------------------------------------------------


def vet_of(user: User) -> Vet | None:
    """The active Vet record of ``user`` (their appointment book and clinical signature), or None."""
    vet = Vet.objects.filter(user=user, is_active=True).first()
    return vet


def _refuse_signed(consultation: Consultation, what: str = "changed") -> None:
    if consultation.is_signed and consultation.signed_at is not None:
        raise DomainError(
            f"This consultation was signed on {to_local(consultation.signed_at):%d %b %Y %H:%M} and cannot be "
            f"{what}; add an addendum instead.",
            code="signed",
        )


def _locked(consultation: Consultation) -> Consultation:
    return (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("animal__species", "animal__breed", "weight")
        .get(pk=consultation.pk)
    )


def _check_animal_alive(animal: Animal, on: dt.date, field: str) -> None:
    if animal.deceased_on is not None and on > animal.deceased_on:
        raise DomainError(f"{animal.name} died on {animal.deceased_on:%d %b %Y}.", field=field, code="deceased")


def _consultation_day(consultation: Consultation) -> dt.date:
    return to_local(consultation.opened_at).date()


# --- Consultations -----------------------------------------------------------------------------------------------


@transaction.atomic
def consultation_open(
    *,
    by: User,
    appointment: Appointment | None = None,
    animal: Animal | None = None,
    vet: Vet | None = None,
) -> Consultation:
    """Open a consultation: from an appointment (one call: the appointment moves to in consultation; calling it
    again returns the same consultation) or, without one, for ``animal`` (walk-in, phone advice, hospital round).

    The vet is the appointment's vet, else ``vet``, else the caller's own Vet record (a nurse opening a walk-in
    names the vet). Refused: a cancelled or missed appointment, a deceased or inactive animal."""
    if appointment is not None:
        return _open_from_appointment(appointment=appointment, by=by)
    if animal is None:
        raise ValidationError({"animal": "Choose the animal (or start from its appointment)."})
    animal = Animal.objects.select_related("owner").get(pk=animal.pk)
    if animal.is_deceased or not animal.is_active:
        raise DomainError(f"{animal.name} is deceased or inactive.", field="animal", code="animal_inactive")
    vet = vet or vet_of(by)
    if vet is None:
        raise ValidationError({"vet": "Name the vet responsible for this consultation."})
    if not vet.bookable:
        raise DomainError(f"{vet} is no longer an active vet.", field="vet")
    consultation = Consultation.objects.create(animal=animal, vet=vet, opened_by=by)
    audit.record(actor=by, obj=consultation, action="opened", changes={"animal": [None, str(animal)]})
    return consultation


def _open_from_appointment(*, appointment: Appointment, by: User) -> Consultation:
    appointment = (
        Appointment.objects.select_for_update(of=("self",)).select_related("animal", "vet").get(pk=appointment.pk)
    )
    existing = Consultation.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if appointment.status in (S.CANCELLED, S.NO_SHOW):
        raise DomainError(
            f"A {appointment.get_status_display().lower()} appointment cannot be consulted.",
            field="appointment",
            code="bad_status",
        )
    if appointment.animal.is_deceased:
        raise DomainError(f"{appointment.animal.name} is deceased.", field="appointment", code="animal_inactive")
    # The vet may start before reception checks the pet in: booked or confirmed pass through "arrived".
    if appointment.status in (S.BOOKED, S.CONFIRMED):
        appointment = appointment_transition(appointment=appointment, to=S.ARRIVED, by=by, note="consultation started")
    if appointment.status == S.ARRIVED:
        appointment = appointment_transition(appointment=appointment, to=S.IN_CONSULTATION, by=by)
    consultation = Consultation(
        animal=appointment.animal, vet=appointment.vet, appointment=appointment, opened_by=by, opened_at=timezone.now()
    )
    try:
        with transaction.atomic():
            consultation.save()
    except IntegrityError:  # a second click that raced the first: the appointment already has its consultation
        return Consultation.objects.get(appointment=appointment)
    audit.record(actor=by, obj=consultation, action="opened", changes={"appointment": [None, str(appointment)]})
    return consultation


TEXT_FIELDS = ("complaint", "history", "examination", "assessment", "plan")
VITAL_FIELDS = (
    "temperature_c",
    "heart_rate",
    "respiratory_rate",
    "body_condition_score",
    "pain_score",
    "mucous_membranes",
    "capillary_refill",
)
DRAFT_FIELDS = frozenset(TEXT_FIELDS + VITAL_FIELDS + ("weight_kg",))


def _apply_vitals(consultation: Consultation, data: dict[str, Any], *, confirm: bool, by: User) -> dict[str, list]:
    animal = consultation.animal
    species = animal.species.name
    breed = animal.breed.name if animal.breed else ""
    changes: dict[str, list] = {}
    for quantity in ("weight_kg", "temperature_c", "heart_rate", "respiratory_rate"):
        if quantity in data:
            check_vital(quantity=quantity, value=data[quantity], species=species, breed=breed, confirm=confirm)
    if "weight_kg" in data:
        changes.update(_set_weight(consultation, data["weight_kg"], confirm=confirm, by=by))
    for name in VITAL_FIELDS:
        if name in data:
            value = data[name]
            if name in ("mucous_membranes", "capillary_refill") and value is None:
                value = ""
            if getattr(consultation, name) != value:
                changes[name] = [audit._plain(getattr(consultation, name)), audit._plain(value)]
                setattr(consultation, name, value)
    return changes


def _set_weight(consultation: Consultation, kg: Decimal | None, *, confirm: bool, by: User) -> dict[str, list]:
    """The consultation's weight is a row of the animal's history: a new value replaces this draft's own row."""
    old = consultation.weight
    if (old is None and kg is None) or (old is not None and kg is not None and Decimal(kg) == old.kg):
        return {}
    new = None
    if kg is not None:
        new = weight_record(
            animal=consultation.animal,
            kg=Decimal(kg),
            measured_on=_consultation_day(consultation),
            confirm=confirm,
            by=by,
        )
    consultation.weight = new
    if old is not None:
        # Unlink first (the foreign key protects a linked weight), then remove the draft's superseded row.
        Consultation.objects.filter(pk=consultation.pk).update(weight=new)
        Weight.objects.filter(pk=old.pk).delete()
        audit.record(
            actor=by,
            obj=consultation.animal,
            action="weight removed",
            changes={"weight_kg": [str(old.kg), None]},
            note="replaced in a draft consultation",
        )
    return {"weight_kg": [str(old.kg) if old else None, str(new.kg) if new else None]}


@transaction.atomic
def consultation_save_draft(
    *, consultation: Consultation, by: User, data: dict[str, Any], confirm: bool = False
) -> Consultation:
    """Save some fields of a draft (autosave sends only what changed). ``data`` keys: the SOAP texts
    (``complaint``, ``history``, ``examination``, ``assessment``, ``plan``) and the vitals (``weight_kg``,
    ``temperature_c``, ``heart_rate``, ``respiratory_rate``, ``body_condition_score``, ``pain_score``,
    ``mucous_membranes``, ``capillary_refill``; None clears one). Vitals are checked for the species
    (``animals.plausibility``): impossible values are a ValidationError, unusual ones a DomainError with code
    ``confirm_required`` unless ``confirm``. A signed consultation is refused (``code="signed"``)."""
    unknown = set(data) - DRAFT_FIELDS
    if unknown:
        raise ValueError(f"Not editable consultation fields: {', '.join(sorted(unknown))}")
    consultation = _locked(consultation)
    _refuse_signed(consultation)
    changes = _apply_vitals(consultation, data, confirm=confirm, by=by)
    for name in TEXT_FIELDS:
        if name in data:
            value = (data[name] or "").replace("\x00", "")
            if getattr(consultation, name) != value:
                # The audit says which sections changed and how long they are, not the clinical text itself.
                changes[name] = [len(getattr(consultation, name)), len(value)]
                setattr(consultation, name, value)
    if not changes:
        return consultation
    consultation.full_clean(exclude=["animal", "vet", "appointment", "opened_by", "weight"])
    consultation.save()
    audit.record(actor=by, obj=consultation, action="draft saved", changes=changes)
    return consultation


@transaction.atomic
def consultation_record_vitals(
    *, consultation: Consultation, by: User, confirm: bool = False, **vitals: Any
) -> Consultation:
    """Record vitals (keyword arguments named as in ``consultation_save_draft``); nurses use this too."""
    unknown = set(vitals) - set(VITAL_FIELDS) - {"weight_kg"}
    if unknown:
        raise ValueError(f"Not vitals: {', '.join(sorted(unknown))}")
    return consultation_save_draft(consultation=consultation, by=by, data=vitals, confirm=confirm)


@transaction.atomic
def consultation_set_diagnoses(
    *, consultation: Consultation, by: User, diagnoses: list[tuple[Diagnosis, str]]
) -> Consultation:
    """Replace the consultation's diagnoses with ``diagnoses`` [(diagnosis, certainty), ...] in that order.
    An inactive diagnosis is refused unless it is already on the consultation."""
    consultation = _locked(consultation)
    _refuse_signed(consultation)
    current = {link.diagnosis_id: link for link in ConsultationDiagnosis.objects.filter(consultation=consultation)}
    seen: set[int] = set()
    for diagnosis, certainty in diagnoses:
        if diagnosis.pk in seen:
            raise ValidationError({"diagnoses": f"{diagnosis} is listed twice."})
        seen.add(diagnosis.pk)
        if not diagnosis.is_active and diagnosis.pk not in current:
            raise DomainError(f"{diagnosis} is no longer on the diagnosis list.", field="diagnoses")
        if certainty not in ConsultationDiagnosis.Certainty.values:
            raise ValidationError({"diagnoses": f"Unknown certainty {certainty!r}."})
    before = [f"{link.diagnosis_id}:{link.certainty}" for link in current.values()]
    ConsultationDiagnosis.objects.filter(consultation=consultation).delete()
    ConsultationDiagnosis.objects.bulk_create(
        [
            ConsultationDiagnosis(consultation=consultation, diagnosis=d, certainty=c, position=i)
            for i, (d, c) in enumerate(diagnoses)
        ]
    )
    after = [f"{d.pk}:{c}" for d, c in diagnoses]
    if sorted(before) != sorted(after):
        audit.record(actor=by, obj=consultation, action="diagnoses", changes={"diagnoses": [before, after]})
    Consultation.objects.filter(pk=consultation.pk).update(updated_at=timezone.now())
    return consultation


@transaction.atomic
def consultation_sign(*, consultation: Consultation, by: User) -> Consultation:
    """Sign the consultation: from now on it is a permanent record (corrections are addenda). Only the
    consultation's vet signs (PermissionDenied otherwise); an empty record is refused. An appointment still in
    consultation is completed (which may create its recall reminder)."""
    consultation = _locked(consultation)
    _refuse_signed(consultation, "signed again")
    if consultation.vet.user_id != by.pk:
        raise PermissionDenied(f"Only {consultation.vet} can sign this consultation.")
    if (
        not any(getattr(consultation, name).strip() for name in TEXT_FIELDS)
        and not consultation.diagnosis_links.exists()
    ):
        raise DomainError("Write what was found or done before signing.", field="examination", code="empty")
    consultation.status = Consultation.Status.SIGNED
    consultation.signed_at = timezone.now()
    consultation.signed_by = by
    consultation.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    audit.record(actor=by, obj=consultation, action="signed", changes={"status": ["draft", "signed"]})
    if consultation.appointment_id is not None:
        appointment = Appointment.objects.select_for_update().get(pk=consultation.appointment_id)
        if appointment.status == S.IN_CONSULTATION:
            appointment_transition(appointment=appointment, to=S.COMPLETED, by=by)
    consultation_signed.send(sender=Consultation, consultation=consultation, by=by)
    events.publish("consultation.signed", consultation, changed={"status"})
    return consultation


@transaction.atomic
def addendum_add(*, consultation: Consultation, by: User, text: str) -> Addendum:
    """Add a correction or later note under a signed consultation (a draft is simply edited)."""
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    if not consultation.is_signed:
        raise DomainError("This consultation is still a draft; change it directly.", code="draft")
    addendum = Addendum(consultation=consultation, author=by, text=text, created_at=timezone.now())
    addendum.full_clean()
    addendum.save()
    audit.record(actor=by, obj=consultation, action="addendum", changes={"addendum": [None, addendum.pk]})
    return addendum


# --- Reference lists (managers) ------------------------------------------------------------------------------------


DIAGNOSIS_FIELDS = frozenset({"name", "code", "code_system", "is_active"})
QUICK_TEXT_FIELDS = frozenset({"title", "section", "appointment_type", "text", "is_active"})


@transaction.atomic
def diagnosis_save(*, by: User, data: dict[str, Any], diagnosis: Diagnosis | None = None) -> Diagnosis:
    """Create or change an entry of the diagnosis list (a code needs its code system)."""
    if data.get("code") and not data.get("code_system", diagnosis.code_system if diagnosis else ""):
        raise ValidationError({"code_system": "Name the code system of the code (e.g. VeNom, SNOMED CT)."})
    return audit.save_fields(obj=diagnosis or Diagnosis(), data=data, allowed=DIAGNOSIS_FIELDS, by=by)


@transaction.atomic
def quick_text_save(*, by: User, data: dict[str, Any], quick_text: QuickText | None = None) -> QuickText:
    """Create or change a quick text (``title``, ``section``, ``appointment_type`` or None for every type,
    ``text``, ``is_active``); pages insert its text into that SOAP section of a draft."""
    return audit.save_fields(obj=quick_text or QuickText(), data=data, allowed=QUICK_TEXT_FIELDS, by=by)


# --- Problems ------------------------------------------------------------------------------------------------------


PROBLEM_FIELDS = frozenset({"diagnosis", "condition", "onset", "status", "resolved_on", "is_alert", "notes"})


@transaction.atomic
def problem_save(
    *,
    by: User,
    data: dict[str, Any],
    animal: Animal | None = None,
    problem: Problem | None = None,
    consultations: list[Consultation] | None = None,
) -> Problem:
    """Add a problem to ``animal``'s list, or change ``problem``. The condition defaults to the diagnosis name;
    resolving sets ``resolved_on`` (today unless given); reopening clears it. ``consultations`` (when given)
    become the linked consultations, which must be the same animal's."""
    unknown = set(data) - PROBLEM_FIELDS
    if unknown:
        raise ValueError(f"Not editable problem fields: {', '.join(sorted(unknown))}")
    if problem is None:
        if animal is None:
            raise ValueError("problem_save needs an animal or a problem")
        problem = Problem(animal=animal, created_by=by)
        before: dict[str, Any] = {}
    else:
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        before = audit.snapshot(problem)
    for name, value in data.items():
        setattr(problem, name, value)
    if not (problem.condition or "").strip():
        if problem.diagnosis is None:
            raise ValidationError({"condition": "Name the condition or choose a diagnosis."})
        problem.condition = problem.diagnosis.name
    if problem.status == Problem.Status.RESOLVED:
        problem.resolved_on = problem.resolved_on or timezone.localdate()
    else:
        problem.resolved_on = None
    if problem.onset and problem.onset > timezone.localdate():
        raise ValidationError({"onset": "The onset cannot be in the future."})
    if problem.resolved_on and problem.onset and problem.resolved_on < problem.onset:
        raise ValidationError({"resolved_on": "A problem cannot resolve before its onset."})
    problem.full_clean(exclude=["animal", "created_by"])
    problem.save()
    if consultations is not None:
        strangers = [c for c in consultations if c.animal_id != problem.animal_id]
        if strangers:
            raise DomainError(f"Consultation {strangers[0].pk} is not of {problem.animal}.", field="consultations")
        problem.consultations.set(consultations)
    changes = audit.diff(before, audit.snapshot(problem))
    audit.record(actor=by, obj=problem.animal, action="problem " + ("added" if not before else "changed"),
                 changes=changes, note=problem.condition)  # fmt: skip
    return problem


# --- Vaccinations --------------------------------------------------------------------------------------------------


def _check_consultation_for(consultation: Consultation | None, animal: Animal) -> Consultation | None:
    if consultation is None:
        return None
    consultation = (
        Consultation.objects.select_for_update(of=("self",)).select_related("appointment").get(pk=consultation.pk)
    )
    if consultation.animal_id != animal.pk:
        raise DomainError("That consultation is of another animal.", field="consultation")
    _refuse_signed(consultation, "given more entries")
    return consultation


def _charge(
    *, animal: Animal, product: Product, quantity: Decimal, by: User, vet: Vet, day: dt.date,
    consultation: Consultation | None,
) -> InvoiceLine:  # fmt: skip
    invoice = invoice_draft_for(client=animal.owner, by=by)
    return invoice_add_line(
        invoice=invoice,
        by=by,
        product=product,
        quantity=quantity,
        animal=animal,
        vet=vet,
        appointment=consultation.appointment if consultation else None,
        service_date=day,
    )


@transaction.atomic
def vaccination_record(
    *,
    animal: Animal,
    product: Product,
    batch: str,
    batch_expiry: dt.date,
    by: User,
    consultation: Consultation | None = None,
    manufacturer: str = "",
    route: str = "sc",
    site: str = "",
    given_on: dt.date | None = None,
    next_due_on: dt.date | None = None,
    supervising_vet: Vet | None = None,
    charge: bool = False,
    given_by: User | None = None,
) -> Vaccination:
    """Record a vaccine given (in a consultation or alone). Refused: a product that is not a vaccine, an expired
    batch (expiry before the day given, field ``batch_expiry``), a day in the future or after the animal's
    death, a signed consultation. ``next_due_on`` defaults from the vaccine's reminder interval. A nurse names
    the supervising vet (or works in a vet's consultation). ``charge`` puts the vaccine on the owner's draft
    invoice in the same transaction (one line). Sends ``vaccination_recorded``: the reminders app renews the
    animal's reminder of that vaccine (the same one an invoice of the vaccine renews; never two)."""
    animal = Animal.objects.select_related("owner", "species").get(pk=animal.pk)
    given_on = given_on or timezone.localdate()
    if product.category != Product.Category.VACCINE:
        raise DomainError(f"{product.name} is not a vaccine.", field="product")
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": "A vaccination cannot be recorded in the future."})
    _check_animal_alive(animal, given_on, "given_on")
    if batch_expiry < given_on:
        raise DomainError(
            f"Batch {batch} expired on {batch_expiry:%d %b %Y}; an expired vaccine must not be given.",
            field="batch_expiry",
            code="batch_expired",
        )
    consultation = _check_consultation_for(consultation, animal)
    given_by = given_by or by
    supervising_vet = supervising_vet or vet_of(given_by) or (consultation.vet if consultation else None)
    if supervising_vet is None:
        raise ValidationError({"supervising_vet": "Name the vet this vaccination is given under."})
    if next_due_on is None:
        next_due_on = default_next_due(product=product, animal=animal, given_on=given_on)
    if next_due_on is not None and next_due_on <= given_on:
        raise ValidationError({"next_due_on": "The next dose is due after this one."})
    vaccination = Vaccination(
        animal=animal,
        consultation=consultation,
        product=product,
        manufacturer=manufacturer.strip(),
        batch=batch.strip(),
        batch_expiry=batch_expiry,
        route=route,
        site=site.strip(),
        given_on=given_on,
        given_by=given_by,
        supervising_vet=supervising_vet,
        next_due_on=next_due_on,
    )
    vaccination.full_clean()
    if charge:
        vaccination.invoice_line = _charge(
            animal=animal, product=product, quantity=Decimal(1), by=by, vet=supervising_vet, day=given_on,
            consultation=consultation,
        )  # fmt: skip
    vaccination.save()
    audit.record(
        actor=by,
        obj=animal,
        action="vaccination",
        changes={"vaccination": [None, f"{product.name} batch {vaccination.batch}"]},
        note=f"given on {given_on.isoformat()}",
    )
    vaccination_recorded.send(sender=Vaccination, vaccination=vaccination, by=by)
    events.publish("vaccination.recorded", vaccination)
    return vaccination


# --- Prescriptions and dispensing ----------------------------------------------------------------------------------

DISPENSABLE = {Product.Category.MEDICATION, Product.Category.RETAIL, Product.Category.OTHER}


@transaction.atomic
def prescription_dispense(
    *,
    animal: Animal,
    product: Product,
    by: User,
    dose: str,
    frequency: str,
    quantity: Decimal,
    consultation: Consultation | None = None,
    strength: str = "",
    route: str = "po",
    duration: str = "",
    instructions: str = "",
    repeats: int = 0,
    dispensed_on: dt.date | None = None,
    charge: bool = True,
) -> Prescription:
    """Prescribe and dispense a medicine. Only a vet prescribes (PermissionDenied otherwise). Unless ``charge``
    is false, the quantity dispensed goes on the owner's draft invoice in the same transaction (one line, priced
    from the catalogue), linked as ``invoice_line``; a failure there (an inactive owner, say) undoes both."""
    prescriber = vet_of(by)
    if prescriber is None:
        raise PermissionDenied("Only a vet can prescribe.")
    animal = Animal.objects.select_related("owner").get(pk=animal.pk)
    dispensed_on = dispensed_on or timezone.localdate()
    if product.category not in DISPENSABLE:
        raise DomainError(f"{product.name} is not a medicine that can be dispensed.", field="product")
    if dispensed_on > timezone.localdate():
        raise ValidationError({"dispensed_on": "A dispensing cannot be recorded in the future."})
    _check_animal_alive(animal, dispensed_on, "dispensed_on")
    if repeats < 0 or repeats > 12:
        raise ValidationError({"repeats": "Repeats are between 0 and 12."})
    consultation = _check_consultation_for(consultation, animal)
    prescription = Prescription(
        animal=animal,
        consultation=consultation,
        product=product,
        strength=strength.strip(),
        dose=dose.strip(),
        route=route,
        frequency=frequency.strip(),
        duration=duration.strip(),
        quantity=Decimal(quantity),
        instructions=instructions.strip(),
        repeats=repeats,
        prescribed_by=prescriber,
        dispensed_by=by,
        dispensed_on=dispensed_on,
    )
    prescription.full_clean()
    if charge:
        prescription.invoice_line = _charge(
            animal=animal, product=product, quantity=prescription.quantity, by=by, vet=prescriber,
            day=dispensed_on, consultation=consultation,
        )  # fmt: skip
    prescription.save()
    audit.record(
        actor=by,
        obj=animal,
        action="dispensed",
        changes={"prescription": [None, str(prescription)]},
        note=f"{prescription.dose} {prescription.frequency}",
    )
    return prescription


@transaction.atomic
def prescription_dispense_repeat(
    *,
    original: Prescription,
    by: User,
    quantity: Decimal | None = None,
    dispensed_on: dt.date | None = None,
    charge: bool = True,
) -> Prescription:
    """Dispense a repeat of ``original`` (same medicine, dose and instructions; the original's prescriber). The
    repeats dispensed so far are counted against the original's ``repeats``: one more is refused (409)."""
    original = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("animal__owner", "product", "prescribed_by")
        .get(pk=original.pk)
    )
    if original.repeat_of_id is not None:
        raise DomainError("Repeat from the original prescription.", field="repeat_of", code="not_original")
    used = Prescription.objects.filter(repeat_of=original).count()
    if used >= original.repeats:
        raise DomainError(
            f"All {original.repeats} repeat(s) of this prescription have been dispensed; a vet must prescribe again.",
            field="repeat_of",
            code="no_repeats_left",
        )
    dispensed_on = dispensed_on or timezone.localdate()
    if dispensed_on > timezone.localdate():
        raise ValidationError({"dispensed_on": "A dispensing cannot be recorded in the future."})
    if dispensed_on < original.dispensed_on:
        raise ValidationError({"dispensed_on": "A repeat comes after the original dispensing."})
    _check_animal_alive(original.animal, dispensed_on, "dispensed_on")
    repeat = Prescription(
        animal=original.animal,
        product=original.product,
        strength=original.strength,
        dose=original.dose,
        route=original.route,
        frequency=original.frequency,
        duration=original.duration,
        quantity=Decimal(quantity) if quantity is not None else original.quantity,
        instructions=original.instructions,
        repeats=0,
        prescribed_by=original.prescribed_by,
        dispensed_by=by,
        dispensed_on=dispensed_on,
        repeat_of=original,
    )
    repeat.full_clean()
    if charge:
        repeat.invoice_line = _charge(
            animal=original.animal, product=original.product, quantity=repeat.quantity, by=by,
            vet=original.prescribed_by, day=dispensed_on, consultation=None,
        )  # fmt: skip
    repeat.save()
    audit.record(
        actor=by,
        obj=original.animal,
        action="repeat dispensed",
        changes={"prescription": [None, str(repeat)]},
        note=f"repeat {used + 1} of {original.repeats}",
    )
    return repeat


# --- Charges from the consultation ---------------------------------------------------------------------------------


@transaction.atomic
def consultation_charge(
    *, consultation: Consultation, by: User, product: Product, quantity: Decimal, unit_price: Decimal | None = None
) -> InvoiceLine:
    """Charge ``product`` for this visit: one line on the owner's draft invoice (created when there is none),
    for the consultation's animal, vet, appointment and day, through the invoicing services (their rules hold:
    an inactive product, a price override without the permission)."""
    consultation = Consultation.objects.select_related("animal__owner", "vet", "appointment").get(pk=consultation.pk)
    invoice = invoice_draft_for(client=consultation.animal.owner, by=by)
    return invoice_add_line(
        invoice=invoice,
        by=by,
        product=product,
        quantity=Decimal(quantity),
        unit_price=unit_price,
        animal=consultation.animal,
        vet=consultation.vet,
        appointment=consultation.appointment,
        service_date=_consultation_day(consultation),
    )


# --- Attachments ---------------------------------------------------------------------------------------------------

# What the first bytes of a file say it is: the name and the browser's Content-Type are not trusted.
MAGIC = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]
THUMBNAIL_SIZE = (320, 320)


def sniff_content_type(head: bytes) -> str | None:
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def _thumbnail(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError({"file": "The image is damaged and cannot be read."}) from exc


@transaction.atomic
def attachment_add(
    *,
    animal: Animal,
    by: User,
    upload: UploadedFile,
    title: str,
    kind: str = Attachment.Kind.OTHER,
    consultation: Consultation | None = None,
) -> Attachment:
    """Store a file on ``animal`` (or one of its consultations, signed or not: results arrive later) through the
    attachments storage. Accepted: PDF, JPEG and PNG, recognised by their first bytes, up to
    ``ATTACHMENT_MAX_BYTES``; anything else is a ValidationError on ``file``. Images get a PNG thumbnail."""
    limit = attachment_max_bytes()
    if upload.size is None or upload.size > limit:
        raise ValidationError({"file": f"The file is larger than the limit of {limit / 1024 / 1024:.0f} MB."})
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    upload.seek(0)
    data = upload.read()
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise ValidationError({"file": "Only PDF, JPEG and PNG files can be attached."})
    title = (title or "").strip() or (upload.name or "Attachment")[:200]
    if consultation is not None and consultation.animal_id != animal.pk:
        raise DomainError("That consultation is of another animal.", field="consultation")
    if kind not in Attachment.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    attachment = Attachment(
        animal=animal,
        consultation=consultation,
        kind=kind,
        title=title[:200],
        original_name=(upload.name or "")[:255],
        content_type=content_type,
        size=len(data),
        uploaded_by=by,
        created_at=timezone.now(),
    )
    thumbnail = _thumbnail(data) if content_type.startswith("image/") else None
    stored: list[Any] = []
    try:
        attachment.file.save("upload", ContentFile(data), save=False)
        stored.append(attachment.file)
        if thumbnail is not None:
            attachment.thumbnail.save("thumb.png", ContentFile(thumbnail), save=False)
            stored.append(attachment.thumbnail)
        attachment.full_clean()
        attachment.save()
        audit.record(
            actor=by,
            obj=animal,
            action="attachment",
            changes={"attachment": [None, f"{attachment.get_kind_display()}: {attachment.title}"]},
        )
    except BaseException:
        for field_file in stored:  # the row never existed, so neither should its files
            field_file.storage.delete(field_file.name)
        raise
    # A rollback of an outer transaction after this point leaves the files behind without a row: unreachable
    # (served only through a row) and random-named, so nothing leaks, and the daily sweep below deletes them.
    return attachment


ORPHAN_GRACE = dt.timedelta(hours=6)


def attachment_orphans_sweep(*, older_than: dt.timedelta = ORPHAN_GRACE, dry_run: bool = False) -> list[str]:
    """Delete the files in the attachments storage that no attachment row names (its file or its thumbnail):
    files of an upload whose transaction was rolled back after the files were written, or of a process killed
    in between. Only files older than ``older_than`` go, so an upload whose transaction has not committed yet
    is never touched. Returns the names deleted (or that would be, with ``dry_run``).

    Walks the storage through its API (``listdir``), so it works for any storage backend, and checks the
    names against the table a thousand at a time."""
    storage = Attachment.file.field.storage
    cutoff = timezone.now() - older_than
    orphans: list[str] = []

    def names(directory: str):
        try:
            subdirs, files = storage.listdir(directory)
        except FileNotFoundError:
            return
        for name in files:
            yield f"{directory}/{name}" if directory else name
        for sub in subdirs:
            yield from names(f"{directory}/{sub}" if directory else sub)

    def check(batch: list[str]) -> None:
        known = set(Attachment.objects.filter(file__in=batch).values_list("file", flat=True))
        known |= set(Attachment.objects.filter(thumbnail__in=batch).values_list("thumbnail", flat=True))
        for name in batch:
            if name not in known and storage.get_modified_time(name) < cutoff:
                orphans.append(name)

    batch: list[str] = []
    for name in names("animals"):
        batch.append(name)
        if len(batch) == 1000:
            check(batch)
            batch = []
    if batch:
        check(batch)
    if not dry_run:
        for name in orphans:
            storage.delete(name)
    return orphans
