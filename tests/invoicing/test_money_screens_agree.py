"""The four places a client's money shows (the account page, the statement, the invoice PDF and receivables) give
the same figures as of the same moment, whatever happened before: random histories of invoices, credit notes,
payments (some backdated), insurance claims, refunds and voided payments, made through the services on the days
they happened, then read back through the pages, the API, the PDFs (with pdftotext) and the report.

A payment, refund or insurer's payment dated after today is refused by the service; were it taken, the account
page (everything recorded) and the statement and receivables (what is dated up to today) would disagree."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing import services
from invoicing.models import Claim, Invoice, Payment, Payor, Policy, Product, TaxCategory
from invoicing.pdf import money as pdf_money
from invoicing.selectors import client_balance
from invoicing.templatetags.invoicing_tags import money as page_money
from reports.builders.receivables import receivables_as_of
from tests.factories import AnimalFactory
from vetpms.errors import DomainError
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db
D = Decimal
FIRST_DAY = dt.date(2025, 3, 1)  # the history runs across the spring DST change

operations = st.one_of(
    st.tuples(st.just("invoice"), st.integers(1, 3)),
    st.tuples(st.just("pay"), st.sampled_from(["oldest", "credit", "one"]), st.integers(1, 30000), st.integers(0, 3)),
    st.tuples(st.just("credit"), st.integers(0, 9)),
    st.tuples(st.just("claim"), st.integers(0, 9), st.sampled_from(["submitted", "all", "part", "declined", "paid"])),
    st.tuples(st.just("refund"), st.integers(1, 100)),
    st.tuples(st.just("void"), st.integers(0, 9)),
    st.tuples(st.just("future"), st.sampled_from(["payment", "refund", "settlement"]), st.integers(1, 400)),
)
histories = st.lists(st.tuples(st.integers(0, 12), operations), min_size=1, max_size=14)


def pdf_text(body: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(body)
    command = [shutil.which("pdftotext"), "-layout", str(path), "-"]
    return re.sub(r"[ \t]+", " ", subprocess.run(command, capture_output=True, text=True, check=True).stdout)  # noqa: S603


class History:
    """One client with one insured pet; every operation goes through the services on its own practice-local day."""

    def __init__(self, by, monkeypatch) -> None:
        self.by = by
        self.monkeypatch = monkeypatch
        self.pet = AnimalFactory()
        self.client = self.pet.owner
        standard = TaxCategory.objects.get(code="standard")
        self.products = [
            Product.objects.get_or_create(
                code=code, defaults={"name": code, "category": "procedure", "unit_price": D(price),
                                     "tax_category": standard},
            )[0]
            for code, price in (("X-CONS", "45.00"), ("X-VAC", "38.50"), ("X-LAB", "12.99"))
        ]  # fmt: skip
        payor = Payor.objects.get_or_create(name="Agreeing Insurance")[0]
        self.policy = Policy.objects.create(
            animal=self.pet, payor=payor, policy_number=f"AG-{self.pet.pk}", starts_on=dt.date(2000, 1, 1),
            ends_on=dt.date(2099, 12, 31), excess=D("10.00"),
        )  # fmt: skip
        self.invoices: list[Invoice] = []
        self.payments: list[Payment] = []
        self.days: list[dt.date] = []
        self.today = FIRST_DAY

    def on(self, day: dt.date) -> None:
        self.today = day
        moment = local_datetime(day, dt.time(11, 30)).astimezone(dt.UTC)
        self.monkeypatch.setattr(timezone, "now", lambda: moment)
        self.days.append(day)

    def run(self, op: tuple) -> None:
        name, *args = op
        try:
            getattr(self, name)(*args)
        except (DomainError, ValidationError) as exc:
            # A rule refused it (a line already claimed or credited, nothing left to refund): nothing changed.
            assert name in ("credit", "claim", "refund", "void"), (op, exc)

    def invoice(self, lines: int) -> None:
        draft = services.invoice_draft_for(client=self.client, by=self.by)
        for product in self.products[:lines]:
            services.invoice_add_line(invoice=draft, by=self.by, product=product, quantity=D(1), animal=self.pet)
        self.invoices.append(services.invoice_finalise(invoice=draft, by=self.by))

    def pay(self, how: str, cents: int, back: int) -> None:
        allocate_to = None
        if how == "credit":
            allocate_to = []
        elif how == "one":
            owed = [(inv, o) for inv, o in services_outstanding(self.client)]
            if owed:
                invoice, left = owed[-1]
                allocate_to = [(invoice, min(left, D(cents) / 100))]
        self.payments.append(
            services.payment_record(
                client=self.client, amount=D(cents) / 100, method="card", by=self.by,
                received_on=self.today - dt.timedelta(days=back), allocate_to=allocate_to,
            )
        )  # fmt: skip

    def credit(self, which: int) -> None:
        if self.invoices:
            invoice = self.invoices[which % len(self.invoices)]
            line = invoice.lines.order_by("position").first()
            services.credit_note_issue(invoice=invoice, by=self.by, reason="Overcharged", lines=[(line, D(1))])

    def claim(self, which: int, outcome: str) -> None:
        if not self.invoices:
            return
        invoice = self.invoices[which % len(self.invoices)]
        claim = services.claim_create(invoice=invoice, policy=self.policy, lines=list(invoice.lines.all()), by=self.by)
        claim = services.claim_submit(claim=claim, by=self.by)
        if outcome != "submitted":
            accepted = {"all": claim.amount_claimed, "part": (claim.amount_claimed / 2).quantize(D("0.01")),
                        "declined": D(0), "paid": claim.amount_claimed}[outcome]  # fmt: skip
            claim = services.claim_decide(claim=claim, by=self.by, accepted=accepted)
            if outcome == "paid" and accepted:
                services.claim_settle(claim=claim, by=self.by, amount=accepted)

    def refund(self, percent: int) -> None:
        from invoicing.selectors import client_credit

        credit = client_credit(client=self.client)
        amount = (credit * percent / 100).quantize(D("0.01"))
        services.refund_record(client=self.client, amount=amount or D("0.01"), method="cash", by=self.by)

    def void(self, which: int) -> None:
        live = [p for p in self.payments if p.kind == Payment.Kind.PAYMENT]
        if live:
            services.payment_void(payment=live[which % len(live)], by=self.by, reason="Keyed twice")

    def future(self, what: str, days: int) -> None:
        later = self.today + dt.timedelta(days=days)
        with pytest.raises(ValidationError, match="after today"):
            if what == "payment":
                services.payment_record(client=self.client, amount=D("5.00"), method="cash", by=self.by,
                                        received_on=later)  # fmt: skip
            elif what == "refund":
                services.refund_record(client=self.client, amount=D("0.01"), method="cash", by=self.by,
                                       received_on=later)  # fmt: skip
            else:
                claim = Claim.objects.filter(invoice__client=self.client, status__in=["accepted", "partly_accepted"])
                if not claim.exists():
                    raise ValidationError("nothing to settle after today")  # the refusal is shown elsewhere
                services.claim_settle(claim=claim.first(), by=self.by, amount=D("0.01"), received_on=later)


def services_outstanding(client) -> list[tuple[Invoice, Decimal]]:
    from invoicing.selectors import invoices_outstanding

    return invoices_outstanding(client=client)


def page_figure(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, testid
    return found.group(1)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, data=st.data())
def test_account_page_statement_invoice_pdf_and_receivables_agree(history, data, manager, login, monkeypatch, tmp_path):
    book = History(manager, monkeypatch)
    day = FIRST_DAY
    for gap, op in history:
        day += dt.timedelta(days=gap)
        book.on(day)
        book.run(op)
    book.on(day + dt.timedelta(days=data.draw(st.integers(0, 40), label="days after the last event")))
    today = book.today
    client = book.client
    as_manager = login(manager)  # signed in at the moment the screens are read
    # The account page: the balance it shows and the invoices it lists as outstanding.
    page = as_manager.get(f"/clients/{client.pk}/account/")
    assert page.status_code == 200
    balance = page.context["balance"].balance
    assert page_figure(page.content.decode(), "balance") == page_money(balance)
    outstanding = {invoice.pk: owed for invoice, owed in page.context["outstanding"]}

    # The statement over the whole history, as JSON and as the PDF the client is sent.
    start = FIRST_DAY - dt.timedelta(days=5)
    statement = as_manager.get(f"/api/v1/clients/{client.pk}/statement?start={start}&end={today}").json()
    assert D(statement["closing"]) == balance
    body = as_manager.get(f"/clients/{client.pk}/account/statement.pdf?start={start}&end={today}").content
    assert f"Closing balance {pdf_money(balance)}" in pdf_text(body, tmp_path)

    # Receivables as of today: the client's balance and their open items.
    row = receivables_as_of(today).clients.get(client.pk)
    assert (row["balance"] if row else D("0.00")) == balance
    assert (row["open"] if row else D("0.00")) == sum(outstanding.values(), D("0.00"))

    # Each invoice's PDF says what the account page says is outstanding on it.
    for invoice in Invoice.objects.filter(client=client, kind="invoice").exclude(status="draft"):
        text = pdf_text(as_manager.get(f"/invoices/{invoice.pk}/pdf/").content, tmp_path)
        found = re.search(r"Outstanding (-?£[\d,]+\.\d\d)", text)
        assert found, invoice
        shown = D(found.group(1).replace("£", "").replace(",", ""))
        assert shown == outstanding.get(invoice.pk, min(shown, D("0.00"))), invoice

    # As of any earlier day of the history: the statement closing then, receivables then, the balance up to then.
    for past in sorted(set(book.days))[-4:]:
        closing = D(as_manager.get(f"/api/v1/clients/{client.pk}/statement?start={start}&end={past}").json()["closing"])
        then = receivables_as_of(past).clients.get(client.pk)
        assert (then["balance"] if then else D("0.00")) == closing == client_balance(client=client, upto=past).balance
