"""Writes for owners' data rights: erasing an owner, and the retention schedule that anonymises what has passed
its period.

Erasing an owner (``client_erase``), in one transaction:

- refused, with the reasons, while money is owed either way, an appointment is to come or a draft invoice holds
  charges (``selectors.erasure_blockers``);
- the client record keeps only its number, the placeholder name "Erased client <number>" and a note saying when
  and why, and which records were kept until when; its search text is rebuilt, so search no longer finds them,
  and the animals' search text with it (the clients' ``client_changed`` hook, which also cancels pending
  reminders as for a deactivated owner);
- the free text that may hold their details is cleared or has their details cut out: their animals' notes,
  ownership notes, appointment notes and status notes, reminder notes, claim notes; reminder emails lose the
  address, error text and follow-up notes, and the subject and reason have the owner's details replaced by
  "[erased]"; emails not yet sent are skipped;
- audit entries about the owner, their animals, appointments, invoices and consultations have the owner's
  details replaced by "[erased]" in what they recorded (``object_repr``, ``changes``, ``note``), and every
  personal field of the client's own entries is blanked whatever it held then (an old address, a former email);
- kept, because the law requires it (``selectors.kept_records``): issued invoices and credit notes, which froze
  the name and address they were issued to (database triggers keep them so; this code never touches them),
  payments, and the clinical record (consultations, vaccinations, medicines, files) under the animal's name;
- the erasure is recorded (``Erasure``) and audited, with counts and dates only, never the erased values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from animals.models import Animal, Ownership
from appointments.models import Appointment, AppointmentEvent
from clients.models import PHONE_FIELDS, Client
from clients.signals import client_changed
from exchange.datarights import selectors
from exchange.models import Erasure
from invoicing.models import Claim, Invoice
from reminders.models import Reminder, ReminderDelivery, ReminderNotice
from vetpms import audit
from vetpms.errors import DomainError
from vetpms.models import AuditEntry, User
from vetpms.phones import display_phone, phone_search_forms

REDACTED = "[erased]"
MIN_NEEDLE = 3  # shorter strings (initials, "Mr") are too common to cut out of other text safely


# --- Cutting an owner's details out of text -----------------------------------------------------------------------


def personal_strings(client: Client, *, history: Iterable[dict[str, Any]] = ()) -> set[str]:
    """The strings that identify ``client``: names, email, phone numbers in the forms people write them, address
    lines and postcode; plus any value of a personal field in ``history`` (their audit snapshots)."""
    values: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str) and len(value.strip()) >= MIN_NEEDLE:
            values.add(value.strip())

    for name in (
        "first_name",
        "last_name",
        "organisation",
        "email",
        "address_line1",
        "address_line2",
        "town",
        "postcode",
    ):
        add(getattr(client, name))
    add(client.person_name)
    add(client.display_name)
    add(f"{client.first_name} {client.last_name}")
    add(f"{client.last_name}, {client.first_name}")
    add(client.postcode.replace(" ", ""))
    for name in PHONE_FIELDS:
        number = getattr(client, name)
        if number:
            add(number)
            add(display_phone(number))
            for form in phone_search_forms(number):
                add(form)
    if "@" in client.email:
        add(client.email.split("@", 1)[0])
    for changes in history:
        for name, value in changes.items():
            if name in selectors.PERSONAL_FIELDS and name != "notes":
                for item in value if isinstance(value, list) else [value]:
                    add(item)
    return values


class Redactor:
    """Replaces every occurrence of the owner's strings (whole words, any case, with a plural or possessive "s")
    with "[erased]". Whole words only: a first name "Ann" must not cut "Annual booster" in two."""

    def __init__(self, needles: Iterable[str]) -> None:
        ordered = sorted({n for n in needles if n}, key=len, reverse=True)
        self.needles = ordered
        self.pattern = (
            re.compile("|".join(rf"(?<!\w){re.escape(n)}(?:['\u2019]?s)?(?!\w)" for n in ordered), re.IGNORECASE)
            if ordered
            else None
        )

    def text(self, value: str) -> str:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(REDACTED, value)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        return value


BATCH = 500  # rows written per statement: an owner with years of history costs a few queries, not one a row


def _redact_rows(queryset, fields: list[str], redactor: Redactor) -> int:
    """Cut the owner's strings out of ``fields`` of every row (only rows that change are written, in batches)."""
    changed = []
    for row in queryset.only("pk", *fields).iterator(chunk_size=BATCH):
        redacted = {f: redactor.text(getattr(row, f)) for f in fields}
        if any(v != getattr(row, f) for f, v in redacted.items()):
            for f, v in redacted.items():
                setattr(row, f, v)
            changed.append(row)
    if changed:
        type(changed[0]).objects.bulk_update(changed, fields, batch_size=BATCH)
    return len(changed)


def _redact_audit(client: Client, redactor: Redactor, *, animal_ids: list[int]) -> int:
    client_type = ContentType.objects.get_for_model(Client)
    entries: list[AuditEntry] = []
    for entry in selectors.audit_about(client, animal_ids=animal_ids):
        changes = redactor.deep(entry.changes)
        if entry.content_type_id == client_type.pk and isinstance(changes, dict):
            changes = {
                k: ([REDACTED if x not in (None, "") else x for x in v] if isinstance(v, list) else REDACTED)
                if k in selectors.PERSONAL_FIELDS
                else v
                for k, v in changes.items()
            }
        repr_ = str(client) if entry.content_type_id == client_type.pk else redactor.text(entry.object_repr)
        note = redactor.text(entry.note)
        if (changes, repr_, note) != (entry.changes, entry.object_repr, entry.note):
            entry.changes, entry.object_repr, entry.note = changes, repr_[:200], note
            entries.append(entry)
    AuditEntry.objects.bulk_update(entries, ["changes", "object_repr", "note"], batch_size=BATCH)
    logs = list(LogEntry.objects.filter(content_type=client_type, object_id=str(client.pk)))
    for log in logs:
        log.object_repr, log.change_message = str(client)[:200], redactor.text(log.change_message)
    LogEntry.objects.bulk_update(logs, ["object_repr", "change_message"], batch_size=BATCH)
    return len(entries)


# --- Erasure ------------------------------------------------------------------------------------------------------


def _same_name(typed: str, client: Client) -> bool:
    def norm(value: str) -> str:
        return " ".join(value.split()).casefold()

    names = {client.display_name, client.person_name, f"{client.first_name} {client.last_name}"}
    return bool(typed.strip()) and norm(typed) in {norm(n) for n in names}


@transaction.atomic
def client_erase(
    *,
    client: Client,
    by: User | None,
    confirm_name: str | None = None,
    source: str = Erasure.Source.REQUEST,
    now: dt.datetime | None = None,
) -> Erasure:
    """Erase ``client``'s personal data (the module's docstring says what that means). ``confirm_name`` must be
    the owner's name as shown (a request by a person; the retention task passes ``None`` with its own source)."""
    now = now or timezone.now()
    client = Client.objects.select_for_update().get(pk=client.pk)
    if source == Erasure.Source.REQUEST and not _same_name(confirm_name or "", client):
        raise DomainError(
            "Type the owner's name exactly as shown to confirm the erasure.", field="confirm_name", code="confirm"
        )
    blockers = selectors.erasure_blockers(client, now=now)
    if blockers:
        raise DomainError("The owner cannot be erased yet: " + " ".join(blockers), code="erasure_refused")

    animal_ids = [a.pk for a, _, _ in selectors.owned_animals(client)]
    history = [e.changes for e in selectors.audit_about(client) if isinstance(e.changes, dict)]
    redactor = Redactor(personal_strings(client, history=history))
    kept = selectors.kept_records(client)
    source_label = Erasure.Source(source).label.lower()
    note = f"Personal data erased on {timezone.localdate(now):%d %b %Y} ({source_label})."
    if kept:
        note += " Kept as the law requires: " + "; ".join(k.text for k in kept) + "."

    # The client record: only its number and a placeholder name remain.
    client.title = client.first_name = client.organisation = client.email = ""
    client.last_name = f"Erased client {client.pk}"
    for name in (*PHONE_FIELDS, "address_line1", "address_line2", "town", "county", "postcode", "country"):
        setattr(client, name, "")
    client.notes = note[:5000]
    client.reminder_consent = False
    client.consent_changed_at = now
    client.is_active = False
    client.search_text = client.build_search_text()
    client.save()
    client_changed.send(
        sender=Client, client=client, fields={"is_active", "last_name", "email", *PHONE_FIELDS}, search_changed=True
    )

    # Free text elsewhere that may carry their details.
    Animal.objects.filter(owner=client).exclude(notes="").update(notes="")
    Animal.objects.filter(owner=client, is_active=True).update(is_active=False)
    Ownership.objects.filter(client=client).exclude(note="").update(note="")
    appointments = Appointment.objects.filter(client=client)
    appointments.exclude(notes="").update(notes="")
    _redact_rows(appointments, ["reason", "cancel_reason"], redactor)
    _redact_rows(AppointmentEvent.objects.filter(appointment__client=client).exclude(note=""), ["note"], redactor)
    _redact_rows(Reminder.objects.filter(animal_id__in=animal_ids).exclude(note=""), ["note"], redactor)
    _redact_rows(Claim.objects.filter(invoice__client=client).exclude(notes=""), ["notes"], redactor)
    Invoice.objects.filter(client=client, status=Invoice.Status.DRAFT).delete()  # empty drafts (blockers: no lines)

    # Reminder emails: what was sent stays counted, not to whom.
    deliveries = ReminderDelivery.objects.filter(client=client)
    unsent = [ReminderDelivery.Status.PENDING, ReminderDelivery.Status.RETRY]
    ReminderNotice.objects.filter(delivery__in=deliveries.filter(status__in=unsent)).update(
        status=ReminderNotice.Status.SKIPPED, skip_reason="owner's data erased"
    )
    deliveries.filter(status__in=unsent).update(status=ReminderDelivery.Status.SKIPPED, next_attempt_at=None)
    deliveries.update(to_email="", last_error="", follow_up_note="")
    _redact_rows(deliveries, ["subject", "reason"], redactor)
    ReminderNotice.objects.filter(
        reminder__animal_id__in=animal_ids, status=ReminderNotice.Status.PENDING, delivery__isnull=True
    ).update(status=ReminderNotice.Status.SKIPPED, skip_reason="owner's data erased")

    _erase_from_imports(redactor)
    _erase_from_webhooks(client, redactor, animal_ids=animal_ids)

    for hook in ERASURE_HOOKS:
        hook(client=client, redactor=redactor, animal_ids=animal_ids)

    _redact_audit(client, redactor, animal_ids=animal_ids)
    erasure = Erasure.objects.create(
        client=client, erased_at=now, erased_by=by, source=source, kept=[k.as_dict() for k in kept]
    )
    audit.record(
        actor=by,
        obj=client,
        action="personal data erased",
        changes={},
        note=f"{Erasure.Source(source).label}. " + "; ".join(f"{k.count} {k.kind} kept" for k in kept),
    )
    return erasure


def _erase_from_imports(redactor: Redactor) -> None:
    """Imports (exchange.importing) keep their issues' messages and the uploaded files: messages naming the owner
    lose their details, and the uploaded file of a finished import (imported, cancelled or failed) that holds them
    is dropped (its counts, issues and mapping stay). A dry run still waiting to be applied keeps its file: it
    would be needed to apply it, and applying it would bring the owner back; the page says so."""
    from exchange.models.importing import ImportFile, ImportIssue, ImportJob

    long_needles = [n for n in redactor.needles if len(n) >= 5]
    if not long_needles:
        return
    mentions = Q()
    for needle in long_needles:
        mentions |= Q(message__icontains=needle)
    _redact_rows(ImportIssue.objects.filter(mentions), ["message"], redactor)
    finished = [ImportJob.Status.APPLIED, ImportJob.Status.CANCELLED, ImportJob.Status.FAILED]
    wanted = {enc: [n.lower().encode(enc, "ignore") for n in long_needles] for enc in ("utf-8", "cp1252")}
    for row in ImportFile.objects.filter(job__status__in=finished).exclude(size=0).only("pk", "content").iterator():
        data = bytes(row.content or b"").lower()
        if any(n and n in data for needles in wanted.values() for n in needles):
            ImportFile.objects.filter(pk=row.pk).update(content=b"", size=0)


def _erase_from_webhooks(client: Client, redactor: Redactor, *, animal_ids: list[int]) -> None:
    """The webhook outbox (exchange.webhooks) keeps each message's exact body: the bodies about the owner, their
    animals, appointments, invoices and consultations, and any other naming them, have the owner's details cut
    out (a message still to be sent goes out so; its signature is made when it is sent)."""
    from exchange.models.webhooks import WebhookDelivery

    keys = [
        f"{model._meta.label_lower}:{pk}"
        for model, ids in selectors.related_objects(client, animal_ids=animal_ids)
        for pk in ids
    ]
    about = Q()
    for start in range(0, len(keys), 500):
        about |= Q(object_key__in=keys[start : start + 500])
    for needle in (n for n in redactor.needles if len(n) >= 5):
        about |= Q(payload__icontains=needle)
    _redact_rows(WebhookDelivery.objects.filter(about), ["payload", "last_error"], redactor)


# Higher or parallel parts (the webhook outbox) register a callable(client=, redactor=, animal_ids=) here to cut
# the owner's details out of their own rows inside the erasure's transaction.
ERASURE_HOOKS: list = []


# --- Retention ----------------------------------------------------------------------------------------------------


def retention_apply(*, today: dt.date | None = None, limit: int | None = None) -> selectors.RetentionPlan:
    """Do what ``selectors.retention_plan`` lists for ``today``: erase each owner past their period (each in its
    own transaction, source "retention") and clear old reminder emails' addresses. Returns what it did, in the
    plan's shape; an owner who became blocked meanwhile is reported as blocked and left alone."""
    today = today or timezone.localdate()
    plan = selectors.retention_plan(today=today, limit=limit)
    done = selectors.RetentionPlan(as_of=today)
    for candidate in plan.clients:
        if not candidate.blocked:
            try:
                client_erase(client=Client(pk=candidate.client_id), by=None, source=Erasure.Source.RETENTION)
            except DomainError as exc:
                candidate = selectors.RetentionCandidate(candidate.client_id, candidate.name, str(exc))
        done.clients.append(candidate)
    for start in range(0, len(plan.email_log_ids), 1000):
        ids = plan.email_log_ids[start : start + 1000]
        with transaction.atomic():
            ReminderDelivery.objects.filter(pk__in=ids).update(
                to_email="", subject="", last_error="", follow_up_note=""
            )
        done.email_log_ids.extend(ids)
    return done
