"""Every write to reminder types and reminders, and the rules that create and complete reminders.

The rules (DESIGN.md section 3): a finalised invoice line whose product carries a reminder type completes the
animal's pending reminder of that type and creates the next one, due at the service date plus the interval; a
vaccination recorded in the clinical record does the same for its vaccine (one dose recorded both ways renews once);
completing an appointment whose type has a recall creates one; a deceased or inactive animal, or an inactive
client, has its pending reminders cancelled; an animal never has two pending reminders of one type (a partial
unique index backs the service's check).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from animals.models import Animal
from appointments.models import Appointment
from clinical.models import Vaccination
from invoicing.models import Invoice, InvoiceLine, Product
from reminders.models import ProductReminder, Reminder, ReminderDelivery, ReminderType
from vetpms import audit, events
from vetpms.errors import DomainError
from vetpms.models import User
from vetpms.timeutils import to_local

TYPE_FIELDS = frozenset(
    {
        "name",
        "interval",
        "interval_unit",
        "stages",
        "subject",
        "body_text",
        "body_html",
        "is_active",
        "appointment_type",
    }
)


@transaction.atomic
def reminder_type_save(
    *,
    by: User,
    data: dict[str, Any],
    reminder_type: ReminderType | None = None,
    species: list | None = None,
    products: list[Product] | None = None,
) -> ReminderType:
    """Create or change a reminder type; a template with an unknown placeholder is refused with the list of the
    ones that exist. ``products`` (when given) become the catalogue products that renew this type; a product
    renews one type only, so one that already renews another type is refused, naming it."""
    obj = audit.save_fields(obj=reminder_type or ReminderType(), data=data, allowed=TYPE_FIELDS, by=by)
    if species is not None:
        obj.species.set(species)
    if products is not None:
        _set_products(obj, products, by=by)
    return obj


def _set_products(reminder_type: ReminderType, products: list[Product], *, by: User) -> None:
    wanted = {p.pk: p for p in products}
    taken = ProductReminder.objects.filter(product_id__in=wanted).exclude(reminder_type=reminder_type)
    clash = taken.select_related("product", "reminder_type").first()
    if clash is not None:
        raise DomainError(
            f"{clash.product} already renews {clash.reminder_type}; remove it there first.",
            field="products",
            code="product_taken",
        )
    current = set(ProductReminder.objects.filter(reminder_type=reminder_type).values_list("product_id", flat=True))
    if current == set(wanted):
        return
    ProductReminder.objects.filter(reminder_type=reminder_type).exclude(product_id__in=wanted).delete()
    ProductReminder.objects.bulk_create(
        [ProductReminder(product=wanted[pk], reminder_type=reminder_type) for pk in set(wanted) - current]
    )
    audit.record(
        actor=by,
        obj=reminder_type,
        action="update",
        changes={"products": [sorted(current), sorted(wanted)]},
    )


@transaction.atomic
def product_renews(*, product: Product, reminder_type: ReminderType, by: User) -> bool:
    """Make ``product`` one of the products that renew ``reminder_type`` (besides the type's others), as the
    reminder type's page would; refused, naming it, when the product renews another type. True when it changed."""
    current = list(Product.objects.filter(reminder_link__reminder_type=reminder_type))
    if product.pk in {p.pk for p in current}:
        return False
    _set_products(reminder_type, [*current, product], by=by)
    return True


def _pending(animal: Animal, reminder_type: ReminderType) -> Reminder | None:
    return Reminder.objects.select_for_update().filter(animal=animal, type=reminder_type, status="pending").first()


def _create(
    *, animal: Animal, reminder_type: ReminderType, due_on: dt.date, source: str, by: User | None, **links: Any
) -> Reminder:
    reminder = Reminder(animal=animal, type=reminder_type, due_on=due_on, source=source, **links)
    reminder.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            reminder.save()
    except IntegrityError as exc:
        raise DomainError(
            f"{animal.name} already has a pending {reminder_type} reminder.", field="type", code="duplicate"
        ) from exc
    audit.record(
        actor=by,
        obj=animal,
        action="reminder created",
        changes={"reminder": [None, f"{reminder_type} due {due_on.isoformat()}"]},
        note=source,
    )
    return reminder


def _check_animal(animal: Animal) -> None:
    if animal.is_deceased or not animal.is_active or not animal.owner.is_active:
        raise DomainError(
            f"{animal.name} cannot have reminders (deceased, inactive or with an inactive owner).", field="animal"
        )


@transaction.atomic
def reminder_create(
    *, animal: Animal, reminder_type: ReminderType, due_on: dt.date, by: User, source: str = Reminder.Source.MANUAL
) -> Reminder:
    """Add a reminder by hand (or by import). Refused when one of that type is already pending."""
    animal = Animal.objects.select_related("owner").get(pk=animal.pk)
    _check_animal(animal)
    if not reminder_type.is_active:
        raise DomainError(f"{reminder_type} is no longer in use.", field="type")
    if not reminder_type.applies_to(animal):
        raise DomainError(f"{reminder_type} is not for {animal.species}.", field="type")
    if _pending(animal, reminder_type) is not None:
        raise DomainError(
            f"{animal.name} already has a pending {reminder_type} reminder.", field="type", code="duplicate"
        )
    return _create(animal=animal, reminder_type=reminder_type, due_on=due_on, source=source, by=by)


@transaction.atomic
def reminder_record_closed(
    *, animal: Animal, reminder_type: ReminderType, due_on: dt.date, status: str, by: User, note: str = ""
) -> Reminder:
    """A reminder already completed or cancelled in the system the practice used before (an import's history):
    kept for the animal's record and the compliance report, never sent. Any animal may have one, as many as it
    had; only pending reminders are one per animal and type."""
    if status not in (Reminder.Status.COMPLETED, Reminder.Status.CANCELLED):
        raise ValidationError({"status": "Only a completed or cancelled reminder is history."})
    reminder = Reminder(
        animal=animal,
        type=reminder_type,
        due_on=due_on,
        status=status,
        source=Reminder.Source.IMPORT,
        closed_at=timezone.now(),
        closed_by=by,
        note=note[:300],
    )
    reminder.full_clean(validate_constraints=False)
    reminder.save()
    audit.record(
        actor=by,
        obj=animal,
        action=f"reminder {status}",
        changes={"reminder": [None, f"{reminder_type} due {due_on.isoformat()}"]},
        note=Reminder.Source.IMPORT.label,
    )
    return reminder


def _close(
    reminder: Reminder,
    *,
    status: str,
    by: User | None,
    note: str = "",
    line: InvoiceLine | None = None,
    vaccination: Vaccination | None = None,
) -> Reminder:
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status != Reminder.Status.PENDING:
        raise DomainError(f"This reminder is already {reminder.get_status_display().lower()}.", code="not_pending")
    reminder.status = status
    reminder.closed_at = timezone.now()
    reminder.closed_by = by
    reminder.note = note[:300]
    reminder.completed_by_line = line
    reminder.completed_by_vaccination = vaccination
    reminder.save()
    audit.record(
        actor=by,
        obj=reminder.animal,
        action=f"reminder {status}",
        changes={"reminder": [f"{reminder.type} due {reminder.due_on.isoformat()}", status]},
        note=note,
    )
    return reminder


@transaction.atomic
def reminder_complete(*, reminder: Reminder, by: User, note: str = "") -> Reminder:
    return _close(reminder, status=Reminder.Status.COMPLETED, by=by, note=note)


@transaction.atomic
def reminder_cancel(*, reminder: Reminder, by: User | None, note: str) -> Reminder:
    if not (note or "").strip():
        raise ValidationError({"note": "Say why the reminder is cancelled."})
    return _close(reminder, status=Reminder.Status.CANCELLED, by=by, note=note)


@transaction.atomic
def reminder_reschedule(*, reminder: Reminder, due_on: dt.date, by: User) -> Reminder:
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status != Reminder.Status.PENDING:
        raise DomainError("Only a pending reminder can be moved.", code="not_pending")
    before = reminder.due_on
    reminder.due_on = due_on
    reminder.save(update_fields=["due_on", "updated_at"])
    audit.record(
        actor=by,
        obj=reminder.animal,
        action="reminder moved",
        changes={"due_on": [before.isoformat(), due_on.isoformat()]},
    )
    return reminder


# --- Rules fed by the apps below (connected in reminders.apps) ---------------------------------------------------


def renew_from_invoice(*, invoice: Invoice, by: User | None) -> list[Reminder]:
    """A finalised invoice: every line whose product carries a reminder type completes the animal's pending
    reminder of that type and creates the next, due at the line's service date plus the interval (each new one
    published as ``reminder.renewed``, inside the finalising transaction)."""
    if invoice.kind != Invoice.Kind.INVOICE:
        return []
    links = {
        link.product_id: link.reminder_type
        for link in ProductReminder.objects.select_related("reminder_type").filter(
            product__in=InvoiceLine.objects.filter(invoice=invoice).values("product_id")
        )
    }
    created: list[Reminder] = []
    lines = InvoiceLine.objects.filter(invoice=invoice, product_id__in=list(links), animal__isnull=False)
    for line in lines.select_related("animal__owner").order_by("service_date", "position"):
        animal = line.animal
        if animal is None or line.product_id is None:  # excluded by the query; narrows the types
            continue
        reminder_type = links[line.product_id]
        if not reminder_type.is_active or not reminder_type.applies_to(animal):
            continue
        current = _pending(animal, reminder_type)
        if current is not None and _same_dose(current, line=line):
            # The vaccination record of this dose already renewed the reminder: the invoice only joins it.
            current.source_line = line
            current.save(update_fields=["source_line", "updated_at"])
            continue
        if current is not None:
            _close(current, status=Reminder.Status.COMPLETED, by=by, line=line, note=f"given on {invoice.reference}")
        if animal.is_deceased or not animal.is_active or not animal.owner.is_active:
            continue
        renewed = _create(
            animal=animal,
            reminder_type=reminder_type,
            due_on=reminder_type.next_due(line.service_date),
            source=Reminder.Source.INVOICE,
            by=by,
            source_line=line,
        )
        events.publish("reminder.renewed", renewed)
        created.append(renewed)
    return created


# A vaccination record and an invoice line of the same vaccine for the same animal within this many days of each
# other are one dose recorded twice (clinical record and bill): whichever comes second joins the reminder the first
# one renewed instead of renewing it again.
SAME_DOSE_DAYS = 3


def _same_dose(reminder: Reminder, *, line: InvoiceLine | None = None, vaccination: Vaccination | None = None) -> bool:
    window = dt.timedelta(days=SAME_DOSE_DAYS)
    if line is not None:
        source = reminder.source_vaccination
        return (
            reminder.source_line_id is None
            and source is not None
            and abs(source.given_on - line.service_date) <= window
        )
    if vaccination is not None:
        source_line = reminder.source_line
        return (
            reminder.source_vaccination_id is None
            and source_line is not None
            and abs(source_line.service_date - vaccination.given_on) <= window
        )
    return False


def _renewed_after(reminder: Reminder, day: dt.date) -> bool:
    """True when ``reminder`` was renewed by a dose given more than SAME_DOSE_DAYS after ``day``."""
    latest = day + dt.timedelta(days=SAME_DOSE_DAYS)
    vaccination = reminder.source_vaccination if reminder.source_vaccination_id else None
    line = reminder.source_line if reminder.source_line_id else None
    return bool((vaccination and vaccination.given_on > latest) or (line and line.service_date > latest))


def vaccine_reminder_type(product: Product) -> ReminderType | None:
    link = ProductReminder.objects.select_related("reminder_type").filter(product=product).first()
    return link.reminder_type if link is not None else None


def vaccine_next_due(product: Product, animal: Animal, given_on: dt.date) -> dt.date | None:
    """The default next due date of a vaccine (the rule clinical asks through ``clinical.signals``)."""
    reminder_type = vaccine_reminder_type(product)
    if reminder_type is None or not reminder_type.is_active or not reminder_type.applies_to(animal):
        return None
    return reminder_type.next_due(given_on)


def renew_from_vaccination(*, vaccination: Vaccination, by: User | None) -> Reminder | None:
    """A vaccination was recorded: the vaccine's reminder type (the one invoicing the product renews) completes the
    animal's pending reminder and creates the next, due on the vaccination's next due date. When an invoice line
    of the same dose already renewed it, the vaccination joins that reminder (moving it to the vaccination's next
    due date, the clinical record's word) and nothing new is created: one dose, one reminder."""
    reminder_type = vaccine_reminder_type(vaccination.product)
    if reminder_type is None or not reminder_type.is_active:
        return None
    animal = Animal.objects.select_related("owner", "species").get(pk=vaccination.animal_id)
    if not reminder_type.applies_to(animal):
        return None
    due = vaccination.next_due_on or reminder_type.next_due(vaccination.given_on)
    current = _pending(animal, reminder_type)
    if current is not None and _renewed_after(current, vaccination.given_on):
        # An older dose recorded after a newer one (history typed in or imported out of order) is history: the
        # reminder the newer dose renewed stays as it is.
        return None
    if current is not None and _same_dose(current, vaccination=vaccination):
        before = current.due_on
        current.source_vaccination = vaccination
        current.due_on = due
        current.save(update_fields=["source_vaccination", "due_on", "updated_at"])
        if before != due:
            audit.record(
                actor=by,
                obj=animal,
                action="reminder moved",
                changes={"due_on": [before.isoformat(), due.isoformat()]},
                note="next due date of the vaccination record",
            )
            events.publish("reminder.renewed", current, changed={"due_on"})
        return current
    if current is not None:
        _close(
            current,
            status=Reminder.Status.COMPLETED,
            by=by,
            vaccination=vaccination,
            note=f"vaccinated on {vaccination.given_on.isoformat()}",
        )
    if animal.is_deceased or not animal.is_active or not animal.owner.is_active:
        return None
    renewed = _create(
        animal=animal,
        reminder_type=reminder_type,
        due_on=due,
        source=Reminder.Source.VACCINATION,
        by=by,
        source_vaccination=vaccination,
    )
    events.publish("reminder.renewed", renewed)
    return renewed


def recall_from_appointment(*, appointment: Appointment, by: User | None) -> Reminder | None:
    """A completed appointment whose type has a recall creates that reminder (unless one is already pending)."""
    reminder_type = ReminderType.objects.filter(appointment_type_id=appointment.type_id, is_active=True).first()
    if reminder_type is None:
        return None
    animal = Animal.objects.select_related("owner").get(pk=appointment.animal_id)
    if animal.is_deceased or not animal.is_active or not animal.owner.is_active:
        return None
    if not reminder_type.applies_to(animal) or _pending(animal, reminder_type) is not None:
        return None
    appointment_type = appointment.type
    day = to_local(appointment.start).date()
    if appointment_type.recall_interval and appointment_type.recall_unit:
        probe = ReminderType(interval=appointment_type.recall_interval, interval_unit=appointment_type.recall_unit)
        due = probe.next_due(day)
    else:
        due = reminder_type.next_due(day)
    return _create(
        animal=animal,
        reminder_type=reminder_type,
        due_on=due,
        source=Reminder.Source.RECALL,
        by=by,
        source_appointment=appointment,
    )


def cancel_for_animal(*, animal: Animal, by: User | None, reason: str) -> int:
    """Cancel every pending reminder of ``animal`` (deceased, deactivated, or its owner deactivated)."""
    count = 0
    for reminder in Reminder.objects.filter(animal=animal, status=Reminder.Status.PENDING):
        _close(reminder, status=Reminder.Status.CANCELLED, by=by, note=reason)
        count += 1
    return count


# --- The follow-up list ------------------------------------------------------------------------------------------


@transaction.atomic
def delivery_follow_up(*, delivery: ReminderDelivery, by: User, note: str) -> ReminderDelivery:
    """Mark a follow-up-list entry (an owner without a channel) as phoned, with what was said. Once only."""
    delivery = ReminderDelivery.objects.select_for_update().select_related("client").get(pk=delivery.pk)
    if delivery.status != ReminderDelivery.Status.NO_CHANNEL:
        raise DomainError("Only an owner on the follow-up list (no channel) is phoned.", code="not_follow_up")
    if delivery.followed_up_at is not None:
        raise DomainError("This owner has already been phoned about these reminders.", code="already_followed_up")
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": "Keep the note to 300 characters."})
    delivery.followed_up_at = timezone.now()
    delivery.followed_up_by = by
    delivery.follow_up_note = note
    delivery.save(update_fields=["followed_up_at", "followed_up_by", "follow_up_note", "updated_at"])
    audit.record(
        actor=by,
        obj=delivery.client,
        action="reminders phoned",
        changes={"reminder delivery": [delivery.pk, "phoned"]},
        note=note,
    )
    return delivery
