"""The list of open invoices (invoicing.models.OpenInvoice) follows every change made through the services, is
rebuilt by one statement to the same set, and the receivables report read through it gives the same figures as
read from every invoice."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing import open_invoices
from invoicing.models import Invoice, OpenInvoice
from invoicing.selectors import client_outstanding
from invoicing.services import (
    apply_client_credit,
    claim_create,
    claim_decide,
    claim_submit,
    claim_withdraw,
    credit_note_issue,
    invoice_void,
    payment_record,
)
from reports.builders.common import fetch_all
from reports.builders.receivables import client_open_items_sql
from tests.factories import AnimalFactory
from tests.invoicing.conftest import new_invoice

pytestmark = pytest.mark.django_db
D = Decimal


def listed() -> set[int]:
    return set(OpenInvoice.objects.values_list("invoice_id", flat=True))


def truly_open() -> set[int]:
    issued = Invoice.objects.filter(kind="invoice", status__in=["finalised", "void"])
    return {invoice.pk for invoice in issued if client_outstanding(invoice) > 0}


def test_the_list_follows_each_change(owner_pet, consult_fee, rabies, receptionist, manager, policy):
    client, pet = owner_pet
    first = new_invoice(client, pet, consult_fee, receptionist)  # 54.00
    assert listed() == {first.pk}

    payment_record(client=client, amount=D("20.00"), method="card", by=receptionist)
    assert listed() == {first.pk}  # part paid
    payment_record(client=client, amount=D("34.00"), method="card", by=receptionist)
    assert listed() == set()  # paid

    credit_note_issue(invoice=first, by=manager, reason="goodwill")
    assert listed() == set()  # credited after payment: the client is owed money, nothing is open

    second = new_invoice(client, pet, rabies, receptionist)  # 46.20
    claim = claim_create(invoice=second, policy=policy, lines=list(second.lines.all()), by=receptionist)
    assert listed() == {second.pk}  # a draft claim does not share
    claim_submit(claim=claim, by=receptionist)
    assert listed() == {second.pk}  # the insurer's share, less the excess: 10.00 left to the client
    payment_record(client=client, amount=D("10.00"), method="cash", by=receptionist)
    assert listed() == set()
    claim_decide(claim=claim, by=receptionist, accepted=D("0"))
    assert listed() == {second.pk}  # declined: the whole invoice is the client's again

    third = new_invoice(client, pet, consult_fee, receptionist)
    invoice_void(invoice=third, by=manager, reason="wrong client")
    assert third.pk not in listed()
    assert listed() == truly_open()


def test_a_claim_partly_accepted_reopens_and_credit_on_account_closes(
    owner_pet, consult_fee, receptionist, manager, policy
):
    client, pet = owner_pet
    invoice = new_invoice(client, pet, consult_fee, receptionist)  # 54.00, claimed 44.00 after the excess
    draft = claim_create(invoice=invoice, policy=policy, lines=list(invoice.lines.all()), by=receptionist)
    claim_withdraw(claim=draft, by=receptionist)
    assert listed() == {invoice.pk}
    claim = claim_create(invoice=invoice, policy=policy, lines=list(invoice.lines.all()), by=receptionist)
    claim_submit(claim=claim, by=receptionist)
    payment_record(client=client, amount=D("10.00"), method="card", by=receptionist)
    assert listed() == set()
    claim_decide(claim=claim, by=receptionist, accepted=D("40.00"))
    assert listed() == {invoice.pk}  # the insurer pays 4.00 less: the client owes it
    payment_record(client=client, amount=D("4.00"), method="card", by=receptionist, allocate_to=[])
    assert listed() == {invoice.pk}  # paid on account, not yet allocated
    apply_client_credit(client=client, by=receptionist)
    assert listed() == set() == truly_open()


def test_random_histories_keep_the_list_exact_and_the_report_unchanged(consult_fee, rabies, receptionist, manager):
    rng = random.Random(7)
    pets = [AnimalFactory() for _ in range(6)]
    invoices = []
    for _ in range(40):
        pet = rng.choice(pets)
        action = rng.random()
        if action < 0.45 or not invoices:
            invoices.append(
                new_invoice(pet.owner, pet, rng.choice([consult_fee, rabies]), receptionist, rng.randint(1, 3))
            )
        elif action < 0.8:
            owner = rng.choice(pets).owner
            payment_record(
                client=owner, amount=D(rng.choice(["5.00", "20.00", "54.00", "100.00"])), method="card", by=receptionist
            )
        else:
            target = rng.choice(invoices)
            target.refresh_from_db()
            if target.status == "finalised" and rng.random() < 0.5:
                credit_note_issue(invoice=target, by=manager, reason="adjusted", lines=[(target.lines.first(), D(1))])
    assert listed() == truly_open()

    today = timezone.localdate()
    through_list = sorted(fetch_all(*client_open_items_sql(today, open_list=True)))
    through_all = sorted(fetch_all(*client_open_items_sql(today, open_list=False)))
    assert through_list == through_all and through_all

    OpenInvoice.objects.all().delete()
    assert open_invoices.rebuild() == len(truly_open())
    assert listed() == truly_open()


def test_a_payment_dated_after_the_day_still_counts_as_open_that_day(owner_pet, consult_fee, receptionist, monkeypatch):
    client, pet = owner_pet
    invoice = new_invoice(client, pet, consult_fee, receptionist)
    today = timezone.localdate()
    a_day_later = timezone.now() + dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: a_day_later)  # paid the next day (a payment is never dated ahead)
    payment_record(client=client, amount=D("54.00"), method="bank_transfer", by=receptionist)
    assert listed() == set()  # the list follows what is recorded
    rows = fetch_all(*client_open_items_sql(today, open_list=True))
    assert rows == fetch_all(*client_open_items_sql(today, open_list=False))
    assert [r[0] for r in rows] == [client.pk]  # still owed at the end of today
    assert invoice.pk not in listed()


def test_the_rebuild_command_restores_a_lost_list(owner_pet, consult_fee, receptionist):
    from io import StringIO

    from django.core.management import call_command

    client, pet = owner_pet
    invoice = new_invoice(client, pet, consult_fee, receptionist)
    OpenInvoice.objects.all().delete()
    out = StringIO()
    call_command("rebuild_open_invoices", stdout=out)
    assert listed() == {invoice.pk} and "1 open invoices listed." in out.getvalue()
