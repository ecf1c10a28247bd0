"""Each client's balance kept beside the documents (invoicing.models.ClientBalance) equals the account page's
balance after every change made through the services, is rebuilt by one statement to the same rows, and the
receivables report as of today, which reads it, gives the figures computed from every document."""

import datetime as dt
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.models import Client
from invoicing import balances
from invoicing.models import ClientBalance
from invoicing.selectors import client_balance
from invoicing.services import (
    claim_create,
    claim_decide,
    claim_submit,
    credit_note_issue,
    invoice_void,
    payment_record,
    payment_void,
    refund_record,
)
from reports.builders.common import fetch_all, money
from reports.builders.receivables import client_balances_sql, receivables_as_of
from tests.factories import AnimalFactory
from tests.invoicing.conftest import new_invoice

pytestmark = pytest.mark.django_db
D = Decimal


def kept() -> dict[int, Decimal]:
    return dict(ClientBalance.objects.values_list("client_id", "balance"))


def computed() -> dict[int, Decimal]:
    """Every client's balance as the account page computes it, leaving out the square ones."""
    figures = {client.pk: client_balance(client=client).balance for client in Client.objects.all()}
    return {pk: balance for pk, balance in figures.items() if balance != 0}


def test_the_balance_follows_each_change(owner_pet, consult_fee, rabies, receptionist, manager, policy):
    client, pet = owner_pet
    assert kept() == {}
    first = new_invoice(client, pet, consult_fee, receptionist)  # 54.00
    assert kept() == {client.pk: D("54.00")}

    paid = payment_record(client=client, amount=D("60.00"), method="card", by=receptionist)
    assert kept() == {client.pk: D("-6.00")}  # paid 6.00 over: in credit
    refund_record(client=client, amount=D("6.00"), method="cash", by=receptionist)
    assert kept() == {}  # square: no row
    payment_void(payment=paid, by=manager, reason="card terminal charged the wrong client")
    assert kept() == {client.pk: D("60.00")}  # the invoice is unpaid again, the refund still went out

    credit_note_issue(invoice=first, by=manager, reason="goodwill")
    assert kept() == {client.pk: D("6.00")}

    second = new_invoice(client, pet, rabies, receptionist)  # 46.20
    claim = claim_create(invoice=second, policy=policy, lines=list(second.lines.all()), by=receptionist)
    assert kept() == {client.pk: D("52.20")}  # a draft claim does not share
    claim_submit(claim=claim, by=receptionist)
    assert kept() == {client.pk: D("16.00")}  # the insurer's share less the 10.00 excess
    claim_decide(claim=claim, by=receptionist, accepted=D("0"))
    assert kept() == {client.pk: D("52.20")}  # declined: the whole invoice is the client's again

    third = new_invoice(client, pet, consult_fee, receptionist)
    invoice_void(invoice=third, by=manager, reason="wrong client")
    assert kept() == computed() == {client.pk: client_balance(client=client).balance}


def test_random_histories_keep_the_balances_exact_and_the_report_unchanged(consult_fee, rabies, receptionist, manager):
    rng = random.Random(11)
    pets = [AnimalFactory() for _ in range(6)]
    invoices, payments = [], []
    for _ in range(45):
        pet = rng.choice(pets)
        action = rng.random()
        if action < 0.4 or not invoices:
            product = rng.choice([consult_fee, rabies])
            invoices.append(new_invoice(pet.owner, pet, product, receptionist, rng.randint(1, 3)))
        elif action < 0.7:
            amount = D(rng.choice(["5.00", "20.00", "54.00", "100.00", "250.00"]))
            payments.append(payment_record(client=pet.owner, amount=amount, method="card", by=receptionist))
        elif action < 0.8 and payments:
            payment = payments.pop(rng.randrange(len(payments)))
            payment_void(payment=payment, by=manager, reason="taken twice")
        elif action < 0.9:
            credit = -client_balance(client=pet.owner).balance
            if credit >= D("0.02"):  # half of it back, so some credit stays on account
                half = (credit / 2).quantize(D("0.01"))
                refund_record(client=pet.owner, amount=half, method="cash", by=receptionist)
        else:
            target = rng.choice(invoices)
            target.refresh_from_db()
            if target.status == "finalised":
                credit_note_issue(invoice=target, by=manager, reason="adjusted", lines=[(target.lines.first(), D(1))])
    assert kept() == computed()
    assert any(balance < 0 for balance in kept().values()) and any(balance > 0 for balance in kept().values())

    today = timezone.localdate()
    from_documents = {pk: money(total) for pk, total in fetch_all(*client_balances_sql(today))}
    assert from_documents == kept()
    report = receivables_as_of(today)
    assert {pk: row["balance"] for pk, row in report.clients.items() if row["balance"]} == kept()
    yesterday = receivables_as_of(today - dt.timedelta(days=1))  # before any of it: read from the documents
    assert all(row["balance"] == 0 for row in yesterday.clients.values())

    ClientBalance.objects.all().delete()
    assert balances.rebuild() == len(computed())
    assert kept() == computed()


def test_the_rebuild_command_restores_lost_balances(owner_pet, consult_fee, receptionist):
    client, pet = owner_pet
    new_invoice(client, pet, consult_fee, receptionist)
    ClientBalance.objects.all().delete()
    out = StringIO()
    call_command("rebuild_open_invoices", stdout=out)
    assert kept() == {client.pk: D("54.00")}
    assert "Clients with a balance: 1." in out.getvalue()
