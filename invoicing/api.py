"""/api/v1 endpoints of invoicing: thin endpoints over invoicing.selectors and invoicing.services.

Routers (mounted in vetpms.api):

* ``/products`` and ``/tax-rates``: the catalogue; managers create and change products and add tax rates.
* ``/invoices``: drafts, their lines, finalising, credit notes, voiding; ``/invoices/{id}/pdf`` when
  invoicing.pdf is installed.
* ``/payments``: client payments with allocations, and refunds.
* ``/clients/{id}/balance`` and ``/clients/{id}/statement``: a client's account. They live here, in a second
  router mounted at ``/clients`` beside the clients app's own, so that the clients app never imports invoicing
  (dependencies point one way: invoicing -> clients).
* ``/payors``, ``/policies``, ``/claims``: insurance.

Permissions (vetpms.roles) are checked first, before any lookup. Reading invoices needs invoicing.view_invoice;
creating a draft add_invoice; adding, changing and removing lines and deleting a draft change_invoice; finalising
finalise_invoice; crediting and voiding issue_credit_note; a unit price other than the catalogue's
override_price (403 from the service, which owns that rule).

Ids: an id in the URL that names nothing is 404 (a line id of another invoice too); an id in a body that names
nothing is 422 on that field. Broken rules are 409 with a ``code`` (``frozen`` for any write on an issued
invoice, ``empty``, ``not_payable``, ``over_allocation``, ``over_credit``, ``not_claimable``, ``not_covered``,
``already_claimed``, ``bad_transition``, ...). Money and quantities: see invoicing.schemas.

Responses: writes on an invoice answer the whole invoice (lines, totals, shares), so an editor can redraw from
one response; removing a line answers the invoice too (200), deleting a draft or withdrawing a claim answers 204.
"""

import datetime as dt
import importlib.util
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Status
from ninja.errors import ValidationError as SchemaValidationError
from ninja.pagination import paginate

from animals.models import Animal
from clients.models import Client
from invoicing import calc, selectors, services
from invoicing.access import VIEW_PAYMENT, sees_payments
from invoicing.models import (
    Claim,
    ClaimLine,
    Invoice,
    InvoiceLine,
    Payment,
    Payor,
    Policy,
    Product,
    TaxCategory,
)
from invoicing.schemas import (
    BalanceOut,
    ClaimDetailOut,
    ClaimIn,
    ClaimOut,
    CreditIn,
    Day,
    DecideIn,
    DraftIn,
    InvoiceDetailOut,
    InvoiceOut,
    LineIn,
    LinePatch,
    OpenClaimsOut,
    PaymentIn,
    PaymentOut,
    PayorFields,
    PayorOut,
    PayorPatch,
    PolicyFields,
    PolicyOut,
    PolicyPatch,
    ProductFields,
    ProductOut,
    ProductPatch,
    RefundIn,
    SettleIn,
    StatementOut,
    StatementQuery,
    TakingsOut,
    TaxCategoryOut,
    TaxRateIn,
    VoidIn,
)
from vetpms.api_utils import MAX_PAGE_SIZE, Id, Page, QuerySchema, body_record, url_id
from vetpms.models import User, Vet
from vetpms.money import ZERO
from vetpms.permissions import require_perm
from vetpms.text import file_period

products_router = Router(tags=["products"])
tax_rates_router = Router(tags=["tax rates"])
invoices_router = Router(tags=["invoices"])
payments_router = Router(tags=["payments"])
accounts_router = Router(tags=["client accounts"])
payors_router = Router(tags=["payors"])
policies_router = Router(tags=["policies"])
claims_router = Router(tags=["claims"])

P = "invoicing."


# --- Helpers ----------------------------------------------------------------------------------------------------


def _query_error(field: str, message: str) -> SchemaValidationError:
    return SchemaValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _range(start: dt.date | None, end: dt.date | None, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise _query_error(field, "The end of the range is before its start.")


def _name(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


# --- Products ---------------------------------------------------------------------------------------------------


class ProductFilters(QuerySchema):
    q: str = Field("", max_length=200, description="Part of the name, or the start of the code.")
    category: Product.Category | None = None
    active: bool | None = Field(None, description="Only products on sale (true) or withdrawn (false).")
    tax_category: Id | None = None


def _product(pk: int) -> Product:
    return selectors.product_list().get(pk=url_id(pk))  # DoesNotExist -> 404 (vetpms.api)


def _product_data(data: dict[str, Any]) -> dict[str, Any]:
    if "tax_category" in data:
        data["tax_category"] = body_record(TaxCategory, data["tax_category"], "tax_category")
    return data


@products_router.get("", response=list[ProductOut], summary="List the catalogue")
@paginate(Page)
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    require_perm(request.user, P + "view_product")
    return selectors.product_list(
        query=filters.q, category=filters.category, active=filters.active, tax_category_id=filters.tax_category
    )


@products_router.get("/{int:product_id}", response=ProductOut, summary="One product")
def get_product(request: HttpRequest, product_id: int):
    require_perm(request.user, P + "view_product")
    return _product(product_id)


@products_router.post("", response={201: ProductOut}, summary="Add a product")
def create_product(request: HttpRequest, payload: ProductFields):
    require_perm(request.user, P + "add_product")
    product = services.product_save(by=request.user, data=_product_data(payload.dict()))
    return Status(201, _product(product.pk))


@products_router.patch(
    "/{int:product_id}",
    response=ProductOut,
    summary="Change a product",
    description="A new price applies to lines added from now on; issued invoices keep theirs.",
)
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch):  # type: ignore[valid-type]
    require_perm(request.user, P + "change_product")
    product = _product(product_id)
    services.product_save(by=request.user, data=_product_data(payload.dict(exclude_unset=True)), product=product)
    return _product(product_id)


# --- Tax rates --------------------------------------------------------------------------------------------------
# A handful of categories with a few rates each: returned whole, not paginated.


def _tax_categories():
    return TaxCategory.objects.prefetch_related("rates").order_by("name")


@tax_rates_router.get("", response=list[TaxCategoryOut], summary="Tax categories with their rates over time")
def list_tax_rates(request: HttpRequest):
    require_perm(request.user, P + "view_taxcategory", P + "view_taxrate")
    return _tax_categories()


@tax_rates_router.post(
    "",
    response={201: TaxCategoryOut},
    summary="Add a rate to a tax category",
    description="The rate in force ends the day the new one starts. Rates are added in date order (else 409).",
)
def add_tax_rate(request: HttpRequest, payload: TaxRateIn):
    require_perm(request.user, P + "add_taxrate")
    category = body_record(TaxCategory, payload.category, "category")
    services.tax_rate_add(by=request.user, category=category, rate=payload.rate, valid_from=payload.valid_from)
    return Status(201, _tax_categories().get(pk=category.pk))


# --- Invoices ---------------------------------------------------------------------------------------------------


class InvoiceFilters(QuerySchema):
    status: Invoice.Status | None = None
    kind: Invoice.Kind | None = None
    client: Id | None = Field(None, description="Client id.")
    vet: Id | None = Field(None, description="Has a line by this vet.")
    payor: Id | None = Field(None, description="Has a claim on this payor.")
    issued_from: Day | None = Field(None, description="Issued on or after this day.")
    issued_to: Day | None = Field(None, description="Issued on or before this day.")


def _invoice(pk: int) -> Invoice:
    return selectors.invoice_detail(pk=url_id(pk))  # DoesNotExist -> 404


def _invoice_out(invoice: Invoice, *, with_payments: bool) -> dict[str, Any]:
    """The detail of one invoice (from selectors.invoice_detail: the lists are prefetched; the shares are a fixed
    number of aggregate queries). Without ``with_payments`` (see invoicing.access) the payment side is left out:
    no payments, no claims, no outstanding amount."""
    lines = list(invoice.lines.all())
    issued_invoice = invoice.kind == Invoice.Kind.INVOICE and invoice.status != Invoice.Status.DRAFT
    owner = selectors.owner_share(invoice) if issued_invoice else None
    return {
        **{name: getattr(invoice, name) for name in InvoiceOut.model_fields if name not in {"client", "credits"}},
        "client": invoice.client,
        "credits": invoice.credits,
        "client_name": invoice.client_name,
        "client_address": [part for part in invoice.client_address.splitlines() if part],
        "notes": invoice.notes,
        "lines": lines,
        "tax_breakdown": [{"rate": r, "net": n, "tax": t} for r, n, t in calc.tax_breakdown(lines)],
        "credit_notes": [
            {
                "id": note.pk,
                "reference": note.reference,
                "status": note.status,
                "issue_date": note.issue_date,
                "gross_total": note.gross_total,
                "reason": note.reason,
            }
            for note in sorted(invoice.credit_notes.all(), key=lambda n: n.pk)
        ],
        "claims": [
            {
                "id": claim.pk,
                "status": claim.status,
                "payor": claim.policy.payor.name,
                "direct_settlement": claim.direct_settlement,
                "amount_claimed": claim.amount_claimed,
                "amount_accepted": claim.amount_accepted,
                "amount_paid": claim.amount_paid,
            }
            for claim in (sorted(invoice.claims.all(), key=lambda c: c.pk) if with_payments else [])
        ],
        "payments": [
            {
                "payment": a.payment_id,
                "received_on": a.payment.received_on,
                "method": a.payment.method,
                "from_payor": a.payment.payor_id is not None,
                "amount": a.amount,
            }
            for a in (sorted(invoice.allocations.all(), key=lambda a: a.pk) if with_payments else [])
        ],
        "owner_share": owner,
        "insurer_share": selectors.insurer_share(invoice) if issued_invoice else None,
        "outstanding": selectors.client_outstanding(invoice) if issued_invoice and with_payments else None,
        "created_by": _name(invoice.created_by),
        "finalised_by": _name(invoice.finalised_by),
        "finalised_at": invoice.finalised_at,
    }


def _detail(pk: int, request: HttpRequest) -> dict[str, Any]:
    return _invoice_out(_invoice(pk), with_payments=sees_payments(request.user))


def _line(invoice_id: int, line_id: int) -> InvoiceLine:
    return InvoiceLine.objects.select_related("invoice", "product").get(
        pk=url_id(line_id), invoice_id=url_id(invoice_id)
    )  # DoesNotExist (also a line of another invoice) -> 404


def _line_data(data: dict[str, Any]) -> dict[str, Any]:
    if "animal" in data:
        data["animal"] = body_record(Animal, data["animal"], "animal")
    if "vet" in data:
        data["vet"] = body_record(Vet, data["vet"], "vet")
    return data


@invoices_router.get("", response=list[InvoiceOut], summary="List invoices and credit notes")
@paginate(Page)
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    require_perm(request.user, P + "view_invoice")
    _range(filters.issued_from, filters.issued_to, "issued_to")
    return selectors.invoice_list(
        status=filters.status,
        kind=filters.kind,
        client_id=filters.client,
        vet_id=filters.vet,
        payor_id=filters.payor,
        issued_from=filters.issued_from,
        issued_to=filters.issued_to,
    ).select_related("credits")


@invoices_router.get("/{int:invoice_id}", response=InvoiceDetailOut, summary="One invoice or credit note")
def get_invoice(request: HttpRequest, invoice_id: int):
    require_perm(request.user, P + "view_invoice")
    return _detail(invoice_id, request)


@invoices_router.post(
    "",
    response={200: InvoiceDetailOut, 201: InvoiceDetailOut},
    summary="The client's draft invoice",
    description="A client has one open draft that collects charges: 201 with a new one, 200 with the existing one.",
)
def create_draft(request: HttpRequest, payload: DraftIn):
    require_perm(request.user, P + "add_invoice")
    client = body_record(Client, payload.client, "client")
    had_draft = Invoice.objects.filter(client=client, kind=Invoice.Kind.INVOICE, status=Invoice.Status.DRAFT).exists()
    draft = services.invoice_draft_for(client=client, by=request.user)
    return Status(200 if had_draft else 201, _detail(draft.pk, request))


@invoices_router.delete("/{int:invoice_id}", response={204: None}, summary="Delete a draft")
def delete_draft(request: HttpRequest, invoice_id: int):
    require_perm(request.user, P + "change_invoice")
    invoice = Invoice.objects.get(pk=url_id(invoice_id))
    services.invoice_delete_draft(invoice=invoice, by=request.user)  # issued -> 409 frozen
    return Status(204, None)


@invoices_router.post("/{int:invoice_id}/lines", response={201: InvoiceDetailOut}, summary="Add a line to a draft")
def add_line(request: HttpRequest, invoice_id: int, payload: LineIn):
    require_perm(request.user, P + "change_invoice")
    invoice = Invoice.objects.get(pk=url_id(invoice_id))
    data = _line_data(payload.dict())
    data["product"] = body_record(Product, data["product"], "product")
    services.invoice_add_line(invoice=invoice, by=request.user, **data)
    return Status(201, _detail(invoice.pk, request))


@invoices_router.patch(
    "/{int:invoice_id}/lines/{int:line_id}", response=InvoiceDetailOut, summary="Change a line of a draft"
)
def change_line(request: HttpRequest, invoice_id: int, line_id: int, payload: LinePatch):  # type: ignore[valid-type]
    require_perm(request.user, P + "change_invoice")
    line = _line(invoice_id, line_id)
    services.invoice_change_line(line=line, by=request.user, data=_line_data(payload.dict(exclude_unset=True)))
    return _detail(invoice_id, request)


@invoices_router.delete(
    "/{int:invoice_id}/lines/{int:line_id}", response=InvoiceDetailOut, summary="Remove a line from a draft"
)
def remove_line(request: HttpRequest, invoice_id: int, line_id: int):
    require_perm(request.user, P + "change_invoice")
    services.invoice_remove_line(line=_line(invoice_id, line_id), by=request.user)
    return _detail(invoice_id, request)


@invoices_router.post(
    "/{int:invoice_id}/finalise",
    response=InvoiceDetailOut,
    summary="Finalise a draft",
    description="Numbers, dates and freezes it. An empty draft or an issued invoice is a 409.",
)
def finalise(request: HttpRequest, invoice_id: int):
    require_perm(request.user, P + "finalise_invoice")
    invoice = Invoice.objects.get(pk=url_id(invoice_id))
    services.invoice_finalise(invoice=invoice, by=request.user)
    return _detail(invoice_id, request)


@invoices_router.post(
    "/{int:invoice_id}/credit",
    response={201: InvoiceDetailOut},
    summary="Issue a credit note",
    description="For the lines and quantities given, or for everything not yet credited. Answers the credit note.",
)
def credit(request: HttpRequest, invoice_id: int, payload: CreditIn):
    require_perm(request.user, P + "issue_credit_note")
    invoice = Invoice.objects.get(pk=url_id(invoice_id))
    lines = None
    if payload.lines is not None:
        found = InvoiceLine.objects.in_bulk([item.line for item in payload.lines])
        missing = [item.line for item in payload.lines if item.line not in found]
        if missing:
            raise ValidationError({"lines": f"There is no invoice line with id {missing[0]}."})
        lines = [(found[item.line], item.quantity) for item in payload.lines]
    note = services.credit_note_issue(invoice=invoice, by=request.user, reason=payload.reason, lines=lines)
    return Status(201, _detail(note.pk, request))


@invoices_router.post(
    "/{int:invoice_id}/void",
    response=InvoiceDetailOut,
    summary="Void an invoice",
    description="A full credit note for everything not yet credited; the invoice becomes void. Answers the invoice.",
)
def void(request: HttpRequest, invoice_id: int, payload: VoidIn):
    require_perm(request.user, P + "issue_credit_note")
    invoice = Invoice.objects.get(pk=url_id(invoice_id))
    services.invoice_void(invoice=invoice, by=request.user, reason=payload.reason)
    return _detail(invoice_id, request)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def invoice_pdf(request: HttpRequest, invoice_id: int):
    require_perm(request.user, P + "view_invoice")
    from invoicing import pdf  # reportlab is heavy: imported on first use

    invoice = selectors.invoice_detail(pk=url_id(invoice_id))
    content = pdf.render_invoice(invoice, with_payments=sees_payments(request.user))
    return _pdf_response(content, f"{invoice.reference.replace(' ', '-')}.pdf")


def statement_pdf(request: HttpRequest, client_id: int, query: Query[StatementQuery]):
    require_perm(request.user, P + "view_invoice", P + "view_payment")
    from invoicing import pdf

    client = _client(client_id)
    start, end = _statement_period(query)
    result = selectors.client_statement(client=client, start=start, end=end)
    return _pdf_response(pdf.render_statement(result), f"statement-{client.pk}-{file_period(start, end)}.pdf")


def claim_pdf(request: HttpRequest, claim_id: int):
    require_perm(request.user, P + "view_claim")
    from invoicing import pdf

    claim = _claim(claim_id)
    return _pdf_response(pdf.render_claim_form(claim), f"claim-{claim.pk}.pdf")


# The PDFs are built beside this API (invoicing.pdf); their endpoints exist once it does.
_PDF = {"responses": {200: {"content": {"application/pdf": {}}, "description": "The PDF."}}}
if importlib.util.find_spec("invoicing.pdf") is not None:  # pragma: no branch
    accounts_router.get(
        "/{int:client_id}/statement/pdf", response={200: None}, summary="A statement as PDF", openapi_extra=_PDF
    )(statement_pdf)
    claims_router.get("/{int:claim_id}/pdf", response={200: None}, summary="A claim form as PDF", openapi_extra=_PDF)(
        claim_pdf
    )
    invoices_router.get(
        "/{int:invoice_id}/pdf",
        response={200: None},
        summary="The invoice or credit note as PDF",
        openapi_extra=_PDF,
    )(invoice_pdf)


# --- Payments ---------------------------------------------------------------------------------------------------


class PaymentFilters(QuerySchema):
    client: Id | None = Field(None, description="Client id.")
    payor: Id | None = Field(None, description="Payor id (insurers' settlements).")
    kind: Payment.Kind | None = None
    received_from: Day | None = None
    received_to: Day | None = None


def _payments():
    return selectors.payment_list()


def _payment_out(payment: Payment) -> dict[str, Any]:
    allocations = list(payment.allocations.all())
    allocated = sum((a.amount for a in allocations), ZERO)
    return {
        "id": payment.pk,
        "kind": payment.kind,
        "client": payment.client,
        "payor": payment.payor,
        "method": payment.method,
        "amount": payment.amount,
        "received_on": payment.received_on,
        "reference": payment.reference,
        "allocations": [{"invoice": a.invoice, "claim": a.claim_id, "amount": a.amount} for a in allocations],
        "unallocated": payment.amount - allocated if payment.kind == Payment.Kind.PAYMENT else ZERO,
        "created_at": payment.created_at,
        "voided_at": payment.voided_at,
        "void_reason": payment.void_reason,
    }


class _PaymentPage(Page):
    """The page, with each payment turned into its output (the unallocated part is computed from the page)."""

    def paginate_queryset(self, queryset, pagination, **params):
        page = super().paginate_queryset(queryset, pagination, **params)
        page["items"] = [_payment_out(p) for p in page["items"]]
        return page


@payments_router.get("", response=list[PaymentOut], summary="List payments and refunds")
@paginate(_PaymentPage)
def list_payments(request: HttpRequest, filters: Query[PaymentFilters]):
    require_perm(request.user, P + "view_payment")
    _range(filters.received_from, filters.received_to, "received_to")
    return selectors.payment_list(
        client_id=filters.client,
        payor_id=filters.payor,
        kind=filters.kind,
        received_from=filters.received_from,
        received_to=filters.received_to,
    )


class CashUpQuery(QuerySchema):
    day: Day | None = Field(None, description="Defaults to today.")
    taken_by: Id | None = Field(
        None, description="Someone else's takings (needs reports.view_reports); default: your own."
    )
    everyone: bool = Field(False, description="Everyone's takings (needs reports.view_reports).")


@payments_router.get(
    "/cash-up",
    response=TakingsOut,
    summary="The cash-up: one day's takings",
    description="Your own payments and refunds of the day per method; a manager may ask for anyone's or everyone's.",
)
def cash_up(request: HttpRequest, query: Query[CashUpQuery]):
    require_perm(request.user, P + "add_payment")
    taken_by: Any = request.user
    if query.taken_by is not None or query.everyone:
        require_perm(request.user, "reports.view_reports")
        taken_by = None if query.everyone else body_record(User, query.taken_by, "taken_by")
    result = selectors.takings(day=query.day or timezone.localdate(), taken_by=taken_by)
    return {
        "day": result.day,
        "taken_by": taken_by.pk if taken_by is not None else None,
        "net": result.net,
        "by_method": result.by_method,
        "payments": [_payment_out(p) for p in result.payments],
    }


@payments_router.get("/{int:payment_id}", response=PaymentOut, summary="One payment with its allocations")
def get_payment(request: HttpRequest, payment_id: int):
    require_perm(request.user, P + "view_payment")
    return _payment_out(_payments().get(pk=url_id(payment_id)))


@payments_router.post(
    "",
    response={201: PaymentOut},
    summary="Take a payment",
    description=(
        "Allocated to the invoices given, else to the oldest outstanding ones; the rest is client credit. "
        "A void or draft invoice cannot take a payment, nor more than it has outstanding (409)."
    ),
)
def take_payment(request: HttpRequest, payload: PaymentIn):
    require_perm(request.user, P + "add_payment")
    client = body_record(Client, payload.client, "client")
    allocate_to = None
    if payload.allocations is not None:
        invoices = Invoice.objects.in_bulk([a.invoice for a in payload.allocations])
        missing = [a.invoice for a in payload.allocations if a.invoice not in invoices]
        if missing:
            raise ValidationError({"allocations": f"There is no invoice with id {missing[0]}."})
        allocate_to = [(invoices[a.invoice], a.amount) for a in payload.allocations]
    payment = services.payment_record(
        client=client,
        amount=payload.amount,
        method=payload.method,
        by=request.user,
        received_on=payload.received_on,
        reference=payload.reference,
        allocate_to=allocate_to,
    )
    return Status(201, _payment_out(_payments().get(pk=payment.pk)))


@payments_router.post(
    "/refund",
    response={201: PaymentOut},
    summary="Pay money back to a client",
    description="Only the client's credit can be refunded (more is a 409). Needs invoicing.record_refund.",
)
def refund(request: HttpRequest, payload: RefundIn):
    require_perm(request.user, P + "record_refund")
    client = body_record(Client, payload.client, "client")
    refund = services.refund_record(
        client=client,
        amount=payload.amount,
        method=payload.method,
        by=request.user,
        reference=payload.reference,
        received_on=payload.received_on,
    )
    return Status(201, _payment_out(_payments().get(pk=refund.pk)))


@payments_router.post(
    "/{int:payment_id}/void",
    response=PaymentOut,
    summary="Void a payment recorded by mistake",
    description=(
        "The payment stays on record, marked void, and counts nowhere from then on; its allocations are undone, "
        "so the invoices it paid are open again. Needs invoicing.void_payment (managers). A refund, an insurer's "
        "payment or a payment already void cannot be voided (409)."
    ),
)
def void_payment(request: HttpRequest, payment_id: int, payload: VoidIn):
    require_perm(request.user, P + "void_payment")
    payment = _payments().get(pk=url_id(payment_id))
    services.payment_void(payment=payment, by=request.user, reason=payload.reason)
    return _payment_out(_payments().get(pk=payment.pk))


# --- Client accounts (mounted at /clients) ----------------------------------------------------------------------


def _client(pk: int) -> Client:
    return Client.objects.get(pk=url_id(pk))  # DoesNotExist -> 404


@accounts_router.get(
    "/{int:client_id}/balance",
    response=BalanceOut,
    summary="A client's balance",
    description="Payment data: needs invoicing.view_payment (else 403).",
)
def balance(request: HttpRequest, client_id: int):
    require_perm(request.user, P + "view_invoice", VIEW_PAYMENT)
    client = _client(client_id)
    account = selectors.client_balance(client=client)
    return {
        "client": client,
        "invoiced": account.invoiced,
        "credited": account.credited,
        "insurer": account.insurer,
        "paid": account.paid,
        "refunded": account.refunded,
        "balance": account.balance,
        "credit": -account.balance if account.balance < 0 else ZERO,
        "outstanding_invoices": [
            {
                "id": invoice.pk,
                "reference": invoice.reference,
                "issue_date": invoice.issue_date,
                "due_date": invoice.due_date,
                "gross_total": invoice.gross_total,
                "outstanding": owed,
            }
            for invoice, owed in selectors.invoices_outstanding(client=client)
        ],
    }


def _statement_period(query: StatementQuery) -> tuple[dt.date, dt.date]:
    end = query.end or timezone.localdate()
    start = query.start or end.replace(day=1)
    if end < start:
        raise _query_error("end", "The statement period ends before it starts.")
    return start, end


@accounts_router.get(
    "/{int:client_id}/statement",
    response=StatementOut,
    summary="A client's statement for a period",
    description="Opening balance, every document, insurer share and payment dated in [start, end], closing balance.",
)
def statement(request: HttpRequest, client_id: int, query: Query[StatementQuery]):
    require_perm(request.user, P + "view_invoice", P + "view_payment")
    client = _client(client_id)
    start, end = _statement_period(query)
    result = selectors.client_statement(client=client, start=start, end=end)
    entries = []
    for entry in result.entries:
        obj = entry.obj
        entries.append(
            {
                "date": entry.day,
                "kind": entry.kind,
                "reference": entry.reference,
                "description": entry.description,
                "amount": entry.amount,
                "balance": entry.balance,
                "invoice": obj.pk if isinstance(obj, Invoice) else obj.invoice_id if isinstance(obj, Claim) else None,
                "payment": obj.pk if isinstance(obj, Payment) else None,
            }
        )
    return {
        "client": client,
        "start": start,
        "end": end,
        "opening": result.opening,
        "closing": result.closing,
        "entries": entries,
    }


# --- Payors -----------------------------------------------------------------------------------------------------


class PayorFilters(QuerySchema):
    q: str = Field("", max_length=200, description="Part of the name.")
    active: bool | None = None


@payors_router.get("", response=list[PayorOut], summary="List insurance payors")
@paginate(Page)
def list_payors(request: HttpRequest, filters: Query[PayorFilters]):
    require_perm(request.user, P + "view_payor")
    qs = Payor.objects.order_by("name", "id")
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    if filters.q.strip():
        qs = qs.filter(name__icontains=filters.q.strip())
    return qs


@payors_router.get("/{int:payor_id}", response=PayorOut, summary="One payor")
def get_payor(request: HttpRequest, payor_id: int):
    require_perm(request.user, P + "view_payor")
    return Payor.objects.get(pk=url_id(payor_id))


@payors_router.post("", response={201: PayorOut}, summary="Add a payor")
def create_payor(request: HttpRequest, payload: PayorFields):
    require_perm(request.user, P + "add_payor")
    return Status(201, services.payor_save(by=request.user, data=payload.dict()))


@payors_router.patch("/{int:payor_id}", response=PayorOut, summary="Change a payor")
def update_payor(request: HttpRequest, payor_id: int, payload: PayorPatch):  # type: ignore[valid-type]
    require_perm(request.user, P + "change_payor")
    payor = Payor.objects.get(pk=url_id(payor_id))
    return services.payor_save(by=request.user, data=payload.dict(exclude_unset=True), payor=payor)


# --- Policies ---------------------------------------------------------------------------------------------------


class PolicyFilters(QuerySchema):
    animal: Id | None = None
    payor: Id | None = None
    covers: Day | None = Field(None, description="Only policies running on this day.")


def _policies():
    return Policy.objects.select_related("animal", "payor")


def _policy_data(data: dict[str, Any]) -> dict[str, Any]:
    if "animal" in data:
        data["animal"] = body_record(Animal, data["animal"], "animal")
    if "payor" in data:
        data["payor"] = body_record(Payor, data["payor"], "payor")
    return data


@policies_router.get("", response=list[PolicyOut], summary="List insurance policies")
@paginate(Page)
def list_policies(request: HttpRequest, filters: Query[PolicyFilters]):
    require_perm(request.user, P + "view_policy")
    qs = _policies().order_by("-starts_on", "-id")
    if filters.animal is not None:
        qs = qs.filter(animal_id=filters.animal)
    if filters.payor is not None:
        qs = qs.filter(payor_id=filters.payor)
    if filters.covers is not None:
        qs = qs.filter(starts_on__lte=filters.covers, ends_on__gte=filters.covers)
    return qs


@policies_router.get("/{int:policy_id}", response=PolicyOut, summary="One policy")
def get_policy(request: HttpRequest, policy_id: int):
    require_perm(request.user, P + "view_policy")
    return _policies().get(pk=url_id(policy_id))


@policies_router.post("", response={201: PolicyOut}, summary="Add a policy")
def create_policy(request: HttpRequest, payload: PolicyFields):
    require_perm(request.user, P + "add_policy")
    policy = services.policy_save(by=request.user, data=_policy_data(payload.dict()))
    return Status(201, _policies().get(pk=policy.pk))


@policies_router.patch("/{int:policy_id}", response=PolicyOut, summary="Change a policy")
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyPatch):  # type: ignore[valid-type]
    require_perm(request.user, P + "change_policy")
    policy = _policies().get(pk=url_id(policy_id))
    services.policy_save(by=request.user, data=_policy_data(payload.dict(exclude_unset=True)), policy=policy)
    return _policies().get(pk=policy.pk)


# --- Claims -----------------------------------------------------------------------------------------------------


class ClaimFilters(QuerySchema):
    status: Claim.Status | None = None
    payor: Id | None = None
    invoice: Id | None = None


def _claims():
    return selectors.claim_list()


def _claim(pk: int) -> Claim:
    lines = ClaimLine.objects.select_related("line__animal").order_by("line__position", "line_id")
    return _claims().prefetch_related(Prefetch("claim_lines", queryset=lines)).get(pk=url_id(pk))


class OpenClaimFilters(QuerySchema):
    status: list[Literal["draft", "submitted", "accepted", "partly_accepted"]] = Field(
        default_factory=list, max_length=4, description="Only these of the open statuses (default: all of them)."
    )
    payor: Id | None = None
    waiting_days: int | None = Field(
        None, ge=0, le=36500, description="Only claims whose current step began at least this many days ago."
    )
    after: Id | None = Field(None, description="The `next_after` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


@claims_router.get(
    "/open",
    response=OpenClaimsOut,
    summary="Open insurance claims across insurers",
    description="Claims not settled or declined, oldest first, paged by key: pass `next_after` as `after`.",
)
def list_open_claims(request: HttpRequest, filters: Query[OpenClaimFilters]):
    require_perm(request.user, P + "view_claim")
    page = selectors.open_claims(
        statuses=tuple(filters.status),
        payor_id=filters.payor,
        waiting_days=filters.waiting_days,
        after=filters.after,
        limit=filters.limit,
    )
    today = timezone.localdate()
    items = []
    for claim in page.claims:
        since = selectors.claim_waiting_since(claim)
        claim.waiting_since, claim.waiting_days = since, (today - since).days  # type: ignore[attr-defined]
        claim.insurer_owes = selectors.insurer_owes(claim)  # type: ignore[attr-defined]
        items.append(claim)
    return {"items": items, "next_after": page.next_after}


@claims_router.get("", response=list[ClaimOut], summary="List insurance claims")
@paginate(Page)
def list_claims(request: HttpRequest, filters: Query[ClaimFilters]):
    require_perm(request.user, P + "view_claim")
    return selectors.claim_list(status=filters.status, payor_id=filters.payor, invoice_id=filters.invoice)


@claims_router.get("/{int:claim_id}", response=ClaimDetailOut, summary="One claim with its lines")
def get_claim(request: HttpRequest, claim_id: int):
    require_perm(request.user, P + "view_claim")
    return _claim(claim_id)


@claims_router.post(
    "",
    response={201: ClaimDetailOut},
    summary="Start a claim",
    description=(
        "A draft claim for lines of a finalised invoice (else 409 not_claimable), each for the policy's animal on "
        "a day the policy covers (else 409 not_covered) and in no other live claim (409 already_claimed)."
    ),
)
def create_claim(request: HttpRequest, payload: ClaimIn):
    require_perm(request.user, P + "manage_claims")
    invoice = body_record(Invoice, payload.invoice, "invoice")
    policy = body_record(Policy, payload.policy, "policy")
    found = InvoiceLine.objects.in_bulk(payload.lines)
    missing = [pk for pk in payload.lines if pk not in found]
    if missing:
        raise ValidationError({"lines": f"There is no invoice line with id {missing[0]}."})
    claim = services.claim_create(
        invoice=invoice,
        policy=policy,
        lines=[found[pk] for pk in dict.fromkeys(payload.lines)],
        by=request.user,
        direct_settlement=payload.direct_settlement,
        notes=payload.notes,
    )
    return Status(201, _claim(claim.pk))


@claims_router.post("/{int:claim_id}/submit", response=ClaimDetailOut, summary="Submit a draft claim")
def submit_claim(request: HttpRequest, claim_id: int):
    require_perm(request.user, P + "manage_claims")
    services.claim_submit(claim=_claim(claim_id), by=request.user)
    return _claim(claim_id)


@claims_router.post(
    "/{int:claim_id}/decide",
    response=ClaimDetailOut,
    summary="Record the insurer's decision",
    description='All of the claimed amount: accepted; part: partly accepted; "0.00": declined (lines freed).',
)
def decide_claim(request: HttpRequest, claim_id: int, payload: DecideIn):
    require_perm(request.user, P + "manage_claims")
    services.claim_decide(
        claim=_claim(claim_id), by=request.user, accepted=payload.accepted, reference=payload.reference, on=payload.on
    )
    return _claim(claim_id)


@claims_router.post("/{int:claim_id}/settle", response=ClaimDetailOut, summary="Record the insurer's payment")
def settle_claim(request: HttpRequest, claim_id: int, payload: SettleIn):
    require_perm(request.user, P + "manage_claims")
    services.claim_settle(
        claim=_claim(claim_id),
        by=request.user,
        amount=payload.amount,
        received_on=payload.received_on,
        reference=payload.reference,
    )
    return _claim(claim_id)


@claims_router.delete("/{int:claim_id}", response={204: None}, summary="Withdraw a draft claim")
def withdraw_claim(request: HttpRequest, claim_id: int):
    require_perm(request.user, P + "manage_claims")
    services.claim_withdraw(claim=_claim(claim_id), by=request.user)
    return Status(204, None)


__all__ = [
    "accounts_router",
    "claims_router",
    "invoices_router",
    "payments_router",
    "payors_router",
    "policies_router",
    "products_router",
    "tax_rates_router",
]
