"""Erasing an owner: their details leave every table (checked by searching every text column of every model),
except the records the law keeps; refused while money is owed or a visit is to come; audited without the data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models.functions import Cast
from django.utils import timezone

from animals.models import Animal
from animals.selectors import search
from clients.models import Client
from exchange.datarights import selectors, services
from exchange.models import Erasure
from invoicing.models import Invoice
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reminders.models import ReminderDelivery
from tests.exchange.datarights.conftest import ADDRESS, EMAIL, FIRST, LAST, NEEDLES, make_owner
from vetpms.errors import DomainError
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db

# The records the law keeps with the owner's identity on them (README, "Owners' data rights"): an issued invoice
# or credit note froze the name and address it was issued to.
KEPT_COLUMNS = {("invoicing.Invoice", "client_name"), ("invoicing.Invoice", "client_address")}
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def tables_mentioning(needle: str) -> set[tuple[str, str, str]]:
    """(model, column, pk) of every row of every model whose text column holds ``needle`` (any case)."""
    hits: set[tuple[str, str, str]] = set()
    seen_tables: set[str] = set()
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in seen_tables:
            continue
        if meta.db_table not in connection.introspection.table_names():
            continue
        seen_tables.add(meta.db_table)
        for field in meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            qs = model._base_manager.all()
            if isinstance(field, models.JSONField):
                qs = qs.annotate(_as_text=Cast(field.name, models.TextField())).filter(_as_text__icontains=needle)
            else:
                qs = qs.filter(**{f"{field.name}__icontains": needle})
            for pk in qs.values_list("pk", flat=True):
                hits.add((meta.label, field.name, str(pk)))
    return hits


def test_the_scan_finds_the_owner_everywhere_before_the_erasure(household):
    """The scan itself works: before erasing, the owner's details are in the client row, the search text, the
    audit trail, the reminder email and the issued invoice."""
    found = {(model, column) for needle in NEEDLES for model, column, _ in tables_mentioning(needle)}
    for place in [
        ("clients.Client", "last_name"),
        ("clients.Client", "search_text"),
        ("animals.Animal", "search_text"),
        ("animals.Animal", "notes"),
        ("appointments.Appointment", "notes"),
        ("vetpms.AuditEntry", "changes"),
        ("vetpms.AuditEntry", "object_repr"),
        ("reminders.ReminderDelivery", "to_email"),
        ("reminders.ReminderDelivery", "subject"),
        ("invoicing.Invoice", "client_name"),
    ]:
        assert place in found, place


def test_erasure_removes_the_owner_from_every_table_but_the_kept_invoice(household, manager):
    owner = household.owner
    services.client_erase(client=owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")

    for needle in NEEDLES:
        left = {(model, column) for model, column, _ in tables_mentioning(needle)}
        assert left <= KEPT_COLUMNS, (needle, left - KEPT_COLUMNS)
    # The kept invoice is exactly the issued one, still as it was issued.
    invoice = Invoice.objects.get(pk=household.invoice.pk)
    assert invoice.status == Invoice.Status.FINALISED
    assert LAST in invoice.client_name and ADDRESS in invoice.client_address
    owner.refresh_from_db()
    assert owner.last_name == f"Erased client {owner.pk}" and not owner.is_active
    assert owner.email == owner.mobile_phone == owner.address_line1 == owner.postcode == ""
    assert "Kept as the law requires" in owner.notes and "issued invoices" in owner.notes
    assert search(query=LAST) == [] and search(query="07400 634502") == []
    assert not Animal.objects.get(pk=household.dog.pk).is_active
    # What was sent stays counted, not to whom.
    delivery = ReminderDelivery.objects.get(client=owner)
    assert delivery.status == ReminderDelivery.Status.SENT and delivery.to_email == ""
    assert delivery.subject == "Reminder for [erased]: Biscuit"


def test_the_erasure_records_what_was_kept_and_until_when(household, manager, settings):
    settings.RETENTION_FINANCIAL_YEARS = 6
    erasure = services.client_erase(client=household.owner, by=manager, confirm_name=f"{FIRST} {LAST}")
    kept = {k["kind"]: k for k in erasure.kept}
    issued = household.invoice.issue_date
    assert kept["issued invoices and credit notes"]["count"] == 1
    assert kept["issued invoices and credit notes"]["until"] == issued.replace(year=issued.year + 6).isoformat()
    assert kept["payments and refunds"]["count"] == 1
    assert kept["consultations"]["count"] == 1
    assert Erasure.objects.get(client=household.owner).erased_by == manager


def test_the_erasure_is_audited_without_the_erased_data(household, manager):
    services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    entry = AuditEntry.objects.get(action="personal data erased")
    assert entry.actor == manager and entry.object_id == str(household.owner.pk)
    assert entry.changes == {}
    text = f"{entry.object_repr} {entry.note} {entry.changes}".lower()
    for needle in NEEDLES:
        assert needle.lower() not in text
    assert "1 issued invoices and credit notes kept" in entry.note


def test_the_clients_own_audit_entries_lose_every_personal_value(household, manager):
    before = AuditEntry.objects.filter(object_id=str(household.owner.pk), action="update").get()
    assert before.changes["address_line1"] == ["7 Quarrystone Lane", ADDRESS]
    services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    after = AuditEntry.objects.get(pk=before.pk)
    assert after.changes["address_line1"] == ["[erased]", "[erased]"]


def test_erasure_is_refused_while_the_owner_owes_money(household, manager, receptionist, consult_fee):
    owner = household.owner
    draft = invoice_draft_for(client=owner, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=Decimal(1))
    invoice_finalise(invoice=draft, by=receptionist)
    with pytest.raises(DomainError, match=r"still owes £54\.00") as caught:
        services.client_erase(client=owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    assert caught.value.code == "erasure_refused"
    owner.refresh_from_db()
    assert owner.last_name == LAST and not Erasure.objects.exists()
    assert not AuditEntry.objects.filter(action="personal data erased").exists()


def test_erasure_is_refused_while_a_visit_is_to_come(household, manager, book):
    book(
        timezone.now().replace(hour=11, minute=0, second=0, microsecond=0) + dt.timedelta(days=4), animal=household.dog
    )
    assert any("appointment" in reason for reason in selectors.erasure_blockers(household.owner))
    with pytest.raises(DomainError, match="appointment to come"):
        services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")


def test_erasure_is_refused_without_the_owners_name_typed(household, manager):
    with pytest.raises(DomainError, match="Type the owner's name") as caught:
        services.client_erase(client=household.owner, by=manager, confirm_name="Someone Else")
    assert caught.value.field == "confirm_name"
    assert Client.objects.get(pk=household.owner.pk).last_name == LAST


def test_a_second_erasure_is_refused(household, manager):
    services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    owner = Client.objects.get(pk=household.owner.pk)
    with pytest.raises(DomainError, match="already been erased"):
        services.client_erase(client=owner, by=manager, confirm_name=owner.display_name)


def test_other_owners_are_untouched(household, manager, receptionist):
    other = make_owner(receptionist, first_name="Ottoline", last_name="Ferrabee", email="o.ferrabee@example.org",
                       mobile_phone="07400 634999", postcode="WX1 1AA", confirm_new=True)  # fmt: skip
    services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    other.refresh_from_db()
    assert (other.last_name, other.email, other.is_active) == ("Ferrabee", "o.ferrabee@example.org", True)
    assert AuditEntry.objects.filter(object_id=str(other.pk), object_repr__contains="Ferrabee").exists()


def test_the_owners_details_are_cut_out_as_whole_words():
    redactor = services.Redactor(["Ann", "Smith", "+447400634502"])
    text = "Annual booster for Ann Smith's dog; the Smiths called from +447400634502. Smithfield vets"
    assert (
        redactor.text(text)
        == "Annual booster for [erased] [erased] dog; the [erased] called from [erased]. Smithfield vets"
    )
    assert redactor.deep({"owner": [None, "ann SMITH"], "n": 3}) == {"owner": [None, "[erased] [erased]"], "n": 3}


def test_imports_lose_the_owners_details(household, manager):
    from exchange.models.importing import ImportFile, ImportIssue, ImportJob

    done = ImportJob.objects.create(source_system="OldVet", created_by=manager, status=ImportJob.Status.APPLIED)
    waiting = ImportJob.objects.create(source_system="OldVet", created_by=manager, status=ImportJob.Status.CHECKED)
    csv = f"Surname,Email\r\n{LAST},{EMAIL}\r\nOther,other@example.org\r\n".encode("cp1252")
    applied_file = ImportFile.objects.create(job=done, filename="clients.csv", kind="csv", content=csv, size=len(csv))
    other = b"Surname,Email\r\nOther,other@example.org\r\n"
    unrelated = ImportFile.objects.create(job=done, filename="b.csv", kind="csv", content=other, size=len(other))
    pending = ImportFile.objects.create(job=waiting, filename="c.csv", kind="csv", content=csv, size=len(csv))
    issue = ImportIssue.objects.create(
        job=done, file=applied_file, row_number=2, message=f"{EMAIL} is already the email of {FIRST} {LAST}"
    )
    services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    assert bytes(ImportFile.objects.get(pk=applied_file.pk).content) == b""
    assert bytes(ImportFile.objects.get(pk=unrelated.pk).content) == other
    assert bytes(ImportFile.objects.get(pk=pending.pk).content) == csv  # still needed to apply the dry run
    assert ImportIssue.objects.get(pk=issue.pk).message == "[erased] is already the email of [erased]"


def test_webhook_messages_about_the_owner_lose_their_details(household, manager):
    import json as _json

    from exchange.models.webhooks import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.org/in", secret="whsec_dGVzdA==")
    body = _json.dumps({"type": "client.updated", "data": {"name": f"{FIRST} {LAST}", "email": EMAIL}})
    other_body = _json.dumps({"type": "client.updated", "data": {"name": "Ottoline Ferrabee"}})

    def delivery(key: str, payload: str) -> WebhookDelivery:
        now = timezone.now()
        return WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="client.updated", object_key=key, msg_id=f"msg_{key}",
            payload=payload, next_attempt_at=now, created_at=now,
        )  # fmt: skip

    about = delivery(f"clients.client:{household.owner.pk}", body)
    unrelated = delivery("clients.client:999999", other_body)
    services.client_erase(client=household.owner, by=manager, confirm_name=f"Mr {FIRST} {LAST}")
    data = _json.loads(WebhookDelivery.objects.get(pk=about.pk).payload)["data"]
    assert data == {"name": "[erased]", "email": "[erased]"}
    assert WebhookDelivery.objects.get(pk=unrelated.pk).payload == other_body


def _owner_with_history(receptionist, surname: str, size: int) -> Client:
    """An owner whose details sit in ``size`` reminder notes and ``size`` audited changes of their record."""
    from clients.services import client_update
    from reminders.models import Reminder, ReminderType

    owner = make_owner(receptionist, first_name="Hester", last_name=surname, email=f"{surname.lower()}@example.org",
                       mobile_phone=None, confirm_new=True)  # fmt: skip
    pet = Animal.objects.create(name="Bramble", owner=owner, species_id=Animal.objects.values("species_id")[:1])
    kind, _ = ReminderType.objects.get_or_create(
        name="Recheck", defaults={"interval": 6, "interval_unit": "months", "stages": [0], "subject": "s"}
    )
    past = timezone.localdate() - dt.timedelta(days=400)
    notes = [(past - dt.timedelta(days=n), f"{surname} asked us to call back ({n})") for n in range(size)]
    Reminder.objects.bulk_create(
        Reminder(animal=pet, type=kind, due_on=day, status="cancelled", note=note) for day, note in notes
    )
    for n in range(size):
        client_update(client=owner, by=receptionist, data={"town": f"{surname}ton {n}"})
    return owner


def test_the_erasure_costs_the_same_queries_whatever_the_owners_history(household, manager, receptionist):
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for surname, size in (("Pellow", 2), ("Trevanion", 40)):
        owner = _owner_with_history(receptionist, surname, size)
        with CaptureQueriesContext(connection) as captured:
            services.client_erase(client=owner, by=manager, confirm_name=f"Hester {surname}")
        counts[size] = len(captured.captured_queries)
        assert not tables_mentioning(surname) - KEPT_COLUMNS  # the batched writes still reach every row
    assert counts[40] == counts[2], counts
