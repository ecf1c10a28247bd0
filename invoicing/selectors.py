"""Reads of invoices, balances and statements. Balances are always derived from issued documents, insurers'
shares and payments; nothing stores a balance that could drift from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce

from clients.models import Client
from invoicing.models import Allocation, Claim, Invoice, InvoiceLine, OpenInvoice, Payment, Product
from vetpms.money import ZERO

ISSUED = (Invoice.Status.FINALISED, Invoice.Status.VOID)
# A claim moves money from the client to the insurer once it is submitted, unless it was declined.
SHARING_CLAIM_STATUSES = (
    Claim.Status.SUBMITTED,
    Claim.Status.ACCEPTED,
    Claim.Status.PARTLY_ACCEPTED,
    Claim.Status.SETTLED,
)
MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)


def _sum(qs: QuerySet, expression) -> Decimal:
    return qs.aggregate(total=Coalesce(Sum(expression), Value(ZERO), output_field=MONEY))["total"]


def _share_expression():
    """The insurer's share of one claim: what they accepted once decided, else what was claimed."""
    return Case(
        When(amount_accepted__isnull=False, then=F("amount_accepted")),
        default=F("amount_claimed"),
        output_field=MONEY,
    )


def sharing_claims() -> QuerySet[Claim]:
    return Claim.objects.filter(direct_settlement=True, status__in=SHARING_CLAIM_STATUSES)


def insurer_share(invoice: Invoice) -> Decimal:
    return _sum(sharing_claims().filter(invoice=invoice), _share_expression())


def owner_share(invoice: Invoice) -> Decimal:
    """What the client owes for ``invoice`` after credit notes and the insurer's share (before payments)."""
    credited = _sum(Invoice.objects.filter(credits=invoice, status__in=ISSUED), "gross_total")
    return invoice.gross_total + credited - insurer_share(invoice)


def client_outstanding(invoice: Invoice) -> Decimal:
    """The client's share of ``invoice`` not yet paid (negative when more was paid than is now owed)."""
    paid = _sum(Allocation.objects.filter(invoice=invoice, payment__client__isnull=False), "amount")
    return owner_share(invoice) - paid


def outstanding_invoices(*, client: Client) -> list[Invoice]:
    """The client's finalised invoices with something left to pay, oldest first. Only those on the list of open
    invoices are looked at (kept in the same transaction as every change: invoicing.open_invoices), so a client
    with years of paid invoices costs what their few open ones do."""
    invoices = Invoice.objects.filter(
        client=client,
        kind=Invoice.Kind.INVOICE,
        status=Invoice.Status.FINALISED,
        pk__in=OpenInvoice.objects.filter(client=client).values("invoice_id"),
    ).order_by("issue_date", "number")
    return [inv for inv in invoices if client_outstanding(inv) > 0]


@dataclass
class Balance:
    invoiced: Decimal
    credited: Decimal
    insurer: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def balance(self) -> Decimal:
        """Positive: the client owes the practice; negative: the practice owes the client (their credit)."""
        return self.invoiced + self.credited - self.insurer - self.paid + self.refunded


def _per_client(qs: QuerySet, key: str, expression) -> Coalesce:
    """A correlated sum over ``qs`` for the outer client row, zero when there is nothing."""
    total = qs.order_by().values(key).annotate(total=Sum(expression)).values("total")[:1]
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


BALANCE_PARTS = ("invoiced", "credited", "insurer", "paid", "refunded")


def _balance_sums(*, before: dt.date | None = None, upto: dt.date | None = None) -> dict[str, Coalesce]:
    """The five parts of a balance (``BALANCE_PARTS``) as correlated sums for the outer client row."""
    docs = Invoice.objects.filter(client=OuterRef("pk"), status__in=ISSUED)
    claims = sharing_claims().filter(invoice__client=OuterRef("pk"))
    payments = Payment.objects.live().filter(client=OuterRef("pk"))
    if before is not None:
        docs, claims = docs.filter(issue_date__lt=before), claims.filter(submitted_on__lt=before)
        payments = payments.filter(received_on__lt=before)
    if upto is not None:
        docs, claims = docs.filter(issue_date__lte=upto), claims.filter(submitted_on__lte=upto)
        payments = payments.filter(received_on__lte=upto)
    return {
        "invoiced": _per_client(docs.filter(kind=Invoice.Kind.INVOICE), "client", "gross_total"),
        "credited": _per_client(docs.filter(kind=Invoice.Kind.CREDIT_NOTE), "client", "gross_total"),
        "insurer": _per_client(claims, "invoice__client", _share_expression()),
        "paid": _per_client(payments.filter(kind=Payment.Kind.PAYMENT), "client", "amount"),
        "refunded": _per_client(payments.filter(kind=Payment.Kind.REFUND), "client", "amount"),
    }


def _balances(clients: QuerySet, *, before: dt.date | None = None, upto: dt.date | None = None) -> QuerySet:
    return clients.annotate(**_balance_sums(before=before, upto=upto)).values("pk", *BALANCE_PARTS)


def client_balance(*, client: Client, before: dt.date | None = None, upto: dt.date | None = None) -> Balance:
    """The client's account from the documents issued, insurers' shares and payments, in one query.

    ``before`` counts only what is dated before that day (a statement's opening balance); ``upto`` what is
    dated up to and including it.
    """
    row = _balances(Client.objects.filter(pk=client.pk), before=before, upto=upto).get()
    row.pop("pk")
    return Balance(**row)


def client_balances(*, client_ids: list[int]) -> dict[int, Balance]:
    """The balances of several clients in one query (the day list's "owes" flags)."""
    rows = _balances(Client.objects.filter(pk__in=client_ids))
    return {row.pop("pk"): Balance(**row) for row in rows}


def client_credit(*, client: Client) -> Decimal:
    """What the practice owes the client: their negative balance, or nothing."""
    balance = client_balance(client=client).balance
    return -balance if balance < 0 else ZERO


def unallocated_payments(*, client: Client) -> list[tuple[Payment, Decimal]]:
    """The client's payments with part of them not yet allocated to an invoice, oldest first (one query)."""
    payments = (
        Payment.objects.live()
        .filter(client=client, kind=Payment.Kind.PAYMENT)
        .annotate(allocated=Coalesce(Sum("allocations__amount"), Value(ZERO), output_field=MONEY))
        .order_by("received_on", "id")
    )
    return [(p, p.amount - p.allocated) for p in payments if p.amount > p.allocated]


@dataclass
class StatementEntry:
    day: dt.date
    kind: str
    reference: str
    description: str
    amount: Decimal  # + raises what the client owes, - lowers it
    balance: Decimal = ZERO
    obj: object | None = None


@dataclass
class Statement:
    client: Client
    start: dt.date
    end: dt.date
    opening: Decimal
    entries: list[StatementEntry] = field(default_factory=list)

    @property
    def closing(self) -> Decimal:
        return self.entries[-1].balance if self.entries else self.opening


def client_statement(*, client: Client, start: dt.date, end: dt.date) -> Statement:
    """Opening balance, every document, insurer share and payment dated in [start, end], and the closing balance."""
    if end < start:
        raise ValueError("The statement period ends before it starts.")
    return _statement(
        client,
        start,
        end,
        opening=client_balance(client=client, before=start).balance,
        documents=Invoice.objects.filter(client=client, status__in=ISSUED, issue_date__gte=start, issue_date__lte=end),
        payments=Payment.objects.live().filter(client=client, received_on__gte=start, received_on__lte=end),
    )


def _statement(
    client: Client,
    start: dt.date,
    end: dt.date,
    *,
    opening: Decimal,
    documents: Iterable[Invoice],
    payments: Iterable[Payment],
) -> Statement:
    """The statement from the issued documents and live payments dated in the period (the insurers' shares are
    read here): ``client_statement`` and ``client_account`` read those two their own ways."""
    entries: list[StatementEntry] = []
    for doc in documents:
        label = "Credit note" if doc.is_credit_note else "Invoice"
        issued_on: dt.date = doc.issue_date  # type: ignore[assignment]  # issued documents always have one
        entries.append(StatementEntry(issued_on, label, doc.reference, doc.reason or "", doc.gross_total, obj=doc))
    for claim in (
        sharing_claims()
        .filter(invoice__client=client, submitted_on__gte=start, submitted_on__lte=end)
        .select_related("policy__payor", "invoice")
    ):
        share = claim.amount_accepted if claim.amount_accepted is not None else claim.amount_claimed
        entries.append(
            StatementEntry(
                claim.submitted_on,  # type: ignore[arg-type]
                "Insurance",
                claim.invoice.reference,
                f"Claimed from {claim.policy.payor}",
                -share,
                obj=claim,
            )
        )
    for payment in payments:
        sign = -1 if payment.kind == Payment.Kind.PAYMENT else 1
        entries.append(
            StatementEntry(
                payment.received_on,
                payment.get_kind_display(),
                payment.reference,
                payment.get_method_display(),
                sign * payment.amount,
                obj=payment,
            )
        )
    order = {"Invoice": 0, "Credit note": 1, "Insurance": 2, "Payment": 3, "Refund": 4}
    entries.sort(key=lambda e: (e.day, order.get(e.kind, 9), e.reference))
    running = opening
    for entry in entries:
        running += entry.amount
        entry.balance = running
    return Statement(client=client, start=start, end=end, opening=opening, entries=entries)


RECENT_PAYMENTS = 10


@dataclass
class Account:
    """What a client's account page shows (``client_account``)."""

    client: Client
    balance: Balance
    outstanding: list[tuple[Invoice, Decimal]]  # as invoices_outstanding
    drafts: list[Invoice]
    payments: list[Payment]  # the latest RECENT_PAYMENTS, voided ones too, with their allocations and invoices
    statement: Statement


def client_account(*, client_pk: int, start: dt.date, end: dt.date) -> Account:
    """A client's account in five queries whatever its size (raises Client.DoesNotExist): the client with its
    balance now and at ``start`` (the statement's opening); its drafts, open invoices and the documents issued in
    the period; the insurers' shares in the period; its latest payments and those in the period; the latest
    payments' allocations. Open invoices are those on the list of open invoices (invoicing.open_invoices), so an
    account with years of paid invoices costs what its few open ones do."""
    if end < start:
        raise ValueError("The statement period ends before it starts.")
    opening_sums = {f"opening_{part}": sums for part, sums in _balance_sums(before=start).items()}
    client = Client.objects.annotate(**_balance_sums(), **opening_sums).get(pk=client_pk)
    balance = Balance(**{part: getattr(client, part) for part in BALANCE_PARTS})
    opening = Balance(**{part: getattr(client, f"opening_{part}") for part in BALANCE_PARTS}).balance

    issued_in_period = Q(status__in=ISSUED, issue_date__gte=start, issue_date__lte=end)
    open_invoice = Q(pk__in=OpenInvoice.objects.filter(client_id=client_pk).values("invoice_id"))
    documents = list(
        Invoice.objects.filter(client_id=client_pk)
        .filter(Q(status=Invoice.Status.DRAFT) | issued_in_period | open_invoice)
        .annotate(**_owed_sums())
        .order_by("issue_date", "number", "id")
    )
    outstanding = [
        (invoice, owed)
        for invoice in documents
        if invoice.kind == Invoice.Kind.INVOICE and invoice.status == Invoice.Status.FINALISED
        for owed in [_owed(invoice)]
        if owed > 0
    ]
    drafts = sorted(
        (d for d in documents if d.status == Invoice.Status.DRAFT), key=lambda d: (d.created_at, d.pk), reverse=True
    )
    in_period = [d for d in documents if d.status in ISSUED and start <= d.issue_date <= end]  # type: ignore[operator]

    # The latest payments and the live ones of the period in one read; the latest of all are the latest of these.
    latest = Payment.objects.filter(client_id=client_pk).order_by("-received_on", "-id").values("pk")
    payments = list(
        Payment.objects.filter(client_id=client_pk)
        .filter(
            Q(pk__in=latest[:RECENT_PAYMENTS]) | Q(voided_at__isnull=True, received_on__gte=start, received_on__lte=end)
        )
        .order_by("-received_on", "-id")
    )
    recent = payments[:RECENT_PAYMENTS]
    prefetch_related_objects(recent, Prefetch("allocations", queryset=Allocation.objects.select_related("invoice")))
    paid_in_period = [p for p in payments if p.voided_at is None and start <= p.received_on <= end]
    statement = _statement(client, start, end, opening=opening, documents=in_period, payments=paid_in_period)
    return Account(client, balance, outstanding, drafts, recent, statement)


def invoice_detail(*, pk: int) -> Invoice:
    lines = InvoiceLine.objects.select_related("animal__species", "vet", "product").order_by("position", "id")
    from django.db.models import Prefetch

    return (
        Invoice.objects.select_related("client", "credits", "created_by", "finalised_by")
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            "credit_notes",
            "allocations__payment",
            Prefetch("claims", queryset=Claim.objects.select_related("policy__payor")),
        )
        .get(pk=pk)
    )


def invoice_list(
    *,
    status: str | None = None,
    kind: str | None = None,
    client_id: int | None = None,
    vet_id: int | None = None,
    payor_id: int | None = None,
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("client")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if vet_id is not None:
        qs = qs.filter(pk__in=InvoiceLine.objects.filter(vet_id=vet_id).values("invoice_id"))
    if payor_id is not None:
        qs = qs.filter(pk__in=Claim.objects.filter(policy__payor_id=payor_id).values("invoice_id"))
    if issued_from is not None:
        qs = qs.filter(issue_date__gte=issued_from)
    if issued_to is not None:
        qs = qs.filter(issue_date__lte=issued_to)
    return qs.order_by(F("issue_date").desc(nulls_first=True), "-number", "-id")


def _owed_sums() -> dict[str, Subquery]:
    """Per invoice row: its credit notes, the insurers' share and the client's payments allocated to it (``_owed``)."""

    def per_invoice(qs: QuerySet, expression) -> Subquery:
        return Subquery(qs.values("invoice_id").annotate(s=Sum(expression)).values("s")[:1], output_field=MONEY)

    credited = Subquery(
        Invoice.objects.filter(credits=OuterRef("pk"), status__in=ISSUED)
        .values("credits_id")
        .annotate(s=Sum("gross_total"))
        .values("s")[:1],
        output_field=MONEY,
    )
    return {
        "credited_sum": credited,
        "insurer_sum": per_invoice(sharing_claims().filter(invoice=OuterRef("pk")), _share_expression()),
        "paid_sum": per_invoice(
            Allocation.objects.filter(invoice=OuterRef("pk"), payment__client__isnull=False), "amount"
        ),
    }


def _owed(invoice: Invoice) -> Decimal:
    """What the client still owes on an invoice read with ``_owed_sums``, in Decimal here, not in SQL (SQLite
    would do it in floats)."""
    return (
        invoice.gross_total
        + (invoice.credited_sum or ZERO)  # type: ignore[attr-defined]
        - (invoice.insurer_sum or ZERO)  # type: ignore[attr-defined]
        - (invoice.paid_sum or ZERO)  # type: ignore[attr-defined]
    )


def invoices_outstanding(*, client: Client) -> list[tuple[Invoice, Decimal]]:
    """The client's finalised invoices with something left to pay and how much, oldest first, in one query
    (``outstanding_invoices`` with ``client_outstanding`` computed per row). Only those on the list of open
    invoices are looked at (invoicing.open_invoices), so years of paid invoices cost nothing."""
    rows = (
        Invoice.objects.filter(
            client=client,
            kind=Invoice.Kind.INVOICE,
            status=Invoice.Status.FINALISED,
            pk__in=OpenInvoice.objects.filter(client=client).values("invoice_id"),
        )
        .annotate(**_owed_sums())
        .order_by("issue_date", "number")
    )
    return [(invoice, owed) for invoice in rows for owed in [_owed(invoice)] if owed > 0]


def product_list(
    *, query: str = "", category: str | None = None, active: bool | None = None, tax_category_id: int | None = None
) -> QuerySet[Product]:
    """The catalogue for a paginated list: name or code, category, active; with the tax category's rates."""
    qs = Product.objects.select_related("tax_category").prefetch_related("tax_category__rates")
    if active is not None:
        qs = qs.filter(is_active=active)
    if category:
        qs = qs.filter(category=category)
    if tax_category_id is not None:
        qs = qs.filter(tax_category_id=tax_category_id)
    query = query.strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__istartswith=query))
    return qs.order_by("name", "id")


def product_search(*, query: str = "", limit: int = 20, active_only: bool = True) -> QuerySet[Product]:
    qs = Product.objects.select_related("tax_category")
    if active_only:
        qs = qs.filter(is_active=True)
    query = query.strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__istartswith=query))
    return qs.order_by("name")[:limit]


def payment_list(
    *,
    client_id: int | None = None,
    payor_id: int | None = None,
    kind: str | None = None,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
) -> QuerySet[Payment]:
    """Payments newest first, with client, payor and allocations (and their invoices) joined."""
    from django.db.models import Prefetch

    allocations = Allocation.objects.select_related("invoice").order_by("id")
    qs = Payment.objects.select_related("client", "payor").prefetch_related(
        Prefetch("allocations", queryset=allocations)
    )
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if payor_id is not None:
        qs = qs.filter(payor_id=payor_id)
    if kind is not None:
        qs = qs.filter(kind=kind)
    if received_from is not None:
        qs = qs.filter(received_on__gte=received_from)
    if received_to is not None:
        qs = qs.filter(received_on__lte=received_to)
    return qs.order_by("-received_on", "-id")


def claim_list(
    *, status: str | None = None, payor_id: int | None = None, invoice_id: int | None = None
) -> QuerySet[Claim]:
    """Claims newest first, with invoice, policy, payor and animal joined."""
    qs = Claim.objects.select_related("invoice", "policy__payor", "policy__animal")
    if status is not None:
        qs = qs.filter(status=status)
    if payor_id is not None:
        qs = qs.filter(policy__payor_id=payor_id)
    if invoice_id is not None:
        qs = qs.filter(invoice_id=invoice_id)
    return qs.order_by("-created_at", "-id")


# --- Open insurance claims across insurers ---------------------------------------------------------------------

OPEN_CLAIM_STATUSES = (
    Claim.Status.DRAFT,
    Claim.Status.SUBMITTED,
    Claim.Status.ACCEPTED,
    Claim.Status.PARTLY_ACCEPTED,
)


@dataclass
class OpenClaimsPage:
    claims: list[Claim]
    next_after: int | None  # the key to ask for the next page with; None on the last page


def claim_waiting_since(claim: Claim) -> dt.date:
    """The day the claim's current step began: created (a draft), submitted, or decided (waiting for payment)."""
    from vetpms.timeutils import to_local

    if claim.status == Claim.Status.DRAFT or claim.submitted_on is None:
        return to_local(claim.created_at).date()
    if claim.status == Claim.Status.SUBMITTED or claim.decided_on is None:
        return claim.submitted_on
    return claim.decided_on


def open_claims(
    *,
    statuses: tuple[str, ...] = (),
    payor_id: int | None = None,
    waiting_days: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> OpenClaimsPage:
    """Every claim not yet settled or declined, across insurers, oldest first, a page at a time by key (the claim
    id: ``after`` is the last one seen, so a deep page costs what the first does). ``statuses`` narrows to some
    of the open ones; ``waiting_days`` keeps the claims whose current step (claim_waiting_since) began at least
    that many days ago, the ones to chase. One query, with invoice, client, animal and payor joined."""
    from django.utils import timezone

    from vetpms.timeutils import local_day_bounds

    wanted = [s for s in statuses if s in OPEN_CLAIM_STATUSES] or list(OPEN_CLAIM_STATUSES)
    qs = Claim.objects.filter(status__in=wanted).select_related("invoice__client", "policy__payor", "policy__animal")
    if payor_id is not None:
        qs = qs.filter(policy__payor_id=payor_id)
    if waiting_days is not None:
        cutoff = timezone.localdate() - dt.timedelta(days=waiting_days)
        _, end_of_cutoff = local_day_bounds(cutoff)
        qs = qs.filter(
            Q(status=Claim.Status.DRAFT, created_at__lt=end_of_cutoff)
            | Q(status=Claim.Status.SUBMITTED, submitted_on__lte=cutoff)
            | Q(status__in=[Claim.Status.ACCEPTED, Claim.Status.PARTLY_ACCEPTED], decided_on__lte=cutoff)
        )
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return OpenClaimsPage(claims=rows, next_after=rows[-1].pk if more else None)


def insurer_owes(claim: Claim) -> Decimal:
    """What the insurer still owes on a claim: its share (accepted, else claimed) less what it has paid."""
    share = claim.amount_accepted if claim.amount_accepted is not None else claim.amount_claimed
    return share - claim.amount_paid


# --- The cash-up: one person's takings on one day ---------------------------------------------------------------


@dataclass
class Takings:
    day: dt.date
    taken_by: object | None  # the user whose takings these are; None: everyone's
    by_method: list[dict]  # method label, payments, received, refunds, refunded, net
    payments: list[Payment]  # every payment and refund of the day, voided ones included (marked)

    @property
    def net(self) -> Decimal:
        return sum((row["net"] for row in self.by_method), ZERO)


def takings(*, day: dt.date, taken_by=None) -> Takings:
    """The cash-up: the payments and refunds dated ``day`` that ``taken_by`` recorded (everyone's when None), per
    method, and each of them for counting the drawer. Voided payments are listed, marked, and not counted."""
    from django.db.models import Prefetch

    qs = Payment.objects.filter(client__isnull=False, received_on=day).select_related("client")
    if taken_by is not None:
        qs = qs.filter(created_by=taken_by)
    payments = list(
        qs.prefetch_related(Prefetch("allocations", queryset=Allocation.objects.select_related("invoice"))).order_by(
            "created_at", "id"
        )
    )
    labels = dict(Payment.Method.choices)
    rows: dict[str, dict] = {}
    for p in payments:
        if p.is_void:
            continue
        row = rows.setdefault(
            p.method,
            {"method": labels.get(p.method, p.method), "payments": 0, "received": ZERO, "refunds": 0, "refunded": ZERO},
        )
        if p.kind == Payment.Kind.PAYMENT:
            row["payments"] += 1
            row["received"] += p.amount
        else:
            row["refunds"] += 1
            row["refunded"] += p.amount
    by_method = [{**r, "net": r["received"] - r["refunded"]} for _, r in sorted(rows.items())]
    return Takings(day=day, taken_by=taken_by, by_method=by_method, payments=payments)
