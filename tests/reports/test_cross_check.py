"""Randomised cross-checks: documents, credit notes and payments made through the services at random local
moments, then every revenue figure recomputed from rows read with raw SQL written here (bucketed in Python from
the stored local dates), for random periods, grains and filters. Also: each report page stays within 12 queries."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from invoicing.models import Product
from reports.base import ReportParams
from reports.builders.receivables import receivables_as_of
from reports.builders.revenue import revenue
from tests.factories import UserFactory
from tests.reference_data import ensure_reference_data
from tests.reports.conftest import Books, Clock
from vetpms.models import Role

pytestmark = pytest.mark.django_db
D = Decimal
GRAINS = ["day", "week", "month", "quarter", "year"]


def dec(value) -> Decimal:
    return D(str(value)).quantize(D("0.01"))


def first_of(day: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def sql_rows(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def as_day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Shared:
    vets: tuple
    rng_state: object  # the random source as the books left it: the tests draw their periods from it
    now: dt.datetime  # where the books left the clock


@pytest.fixture(scope="module")
def shared_books(django_db_setup, django_db_blocker) -> Iterator[Shared]:
    """The random books, made once for the module in a transaction rolled back when the module is done; each test
    runs in a savepoint within it (pytest-django's per-test transaction), so what a test writes is undone before
    the next. The tests only read them."""
    with django_db_blocker.unblock(), transaction.atomic(), pytest.MonkeyPatch.context() as patch:
        ensure_reference_data()
        keeper = UserFactory(username="bookkeeper", first_name="Bea", last_name="Keeper", role=Role.MANAGER)
        ng = UserFactory(username="ng", first_name="Amy", last_name="Ng", role=Role.VET).vet
        shah = UserFactory(username="shah", first_name="Raj", last_name="Shah", role=Role.VET).vet
        rng = _fill(Books(Clock(patch), keeper), (ng, shah))
        shared = Shared(vets=(ng, shah), rng_state=rng.getstate(), now=timezone.now())
        patch.undo()
        yield shared
        transaction.set_rollback(True)


@pytest.fixture
def vets(shared_books) -> tuple:
    """The two vets of the shared books (Ng and Shah)."""
    return shared_books.vets


@pytest.fixture
def random_books(shared_books, monkeypatch) -> random.Random:
    """The shared books, seen with the clock where making them left it; returns the random source in the state
    they left it (each test draws the same periods as if it had made them itself)."""
    monkeypatch.setattr(timezone, "now", lambda: shared_books.now)
    rng = random.Random()
    rng.setstate(shared_books.rng_state)
    return rng


def _fill(books: Books, vets: tuple) -> random.Random:
    rng = random.Random(20250331)
    ng, shah = vets
    invoices = []
    for _ in range(36):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 700))
        hour, minute = rng.choice([(0, 20), (9, 0), (12, 30), (23, 40)])
        if (day.month, day.day) in ((3, 30), (3, 31)) and hour == 1:
            hour = 3
        lines = [
            (rng.choice(list(books.products)), rng.choice([1, 2, 3]), rng.choice([ng, shah, None]))
            for _ in range(rng.randrange(1, 4))
        ]
        invoice = books.invoice((day.year, day.month, day.day, hour, minute), lines)
        invoices.append(invoice)
        if rng.random() < 0.5:
            books.pay(invoice.client, str(invoice.gross_total), day + dt.timedelta(days=rng.randrange(0, 40)))
    for invoice in rng.sample(invoices, 8):
        when = invoice.issue_date + dt.timedelta(days=rng.randrange(0, 60))
        books.credit(invoice, (when.year, when.month, when.day, 14, 0), lines=[(invoice.lines.first(), D(1))])
    return rng


def expected_revenue(params: ReportParams) -> dict[dt.date, dict[str, Decimal]]:
    """Per bucket, from the lines joined to their documents with plain SQL."""
    rows = sql_rows(
        "SELECT i.issue_date, i.kind, l.vet_id, l.category, l.net, l.tax, l.gross "
        "FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id "
        "WHERE i.status IN ('finalised', 'void')"
    )
    out: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: D("0.00")))
    for issue_date, kind, vet_id, category, net, tax, gross in rows:
        day = as_day(issue_date)
        if params.vet_ids and vet_id not in params.vet_ids:
            continue
        if params.categories and category not in params.categories:
            continue
        if params.start <= day <= params.end:
            bucket = out[first_of(day, params.grain)]
            if kind == "invoice":
                bucket["invoiced_net"] += dec(net)
                bucket["invoiced_tax"] += dec(tax)
                bucket["invoiced_gross"] += dec(gross)
            else:
                bucket["credited"] += dec(gross)
            bucket["revenue"] += dec(gross)
    if not (params.vet_ids or params.categories):
        for received_on, kind, amount in sql_rows("SELECT received_on, kind, amount FROM invoicing_payment"):
            day = as_day(received_on)
            if params.start <= day <= params.end:
                sign = 1 if kind == "payment" else -1
                out[first_of(day, params.grain)]["collected"] += sign * dec(amount)
    return out


def test_revenue_equals_raw_sql_for_random_periods_grains_and_filters(random_books, vets):
    rng = random_books
    for _ in range(25):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 650))
        end = start + dt.timedelta(days=rng.randrange(0, 400))
        filters = rng.choice([{}, {"vet_ids": (vets[0].pk,)}, {"categories": ("vaccine", "imaging")}])
        params = ReportParams(start, end, rng.choice(GRAINS), **filters)
        result = revenue(params)
        expected = expected_revenue(params)
        assert len(result.rows) == len({first_of(start + dt.timedelta(days=n), params.grain)
                                         for n in range((end - start).days + 1)})  # fmt: skip
        for row in result.rows:
            want = expected.get(row["bucket"], {})
            for key in ("invoiced_net", "invoiced_tax", "invoiced_gross", "credited", "revenue"):
                assert row[key] == want.get(key, D("0.00")), (params, row["period"], key)
            if not filters:
                assert row["collected"] == want.get("collected", D("0.00")), (params, row["period"])
        total = sum((b["revenue"] for b in expected.values()), D("0.00"))
        assert result.totals["revenue"] == total
        by_vet = next(s for s in result.sections if s.title == "By vet")
        assert (by_vet.totals["gross"] or D("0.00")) == total
        if not filters:  # the documents' stored totals, summed by the database, agree with the lines
            (stored,) = sql_rows(
                "SELECT SUM(gross_total) FROM invoicing_invoice WHERE status IN ('finalised', 'void') "
                "AND issue_date >= %s AND issue_date <= %s",
                [start, end],
            )
            assert dec(stored[0] or 0) == total
            payors = next(s for s in result.sections if s.title.startswith("By payor"))
            assert sum(r["share"] for r in payors.rows) == total


def test_the_revenue_summaries_equal_raw_sql_over_the_lines_and_payments(random_books):
    """The tables the revenue report reads (invoicing.summaries), against GROUP BYs written here."""
    lines = sql_rows(
        "SELECT i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0), "
        "SUM(l.net), SUM(l.tax), SUM(l.gross), COUNT(*) "
        "FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id "
        "WHERE i.status IN ('finalised', 'void') GROUP BY 1, 2, 3, 4, 5"
    )
    expected_days = {(as_day(r[0]), *r[1:5]): (dec(r[5]), dec(r[6]), dec(r[7]), r[8]) for r in lines}
    kept_days = {
        (as_day(r[0]), *r[1:5]): (dec(r[5]), dec(r[6]), dec(r[7]), r[8])
        for r in sql_rows(
            "SELECT day, kind, vet_key, category, product_key, net, tax, gross, lines FROM invoicing_revenueday"
        )
    }
    assert kept_days == expected_days and len(expected_days) > 30
    expected_months: dict[tuple, list] = defaultdict(lambda: [D("0.00"), D("0.00"), D("0.00"), 0])
    for (day, *key), figures in expected_days.items():
        row = expected_months[(day.replace(day=1), *key)]
        for n, value in enumerate(figures):
            row[n] += value
    kept_months = {
        (as_day(r[0]), *r[1:5]): [dec(r[5]), dec(r[6]), dec(r[7]), r[8]]
        for r in sql_rows(
            "SELECT month, kind, vet_key, category, product_key, net, tax, gross, lines FROM invoicing_revenuemonth"
        )
    }
    assert kept_months == dict(expected_months)
    payments = sql_rows(
        "SELECT received_on, kind, COALESCE(payor_id, 0), SUM(amount), COUNT(*) FROM invoicing_payment GROUP BY 1, 2, 3"
    )
    kept_payments = sql_rows("SELECT day, kind, payor_key, amount, payments FROM invoicing_paymentday")
    assert {(as_day(r[0]), r[1], r[2]): (dec(r[3]), r[4]) for r in kept_payments} == {
        (as_day(r[0]), r[1], r[2]): (dec(r[3]), r[4]) for r in payments
    }


def test_the_revenue_breakdowns_equal_raw_sql(random_books, vets):
    """By vet, by category and the top products, from the summaries, against the lines grouped here."""
    rng = random_books
    for _ in range(8):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 650))
        end = start + dt.timedelta(days=rng.randrange(20, 500))
        result = revenue(ReportParams(start, end, rng.choice(GRAINS), top_n=50))
        rows = sql_rows(
            "SELECT COALESCE(v.display_name, 'No vet'), l.category, COALESCE(p.name, 'Not from the catalogue'), "
            "l.gross, l.quantity FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id "
            "LEFT JOIN vetpms_vet v ON v.id = l.vet_id LEFT JOIN invoicing_product p ON p.id = l.product_id "
            "WHERE i.status IN ('finalised', 'void') AND i.issue_date BETWEEN %s AND %s",
            [start, end],
        )
        sections = {s.title: s for s in result.sections}
        for title, column in (("By vet", 0), ("By treatment category", 1), ("Top 50 products", 2)):
            expected: dict[str, Decimal] = defaultdict(lambda: D("0.00"))
            for row in rows:
                expected[row[column]] += dec(row[3])
            got = {r["name"]: r["gross"] for r in sections[title].rows}
            if column == 1:  # categories are shown by their labels
                got = {key: got[label] for key, label in Product.Category.choices if label in got}
            nonzero = {k: v for k, v in got.items() if v}
            assert nonzero == {k: v for k, v in expected.items() if v} and nonzero, (title, start, end)


def test_receivables_equal_raw_sql_balances(random_books):
    for as_of in (dt.date(2024, 6, 30), dt.date(2025, 1, 31), dt.date(2025, 12, 31)):
        data = receivables_as_of(as_of)
        expected: dict[int, Decimal] = defaultdict(lambda: D("0.00"))
        for client_id, gross in sql_rows(
            "SELECT client_id, gross_total FROM invoicing_invoice WHERE status IN ('finalised', 'void') "
            "AND issue_date <= %s",
            [as_of],
        ):
            expected[client_id] += dec(gross)
        for client_id, kind, amount in sql_rows(
            "SELECT client_id, kind, amount FROM invoicing_payment WHERE client_id IS NOT NULL AND received_on <= %s",
            [as_of],
        ):
            expected[client_id] += -dec(amount) if kind == "payment" else dec(amount)
        nonzero = {k: v for k, v in expected.items() if v}
        assert {k: v["balance"] for k, v in data.clients.items()} == nonzero


@pytest.mark.parametrize("name", ["revenue", "receivables", "appointments", "reminders", "day_sheet"])
def test_each_report_page_needs_at_most_12_queries(random_books, as_manager, name, django_assert_max_num_queries):
    query = "start=2024-01-01&end=2025-11-30&grain=month&category=vaccine" if name == "revenue" else "end=2025-06-30"
    as_manager.get("/reports/")  # the session and permissions are loaded as on any page
    with django_assert_max_num_queries(12):
        response = as_manager.get(f"/reports/{name}/?{query}")
    assert response.status_code == 200


def test_the_api_needs_at_most_12_queries(random_books, manager, bearer, django_assert_max_num_queries):
    from django.test import Client as HttpClient

    http = HttpClient()
    headers = bearer(manager)
    with django_assert_max_num_queries(12):
        assert http.get("/api/v1/reports/revenue?start=2024-01-01&end=2025-11-30", headers=headers).status_code == 200
