"""Tables of the invoicing pages (django-tables2): the invoice list, the catalogue, the payor list.

The invoice list shows what each invoice still has outstanding. That figure is derived (DESIGN.md: balances are
never stored), so ``with_outstanding`` computes it in the list's one query with correlated subqueries over the
page rows, instead of a query per row: the page costs the same number of queries whatever its size.
"""

from __future__ import annotations

import django_tables2 as tables
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from clients.tables import ClientNameColumn
from invoicing.models import Allocation, Invoice, Payor, Product
from invoicing.selectors import ISSUED, MONEY, sharing_claims
from invoicing.templatetags.invoicing_tags import INVOICE_BADGES, money
from vetpms.money import ZERO
from vetpms.tables import DateColumn, pk_url

NUMERIC = {"td": {"class": "text-end num"}, "th": {"class": "text-end"}}


def _sum_of(qs: QuerySet, field: str, outer: str = "pk") -> Coalesce:
    total = qs.order_by().values(outer).annotate(s=Sum(field)).values("s")[:1]
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def with_outstanding(qs: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate ``outstanding``: the client's share of each invoice not yet paid (as selectors.client_outstanding)."""
    credited = _sum_of(
        Invoice.objects.filter(credits=OuterRef("pk"), status__in=ISSUED), "gross_total", outer="credits"
    )
    share = ExpressionWrapper(
        Coalesce("amount_accepted", "amount_claimed"), output_field=MONEY
    )  # what the insurer owes once decided, else what was claimed
    insurer = Coalesce(
        Subquery(
            sharing_claims()
            .filter(invoice=OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(s=Sum(share))
            .values("s")[:1],
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )
    paid = _sum_of(
        Allocation.objects.filter(invoice=OuterRef("pk"), payment__client__isnull=False), "amount", outer="invoice"
    )
    return qs.annotate(
        outstanding=ExpressionWrapper(F("gross_total") + credited - insurer - paid, output_field=DecimalField())
    )


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUMERIC)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


class InvoiceTable(tables.Table):
    reference = tables.Column(
        accessor="number", verbose_name="Number", order_by=("series", "number", "id"), empty_values=()
    )
    issue_date = DateColumn(verbose_name="Issued", format="j M Y", order_by=("issue_date", "number"))
    client = ClientNameColumn("client", order_by=("client__last_name", "client__first_name"))
    kind = tables.Column(verbose_name="Kind")
    status = tables.Column(verbose_name="Status")
    gross_total = MoneyColumn(verbose_name="Total")
    outstanding = MoneyColumn(verbose_name="Outstanding", orderable=False)

    class Meta:
        model = Invoice
        fields = ("reference", "issue_date", "client", "kind", "status", "gross_total", "outstanding")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0 money-table"}
        row_attrs = {"class": lambda record: "row-muted" if record.status == Invoice.Status.VOID else ""}
        empty_text = "No invoices match these filters."
        orderable = True

    def render_reference(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a>', pk_url("invoicing:detail", record.pk), record.reference
        )

    def render_kind(self, record):
        return record.get_kind_display()

    def render_status(self, record):
        css = INVOICE_BADGES.get(record.status, "text-bg-secondary")
        return format_html('<span class="badge {}">{}</span>', css, record.get_status_display())

    def render_outstanding(self, record):
        if record.is_draft or record.is_credit_note or record.status == Invoice.Status.VOID:
            return "—"
        return money(record.outstanding)


class ProductTable(tables.Table):
    code = tables.Column(verbose_name="Code")
    name = tables.Column(verbose_name="Name")
    category = tables.Column(verbose_name="Category")
    unit = tables.Column(verbose_name="Unit", orderable=False)
    unit_price = MoneyColumn(verbose_name="Price (net)")
    tax_category = tables.Column(verbose_name="Tax", accessor="tax_category__name", order_by=("tax_category__name",))

    class Meta:
        model = Product
        fields = ("code", "name", "category", "unit", "unit_price", "tax_category")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0 money-table"}
        row_attrs = {"class": lambda record: "" if record.is_active else "row-muted"}
        empty_text = "No products match these filters."
        orderable = True

    def render_name(self, record):
        label = format_html("{}", record.name)
        if not record.is_active:
            label = format_html('{} <span class="badge text-bg-secondary">Inactive</span>', record.name)
        if self.can_edit:
            return format_html('<a href="{}">{}</a>', reverse("invoicing:product_update", args=[record.pk]), label)
        return label

    def render_category(self, record):
        return record.get_category_display()

    can_edit = False


class PayorTable(tables.Table):
    name = tables.Column(verbose_name="Name")
    contact_name = tables.Column(verbose_name="Contact", orderable=False)
    claims_email = tables.EmailColumn(verbose_name="Claims email", orderable=False)
    phone = tables.Column(verbose_name="Phone", orderable=False)
    open_claims = tables.Column(verbose_name="Open claims", attrs=NUMERIC)

    class Meta:
        model = Payor
        fields = ("name", "contact_name", "claims_email", "phone", "open_claims")
        sequence = fields
        attrs = {"class": "table table-hover align-middle mb-0"}
        row_attrs = {"class": lambda record: "" if record.is_active else "row-muted"}
        empty_text = "No insurers recorded yet."

    def render_name(self, record):
        url = reverse("invoicing:payor_detail", args=[record.pk])
        if not record.is_active:
            return format_html(
                '<a href="{}">{}</a> <span class="badge text-bg-secondary">Inactive</span>', url, record.name
            )
        return format_html('<a href="{}">{}</a>', url, record.name)
