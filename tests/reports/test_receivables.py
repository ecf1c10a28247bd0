"""Receivables as of a day, against the client's account (invoicing.selectors.client_balance) and figures worked
out by hand: ageing by the invoice's issue date, overdue by its due date, the insurers' shares per payor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from invoicing.models import Payor
from invoicing.selectors import client_balance
from reports.base import ReportParams
from reports.builders.receivables import receivables, receivables_as_of
from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ledger(books, vets):
    ng, _ = vets
    a = AnimalFactory(owner=ClientFactory(last_name="Adams", mobile_phone="+447700900123"))
    b = AnimalFactory(owner=ClientFactory(last_name="Brown"))
    c = AnimalFactory(owner=ClientFactory(last_name="Clark"))
    old = books.invoice((2025, 1, 10, 10), [("consult", 1, ng)], pet=a)  # 54.00, due 9 Feb
    newer = books.invoice((2025, 3, 20, 10), [("xray", 1, ng)], pet=a)  # 144.00, due 19 Apr
    books.pay(a.owner, "30.00", dt.date(2025, 2, 1))  # to the oldest: 24.00 left on it
    claimed = books.invoice((2025, 4, 25, 10), [("vaccine", 1, ng)], pet=b)  # 46.20
    agria = Payor.objects.create(name="Agria")
    books.claim(claimed, books.policy(b, agria), dt.date(2025, 4, 26), accepted="40.00")
    books.invoice((2025, 4, 1, 10), [("food", 1, None)], pet=c)  # 12.99
    books.pay(c.owner, "20.00", dt.date(2025, 4, 2))  # 7.01 more than owed: their credit
    books.pay(a.owner, "24.00", dt.date(2025, 5, 5))  # after the day asked about
    return {"a": a.owner, "b": b.owner, "c": c.owner, "agria": agria, "old": old, "newer": newer}


def test_ages_balances_and_overdue_as_of_the_period_end(ledger):
    data = receivables_as_of(dt.date(2025, 4, 30))
    a, b, c = (data.clients[ledger[k].pk] for k in "abc")
    assert (a["d0_30"], a["d31_60"], a["d61_90"], a["d90"]) == (D("0.00"), D("144.00"), D("0.00"), D("24.00"))
    assert a["overdue"] == D("168.00") and a["balance"] == D("168.00") and a["credit"] == D("0.00")
    assert a["oldest_due"] == dt.date(2025, 2, 9)
    assert (b["d0_30"], b["balance"], b["overdue"]) == (D("6.20"), D("6.20"), D("0.00"))
    assert (c["d0_30"], c["credit"], c["balance"]) == (D("0.00"), D("-7.01"), D("-7.01"))
    (agria,) = data.payors.values()
    assert (agria["d0_30"], agria["balance"], agria["overdue"], agria["claims"]) == (
        D("40.00"),
        D("40.00"),
        D("0.00"),
        1,
    )
    assert data.overdue_total == D("168.00")


def test_each_clients_total_is_the_balance_their_account_shows(ledger):
    for as_of in (dt.date(2025, 1, 31), dt.date(2025, 3, 31), dt.date(2025, 4, 30), dt.date(2025, 6, 30)):
        data = receivables_as_of(as_of)
        for client in (ledger["a"], ledger["b"], ledger["c"]):
            expected = client_balance(client=client, upto=as_of).balance
            row = data.clients.get(client.pk)
            assert (row["balance"] if row else D("0.00")) == expected, (client, as_of)
            if row:
                assert row["d0_30"] + row["d31_60"] + row["d61_90"] + row["d90"] + row["credit"] == row["balance"]


def test_the_report_tables_and_contact_details(ledger):
    result = receivables(ReportParams(dt.date(2025, 4, 1), dt.date(2025, 4, 30)))
    clients, insurers = result.rows
    assert clients["who"] == "Clients" and clients["balance"] == D("167.19") and clients["overdue"] == D("168.00")
    assert insurers["who"] == "Insurers" and insurers["d0_30"] == D("40.00")
    assert result.totals["balance"] == D("207.19")
    overdue = next(s for s in result.sections if s.title == "Overdue clients")
    (row,) = overdue.rows
    assert (
        row["name"].endswith("Adams") and row["phone"].endswith("7700 900123") and row["email"].endswith("@example.com")
    )
    per_client = next(s for s in result.sections if s.title == "Per client")
    assert [r["balance"] for r in per_client.rows] == [D("168.00"), D("6.20"), D("-7.01")]
    assert per_client.totals["balance"] == D("167.19")
    assert result.chart.series[0] == ("Clients", [D("6.20"), D("144.00"), D("0.00"), D("24.00")])
    only_agria = receivables(ReportParams(dt.date(2025, 4, 1), dt.date(2025, 4, 30), payor_ids=(ledger["agria"].pk,)))
    assert [s.title for s in only_agria.sections] == ["Per payor (insurers' shares not yet paid)"]


def test_a_payment_after_the_day_does_not_count_and_a_settled_claim_is_gone(ledger, books):
    later = receivables_as_of(dt.date(2025, 5, 31))
    assert later.clients[ledger["a"].pk]["d90"] == D("0.00")  # the 24.00 paid on 5 May
    claim = ledger["agria"].policies.get().claims.get()
    from invoicing.services import claim_settle

    books.recorded_on(dt.date(2025, 6, 2))
    claim_settle(claim=claim, by=books.by, amount=D("40.00"), received_on=dt.date(2025, 6, 2))
    assert receivables_as_of(dt.date(2025, 6, 1)).payors[ledger["agria"].pk]["balance"] == D("40.00")
    assert ledger["agria"].pk not in receivables_as_of(dt.date(2025, 6, 2)).payors


def test_a_vet_is_refused_the_practice_receivables(vets):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        receivables(ReportParams(dt.date(2025, 4, 1), dt.date(2025, 4, 30), only_vet_id=vets[0].pk))
