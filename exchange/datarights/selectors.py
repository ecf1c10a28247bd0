"""Reads for owners' data rights: everything the practice holds about one owner (subject access), what stands in
the way of erasing them, and what the retention schedule would anonymise today (the dry run).

The subject access copy is one plain dict (JSON-ready through DjangoJSONEncoder) that both the JSON download and
the PDF are drawn from, so the two always say the same. It is a rare, manager-only document: it reads each kind of
record in one query (joins and prefetches here), not per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from animals.models import Animal, Ownership
from appointments.models import NON_BLOCKING, Appointment
from clients.models import Client
from clinical.models import Attachment, Consultation, Prescription, Problem, Vaccination
from exchange.models import Erasure
from invoicing.models import Invoice, Payment
from invoicing.selectors import client_balance, client_balances
from reminders.models import Reminder, ReminderDelivery
from vetpms.models import AuditEntry
from vetpms.phones import display_phone
from vetpms.timeutils import to_local

PERSONAL_FIELDS = (
    "title",
    "first_name",
    "last_name",
    "organisation",
    "email",
    "mobile_phone",
    "home_phone",
    "work_phone",
    "address_line1",
    "address_line2",
    "town",
    "county",
    "postcode",
    "country",
    "notes",
)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day: dt.date, years: int) -> dt.date:
    return years_before(day, -years)


# --- Subject access ----------------------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    return to_local(value).isoformat(timespec="minutes") if value else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def owned_animals(client: Client) -> list[tuple[Animal, dt.datetime | None, dt.datetime | None]]:
    """Every animal the client owns or owned, with the period: (animal, from, until). An animal owned twice counts
    from its first start to its last end."""
    periods: dict[int, list] = {}
    rows = Ownership.objects.filter(client=client).select_related("animal__species", "animal__breed")
    for row in rows.order_by("started_at", "id"):
        entry = periods.setdefault(row.animal_id, [row.animal, row.started_at, row.ended_at])
        entry[2] = row.ended_at
    for animal in Animal.objects.filter(owner=client).select_related("species", "breed"):
        entry = periods.setdefault(animal.pk, [animal, None, None])
        entry[2] = None  # the current owner: open-ended
    return [tuple(v) for v in sorted(periods.values(), key=lambda v: (v[0].name, v[0].pk))]  # type: ignore[misc]


def _in_period(field_name: str, start: dt.datetime | None, end: dt.datetime | None, *, is_date: bool) -> Q:
    """Rows of an animal dated inside one ownership period (open ends mean "from the start" / "until now")."""
    q = Q()
    if start is not None:
        q &= Q(**{f"{field_name}__gte": to_local(start).date() if is_date else start})
    if end is not None:
        q &= Q(**{f"{field_name}__lte": to_local(end).date()} if is_date else {f"{field_name}__lt": end})
    return q


def _clinical(animal: Animal, start: dt.datetime | None, end: dt.datetime | None) -> dict[str, Any]:
    consultations = (
        Consultation.objects.filter(Q(animal=animal) & _in_period("opened_at", start, end, is_date=False))
        .select_related("vet", "weight")
        .prefetch_related("diagnosis_links__diagnosis", "addenda__author")
        .order_by("opened_at", "id")
    )
    vaccinations = Vaccination.objects.filter(
        Q(animal=animal) & _in_period("given_on", start, end, is_date=True)
    ).select_related("product")
    prescriptions = Prescription.objects.filter(
        Q(animal=animal) & _in_period("dispensed_on", start, end, is_date=True)
    ).select_related("product", "prescribed_by")
    attachments = Attachment.objects.filter(Q(animal=animal) & _in_period("created_at", start, end, is_date=False))
    return {
        "consultations": [
            {
                "opened_at": _when(c.opened_at),
                "vet": str(c.vet),
                "status": c.status,
                "signed_at": _when(c.signed_at),
                "complaint": c.complaint,
                "history": c.history,
                "examination": c.examination,
                "weight_kg": str(c.weight.kg) if c.weight else None,
                "temperature_c": str(c.temperature_c) if c.temperature_c is not None else None,
                "heart_rate": c.heart_rate,
                "respiratory_rate": c.respiratory_rate,
                "diagnoses": [link.diagnosis.name for link in c.diagnosis_links.all()],
                "assessment": c.assessment,
                "plan": c.plan,
                "addenda": [
                    {"at": _when(a.created_at), "author": str(a.author), "text": a.text} for a in c.addenda.all()
                ],
            }
            for c in consultations
        ],
        "vaccinations": [
            {
                "given_on": _day(v.given_on),
                "product": v.product.name,
                "batch": v.batch,
                "next_due_on": _day(v.next_due_on),
            }
            for v in vaccinations.order_by("given_on", "id")
        ],
        "medicines": [
            {
                "dispensed_on": _day(p.dispensed_on),
                "product": p.product.name,
                "strength": p.strength,
                "dose": p.dose,
                "frequency": p.frequency,
                "duration": p.duration,
                "quantity": str(p.quantity.normalize()),
                "prescribed_by": str(p.prescribed_by),
            }
            for p in prescriptions.order_by("dispensed_on", "id")
        ],
        "problems": [
            {
                "condition": p.condition,
                "status": p.status,
                "onset": _day(p.onset),
                "resolved_on": _day(p.resolved_on),
                "notes": p.notes,
            }
            for p in Problem.objects.filter(animal=animal).order_by("created_at", "id")
        ]
        if end is None
        else [],
        "files": [
            {"added": _when(a.created_at), "kind": a.kind, "title": a.title} for a in attachments.order_by("created_at")
        ],
    }


def subject_access(*, client: Client, by: Any = None) -> dict[str, Any]:
    """Everything VetPMS holds about ``client``, as one JSON-ready dict (see the module's docstring)."""
    client = Client.objects.get(pk=client.pk)
    share_clinical = bool(settings.DATA_RIGHTS_SHARE_CLINICAL)
    animals = owned_animals(client)
    animal_ids = [a.pk for a, _, _ in animals]

    animal_rows = []
    for animal, start, end in animals:
        row: dict[str, Any] = {
            "id": animal.pk,
            "name": animal.name,
            "species": animal.species.name,
            "breed": animal.breed.name if animal.breed else "",
            "sex": animal.sex,
            "neuter_status": animal.neuter_status,
            "date_of_birth": _day(animal.date_of_birth),
            "colour": animal.colour,
            "microchip": animal.microchip,
            "alerts": animal.alert_list,
            "notes": animal.notes,
            "deceased_on": _day(animal.deceased_on),
            "owned_from": _when(start),
            "owned_until": _when(end),
            "weights": [
                {"measured_on": _day(w.measured_on), "kg": str(w.kg)}
                for w in animal.weights.filter(_in_period("measured_on", start, end, is_date=True)).order_by(
                    "measured_on", "id"
                )
            ],
        }
        if share_clinical:
            row["clinical_history"] = _clinical(animal, start, end)
        animal_rows.append(row)

    appointments = (
        Appointment.objects.filter(client=client).select_related("animal", "vet", "type").order_by("start", "id")
    )
    invoices = Invoice.objects.filter(client=client).prefetch_related("lines__animal").order_by("created_at", "id")
    payments = Payment.objects.filter(client=client).order_by("received_on", "id")
    reminders = (
        Reminder.objects.filter(animal_id__in=animal_ids).select_related("animal", "type").order_by("due_on", "id")
    )
    deliveries = ReminderDelivery.objects.filter(client=client).order_by("created_at", "id")
    balance = client_balance(client=client).balance
    consent_history = [
        {"at": _when(e.at), "action": e.action, "note": e.note}
        for e in audit_about(client).filter(action__in=("consent given", "consent withdrawn")).order_by("at", "id")
    ]
    return {
        "format": "VetPMS subject access copy, version 1",
        "produced_at": _when(timezone.now()),
        "produced_by": str(by) if by is not None else "",
        "controller": {k: settings.PRACTICE[k] for k in ("name", "address", "phone", "email")},
        "clinical_history_included": share_clinical,
        "contact": {
            "client_number": client.pk,
            "name": client.display_name,
            "title": client.title,
            "first_name": client.first_name,
            "last_name": client.last_name,
            "organisation": client.organisation,
            "email": client.email,
            "phones": {f: display_phone(getattr(client, f)) for f in ("mobile_phone", "home_phone", "work_phone")},
            "address": client.address_lines,
            "preferred_channel": client.preferred_channel,
            "notes": client.notes,
            "active": client.is_active,
            "client_since": _when(client.created_at),
        },
        "consents": {
            "reminder_emails": client.reminder_consent,
            "changed_at": _when(client.consent_changed_at),
            "history": consent_history,
        },
        "animals": animal_rows,
        "appointments": [
            {
                "start": _when(a.start),
                "end": _when(a.end),
                "animal": a.animal.name,
                "vet": str(a.vet),
                "type": a.type.name,
                "reason": a.reason,
                "notes": a.notes,
                "status": a.status,
                "cancel_reason": a.cancel_reason,
            }
            for a in appointments
        ],
        "invoices": [
            {
                "reference": inv.reference,
                "kind": inv.kind,
                "status": inv.status,
                "issue_date": _day(inv.issue_date),
                "due_date": _day(inv.due_date),
                "name_on_document": inv.client_name,
                "address_on_document": inv.client_address,
                "net": _money(inv.net_total),
                "tax": _money(inv.tax_total),
                "gross": _money(inv.gross_total),
                "lines": [
                    {
                        "date": _day(line.service_date),
                        "animal": line.animal.name if line.animal else "",
                        "description": line.description,
                        "quantity": str(line.quantity.normalize()),
                        "gross": _money(line.gross),
                    }
                    for line in inv.lines.all()
                ],
            }
            for inv in invoices
        ],
        "payments": [
            {
                "received_on": _day(p.received_on),
                "kind": p.kind,
                "method": p.method,
                "amount": _money(p.amount),
                "reference": p.reference,
                "notes": p.notes,
                "voided": p.is_void,
            }
            for p in payments
        ],
        "balance": _money(balance),
        "reminders": [
            {"animal": r.animal.name, "type": r.type.name, "due_on": _day(r.due_on), "status": r.status}
            for r in reminders
        ],
        "emails_sent": [
            {
                "created_at": _when(d.created_at),
                "channel": d.channel,
                "status": d.status,
                "to": d.to_email,
                "subject": d.subject,
                "sent_at": _when(d.sent_at),
                "reason": d.reason,
            }
            for d in deliveries
        ],
        "audit": [
            {
                "at": _when(e.at),
                "by": e.actor_label,
                "record": f"{e.content_type.model} {e.object_repr}",
                "action": e.action,
                "changes": e.changes,
                "note": e.note,
            }
            for e in audit_about(client, animal_ids=animal_ids).select_related("content_type").order_by("at", "id")
        ],
    }


# --- Whose audit entries ------------------------------------------------------------------------------------------


def related_objects(client: Client, *, animal_ids: list[int] | None = None) -> list[tuple[type, list[int]]]:
    """The records whose audit entries are about this owner: the client, the animals they own or owned, their
    appointments and invoices, and their animals' consultations."""
    if animal_ids is None:
        animal_ids = [a.pk for a, _, _ in owned_animals(client)]
    return [
        (Client, [client.pk]),
        (Animal, animal_ids),
        (Appointment, list(Appointment.objects.filter(client=client).values_list("pk", flat=True))),
        (Invoice, list(Invoice.objects.filter(client=client).values_list("pk", flat=True))),
        (Consultation, list(Consultation.objects.filter(animal_id__in=animal_ids).values_list("pk", flat=True))),
    ]


def audit_about(client: Client, *, animal_ids: list[int] | None = None) -> QuerySet[AuditEntry]:
    if animal_ids is None:
        return AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Client), object_id=str(client.pk)
        )
    q = Q()
    for model, ids in related_objects(client, animal_ids=animal_ids):
        if ids:
            q |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids])
    return AuditEntry.objects.filter(q)


# --- Erasure: what stands in the way, and what must be kept -------------------------------------------------------


def erasure_blockers(client: Client, *, now: dt.datetime | None = None) -> list[str]:
    """Why ``client`` cannot be erased now (empty: they can). Money owed either way, a future appointment and a
    draft invoice with charges each keep the record whole until they are settled."""
    now = now or timezone.now()
    reasons: list[str] = []
    if Erasure.objects.filter(client=client).exists():
        return ["This owner's personal data has already been erased."]
    balance = client_balance(client=client).balance
    symbol = settings.CURRENCY_SYMBOL
    if balance > 0:
        reasons.append(f"The owner still owes {symbol}{balance:.2f}: settle the account first.")
    elif balance < 0:
        reasons.append(f"The practice owes the owner {symbol}{-balance:.2f} (credit): refund it first.")
    future = Appointment.objects.filter(client=client, end__gt=now).exclude(status__in=NON_BLOCKING).count()
    if future:
        reasons.append(f"The owner has {future} appointment{'s' if future > 1 else ''} to come: cancel them first.")
    drafts = Invoice.objects.filter(client=client, status=Invoice.Status.DRAFT, lines__isnull=False).distinct()
    if drafts.exists():
        reasons.append("A draft invoice holds charges for the owner: finalise it or remove its lines first.")
    return reasons


@dataclass
class Kept:
    kind: str
    count: int
    until: dt.date | None
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "until": _day(self.until), "why": self.why}

    @property
    def text(self) -> str:
        if self.until and self.until < timezone.localdate():
            # An owner erased by the retention task: the period is over, but frozen records stay as issued.
            return f"{self.count} {self.kind} kept: {self.why}; its period ended on {self.until:%d %b %Y}"
        until = f" until {self.until:%d %b %Y}" if self.until else ""
        return f"{self.count} {self.kind} kept{until}: {self.why}"


def kept_records(client: Client) -> list[Kept]:
    """What the law makes the practice keep after erasing ``client``, and until when."""
    from django.db.models import Max

    kept: list[Kept] = []
    fin, clin, med = (
        settings.RETENTION_FINANCIAL_YEARS,
        settings.RETENTION_CLINICAL_YEARS,
        settings.RETENTION_MEDICINES_YEARS,
    )
    issued = Invoice.objects.filter(client=client).exclude(status=Invoice.Status.DRAFT)
    row = issued.aggregate(last=Max("issue_date"))
    if row["last"]:
        kept.append(
            Kept(
                "issued invoices and credit notes",
                issued.count(),
                years_after(row["last"], fin),
                f"tax records ({fin} years); each keeps the name and address it was issued to",
            )
        )
    payments = Payment.objects.filter(client=client)
    row = payments.aggregate(last=Max("received_on"))
    if row["last"]:
        kept.append(
            Kept("payments and refunds", payments.count(), years_after(row["last"], fin), f"tax records ({fin} years)")
        )
    animal_ids = list(Animal.objects.filter(owner=client).values_list("pk", flat=True))
    consultations = Consultation.objects.filter(animal_id__in=animal_ids)
    row = consultations.aggregate(last=Max("opened_at"))
    if row["last"]:
        kept.append(
            Kept(
                "consultations",
                consultations.count(),
                years_after(to_local(row["last"]).date(), clin),
                f"clinical records ({clin} years), kept under the animal's name and the anonymised owner",
            )
        )
    vaccinations = Vaccination.objects.filter(animal_id__in=animal_ids)
    row = vaccinations.aggregate(last=Max("given_on"))
    if row["last"]:
        kept.append(
            Kept(
                "vaccinations",
                vaccinations.count(),
                years_after(row["last"], clin),
                f"clinical records ({clin} years)",
            )
        )
    medicines = Prescription.objects.filter(animal_id__in=animal_ids)
    row = medicines.aggregate(last=Max("dispensed_on"))
    if row["last"]:
        kept.append(
            Kept(
                "medicines dispensed",
                medicines.count(),
                years_after(row["last"], med),
                f"medicines records, controlled drugs included ({med} years)",
            )
        )
    return kept


def erasure_summary(client: Client) -> dict[str, int]:
    """How much the page's owner has of each kind (shown before a subject access copy or an erasure)."""
    animal_ids = [a.pk for a, _, _ in owned_animals(client)]
    return {
        "animals": len(animal_ids),
        "appointments": Appointment.objects.filter(client=client).count(),
        "invoices": Invoice.objects.filter(client=client).count(),
        "payments": Payment.objects.filter(client=client).count(),
        "reminders": Reminder.objects.filter(animal_id__in=animal_ids).count(),
        "emails": ReminderDelivery.objects.filter(client=client).count(),
        "audit entries": audit_about(client, animal_ids=animal_ids).count(),
    }


def erasures() -> QuerySet[Erasure]:
    return Erasure.objects.select_related("erased_by")


# --- Retention ----------------------------------------------------------------------------------------------------


@dataclass
class RetentionCandidate:
    client_id: int
    name: str
    blocked: str = ""


@dataclass
class RetentionPlan:
    """What the retention task does today: the owners it anonymises (and those it would, but cannot yet), and the
    reminder emails whose address and subject it clears."""

    as_of: dt.date
    clients: list[RetentionCandidate] = field(default_factory=list)
    email_log_ids: list[int] = field(default_factory=list)

    @property
    def to_erase(self) -> list[int]:
        return [c.client_id for c in self.clients if not c.blocked]


def retention_cutoffs(today: dt.date) -> dict[str, dt.date]:
    return {
        "inactive": years_before(today, settings.RETENTION_CLIENT_INACTIVE_YEARS),
        "financial": years_before(today, settings.RETENTION_FINANCIAL_YEARS),
        "clinical": years_before(today, settings.RETENTION_CLINICAL_YEARS),
        "medicines": years_before(today, settings.RETENTION_MEDICINES_YEARS),
        "email_log": years_before(today, settings.RETENTION_EMAIL_LOG_YEARS),
    }


def _start_of(day: dt.date) -> dt.datetime:
    from vetpms.timeutils import local_day_bounds

    return local_day_bounds(day)[0]


def retention_clients(today: dt.date) -> QuerySet[Client]:
    """Owners with no activity since the inactivity cut-off (no change to their record, booking, charge, payment,
    reminder email or new animal) and no record still inside its retention period, not yet erased; by id."""
    cut = retention_cutoffs(today)
    inactive_at = _start_of(cut["inactive"])
    owner = OuterRef("pk")
    recent = [
        Appointment.objects.filter(client=owner, start__gte=inactive_at),
        Invoice.objects.filter(client=owner).filter(
            Q(created_at__gte=inactive_at) | Q(issue_date__gte=min(cut["financial"], cut["inactive"]))
        ),
        Payment.objects.filter(client=owner, received_on__gte=min(cut["financial"], cut["inactive"])),
        ReminderDelivery.objects.filter(client=owner, created_at__gte=inactive_at),
        Animal.objects.filter(owner=owner, created_at__gte=inactive_at),
        Consultation.objects.filter(
            animal__owner=owner, opened_at__gte=_start_of(min(cut["clinical"], cut["inactive"]))
        ),
        Vaccination.objects.filter(animal__owner=owner, given_on__gte=min(cut["clinical"], cut["inactive"])),
        Prescription.objects.filter(animal__owner=owner, dispensed_on__gte=min(cut["medicines"], cut["inactive"])),
    ]
    qs = Client.objects.filter(updated_at__lt=inactive_at).exclude(Exists(Erasure.objects.filter(client=owner)))
    for sub in recent:
        qs = qs.exclude(Exists(sub))
    return qs.order_by("pk")


def retention_email_log(today: dt.date) -> QuerySet[ReminderDelivery]:
    """Reminder emails older than their period that still hold an address, a subject or a note."""
    before = _start_of(retention_cutoffs(today)["email_log"])
    return ReminderDelivery.objects.filter(created_at__lt=before).filter(
        ~Q(to_email="") | ~Q(subject="") | ~Q(last_error="") | ~Q(follow_up_note="")
    )


def retention_candidates(clients: list[Client], *, today: dt.date) -> list[RetentionCandidate]:
    """The owners past their period, each with what still stops the task (money either way, a booking to come)."""
    balances: dict[int, Any] = {}
    for start in range(0, len(clients), 500):
        balances.update(client_balances(client_ids=[c.pk for c in clients[start : start + 500]]))
    future: set[int] = set()
    for start in range(0, len(clients), 500):
        future.update(
            Appointment.objects.filter(
                client_id__in=[c.pk for c in clients[start : start + 500]], end__gt=_start_of(today)
            )
            .exclude(status__in=NON_BLOCKING)
            .values_list("client_id", flat=True)
        )
    result = []
    for client in clients:
        balance = balances[client.pk].balance
        blocked = ""
        if balance > 0:
            blocked = "still owes money"
        elif balance < 0:
            blocked = "has a credit to refund"
        elif client.pk in future:
            blocked = "has an appointment to come"
        result.append(RetentionCandidate(client.pk, client.list_name, blocked))
    return result


def retention_plan(*, today: dt.date | None = None, limit: int | None = None) -> RetentionPlan:
    """The dry run: exactly what ``services.retention_apply`` does with the same day and limit."""
    today = today or timezone.localdate()
    clients = retention_clients(today)
    log = retention_email_log(today).order_by("pk").values_list("pk", flat=True)
    return RetentionPlan(
        as_of=today,
        clients=retention_candidates(list(clients[:limit] if limit else clients), today=today),
        email_log_ids=list(log[:limit] if limit else log),
    )
