"""The report builders: each turns a ReportParams into one ReportResult (reports.base), computed in the database
with GROUP BY, in a fixed number of queries whatever the period. Registered in REPORTS at import (ReportsConfig
imports this module), so pages, exports and the API find them by name.

Definitions every report keeps (the tests recompute each figure from the documents):

- **Issued documents** are finalised or void ones (a void invoice keeps its amounts and is cancelled by the full
  credit note issued with it), as in invoicing.selectors.ISSUED. Drafts never count.
- **Periods are practice-local days.** ``Invoice.issue_date`` is the local date the document was finalised and
  ``Payment.received_on`` a local date, so they are bucketed as they are. Timestamps (appointment starts, notices'
  ``sent_at``, reminders' ``closed_at``) are compared with the UTC bounds of local midnights
  (vetpms.timeutils.local_day_bounds) and bucketed after conversion to the practice's zone; a local day of 23 or
  25 hours is one day.
- **Buckets**: a week starts on Monday (ISO); a quarter on 1 January, April, July, October. The first and last
  buckets hold only the days inside the period.
- **Revenue** = invoiced gross + credited (credit notes are negative and count in the period of their own
  issue date, not the invoice's). **Collected** = payments received in the period (clients' and insurers')
  less refunds paid out.
- **A year earlier** is the same dates one year back (29 February -> 28 February); a bucket is compared with the
  bucket one year before it (for weeks: the same ISO week number).
- **Vet and category filters** read the invoice lines (each line keeps its vet and category); without them the
  documents' stored totals are read, which equal the sums of their lines (invoicing keeps that rule). Payments
  settle whole invoices, so "collected" cannot be split by vet or category: with such a filter it is left empty,
  with a note. The payor filter keeps the invoices claimed from those payors (and their credit notes), and the
  payments those payors made.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, QuerySet, Sum
from django.db.models.functions import (
    ExtractIsoWeekDay,
    TruncDate,
    TruncDay,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
)
from django.utils import timezone

from appointments.availability import sessions_on
from appointments.models import Appointment, AppointmentStatus, BookException, WorkingHours
from clients.models import Client
from invoicing.models import (
    Allocation,
    Claim,
    Invoice,
    InvoiceLine,
    OpenInvoice,
    Payment,
    Payor,
    Policy,
    Product,
)
from invoicing.selectors import ISSUED, MONEY, SHARING_CLAIM_STATUSES, _share_expression, sharing_claims
from reminders.models import Reminder, ReminderDelivery, ReminderNotice
from reports.base import Chart, Column, Grain, ReportParams, ReportResult, ReportSpec, register
from vetpms.models import Vet
from vetpms.money import ZERO, quantize_money
from vetpms.timeutils import local_day_bounds, practice_tz, to_local

ONE_DECIMAL = Decimal("0.1")
NO_VET = "No vet"
NO_PRODUCT = "Not from the catalogue"
MAX_ROWS = 500  # the longest list of clients a report shows (its totals still cover every client)
CATEGORY_LABELS = dict(Product.Category.choices)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


# --- small helpers -------------------------------------------------------------------------------------------


def _owners(count: int) -> str:
    return f"{count:,} owner was" if count == 1 else f"{count:,} owners were"


def money(value: Any) -> Decimal:
    """A sum from the database as money: None -> 0.00; SQLite's floats through their shortest repr, never
    through binary arithmetic."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = repr(value)
    return quantize_money(value)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one place (half up); None when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL)


def change_percent(now: Decimal, before: Decimal) -> Decimal | None:
    if not before:
        return None
    return ((now - before) * 100 / abs(before)).quantize(ONE_DECIMAL)


def years_back(day: dt.date, years: int = 1) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first instant of ``start``, first instant after ``end``) in UTC."""
    return local_day_bounds(start)[0], local_day_bounds(end)[1]


def vet_scope(params: ReportParams) -> tuple[int, ...]:
    """The vets the figures are limited to (a vet's own figures, else the vet filter), () for all."""
    if params.only_vet_id is not None:
        return (params.only_vet_id,)
    return params.vet_ids


def result(
    params: ReportParams, name: str, title: str, columns: list[Column], rows: list[dict], **kwargs
) -> ReportResult:
    notes = list(params.notes) + list(kwargs.pop("notes", []))
    return ReportResult(name=name, title=title, params=params, columns=columns, rows=rows, notes=notes, **kwargs)


def column_totals(rows: Iterable[dict], keys: Iterable[str]) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    rows = list(rows)
    for key in keys:
        values = [r[key] for r in rows if r.get(key) is not None]
        totals[key] = sum(values, ZERO if values and isinstance(values[0], Decimal) else 0) if values else None
    return totals


def refuse_vets(params: ReportParams) -> None:
    if params.only_vet_id is not None:
        raise PermissionDenied("These are the practice's figures; they cannot be limited to one vet's own.")


# --- buckets -------------------------------------------------------------------------------------------------

TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter, "year": TruncYear}


def bucket_of(day: dt.date, grain: Grain) -> dt.date:
    """The first day of the bucket ``day`` falls in (what the database's Trunc gives)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_bucket(bucket: dt.date, grain: Grain) -> dt.date:
    if grain == "day":
        return bucket + dt.timedelta(days=1)
    if grain == "week":
        return bucket + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = bucket.month - 1 + months
    return bucket.replace(year=bucket.year + index // 12, month=index % 12 + 1, day=1)


def buckets(start: dt.date, end: dt.date, grain: Grain) -> list[dt.date]:
    found, bucket = [], bucket_of(start, grain)
    while bucket <= end:
        found.append(bucket)
        bucket = next_bucket(bucket, grain)
    return found


def bucket_label(bucket: dt.date, grain: Grain) -> str:
    if grain == "day":
        return f"{bucket.day} {bucket:%b %Y}"
    if grain == "week":
        year, week, _ = bucket.isocalendar()
        return f"{year}-W{week:02d} ({bucket.day} {bucket:%b})"
    if grain == "month":
        return f"{bucket:%b %Y}"
    if grain == "quarter":
        return f"{bucket.year} Q{(bucket.month - 1) // 3 + 1}"
    return str(bucket.year)


def a_year_later(bucket: dt.date, grain: Grain) -> dt.date:
    """The bucket a year after ``bucket`` (weeks keep their ISO week number; week 53 goes to week 52)."""
    if grain == "week":
        year, week, _ = bucket.isocalendar()
        for w in (week, week - 1):
            try:
                return dt.date.fromisocalendar(year + 1, w, 1)
            except ValueError:
                continue
    if grain == "day":
        return (
            bucket.replace(year=bucket.year + 1)
            if (bucket.month, bucket.day) != (2, 29)
            else bucket.replace(year=bucket.year + 1, day=28)
        )
    return bucket.replace(year=bucket.year + 1)


def as_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    """A Trunc result as a date (PostgreSQL's DATE_TRUNC on a date answers a timestamp)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value


# --- revenue -------------------------------------------------------------------------------------------------


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


def _document_sums(scope: Scope, grain: Grain) -> dict[dt.date, dict[str, Any]]:
    """Per bucket: invoiced net/tax/gross and credited gross of the period, revenue of the year before."""
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
    qs = Payment.objects.live().filter(scope.current("", "received_on") | scope.last_year("", "received_on"))
    if scope.params.payor_ids:
        qs = qs.filter(payor_id__in=scope.params.payor_ids)
    now, before = scope.current("", "received_on"), scope.last_year("", "received_on")
    paid, refunded = Q(kind=Payment.Kind.PAYMENT), Q(kind=Payment.Kind.REFUND)
    rows = (
        qs.annotate(bucket=TRUNC[grain]("received_on"))
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
            "quantity": r["sum_quantity"].normalize(),
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


# --- receivables ---------------------------------------------------------------------------------------------

AGE_KEYS = ("d0_30", "d31_60", "d61_90", "d90")
AGE_LABELS = ("0-30 days", "31-60 days", "61-90 days", "Over 90 days")


def _tables() -> dict[str, str]:
    return {
        "invoice": Invoice._meta.db_table,
        "claim": Claim._meta.db_table,
        "policy": Policy._meta.db_table,
        "allocation": Allocation._meta.db_table,
        "payment": Payment._meta.db_table,
    }


def _in_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants from the models' choices, never user input


def _age_cases(column: str, amount: str, as_of: dt.date) -> tuple[str, list]:
    """SUM(CASE ...) per age bucket of ``column`` (a date) as of ``as_of``: 0-30, 31-60, 61-90, 90+ days."""
    limits = [as_of - dt.timedelta(days=n) for n in (30, 60, 90)]
    sql = (
        f"SUM(CASE WHEN {column} >= %s THEN {amount} ELSE 0 END), "
        f"SUM(CASE WHEN {column} < %s AND {column} >= %s THEN {amount} ELSE 0 END), "
        f"SUM(CASE WHEN {column} < %s AND {column} >= %s THEN {amount} ELSE 0 END), "
        f"SUM(CASE WHEN {column} < %s THEN {amount} ELSE 0 END)"
    )
    return sql, [limits[0], limits[0], limits[1], limits[1], limits[2], limits[2]]


def client_open_items_sql(as_of: dt.date, *, open_list: bool = False) -> tuple[str, list]:
    """Per client: what is left to pay on each invoice issued up to ``as_of`` (invoicing.selectors.
    client_outstanding as it stood that day: gross + its credit notes - the insurers' shares - the client's
    payments allocated to it), summed by age of the invoice, and what of it is past the due date.

    Each source is summed per invoice first and joined to the invoices (one pass over each table). The client's
    allocations are those without a claim (insurers' payments are always allocated to their claim:
    invoicing.services), all of them, less those of payments dated after ``as_of``: for "as of today" that is
    none, and no payment has to be read.

    With ``open_list`` (as of today or later) only the invoices on invoicing's list of open invoices
    (invoicing.models.OpenInvoice, kept by the invoicing models' signals) are summed: the report then reads tens
    of thousands of rows instead of every invoice ever issued. An invoice cannot be open at the end of today
    without being on that list, which tests/invoicing/test_open_invoices.py checks."""
    t = _tables()
    issued = _in_list(ISSUED)
    sharing = _in_list(SHARING_CLAIM_STATUSES)
    ages, age_params = _age_cases("o.issue_date", "o.owed", as_of)
    if open_list:
        # The list reflects every payment and claim recorded; one dated after ``as_of`` may have closed an invoice
        # that was open that day, so those invoices are read too.
        candidates = f"""
        ), candidates AS (
            SELECT invoice_id FROM {OpenInvoice._meta.db_table}
            UNION SELECT invoice_id FROM paid_later
            UNION SELECT invoice_id FROM {t["claim"]} WHERE submitted_on > %s"""  # noqa: S608 (table names)
        only_paid = "AND a.invoice_id IN (SELECT invoice_id FROM candidates)"
        only_invoices = "AND i.id IN (SELECT invoice_id FROM candidates)"
        candidate_params = [as_of]
    else:
        candidates = only_paid = only_invoices = ""
        candidate_params = []
    sql = f"""
        WITH paid_later AS (
            SELECT a.invoice_id, SUM(a.amount) AS total FROM {t["allocation"]} a
              JOIN {t["payment"]} p ON p.id = a.payment_id
             WHERE a.claim_id IS NULL AND p.received_on > %s GROUP BY a.invoice_id{candidates}
        ), paid AS (
            SELECT a.invoice_id, SUM(a.amount) AS total FROM {t["allocation"]} a WHERE a.claim_id IS NULL {only_paid}
             GROUP BY a.invoice_id
        ), credited AS (  -- credits_id is set on credit notes only (a check constraint): read from its index
            SELECT credits_id AS invoice_id, SUM(gross_total) AS total FROM {t["invoice"]}
             WHERE credits_id IS NOT NULL AND status IN ({issued}) AND issue_date <= %s GROUP BY credits_id
        ), insured AS (
            SELECT invoice_id,
                   SUM(CASE WHEN amount_accepted IS NOT NULL THEN amount_accepted ELSE amount_claimed END) AS total
              FROM {t["claim"]}
             WHERE direct_settlement AND status IN ({sharing}) AND submitted_on <= %s GROUP BY invoice_id
        ), o AS (
            SELECT i.client_id, i.issue_date, i.due_date,
                   i.gross_total + COALESCE(c.total, 0) - COALESCE(ins.total, 0)
                   - COALESCE(pd.total, 0) + COALESCE(pl.total, 0) AS owed
              FROM {t["invoice"]} i
              LEFT JOIN paid pd ON pd.invoice_id = i.id
              LEFT JOIN paid_later pl ON pl.invoice_id = i.id
              LEFT JOIN credited c ON c.invoice_id = i.id
              LEFT JOIN insured ins ON ins.invoice_id = i.id
             WHERE i.kind = 'invoice' AND i.status IN ({issued}) AND i.issue_date <= %s {only_invoices}
        )
        SELECT o.client_id, {ages}, SUM(CASE WHEN o.due_date < %s THEN o.owed ELSE 0 END), MIN(o.due_date)
          FROM o
         WHERE o.owed > 0.004
         GROUP BY o.client_id
    """  # noqa: S608 (table names from the models, statuses from their choices; values are parameters)
    return sql, [as_of, *candidate_params, as_of, as_of, as_of, *age_params, as_of]


def client_balances_sql(as_of: dt.date) -> tuple[str, list]:
    """Per client: the balance of invoicing.selectors.client_balance(upto=as_of), for every client at once."""
    t = _tables()
    issued = _in_list(ISSUED)
    sharing = _in_list(SHARING_CLAIM_STATUSES)
    sql = f"""
        SELECT client_id, SUM(amount) FROM (
            SELECT client_id, gross_total AS amount FROM {t["invoice"]}
             WHERE status IN ({issued}) AND issue_date <= %s
            UNION ALL
            SELECT i.client_id,
                   -(CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted ELSE c.amount_claimed END)
              FROM {t["claim"]} c JOIN {t["invoice"]} i ON i.id = c.invoice_id
             WHERE c.direct_settlement AND c.status IN ({sharing}) AND c.submitted_on <= %s
            UNION ALL
            SELECT client_id, CASE WHEN kind = 'payment' THEN -amount ELSE amount END FROM {t["payment"]}
             WHERE client_id IS NOT NULL AND voided_at IS NULL AND received_on <= %s
        ) entries
        GROUP BY client_id HAVING SUM(amount) > 0.004 OR SUM(amount) < -0.004
    """  # noqa: S608 (table names from the models, statuses from their choices; values are parameters)
    return sql, [as_of, as_of, as_of]


def payor_open_items_sql(as_of: dt.date, payor_ids: tuple[int, ...]) -> tuple[str, list]:
    """Per payor: each sharing claim submitted up to ``as_of`` less what that payor paid on it by then, aged by
    the claimed invoice's issue date; past due when the invoice is."""
    t = _tables()
    sharing = _in_list(SHARING_CLAIM_STATUSES)
    ages, age_params = _age_cases("o.issue_date", "o.owed", as_of)
    payor_filter = f"AND pol.payor_id IN ({', '.join(['%s'] * len(payor_ids))})" if payor_ids else ""
    sql = f"""
        SELECT o.payor_id, {ages}, SUM(CASE WHEN o.due_date < %s THEN o.owed ELSE 0 END), COUNT(*)
          FROM (
            SELECT pol.payor_id, i.issue_date, i.due_date,
                   (CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted ELSE c.amount_claimed END)
                   - COALESCE((SELECT SUM(a.amount) FROM {t["allocation"]} a JOIN {t["payment"]} p
                                ON p.id = a.payment_id
                                WHERE a.claim_id = c.id AND p.received_on <= %s), 0) AS owed
              FROM {t["claim"]} c
              JOIN {t["policy"]} pol ON pol.id = c.policy_id
              JOIN {t["invoice"]} i ON i.id = c.invoice_id
             WHERE c.direct_settlement AND c.status IN ({sharing}) AND c.submitted_on <= %s {payor_filter}
          ) o
         WHERE o.owed > 0.004
         GROUP BY o.payor_id
    """  # noqa: S608 (table names from the models, statuses from their choices; values are parameters)
    return sql, [*age_params, as_of, as_of, as_of, *payor_ids]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass
class Receivables:
    as_of: dt.date
    clients: dict[int, dict[str, Any]]  # client id -> ages, credit, balance, overdue, oldest_due
    payors: dict[int, dict[str, Any]]

    @property
    def overdue_total(self) -> Decimal:
        return sum((c["overdue"] for c in self.clients.values()), ZERO) + sum(
            (p["overdue"] for p in self.payors.values()), ZERO
        )


def receivables_as_of(as_of: dt.date, payor_ids: tuple[int, ...] = ()) -> Receivables:
    """Clients' and insurers' balances as they stood at the end of ``as_of`` (three queries)."""
    clients: dict[int, dict[str, Any]] = {}
    today = timezone.localdate()
    for client_id, *figures in _fetch(*client_open_items_sql(as_of, open_list=as_of >= today)):
        ages = [money(v) for v in figures[:4]]
        clients[client_id] = {
            **dict(zip(AGE_KEYS, ages, strict=True)),
            "open": sum(ages, ZERO),
            "overdue": money(figures[4]),
            "oldest_due": figures[5] if not isinstance(figures[5], str) else dt.date.fromisoformat(figures[5]),
        }
    balances = {client_id: money(total) for client_id, total in _fetch(*client_balances_sql(as_of))}
    empty = {**dict.fromkeys(AGE_KEYS, ZERO), "open": ZERO, "overdue": ZERO, "oldest_due": None}
    for client_id in set(clients) | set(balances):
        row = clients.setdefault(client_id, dict(empty))
        row["balance"] = balances.get(client_id, ZERO)
        # Payments not allocated to an open invoice, refunds, over-credited invoices: the balance less the open
        # items, so a client's row adds up to the balance their account page shows.
        row["credit"] = row["balance"] - row["open"]
    payors: dict[int, dict[str, Any]] = {}
    for payor_id, *figures in _fetch(*payor_open_items_sql(as_of, payor_ids)):
        ages = [money(v) for v in figures[:4]]
        payors[payor_id] = {
            **dict(zip(AGE_KEYS, ages, strict=True)),
            "balance": sum(ages, ZERO),
            "overdue": money(figures[4]),
            "claims": figures[5],
        }
    return Receivables(as_of=as_of, clients=clients, payors=payors)


AGE_COLUMNS = [Column(k, label, "money") for k, label in zip(AGE_KEYS, AGE_LABELS, strict=True)]


def receivables(params: ReportParams) -> ReportResult:
    refuse_vets(params)
    as_of = params.end
    data = receivables_as_of(as_of, params.payor_ids)
    notes = [
        f"Balances as they stood at the end of {as_of.day} {as_of:%b %Y}. Aged by the invoice's issue date "
        "(payment terms are counted from it, so the first column is mostly not yet due); 'overdue' is what is "
        "past its due date.",
    ]
    if params.vet_ids or params.categories:
        notes.append("Receivables are owed per invoice, not per vet or category: those filters do not apply here.")
    client_rows = sorted(data.clients.items(), key=lambda item: (-item[1]["balance"], item[0]))
    shown = [cid for cid, _ in client_rows[:MAX_ROWS]]
    overdue_ids = sorted(
        (cid for cid, row in data.clients.items() if row["overdue"] > 0), key=lambda c: -data.clients[c]["overdue"]
    )[:MAX_ROWS]
    people = Client.objects.only(
        "title", "first_name", "last_name", "organisation", "email", "mobile_phone", "home_phone", "work_phone"
    ).in_bulk(set(shown) | set(overdue_ids))
    payor_names = dict(Payor.objects.filter(pk__in=data.payors).values_list("pk", "name"))

    def totals_of(rows: Iterable[dict], keys) -> dict[str, Any]:
        return column_totals(rows, keys)

    client_totals = totals_of(data.clients.values(), [*AGE_KEYS, "credit", "balance", "overdue"])
    payor_totals = totals_of(data.payors.values(), [*AGE_KEYS, "balance", "overdue"])
    summary = []
    for who, totals in (("Clients", client_totals), ("Insurers", payor_totals)):
        summary.append(
            {
                "who": who,
                **{k: totals.get(k) or ZERO for k in AGE_KEYS},
                "credit": totals.get("credit") or ZERO,
                "balance": totals.get("balance") or ZERO,
                "overdue": totals.get("overdue") or ZERO,
            }
        )
    if params.payor_ids:
        summary[0] = {**summary[0], **dict.fromkeys([*AGE_KEYS, "credit", "balance", "overdue"], None)}
        notes.append("Filtered by payor: only those insurers' balances are shown, not the clients'.")
    columns = [
        Column("who", "Owed by"),
        *AGE_COLUMNS,
        Column("credit", "Credit and unallocated", "money"),
        Column("balance", "Balance", "money"),
        Column("overdue", "Of which overdue", "money"),
    ]
    per_payor = [
        {
            "name": payor_names.get(pid, str(pid)),
            "claims": row["claims"],
            **{k: row[k] for k in AGE_KEYS},
            "balance": row["balance"],
            "overdue": row["overdue"],
        }
        for pid, row in sorted(data.payors.items(), key=lambda item: payor_names.get(item[0], ""))
    ]
    payor_section = ReportResult(
        name="receivables",
        title="Per payor (insurers' shares not yet paid)",
        params=params,
        columns=[
            Column("name", "Payor"),
            Column("claims", "Claims", "int"),
            *AGE_COLUMNS,
            Column("balance", "Balance", "money"),
            Column("overdue", "Of which overdue", "money"),
        ],
        rows=per_payor,
        totals=totals_of(per_payor, ["claims", *AGE_KEYS, "balance", "overdue"]),
    )
    sections = [payor_section]
    if not params.payor_ids:
        per_client = [
            {
                "name": people[cid].display_name if cid in people else str(cid),
                **{k: data.clients[cid][k] for k in AGE_KEYS},
                "credit": data.clients[cid]["credit"],
                "balance": data.clients[cid]["balance"],
                "overdue": data.clients[cid]["overdue"],
            }
            for cid in shown
        ]
        client_notes = []
        if len(client_rows) > MAX_ROWS:
            client_notes.append(f"The {MAX_ROWS} largest balances of {len(client_rows):,}; the totals cover all.")
        sections.append(
            ReportResult(
                name="receivables",
                title="Per client",
                params=params,
                columns=[
                    Column("name", "Client"),
                    *AGE_COLUMNS,
                    Column("credit", "Credit and unallocated", "money"),
                    Column("balance", "Balance", "money"),
                    Column("overdue", "Of which overdue", "money"),
                ],
                rows=per_client,
                totals=client_totals,
                notes=client_notes,
            )
        )
        overdue_rows = []
        for cid in overdue_ids:
            person = people.get(cid)
            row = data.clients[cid]
            overdue_rows.append(
                {
                    "name": person.display_name if person else str(cid),
                    "phone": person.main_phone if person else "",
                    "email": person.email if person else "",
                    "oldest_due": row["oldest_due"],
                    "overdue": row["overdue"],
                    "balance": row["balance"],
                }
            )
        sections.append(
            ReportResult(
                name="receivables",
                title="Overdue clients",
                params=params,
                columns=[
                    Column("name", "Client"),
                    Column("phone", "Phone"),
                    Column("email", "Email"),
                    Column("oldest_due", "Oldest open invoice due", "date"),
                    Column("overdue", "Overdue", "money"),
                    Column("balance", "Balance", "money"),
                ],
                rows=overdue_rows,
                totals=totals_of(overdue_rows, ["overdue", "balance"]),
            )
        )
    chart = Chart(
        kind="stacked_bar",
        title="Receivables by age",
        x_label="Age of the invoice",
        y_label="Owed",
        categories=list(AGE_LABELS),
        series=[
            (str(r["who"]), [Decimal(r[k] or ZERO) for k in AGE_KEYS]) for r in summary if r["balance"] is not None
        ],
    )
    return result(
        params,
        "receivables",
        "Receivables",
        columns,
        summary,
        totals=totals_of(summary, columns_keys(columns)),
        chart=chart,
        notes=notes,
        sections=sections,
    )


def columns_keys(columns: list[Column]) -> list[str]:
    return [c.key for c in columns if c.kind in ("money", "int")]


# --- appointments --------------------------------------------------------------------------------------------

DURATION = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())


def working_minutes(vet_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, int]:
    """Each vet's working minutes over the local days [start, end]: weekly sessions, less leave, plus extra
    sessions, in real minutes (a session across a clock change is an hour shorter or longer). Two queries."""
    vet_ids = list(vet_ids)
    hours: dict[int, list[WorkingHours]] = defaultdict(list)
    for session in WorkingHours.objects.filter(vet_id__in=vet_ids):
        hours[session.vet_id].append(session)
    exceptions: dict[tuple[int, dt.date], list[BookException]] = defaultdict(list)
    for exc in BookException.objects.filter(vet_id__in=vet_ids, date__gte=start, date__lte=end):
        exceptions[(exc.vet_id, exc.date)].append(exc)
    tz = practice_tz()
    minutes: dict[int, int] = dict.fromkeys(vet_ids, 0)
    plain: dict[tuple[int, int], int] = {}  # (vet, weekday) -> minutes on a day with no exception and no clock change
    day = start
    while day <= end:
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        clock_change = midnight.utcoffset() != next_midnight.utcoffset()
        for vet_id in vet_ids:
            special = exceptions.get((vet_id, day))
            key = (vet_id, day.weekday())
            if special or clock_change or key not in plain:
                sessions = sessions_on(day, hours[vet_id], special or [])
                value = int(sum(((e - s).total_seconds() for s, e in sessions), 0.0) // 60)
                if not special and not clock_change:
                    plain[key] = value
            else:
                value = plain[key]
            minutes[vet_id] += value
        day += dt.timedelta(days=1)
    return minutes


def _status_counts(rows: Iterable[dict], key: str) -> dict[Any, dict[str, int]]:
    counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r[key]][r["status"]] += r["n"]
    return counts


def _volume_row(name: str, counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    cancelled = counts.get(AppointmentStatus.CANCELLED, 0)
    no_shows = counts.get(AppointmentStatus.NO_SHOW, 0)
    kept = total - cancelled
    return {
        "name": name,
        "appointments": total,
        "completed": counts.get(AppointmentStatus.COMPLETED, 0),
        "cancelled": cancelled,
        "no_shows": no_shows,
        "no_show_rate": percent(no_shows, kept),
        "cancellation_rate": percent(cancelled, total),
    }


VOLUME_COLUMNS = [
    Column("appointments", "Appointments", "int"),
    Column("completed", "Completed", "int"),
    Column("cancelled", "Cancelled", "int"),
    Column("no_shows", "No-shows", "int"),
    Column("no_show_rate", "No-show rate", "percent"),
    Column("cancellation_rate", "Cancellation rate", "percent"),
]


def _volume_totals(rows: list[dict]) -> dict[str, Any]:
    totals = column_totals(rows, ["appointments", "completed", "cancelled", "no_shows"])
    totals["no_show_rate"] = percent(
        totals["no_shows"] or 0, (totals["appointments"] or 0) - (totals["cancelled"] or 0)
    )
    totals["cancellation_rate"] = percent(totals["cancelled"] or 0, totals["appointments"] or 0)
    return totals


def appointments(params: ReportParams) -> ReportResult:
    """Volumes by vet, type and weekday (of the local start), no-show rate (no-shows of the appointments not
    cancelled), cancellation rate (cancelled of all booked) and book utilisation: booked minutes (appointments
    not cancelled; a no-show held its slot) over working minutes (sessions less leave plus extra sessions)."""
    lo, hi = local_bounds(params.start, params.end)
    qs = Appointment.objects.filter(start__gte=lo, start__lt=hi)
    vets = vet_scope(params)
    if vets:
        qs = qs.filter(vet_id__in=vets)
    by_vet = list(
        qs.values("vet_id", "status")
        .annotate(n=Count("id"), booked=Sum(DURATION, filter=~Q(status=AppointmentStatus.CANCELLED)))
        .order_by()
    )
    by_type = list(qs.values("type__name", "status").annotate(n=Count("id")).order_by())
    by_weekday = list(
        qs.annotate(weekday=ExtractIsoWeekDay("start", tzinfo=practice_tz()))
        .values("weekday", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    vet_qs = (
        Vet.objects.filter(pk__in=vets)
        if vets
        else Vet.objects.filter(Q(is_active=True) | Q(pk__in={r["vet_id"] for r in by_vet}))
    )
    vet_names = dict(vet_qs.values_list("pk", "display_name"))
    working = working_minutes(vet_names, params.start, params.end)
    booked: dict[int, int] = defaultdict(int)
    for r in by_vet:
        if r["booked"] is not None:
            booked[r["vet_id"]] += int(r["booked"].total_seconds() // 60)
    counts = _status_counts(by_vet, "vet_id")
    rows = []
    for vet_id, name in sorted(vet_names.items(), key=lambda item: item[1]):
        row = _volume_row(name, counts.get(vet_id, {}))
        row.update(
            booked_minutes=booked[vet_id],
            working_minutes=working[vet_id],
            utilisation=percent(booked[vet_id], working[vet_id]),
        )
        rows.append(row)
    totals = _volume_totals(rows)
    totals.update(column_totals(rows, ["booked_minutes", "working_minutes"]))
    totals["utilisation"] = percent(totals["booked_minutes"] or 0, totals["working_minutes"] or 0)
    columns = [
        Column("name", "Vet"),
        *VOLUME_COLUMNS,
        Column("booked_minutes", "Booked minutes", "int"),
        Column("working_minutes", "Working minutes", "int"),
        Column("utilisation", "Utilisation", "percent"),
    ]
    type_counts = _status_counts(by_type, "type__name")
    type_rows = sorted(
        (_volume_row(name, c) for name, c in type_counts.items()), key=lambda r: (-r["appointments"], r["name"])
    )
    weekday_counts = _status_counts(by_weekday, "weekday")
    weekday_rows = [_volume_row(WEEKDAYS[d - 1], weekday_counts.get(d, {})) for d in range(1, 8)]
    sections = [
        ReportResult(
            name="appointments",
            title="By appointment type",
            params=params,
            columns=[Column("name", "Type"), *VOLUME_COLUMNS],
            rows=type_rows,
            totals=_volume_totals(type_rows),
        ),
        ReportResult(
            name="appointments",
            title="By weekday",
            params=params,
            columns=[Column("name", "Weekday"), *VOLUME_COLUMNS],
            rows=weekday_rows,
            totals=_volume_totals(weekday_rows),
        ),
    ]
    chart = Chart(
        kind="stacked_bar",
        title="Appointments by vet",
        x_label="Vet",
        y_label="Appointments",
        categories=[r["name"] for r in rows],
        series=[
            ("Completed", [r["completed"] for r in rows]),
            ("Other kept", [r["appointments"] - r["completed"] - r["cancelled"] - r["no_shows"] for r in rows]),
            ("No-shows", [r["no_shows"] for r in rows]),
            ("Cancelled", [r["cancelled"] for r in rows]),
        ],
    )
    notes = [
        "No-show rate: no-shows of the appointments not cancelled. Utilisation: minutes booked (no-shows "
        "included, cancellations not) of the working minutes (weekly hours less leave plus extra sessions)."
    ]
    return result(
        params,
        "appointments",
        "Appointments",
        columns,
        rows,
        totals=totals,
        chart=chart,
        notes=notes,
        sections=sections,
    )


# --- reminders -----------------------------------------------------------------------------------------------

WINDOWS = (30, 60, 90)


def reminders(params: ReportParams) -> ReportResult:
    """Notices sent by type (sent in the period); compliance of the reminders due in the period (cancelled ones
    left out): completed within 30, 60 and 90 days of the due date (or before it), by the local day they were
    completed; owners with no channel (put on the follow-up list in the period) and owners with reminders due
    but no consent or no email address."""
    refuse_vets(params)
    lo, hi = local_bounds(params.start, params.end)
    sent = dict(
        ReminderNotice.objects.filter(status=ReminderNotice.Status.SENT, sent_at__gte=lo, sent_at__lt=hi)
        .values("reminder__type__name")
        .annotate(n=Count("id"))
        .values_list("reminder__type__name", "n")
        .order_by()
    )
    due = Reminder.objects.filter(due_on__gte=params.start, due_on__lte=params.end).exclude(
        status=Reminder.Status.CANCELLED
    )
    lag = ExpressionWrapper(TruncDate("closed_at", tzinfo=practice_tz()) - F("due_on"), output_field=DurationField())
    completed = Q(status=Reminder.Status.COMPLETED)
    compliance = {
        r["type__name"]: r
        for r in due.annotate(lag=lag)
        .values("type__name")
        .annotate(
            due=Count("id"),
            **{f"w{n}": Count("id", filter=completed & Q(lag__lte=dt.timedelta(days=n))) for n in WINDOWS},
        )
        .order_by()
    }
    rows = []
    for name in sorted(set(sent) | set(compliance)):
        c = compliance.get(name, {})
        row: dict[str, Any] = {"name": name, "sent": sent.get(name, 0), "due": c.get("due", 0)}
        for n in WINDOWS:
            row[f"w{n}"] = c.get(f"w{n}", 0)
            row[f"p{n}"] = percent(row[f"w{n}"], row["due"])
        rows.append(row)
    totals = column_totals(rows, ["sent", "due", *(f"w{n}" for n in WINDOWS)])
    for n in WINDOWS:
        totals[f"p{n}"] = percent(totals[f"w{n}"] or 0, totals["due"] or 0)
    columns = [Column("name", "Reminder type"), Column("sent", "Notices sent", "int"), Column("due", "Due", "int")]
    for n in WINDOWS:
        columns += [Column(f"w{n}", f"Done within {n} days", "int"), Column(f"p{n}", f"Within {n} days", "percent")]

    follow_ups = list(
        ReminderDelivery.objects.filter(
            status=ReminderDelivery.Status.NO_CHANNEL, created_at__gte=lo, created_at__lt=hi
        )
        .values("client_id")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-last", "client_id")
    )
    shown = follow_ups[:MAX_ROWS]
    people = Client.objects.in_bulk([r["client_id"] for r in shown])
    no_channel_rows = []
    for r in shown:
        person = people.get(r["client_id"])
        if person is None:
            continue
        # Why, from the owner's details now (they may have given consent or an address since).
        if not person.reminder_consent:
            why = "No consent to reminder emails"
        else:
            why = "No email address" if not person.email else "Has a channel now"
        no_channel_rows.append(
            {
                "name": person.display_name,
                "phone": person.main_phone,
                "reason": why,
                "deliveries": r["n"],
                "last": r["last"],
            }
        )
    without_channel = (
        due.filter(status=Reminder.Status.PENDING)
        .filter(Q(animal__owner__reminder_consent=False) | Q(animal__owner__email=""))
        .values("animal__owner_id")
        .distinct()
        .count()
    )
    section_notes = [
        f"{_owners(len(follow_ups))} put on the follow-up list in the period (no consent to reminder emails, "
        f"or no email address). Of the owners whose reminders fell due in the period and are still pending, "
        f"{without_channel:,} {'has' if without_channel == 1 else 'have'} no channel today."
    ]
    if len(follow_ups) > MAX_ROWS:
        section_notes.append(f"The {MAX_ROWS} most recent of {len(follow_ups):,}.")
    sections = [
        ReportResult(
            name="reminders",
            title="Owners with no channel (follow-up list)",
            params=params,
            columns=[
                Column("name", "Owner"),
                Column("phone", "Phone"),
                Column("reason", "Why"),
                Column("deliveries", "Times on the list", "int"),
                Column("last", "Last put on the list", "date"),
            ],
            rows=no_channel_rows,
            totals={"deliveries": sum(r["n"] for r in follow_ups)},
            notes=section_notes,
        )
    ]
    chart = Chart(
        kind="bar",
        title="Reminders done within 30, 60 and 90 days of their due date",
        x_label="Reminder type",
        y_label="Share of reminders due (%)",
        categories=[r["name"] for r in rows],
        series=[(f"Within {n} days", [r[f"p{n}"] or Decimal(0) for r in rows]) for n in WINDOWS],
    )
    return result(
        params,
        "reminders",
        "Reminders",
        columns,
        rows,
        totals=totals,
        chart=chart,
        sections=sections,
    )


# --- day sheet -----------------------------------------------------------------------------------------------


def day_sheet(params: ReportParams) -> ReportResult:
    """One local day (the period's last day): the documents issued, the payments by method (the cash-up) and the
    appointments completed. A vet's own day sheet shows their lines and appointments, not the till."""
    day = params.end
    notes = [] if params.start == params.end else [f"The day sheet is for one day: {day.day} {day:%b %Y}."]
    vets = vet_scope(params)
    docs = Invoice.objects.filter(status__in=ISSUED, issue_date=day)
    if vets or params.categories:
        lines = InvoiceLine.objects.filter(invoice__in=docs)
        if vets:
            lines = lines.filter(vet_id__in=vets)
        if params.categories:
            lines = lines.filter(category__in=params.categories)
        raw = list(
            lines.values("invoice_id", "invoice__series", "invoice__number", "invoice__kind", "invoice__client_name")
            .annotate(net=Sum("net"), tax=Sum("tax"), gross=Sum("gross"))
            .order_by("invoice__series", "invoice__number")
        )
        doc_rows = [
            {
                "reference": f"{r['invoice__series']}-{r['invoice__number']:05d}",
                "kind": Invoice.Kind(r["invoice__kind"]).label,
                "client": r["invoice__client_name"],
                "net": money(r["net"]),
                "tax": money(r["tax"]),
                "gross": money(r["gross"]),
            }
            for r in raw
        ]
    else:
        doc_rows = [
            {
                "reference": doc.reference,
                "kind": doc.get_kind_display(),
                "client": doc.client_name,
                "net": doc.net_total,
                "tax": doc.tax_total,
                "gross": doc.gross_total,
            }
            for doc in docs.only(
                "series", "number", "kind", "client_name", "net_total", "tax_total", "gross_total"
            ).order_by("series", "number")
        ]
    columns = [
        Column("reference", "Document"),
        Column("kind", "Kind"),
        Column("client", "Client"),
        Column("net", "Net", "money"),
        Column("tax", "Tax", "money"),
        Column("gross", "Gross", "money"),
    ]
    sections = []
    chart = None
    if vets or params.categories:
        notes.append("Payments are not shown: they settle whole invoices, not one vet's or category's lines.")
    else:
        method_labels = dict(Payment.Method.choices)
        raw_payments = (
            Payment.objects.live()
            .filter(received_on=day)
            .values("method")
            .annotate(
                payments=Count("id", filter=Q(kind=Payment.Kind.PAYMENT)),
                received=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)),
                refunds=Count("id", filter=Q(kind=Payment.Kind.REFUND)),
                refunded=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)),
            )
            .order_by("method")
        )
        pay_rows = []
        for r in raw_payments:
            received, refunded = money(r["received"]), money(r["refunded"])
            pay_rows.append(
                {
                    "method": method_labels.get(r["method"], r["method"]),
                    "payments": r["payments"],
                    "received": received,
                    "refunds": r["refunds"],
                    "refunded": -refunded,
                    "net": received - refunded,
                }
            )
        sections.append(
            ReportResult(
                name="day_sheet",
                title="Payments by method (cash-up)",
                params=params,
                columns=[
                    Column("method", "Method"),
                    Column("payments", "Payments", "int"),
                    Column("received", "Received", "money"),
                    Column("refunds", "Refunds", "int"),
                    Column("refunded", "Refunded", "money"),
                    Column("net", "Net takings", "money"),
                ],
                rows=pay_rows,
                totals=column_totals(pay_rows, ["payments", "received", "refunds", "refunded", "net"]),
            )
        )
        chart = Chart(
            kind="bar",
            title="Takings by payment method",
            x_label="Method",
            y_label="Net takings",
            categories=[r["method"] for r in pay_rows],
            series=[("Net takings", [r["net"] for r in pay_rows])],
        )
    lo, hi = local_day_bounds(day)
    done = Appointment.objects.filter(start__gte=lo, start__lt=hi, status=AppointmentStatus.COMPLETED)
    if vets:
        done = done.filter(vet_id__in=vets)
    appointment_rows = [
        {
            "time": to_local(a.start).strftime("%H:%M"),
            "vet": a.vet.display_name,
            "animal": a.animal.name,
            "client": a.client.display_name,
            "type": a.type.name,
        }
        for a in done.select_related("vet", "animal", "client", "type").order_by("start", "id")
    ]
    sections.append(
        ReportResult(
            name="day_sheet",
            title="Completed appointments",
            params=params,
            columns=[
                Column("time", "Time"),
                Column("vet", "Vet"),
                Column("animal", "Animal"),
                Column("client", "Client"),
                Column("type", "Type"),
            ],
            rows=appointment_rows,
            totals={"time": f"{len(appointment_rows)} completed"} if appointment_rows else None,
        )
    )
    return result(
        params,
        "day_sheet",
        f"Day sheet, {day.day} {day:%b %Y}",
        columns,
        doc_rows,
        totals=column_totals(doc_rows, ["net", "tax", "gross"]),
        chart=chart,
        notes=notes,
        sections=sections,
    )


# --- the manager's dashboard ---------------------------------------------------------------------------------


@dataclass
class DashboardFigures:
    """The four cards of the manager's home page (reports.views.dashboard_cards)."""

    today: dt.date
    revenue_this_month: Decimal  # the 1st of this month to today, gross after credit notes
    revenue_same_month_last_year: Decimal  # the same days a year earlier
    appointments_today: int  # today's appointments, cancelled ones left out
    appointments_by_status: dict[str, int]  # every status, cancelled included
    overdue_receivables: Decimal  # clients' and insurers' shares past the invoice's due date
    reminders_sent_this_week: int  # reminder emails sent since Monday


def revenue_between(start: dt.date, end: dt.date, vet_id: int | None = None) -> Decimal:
    """Gross invoiced less credited over [start, end] (the revenue report's "Revenue" total): one query."""
    if vet_id is not None:
        qs: QuerySet = InvoiceLine.objects.filter(
            vet_id=vet_id, invoice__status__in=ISSUED, invoice__issue_date__gte=start, invoice__issue_date__lte=end
        )
        return money(qs.aggregate(total=Sum("gross"))["total"])
    qs = Invoice.objects.filter(status__in=ISSUED, issue_date__gte=start, issue_date__lte=end)
    return money(qs.aggregate(total=Sum("gross_total"))["total"])


def dashboard_figures(user) -> DashboardFigures:
    """This month's revenue against the same days a year earlier, today's appointments, overdue receivables and
    reminder emails sent this week (a vet without reports.view_reports gets their own revenue and
    appointments and no practice-wide figures)."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    own = None if user.has_perm("reports.view_reports") else Vet.objects.filter(user_id=user.pk).first()
    vet_id = own.pk if own else None
    lo, hi = local_day_bounds(today)
    appointments_qs = Appointment.objects.filter(start__gte=lo, start__lt=hi)
    if vet_id is not None:
        appointments_qs = appointments_qs.filter(vet_id=vet_id)
    by_status = dict(appointments_qs.values("status").annotate(n=Count("id")).values_list("status", "n").order_by())
    week_start = today - dt.timedelta(days=today.weekday())
    overdue = ZERO
    sent = 0
    if vet_id is None:
        overdue = receivables_as_of(today).overdue_total
        sent = ReminderDelivery.objects.filter(
            status=ReminderDelivery.Status.SENT,
            channel=ReminderDelivery.Channel.EMAIL,
            sent_at__gte=local_day_bounds(week_start)[0],
            sent_at__lt=hi,
        ).count()
    return DashboardFigures(
        today=today,
        revenue_this_month=revenue_between(month_start, today, vet_id),
        revenue_same_month_last_year=revenue_between(years_back(month_start), years_back(today), vet_id),
        appointments_today=sum(n for status, n in by_status.items() if status != AppointmentStatus.CANCELLED),
        appointments_by_status=by_status,
        overdue_receivables=overdue,
        reminders_sent_this_week=sent,
    )


# --- the registry --------------------------------------------------------------------------------------------

register(
    ReportSpec(
        name="revenue",
        title="Revenue",
        description="Invoiced, credited and collected, by period, vet, category, product and payor, against a "
        "year earlier.",
        build=revenue,
        filters=("period", "grain", "vet", "category", "payor", "top_n"),
    )
)
register(
    ReportSpec(
        name="receivables",
        title="Receivables",
        description="What clients and insurers owe at the end of the period, by age, and who is overdue.",
        build=receivables,
        filters=("period", "payor"),
        for_vets=False,
    )
)
register(
    ReportSpec(
        name="appointments",
        title="Appointments",
        description="Volumes by vet, type and weekday; no-show and cancellation rates; book utilisation.",
        build=appointments,
        filters=("period", "vet"),
    )
)
register(
    ReportSpec(
        name="reminders",
        title="Reminders",
        description="Notices sent, reminders done within 30/60/90 days of their due date, owners with no channel.",
        build=reminders,
        filters=("period",),
        for_vets=False,
    )
)
register(
    ReportSpec(
        name="day_sheet",
        title="Day sheet",
        description="One day's documents, payments by method (cash-up) and completed appointments.",
        build=day_sheet,
        filters=("period", "vet", "category"),
    )
)
