"""The revenue report: invoiced, credited and collected by period, vet, category, product and payor."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum

from invoicing.models import Invoice, InvoiceLine, Payment, PaymentDay, Product, RevenueDay, RevenueMonth
from invoicing.selectors import ISSUED, MONEY, _share_expression, sharing_claims
from reports.base import Chart, Column, Grain, ReportParams, ReportResult
from reports.builders.common import (
    CATEGORY_LABELS,
    NO_PRODUCT,
    NO_VET,
    change_percent,
    column_totals,
    money,
    percent,
    result,
    vet_scope,
)
from reports.periods import TRUNC, a_year_later, as_date, bucket_label, buckets, next_bucket, years_back
from vetpms.models import Vet
from vetpms.money import ZERO, plain_number


@dataclass
class Scope:
    """The two periods a revenue figure compares and the filters every query applies."""

    params: ReportParams
    ly_start: dt.date = field(init=False)
    ly_end: dt.date = field(init=False)

    def __post_init__(self) -> None:
        self.ly_start, self.ly_end = years_back(self.params.start), years_back(self.params.end)

    @property
    def by_lines(self) -> bool:
        return bool(vet_scope(self.params) or self.params.categories)

    def current(self, prefix: str, date_field: str) -> Q:
        return Q(**{f"{prefix}{date_field}__gte": self.params.start, f"{prefix}{date_field}__lte": self.params.end})

    def last_year(self, prefix: str, date_field: str) -> Q:
        return Q(**{f"{prefix}{date_field}__gte": self.ly_start, f"{prefix}{date_field}__lte": self.ly_end})

    def documents(self, prefix: str = "") -> Q:
        """Issued documents of both periods, claimed from the chosen payors if any (``prefix`` "invoice__" on
        lines)."""
        q = Q(**{f"{prefix}status__in": ISSUED}) & (
            self.current(prefix, "issue_date") | self.last_year(prefix, "issue_date")
        )
        # Opening balances carried over (and their credit notes) are owed money, not revenue (as in the summaries).
        q &= Q(**{f"{prefix}opening_balance": False}) & ~Q(**{f"{prefix}credits__opening_balance": True})
        if self.params.payor_ids:
            claimed = sharing_claims().filter(policy__payor_id__in=self.params.payor_ids).values("invoice_id")
            q &= Q(**{f"{prefix}kind": Invoice.Kind.INVOICE, f"{prefix}pk__in": claimed}) | Q(
                **{f"{prefix}kind": Invoice.Kind.CREDIT_NOTE, f"{prefix}credits_id__in": claimed}
            )
        return q

    def lines(self) -> QuerySet[InvoiceLine]:
        qs = InvoiceLine.objects.filter(self.documents("invoice__"))
        vets = vet_scope(self.params)
        if vets:
            qs = qs.filter(vet_id__in=vets)
        if self.params.categories:
            qs = qs.filter(category__in=self.params.categories)
        return qs

    @property
    def summarised(self) -> bool:
        """Whether the documents' figures come from the revenue summaries (invoicing.summaries). Under a payor
        filter they come from the claimed documents themselves: which payors claimed an invoice is not a
        dimension of the summaries, and the claimed documents are few (claims are read first, by their index)."""
        return not self.params.payor_ids

    def summaries(self, *, months: bool) -> list[SummaryPart]:
        """The summary tables to read for both periods: whole calendar months from RevenueMonth (when ``months``:
        buckets of a month or longer), the days at the periods' ends, or every day, from RevenueDay."""
        now_days, now_months = split_period(self.params.start, self.params.end, months=months)
        ly_days, ly_months = split_period(self.ly_start, self.ly_end, months=months)
        parts = []
        if now_days or ly_days:
            parts.append(self._part(RevenueDay, "day", now_days, ly_days))
        if now_months or ly_months:
            parts.append(self._part(RevenueMonth, "month", now_months, ly_months))
        return parts

    def _part(self, model, column: str, now: list[Span], before: list[Span]) -> SummaryPart:
        def within(spans: list[Span]) -> Q:
            q = Q(**{f"{column}__isnull": True})  # matches nothing: the column is never empty
            for first, last in spans:
                q |= Q(**{f"{column}__gte": first, f"{column}__lte": last})
            return q

        qs = model.objects.filter(within(now) | within(before))
        vets = vet_scope(self.params)
        if vets:
            qs = qs.filter(vet_key__in=vets)
        if self.params.categories:
            qs = qs.filter(category__in=self.params.categories)
        return SummaryPart(qs, column, within(now), within(before))


Span = tuple[dt.date, dt.date]


@dataclass
class SummaryPart:
    """One summary table's rows for a report: ``rows`` (both periods, filtered), its date column, and the
    conditions that pick this period's rows and the year before's."""

    rows: QuerySet
    column: str
    now: Q
    before: Q


def split_period(start: dt.date, end: dt.date, *, months: bool) -> tuple[list[Span], list[Span]]:
    """[start, end] as (spans of days, spans of months): with ``months``, the whole calendar months inside it as
    one span of their first days, and the days before and after them; otherwise all of it as days."""
    if not months:
        return [(start, end)], []
    one = dt.timedelta(days=1)
    first = start if start.day == 1 else next_bucket(start.replace(day=1), "month")  # of the first whole month
    stop = end + one if (end + one).day == 1 else end.replace(day=1)  # the day after the last whole month
    if first >= stop:
        return [(start, end)], []
    days = []
    if start < first:
        days.append((start, first - one))
    if stop <= end:
        days.append((stop, end))
    return days, [(first, (stop - one).replace(day=1))]


def _summed(parts: list[SummaryPart], keys, figures) -> list[dict[str, Any]]:
    """Each part's rows grouped by ``keys(part)`` (name -> expression, or None for a plain column) with
    ``figures(part)`` as sums, in one statement (UNION ALL of the parts); rows of one key from two parts are for
    the caller to add up."""
    queries = []
    for part in parts:
        named = keys(part)
        plain = [name for name, expression in named.items() if expression is None]
        expressions = {name: expression for name, expression in named.items() if expression is not None}
        queries.append(part.rows.values(*plain, **expressions).annotate(**figures(part)).order_by())
    if len(queries) < 2:
        return list(queries[0]) if queries else []
    return list(queries[0].union(*queries[1:], all=True))


def _added(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """Rows of the same ``key`` added up (two summary tables may give one bucket or group each a row); a figure
    stays None where no row had it."""
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        into = out.setdefault(as_date(row.pop(key)), {})
        for name, value in row.items():
            if value is not None:
                into[name] = value if into.get(name) is None else money(into[name]) + money(value)
            else:
                into.setdefault(name, None)
    return out


def _document_sums(scope: Scope, grain: Grain) -> dict[dt.date, dict[str, Any]]:
    """Per bucket: invoiced net/tax/gross and credited gross of the period, revenue of the year before."""
    if scope.summarised:
        invoice, credit = Q(kind=Invoice.Kind.INVOICE), Q(kind=Invoice.Kind.CREDIT_NOTE)
        summed = _summed(
            scope.summaries(months=grain in ("month", "quarter", "year")),
            lambda part: {"bucket": TRUNC[grain](part.column)},
            lambda part: {
                "invoiced_net": Sum("net", filter=part.now & invoice),
                "invoiced_tax": Sum("tax", filter=part.now & invoice),
                "invoiced_gross": Sum("gross", filter=part.now & invoice),
                "credited": Sum("gross", filter=part.now & credit),
                "last_year": Sum("gross", filter=part.before),
            },
        )
        return _added(summed, "bucket")
    if scope.by_lines:
        qs: QuerySet = scope.lines()
        prefix, net, tax, gross = "invoice__", "net", "tax", "gross"
    else:
        qs = Invoice.objects.filter(scope.documents())
        prefix, net, tax, gross = "", "net_total", "tax_total", "gross_total"
    invoice = Q(**{f"{prefix}kind": Invoice.Kind.INVOICE})
    credit = Q(**{f"{prefix}kind": Invoice.Kind.CREDIT_NOTE})
    now, before = scope.current(prefix, "issue_date"), scope.last_year(prefix, "issue_date")
    rows = (
        qs.annotate(bucket=TRUNC[grain](f"{prefix}issue_date"))
        .values("bucket")
        .annotate(
            invoiced_net=Sum(net, filter=now & invoice),
            invoiced_tax=Sum(tax, filter=now & invoice),
            invoiced_gross=Sum(gross, filter=now & invoice),
            credited=Sum(gross, filter=now & credit),
            last_year=Sum(gross, filter=before),
        )
        .order_by()
    )
    return {as_date(r.pop("bucket")): r for r in rows}  # type: ignore[misc]


def _payment_sums(scope: Scope, grain: Grain) -> dict[dt.date, dict[str, Any]]:
    """Per bucket: payments and refunds of the period and of the year before, from the payments' summary per
    day (invoicing.models.PaymentDay: a few rows a day)."""
    qs = PaymentDay.objects.filter(scope.current("", "day") | scope.last_year("", "day"))
    if scope.params.payor_ids:
        qs = qs.filter(payor_key__in=scope.params.payor_ids)
    now, before = scope.current("", "day"), scope.last_year("", "day")
    paid, refunded = Q(kind=Payment.Kind.PAYMENT), Q(kind=Payment.Kind.REFUND)
    rows = (
        qs.annotate(bucket=TRUNC[grain]("day"))
        .values("bucket")
        .annotate(
            paid=Sum("amount", filter=now & paid),
            refunded=Sum("amount", filter=now & refunded),
            ly_paid=Sum("amount", filter=before & paid),
            ly_refunded=Sum("amount", filter=before & refunded),
        )
        .order_by()
    )
    return {as_date(r.pop("bucket")): r for r in rows}  # type: ignore[misc]


REVENUE_COLUMNS = [
    Column("period", "Period"),
    Column("invoiced_net", "Invoiced (net)", "money"),
    Column("invoiced_tax", "Tax", "money"),
    Column("invoiced_gross", "Invoiced (gross)", "money"),
    Column("credited", "Credited", "money"),
    Column("revenue", "Revenue", "money"),
    Column("collected", "Collected", "money"),
    Column("revenue_last_year", "Revenue a year earlier", "money"),
    Column("change", "Change", "percent"),
]
MONEY_KEYS = ("invoiced_net", "invoiced_tax", "invoiced_gross", "credited", "revenue", "collected", "revenue_last_year")


def _line_groups(scope: Scope) -> list[dict[str, Any]]:
    """The lines' sums per (vet, category, product), for the period and the year before, in one scan of the
    lines (credit-note lines count negative, in their own period). The breakdowns by vet, by category and the
    top products are added up from these few thousand groups, instead of reading two million lines three times."""
    if scope.summarised:
        return _summed(
            scope.summaries(months=True),
            lambda part: {"vet_id": F("vet_key"), "category": None, "product_id": F("product_key")},
            lambda part: {
                "sum_net": Sum("net", filter=part.now),
                "sum_tax": Sum("tax", filter=part.now),
                "sum_gross": Sum("gross", filter=part.now),
                "sum_last_year": Sum("gross", filter=part.before),
                "sum_quantity": Sum("quantity", filter=part.now),
                "lines": Sum("lines", filter=part.now),
            },
        )
    prefix = "invoice__"
    now, before = scope.current(prefix, "issue_date"), scope.last_year(prefix, "issue_date")
    return list(
        scope.lines()
        .values("vet_id", "category", "product_id")
        .annotate(
            sum_net=Sum("net", filter=now),
            sum_tax=Sum("tax", filter=now),
            sum_gross=Sum("gross", filter=now),
            sum_last_year=Sum("gross", filter=before),
            sum_quantity=Sum("quantity", filter=now),
            lines=Count("id", filter=now),
        )
        .order_by()
    )


def _breakdown(groups: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """``groups`` added up by ``key`` (vet_id, category or product_id)."""
    sums: dict[Any, dict[str, Any]] = {}
    for g in groups:
        row = sums.setdefault(g[key], {key: g[key], "sum_net": ZERO, "sum_tax": ZERO, "sum_gross": ZERO,
                                       "sum_last_year": ZERO, "sum_quantity": Decimal(0), "lines": 0})  # fmt: skip
        for name in ("sum_net", "sum_tax", "sum_gross", "sum_last_year"):
            row[name] += money(g[name])
        row["sum_quantity"] += Decimal(str(g["sum_quantity"] or 0))
        row["lines"] += g["lines"] or 0
    return list(sums.values())


BREAKDOWN_COLUMNS = [
    Column("net", "Net", "money"),
    Column("tax", "Tax", "money"),
    Column("gross", "Revenue", "money"),
    Column("last_year", "A year earlier", "money"),
    Column("change", "Change", "percent"),
]


def _breakdown_rows(raw: list[dict[str, Any]], name_of) -> list[dict[str, Any]]:
    rows = []
    for r in raw:
        net, tax, gross = money(r["sum_net"]), money(r["sum_tax"]), money(r["sum_gross"])
        ly = money(r["sum_last_year"])
        if not (net or tax or gross or ly):
            continue
        rows.append(
            {
                "name": name_of(r),
                "net": net,
                "tax": tax,
                "gross": gross,
                "last_year": ly,
                "change": change_percent(gross, ly),
            }
        )
    rows.sort(key=lambda r: (-r["gross"], r["name"]))
    return rows


def _section(params, title: str, first: Column, rows: list[dict], notes: list[str] | None = None) -> ReportResult:
    totals = column_totals(rows, ["net", "tax", "gross", "last_year"])
    totals["change"] = change_percent(totals["gross"] or ZERO, totals["last_year"] or ZERO)
    return ReportResult(
        name="revenue",
        title=title,
        params=params,
        columns=[first, *BREAKDOWN_COLUMNS],
        rows=rows,
        totals=totals,
        notes=notes or [],
    )


def _top_products(scope: Scope, groups: list[dict[str, Any]]) -> ReportResult:
    params = scope.params
    by_product = [r for r in _breakdown(groups, "product_id") if r["lines"]]
    names = dict(
        Product.objects.filter(pk__in=[r["product_id"] for r in by_product if r["product_id"]]).values_list(
            "pk", "name"
        )
    )
    by_product.sort(key=lambda r: (-r["sum_gross"], names.get(r["product_id"], NO_PRODUCT)))
    rows = [
        {
            "name": names.get(r["product_id"], NO_PRODUCT),
            "quantity": Decimal(plain_number(r["sum_quantity"])),  # 10.000 -> 10, never 1E+1
            "lines": r["lines"],
            "net": r["sum_net"],
            "gross": r["sum_gross"],
        }
        for r in by_product[: params.top_n]
    ]
    columns = [
        Column("name", "Product"),
        Column("quantity", "Quantity", "int"),
        Column("lines", "Lines", "int"),
        Column("net", "Net", "money"),
        Column("gross", "Revenue", "money"),
    ]
    return ReportResult(
        name="revenue",
        title=f"Top {params.top_n} products",
        params=params,
        columns=columns,
        rows=rows,
        notes=["Products by revenue in the period after credit notes; quantities net of credited quantities."],
    )


def _payor_section(scope: Scope, revenue_total: Decimal) -> ReportResult:
    """Insurers' shares (claims on the invoices issued in the period, by payor) and the clients' share (the rest):
    together they are the period's revenue, as owner share + insurer share = gross for every invoice."""
    params = scope.params
    claims = sharing_claims().filter(
        invoice__status__in=ISSUED, invoice__issue_date__gte=params.start, invoice__issue_date__lte=params.end
    )
    if params.payor_ids:
        claims = claims.filter(policy__payor_id__in=params.payor_ids)
    raw = (
        claims.values("policy__payor_id", "policy__payor__name")
        .annotate(share=Sum(_share_expression(), output_field=MONEY), invoices=Count("invoice_id", distinct=True))
        .order_by("policy__payor__name")
    )
    rows = [
        {"name": r["policy__payor__name"], "kind": "Insurer", "invoices": r["invoices"], "share": money(r["share"])}
        for r in raw
    ]
    insurers = sum((r["share"] for r in rows), ZERO)
    rows.append(
        {"name": "Clients (owner share)", "kind": "Client", "invoices": None, "share": revenue_total - insurers}
    )
    for row in rows:
        row["percent"] = percent(row["share"], revenue_total)
    columns = [
        Column("name", "Payor"),
        Column("kind", "Who"),
        Column("invoices", "Invoices claimed", "int"),
        Column("share", "Share", "money"),
        Column("percent", "Of revenue", "percent"),
    ]
    return ReportResult(
        name="revenue",
        title="By payor: insurer share and client share",
        params=params,
        columns=columns,
        rows=rows,
        totals={"share": revenue_total, "percent": Decimal(100) if revenue_total else None},
        notes=[
            "An insurer's share is what it accepted, or what was claimed while undecided (declined claims and "
            "claims paid to the client count as the client's)."
        ],
    )


def revenue(params: ReportParams) -> ReportResult:
    scope = Scope(params)
    grain = params.grain
    docs = _document_sums(scope, grain)
    payments = None if scope.by_lines else _payment_sums(scope, grain)
    rows: list[dict[str, Any]] = []
    last_year_by_bucket: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    ly_collected: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    for bucket, sums in docs.items():
        if sums["last_year"] is not None:
            last_year_by_bucket[a_year_later(bucket, grain)] += money(sums["last_year"])
    for bucket, sums in (payments or {}).items():
        ly_collected[a_year_later(bucket, grain)] += money(sums["ly_paid"]) - money(sums["ly_refunded"])
    for bucket in buckets(params.start, params.end, grain):
        d = docs.get(bucket, {})
        invoiced_gross, credited = money(d.get("invoiced_gross")), money(d.get("credited"))
        row: dict[str, Any] = {
            "period": bucket_label(bucket, grain),
            "bucket": bucket,
            "invoiced_net": money(d.get("invoiced_net")),
            "invoiced_tax": money(d.get("invoiced_tax")),
            "invoiced_gross": invoiced_gross,
            "credited": credited,
            "revenue": invoiced_gross + credited,
            "collected": None,
            "revenue_last_year": last_year_by_bucket[bucket],
        }
        if payments is not None:
            p = payments.get(bucket, {})
            row["collected"] = money(p.get("paid")) - money(p.get("refunded"))
            row["collected_last_year"] = ly_collected[bucket]
        row["change"] = change_percent(row["revenue"], row["revenue_last_year"])
        rows.append(row)
    totals = column_totals(rows, MONEY_KEYS)
    totals["change"] = change_percent(totals["revenue"] or ZERO, totals["revenue_last_year"] or ZERO)
    notes = []
    if scope.by_lines:
        notes.append("Collected is not shown: payments settle whole invoices and are not split by vet or category.")
    chart = Chart(
        kind="bar",
        title="Revenue per period, against a year earlier",
        x_label={"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}[grain],
        y_label="Revenue (gross after credit notes)",
        categories=[r["period"] for r in rows],
        series=[
            ("This period", [r["revenue"] for r in rows]),
            ("A year earlier", [r["revenue_last_year"] for r in rows]),
        ],
    )
    groups = _line_groups(scope)
    vet_names = dict(Vet.objects.filter(pk__in={g["vet_id"] for g in groups}).values_list("pk", "display_name"))
    sections = [
        _section(
            params,
            "By vet",
            Column("name", "Vet"),
            _breakdown_rows(_breakdown(groups, "vet_id"), lambda r: vet_names.get(r["vet_id"], NO_VET)),
        ),
        _section(
            params,
            "By treatment category",
            Column("name", "Category"),
            _breakdown_rows(
                _breakdown(groups, "category"), lambda r: CATEGORY_LABELS.get(r["category"], r["category"])
            ),
        ),
        _top_products(scope, groups),
    ]
    if scope.by_lines:
        notes.append("The payor breakdown is shown for the whole practice only: claims cover invoices, not vets.")
    else:
        sections.append(_payor_section(scope, totals["revenue"] or ZERO))
    return result(
        params,
        "revenue",
        "Revenue",
        REVENUE_COLUMNS,
        rows,
        totals=totals,
        chart=chart,
        notes=notes,
        sections=sections,
    )
