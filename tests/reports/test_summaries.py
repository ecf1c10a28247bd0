"""The revenue summaries (invoicing.summaries) after random histories made through the services: invoices on random
days with random vets, products and quantities, part and whole credit notes, voids, client payments and refunds,
payments voided, claims decided and settled by insurers, refused actions among them. After each history:

- the summaries kept by the services equal the sums of the raw lines and payments (added up here in Python) and
  equal what ``rebuild()`` makes from scratch;
- the revenue report read from the summaries equals the same report read from the lines, for random periods,
  grains and filters;
- the dashboard's revenue and overdue figures equal the lines' and the receivables report's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing import services, summaries
from invoicing.models import Invoice, InvoiceLine, Payment, PaymentDay, Payor, RevenueDay, RevenueMonth
from invoicing.selectors import ISSUED
from reports.base import ReportParams
from reports.builders import revenue as revenue_module
from reports.builders.dashboard import revenue_between
from reports.builders.receivables import overdue_now, receivables_as_of
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
D = Decimal
START = dt.date(2024, 1, 1)
DAYS = 800  # a history spans two years and a bit, so a year earlier and whole months both have figures
GRAINS = ["day", "week", "month", "quarter", "year"]

line = st.tuples(st.sampled_from(["consult", "vaccine", "food", "xray"]), st.integers(1, 3), st.sampled_from([0, 1, 2]))
issue = st.tuples(st.just("invoice"), st.integers(0, DAYS), st.lists(line, min_size=1, max_size=3))
action = st.one_of(
    issue,
    st.tuples(st.just("credit"), st.integers(0, 99), st.integers(0, 60), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 99)),
    st.tuples(st.just("pay"), st.integers(0, 99), st.integers(0, 40), st.sampled_from(["all", "10.00", "250.00"])),
    st.tuples(st.just("refund"), st.integers(0, 99), st.integers(0, 40)),
    st.tuples(st.just("void_payment"), st.integers(0, 99)),
    st.tuples(st.just("claim"), st.integers(0, 99), st.integers(0, 30), st.sampled_from(["none", "half", "all"])),
)
# A few invoices first, so that most of what follows has something to act on.
histories = st.builds(
    lambda first, then: first + then, st.lists(issue, min_size=2, max_size=4), st.lists(action, max_size=10)
)


def q(value, places: str = "0.01") -> Decimal:
    """A database sum as a Decimal (SQLite answers floats: through their shortest repr)."""
    return D(repr(value) if isinstance(value, float) else str(value)).quantize(D(places))


def kept(model, column: str) -> dict[tuple, tuple]:
    """A summary table as {key: figures}, rows that add up to nothing left out."""
    out = {}
    for r in model.objects.values():
        figures = (q(r["net"]), q(r["tax"]), q(r["gross"]), q(r["quantity"], "0.001"), r["lines"])
        if figures[-1]:
            out[(r[column], r["kind"], r["vet_key"], r["category"], r["product_key"])] = figures
    return out


def from_lines(month: bool) -> dict[tuple, tuple]:
    sums: dict[tuple, list] = defaultdict(lambda: [D("0.00"), D("0.00"), D("0.00"), D("0.000"), 0])
    issued = InvoiceLine.objects.filter(invoice__status__in=ISSUED).values_list(
        "invoice__issue_date", "invoice__kind", "vet_id", "category", "product_id", "net", "tax", "gross", "quantity"
    )
    for day, kind, vet, category, product, net, tax, gross, quantity in issued:
        key = (day.replace(day=1) if month else day, kind, vet or 0, category, product or 0)
        row = sums[key]
        row[0] += net
        row[1] += tax
        row[2] += gross
        row[3] += quantity
        row[4] += 1
    return {key: (v[0], v[1], v[2], v[3].quantize(D("0.001")), v[4]) for key, v in sums.items()}


def payments_kept() -> dict[tuple, tuple]:
    return {
        (r["day"], r["kind"], r["payor_key"]): (q(r["amount"]), r["payments"])
        for r in PaymentDay.objects.values()
        if r["payments"]
    }


def payments_from_rows() -> dict[tuple, tuple]:
    sums: dict[tuple, list] = defaultdict(lambda: [D("0.00"), 0])
    for day, kind, payor, amount in Payment.objects.live().values_list("received_on", "kind", "payor_id", "amount"):
        sums[(day, kind, payor or 0)][0] += amount
        sums[(day, kind, payor or 0)][1] += 1
    return {key: (v[0], v[1]) for key, v in sums.items()}


def assert_summaries_exact() -> None:
    assert kept(RevenueDay, "day") == from_lines(month=False)
    assert kept(RevenueMonth, "month") == from_lines(month=True)
    assert payments_kept() == payments_from_rows()


class History:
    """Plays a history of actions through the services; refusals (a void of a paid invoice, a refund without
    credit, ...) are part of it and must leave the summaries untouched."""

    def __init__(self, books, vets, payor: Payor) -> None:
        self.books, self.vets, self.payor = books, (None, *vets), payor
        self.invoices: list[Invoice] = []
        self.payments: list[Payment] = []

    def pick(self, index: int) -> Invoice | None:
        if not self.invoices:
            return None
        invoice = self.invoices[index % len(self.invoices)]
        invoice.refresh_from_db()
        return invoice

    def at(self, day: dt.date) -> tuple:
        return (day.year, day.month, day.day, 11, 30)

    def play(self, steps) -> None:
        for step in steps:
            with contextlib.suppress(DomainError, ValidationError):
                getattr(self, step[0])(*step[1:])

    def invoice(self, offset: int, lines: list) -> None:
        day = START + dt.timedelta(days=offset)
        self.invoices.append(self.books.invoice(self.at(day), [(p, n, self.vets[v]) for p, n, v in lines]))

    def credit(self, index: int, later: int, whole: bool) -> None:
        invoice = self.pick(index)
        if invoice is None or invoice.kind != "invoice":
            return
        when = invoice.issue_date + dt.timedelta(days=later)
        self.books.credit(invoice, self.at(when), lines=None if whole else [(invoice.lines.first(), D(1))])

    def void(self, index: int) -> None:
        invoice = self.pick(index)
        if invoice is not None:
            self.books.clock.set(*self.at(invoice.issue_date))
            services.invoice_void(invoice=invoice, by=self.books.by, reason="Wrong client")

    def pay(self, index: int, later: int, amount: str) -> None:
        invoice = self.pick(index)
        if invoice is not None:
            amount = str(invoice.gross_total) if amount == "all" else amount
            self.payments.append(self.books.pay(invoice.client, amount, invoice.issue_date + dt.timedelta(days=later)))

    def refund(self, index: int, later: int) -> None:
        invoice = self.pick(index)
        if invoice is not None:
            self.books.refund(invoice.client, "5.00", invoice.issue_date + dt.timedelta(days=later))

    def void_payment(self, index: int) -> None:
        if self.payments:
            payment = self.payments[index % len(self.payments)]
            services.payment_void(payment=payment, by=self.books.by, reason="Taken twice by mistake")

    def claim(self, index: int, later: int, settle: str) -> None:
        invoice = self.pick(index)
        if invoice is None or invoice.kind != "invoice":
            return
        pet = invoice.lines.first().animal
        policy = pet.policies.first() or self.books.policy(pet, self.payor, excess="5.00")
        on = invoice.issue_date + dt.timedelta(days=later)
        claim = self.books.claim(invoice, policy, on, accepted=None if settle == "none" else str(invoice.gross_total))
        if settle != "none" and claim.amount_accepted:
            share = claim.amount_accepted if settle == "all" else (claim.amount_accepted / 2).quantize(D("0.01"))
            services.claim_settle(claim=claim, by=self.books.by, amount=share, received_on=on)


@pytest.fixture
def payor(db):
    return Payor.objects.create(name="Petsure")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories)
def test_random_histories_keep_the_summaries_equal_to_the_lines_and_to_a_rebuild(books, vets, payor, steps):
    History(books, vets, payor).play(steps)
    print(
        "ROWS",
        RevenueDay.objects.count(),
        PaymentDay.objects.count(),
        Invoice.objects.filter(kind="credit_note").count(),
    )
    assert_summaries_exact()
    summaries.rebuild()
    assert_summaries_exact()


def report_figures(params: ReportParams) -> list:
    """Everything a revenue report shows: rows, totals and each section's rows and totals."""
    result = revenue_module.revenue(params)
    return [result.rows, result.totals] + [(s.title, s.rows, s.totals) for s in result.sections]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    histories,
    st.lists(
        st.tuples(
            st.integers(0, DAYS),
            st.integers(0, 500),
            st.sampled_from(GRAINS),
            st.sampled_from(["none", "vet", "category", "both"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_the_revenue_report_from_the_summaries_equals_the_report_from_the_lines(
    books, vets, payor, monkeypatch, steps, periods
):
    History(books, vets, payor).play(steps)
    for offset, length, grain, filtered in periods:
        start = START + dt.timedelta(days=offset)
        filters: dict = {}
        if filtered in ("vet", "both"):
            filters["vet_ids"] = (vets[0].pk,)
        if filtered in ("category", "both"):
            filters["categories"] = ("vaccine", "retail")
        params = ReportParams(start, start + dt.timedelta(days=length), grain, **filters)  # type: ignore[arg-type]
        summarised = report_figures(params)
        with monkeypatch.context() as m:
            m.setattr(revenue_module.Scope, "summarised", property(lambda self: False))
            from_lines_ = report_figures(params)
        assert summarised == from_lines_, params


def test_the_dashboard_figures_equal_the_lines_and_the_receivables_report(books, vets, payor, clock):
    history = History(books, vets, payor)
    history.play(
        [("invoice", DAYS - n * 17, [("consult", 1, n % 3), ("xray", 1, 1)]) for n in range(12)]
        + [("pay", 0, 0, "all"), ("pay", 3, 2, "10.00"), ("credit", 5, 0, False), ("claim", 7, 1, "half")]
        + [("claim", 8, 1, "none"), ("void", 9)]
    )
    today = START + dt.timedelta(days=DAYS + 20)
    clock.set(today.year, today.month, today.day, 18, 0)
    assert timezone.localdate() == today
    for start, end in ((today.replace(day=1), today), (START, today), (today - dt.timedelta(days=90), today)):
        for vet in (None, vets[0]):
            lines = InvoiceLine.objects.filter(
                invoice__status__in=ISSUED, invoice__issue_date__gte=start, invoice__issue_date__lte=end
            )
            if vet is not None:
                lines = lines.filter(vet=vet)
            expected = sum((gross for gross in lines.values_list("gross", flat=True)), D("0.00"))
            assert revenue_between(start, end, vet.pk if vet else None) == expected
    receivables = receivables_as_of(today)
    overdue = receivables.overdue_total
    assert overdue > 0 and any(p["overdue"] > 0 for p in receivables.payors.values())  # an insurer's share too
    assert overdue_now(today) == overdue


def test_the_rebuild_command_restores_lost_summaries(books, vets):
    books.invoice((2025, 3, 3, 10, 0), [("consult", 1, vets[0]), ("food", 2, None)])
    RevenueDay.objects.all().delete()
    RevenueMonth.objects.update(gross=D("1.00"))
    out = StringIO()
    call_command("rebuild_revenue_summaries", stdout=out)
    assert_summaries_exact()
    assert "2 day rows, 2 month rows, 0 payment day rows." in out.getvalue()
