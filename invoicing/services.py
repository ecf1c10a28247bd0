"""Every write to the catalogue, invoices, credit notes and payments.

Rules live here once: lines change only on drafts; prices other than the catalogue's need a permission;
finalising numbers the document from a locked counter inside the same transaction (gapless), freezes a snapshot
of the client and the lines, and makes it immutable; corrections are credit notes; payments are allocated to
invoices oldest first unless chosen, and what is left is client credit. Balances are derived (invoicing.selectors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from animals.models import Animal
from appointments.models import Appointment
from clients.models import Client
from invoicing import calc
from invoicing.models import (
    Allocation,
    Claim,
    ClaimLine,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    Payment,
    Payor,
    Policy,
    Product,
    TaxCategory,
    TaxRate,
)
from invoicing.signals import document_finalised
from vetpms import audit, events
from vetpms.errors import DomainError
from vetpms.models import User, Vet
from vetpms.money import ZERO, plain_number, quantize_money
from vetpms.timeutils import to_local

# --- Catalogue ---------------------------------------------------------------------------------------------------

PRODUCT_FIELDS = frozenset({"code", "name", "category", "unit", "unit_price", "tax_category", "is_active"})


@transaction.atomic
def product_save(*, by: User, data: dict[str, Any], product: Product | None = None) -> Product:
    """Create or change a catalogue entry. Issued invoices keep the price they were issued with."""
    return audit.save_fields(obj=product or Product(), data=data, allowed=PRODUCT_FIELDS, by=by)


@transaction.atomic
def tax_rate_add(*, by: User, category: TaxCategory, rate: Decimal, valid_from: dt.date) -> TaxRate:
    """A new rate for ``category`` from ``valid_from``; the rate in force until then ends that day."""
    new = TaxRate(category=category, rate=rate, valid_from=valid_from)
    new.full_clean(exclude=["category"])
    later = TaxRate.objects.filter(category=category, valid_from__gte=valid_from).first()
    if later is not None:
        raise DomainError(f"{category} already has a rate from {later.valid_from}; add rates in date order.")
    TaxRate.objects.filter(category=category, valid_until__isnull=True).update(valid_until=valid_from)
    new.save()
    audit.record(actor=by, obj=category, action="tax rate", changes={"rate": [None, f"{rate}% from {valid_from}"]})
    return new


def tax_rate_on(*, category: TaxCategory, day: dt.date) -> Decimal:
    rate = (
        TaxRate.objects.filter(category=category, valid_from__lte=day)
        .exclude(valid_until__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise DomainError(f"No {category} tax rate applies on {day:%d %b %Y}.", field="tax_category")
    return rate


# --- Drafts ------------------------------------------------------------------------------------------------------


def _locked_draft(invoice: Invoice) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise DomainError(
            f"{invoice.reference} is issued and cannot be changed; issue a credit note instead.", code="frozen"
        )
    return invoice


def _recompute(invoice: Invoice) -> Invoice:
    totals = calc.document_totals(InvoiceLine.objects.filter(invoice=invoice))
    invoice.net_total, invoice.tax_total, invoice.gross_total = totals.net, totals.tax, totals.gross
    invoice.save(update_fields=["net_total", "tax_total", "gross_total", "updated_at"])
    return invoice


@transaction.atomic
def invoice_draft_for(*, client: Client, by: User) -> Invoice:
    """The client's open draft invoice, created when there is none (one draft per client collects the charges)."""
    if not client.is_active:
        raise DomainError(f"{client} is an inactive client.", field="client")
    Client.objects.select_for_update().filter(pk=client.pk).first()  # one draft even if two desks charge at once
    draft = Invoice.objects.filter(client=client, kind=Invoice.Kind.INVOICE, status=Invoice.Status.DRAFT).first()
    if draft is None:
        draft = Invoice.objects.create(client=client, created_by=by)
        audit.record(actor=by, obj=draft, action="create")
    return draft


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _check_quantity(quantity: Decimal) -> Decimal:
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ValidationError({"quantity": "A quantity is more than zero (credit notes carry the negatives)."})
    if _places(quantity) > 3 or quantity >= Decimal("10000000"):
        raise ValidationError({"quantity": "A quantity has at most 3 decimal places and 7 digits before them."})
    return quantity


def _check_line_inputs(*, unit_price: Decimal, discount_percent: Decimal, discount_amount: Decimal) -> None:
    errors: dict[str, str] = {}
    if unit_price < 0 or _places(unit_price) > 2 or unit_price >= Decimal("10000000000"):
        errors["unit_price"] = "A price is zero or more, with at most 2 decimal places."
    if not Decimal(0) <= discount_percent <= Decimal(100) or _places(discount_percent) > 2:
        errors["discount_percent"] = "A discount is between 0 and 100 %, with at most 2 decimal places."
    if discount_amount < 0 or _places(discount_amount) > 2:
        errors["discount_amount"] = "A discount amount is zero or more, with at most 2 decimal places."
    if errors:
        raise ValidationError(errors)


def _line_values(
    *,
    invoice: Invoice,
    by: User,
    product: Product | None,
    description: str,
    quantity: Decimal,
    unit_price: Decimal | None,
    discount_percent: Decimal,
    discount_amount: Decimal,
    service_date: dt.date,
    tax_category: TaxCategory | None,
    previous_price: Decimal | None = None,
    previous_discount: tuple[Decimal, Decimal] = (ZERO, ZERO),
) -> dict[str, Any]:
    if product is None and tax_category is None:
        raise ValidationError({"product": "Choose a product, or give a description, price and tax category."})
    if product is not None and not product.is_active:
        raise DomainError(f"{product.name} is no longer sold.", field="product")
    catalogue_price = product.unit_price if product is not None else None
    if unit_price is None:
        if catalogue_price is None:
            raise ValidationError({"unit_price": "Give a unit price."})
        unit_price = catalogue_price
    unit_price = Decimal(unit_price)
    overridden = catalogue_price is None or unit_price != catalogue_price
    # Keeping a line's existing price (changing only its quantity, say) needs no permission; setting one does.
    if (
        overridden
        and product is not None
        and unit_price != previous_price
        and not by.has_perm("invoicing.override_price")
    ):
        raise PermissionDenied(f"Your role cannot change the price of {product.name} ({catalogue_price}).")
    # A discount is a price change by another name (100 % off makes the line free), so it needs the same
    # permission. Keeping a line's existing discount, or removing it (back to the catalogue price), needs none.
    discount = (Decimal(discount_percent), Decimal(discount_amount))
    if (
        product is not None
        and any(discount)
        and discount != previous_discount
        and not by.has_perm("invoicing.override_price")
    ):
        raise PermissionDenied(f"Your role cannot give a discount on {product.name}.")
    _check_line_inputs(
        unit_price=unit_price, discount_percent=Decimal(discount_percent), discount_amount=Decimal(discount_amount)
    )
    rate = tax_rate_on(category=tax_category or product.tax_category, day=service_date)  # type: ignore[union-attr]
    amounts = calc.line_amounts(
        quantity=quantity,
        unit_price=unit_price,
        tax_rate=rate,
        discount_percent=Decimal(discount_percent),
        discount_amount=Decimal(discount_amount),
    )
    return {
        "product": product,
        "description": (description or (product.name if product else "")).strip(),
        "quantity": quantity,
        "unit": product.unit if product else "each",
        "category": product.category if product else Product.Category.OTHER,
        "unit_price": unit_price,
        "price_overridden": overridden and product is not None,
        "discount_percent": Decimal(discount_percent),
        "discount_amount": Decimal(discount_amount),
        "tax_rate": rate,
        "net": amounts.net,
        "tax": amounts.tax,
        "gross": amounts.gross,
        "service_date": service_date,
    }


@transaction.atomic
def invoice_add_line(
    *,
    invoice: Invoice,
    by: User,
    quantity: Decimal,
    product: Product | None = None,
    description: str = "",
    animal: Animal | None = None,
    vet: Vet | None = None,
    appointment: Appointment | None = None,
    unit_price: Decimal | None = None,
    discount_percent: Decimal = ZERO,
    discount_amount: Decimal = ZERO,
    service_date: dt.date | None = None,
    tax_category: TaxCategory | None = None,
) -> InvoiceLine:
    invoice = _locked_draft(invoice)
    if animal is not None and animal.owner_id != invoice.client_id:
        raise DomainError(f"{animal.name} does not belong to {invoice.client}.", field="animal")
    values = _line_values(
        invoice=invoice,
        by=by,
        product=product,
        description=description,
        quantity=_check_quantity(quantity),
        unit_price=unit_price,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        service_date=service_date or timezone.localdate(),
        tax_category=tax_category,
    )
    position = (InvoiceLine.objects.filter(invoice=invoice).aggregate(m=Max("position"))["m"] or 0) + 1
    line = InvoiceLine(invoice=invoice, animal=animal, vet=vet, appointment=appointment, position=position, **values)
    line.full_clean()
    line.save()
    _recompute(invoice)
    audit.record(actor=by, obj=invoice, action="line added", changes={"line": [None, f"{line.quantity} x {line}"]})
    return line


LINE_FIELDS = frozenset(
    {"description", "quantity", "unit_price", "discount_percent", "discount_amount", "animal", "vet", "service_date"}
)


@transaction.atomic
def invoice_change_line(*, line: InvoiceLine, by: User, data: dict[str, Any]) -> InvoiceLine:
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise ValueError(f"Not editable line fields: {', '.join(sorted(unknown))}")
    invoice = _locked_draft(line.invoice)
    line = InvoiceLine.objects.select_related("product").get(pk=line.pk)
    before = audit.snapshot(line)
    if "service_date" in data and data["service_date"] is None:
        raise ValidationError({"service_date": "Give the date of the service."})
    animal = data.get("animal", line.animal)
    if animal is not None and animal.owner_id != invoice.client_id:
        raise DomainError(f"{animal.name} does not belong to {invoice.client}.", field="animal")
    values = _line_values(
        invoice=invoice,
        by=by,
        product=line.product,
        description=data.get("description", line.description),
        quantity=_check_quantity(data.get("quantity", line.quantity)),
        unit_price=data.get("unit_price", line.unit_price),
        discount_percent=data.get("discount_percent", line.discount_percent),
        discount_amount=data.get("discount_amount", line.discount_amount),
        service_date=data.get("service_date", line.service_date),
        tax_category=None if line.product else TaxCategory.objects.filter(rates__rate=line.tax_rate).first(),
        previous_price=line.unit_price,
        previous_discount=(line.discount_percent, line.discount_amount),
    )
    for name, value in values.items():
        setattr(line, name, value)
    line.animal = animal
    line.vet = data.get("vet", line.vet)
    line.full_clean()
    line.save()
    _recompute(invoice)
    audit.record(actor=by, obj=invoice, action="line changed", changes=audit.diff(before, audit.snapshot(line)))
    return line


@transaction.atomic
def invoice_remove_line(*, line: InvoiceLine, by: User) -> Invoice:
    invoice = _locked_draft(line.invoice)
    description = str(line)
    InvoiceLine.objects.get(pk=line.pk).delete()
    _recompute(invoice)
    audit.record(actor=by, obj=invoice, action="line removed", changes={"line": [description, None]})
    return invoice


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, by: User) -> None:
    invoice = _locked_draft(invoice)
    audit.record(actor=by, obj=invoice, action="draft deleted")
    InvoiceLine.objects.filter(invoice=invoice).delete()
    invoice.delete()


@transaction.atomic
def charge_appointment(*, appointment: Appointment, by: User, items: list[tuple[Product, Decimal]]) -> Invoice:
    """The "Charge" action: the products given for the appointment's animal go on its owner's draft invoice."""
    appointment = Appointment.objects.select_related("animal", "client", "vet").get(pk=appointment.pk)
    if appointment.status in ("cancelled", "no_show"):
        raise DomainError("A cancelled or missed appointment cannot be charged.", code="bad_status")
    if not items:
        raise ValidationError({"items": "Choose at least one treatment to charge."})
    invoice = invoice_draft_for(client=appointment.animal.owner, by=by)
    for product, quantity in items:
        invoice_add_line(
            invoice=invoice,
            by=by,
            product=product,
            quantity=quantity,
            animal=appointment.animal,
            vet=appointment.vet,
            appointment=appointment,
            service_date=to_local(appointment.start).date(),
        )
    return invoice


# --- Issuing -----------------------------------------------------------------------------------------------------


def _next_number(series: str) -> int:
    """Lock the series counter and take its next number (created on first use; a creation race retries)."""
    for _ in range(3):
        counter = DocumentCounter.objects.select_for_update().filter(series=series).first()
        if counter is not None:
            counter.last_number += 1
            counter.save(update_fields=["last_number"])
            return counter.last_number
        try:
            with transaction.atomic():
                DocumentCounter.objects.create(series=series, last_number=0)
        except IntegrityError:
            continue
    raise DomainError("The invoice numbering is busy; try again.", code="busy")  # pragma: no cover


def _series(kind: str, day: dt.date) -> str:
    prefix = settings.INVOICE_SERIES_PREFIX if kind == Invoice.Kind.INVOICE else settings.CREDIT_NOTE_SERIES_PREFIX
    return f"{prefix}{day.year}"


def _issue(invoice: Invoice, by: User, *, due_date: dt.date | None = None) -> Invoice:
    """Number, date, snapshot and freeze a locked draft (caller holds the transaction and the row lock); due
    ``INVOICE_DUE_DAYS`` after today unless ``due_date`` says otherwise."""
    lines = list(InvoiceLine.objects.filter(invoice=invoice))
    if not lines:
        raise DomainError("An invoice without lines cannot be finalised.", code="empty")
    totals = calc.document_totals(lines)
    invoice.net_total, invoice.tax_total, invoice.gross_total = totals.net, totals.tax, totals.gross
    today = timezone.localdate()
    client = invoice.client
    invoice.series = _series(invoice.kind, today)
    invoice.number = _next_number(invoice.series)
    invoice.issue_date = today
    invoice.due_date = due_date or today + dt.timedelta(days=settings.INVOICE_DUE_DAYS)
    invoice.client_name = client.display_name
    invoice.client_address = "\n".join(client.address_lines)
    invoice.status = Invoice.Status.FINALISED
    invoice.finalised_by = by
    invoice.finalised_at = timezone.now()
    invoice.save()
    audit.record(
        actor=by,
        obj=invoice,
        action="finalise",
        changes={"number": [None, invoice.reference], "gross_total": [None, str(invoice.gross_total)]},
    )
    document_finalised.send(sender=Invoice, invoice=invoice, by=by)
    events.publish("credit_note.issued" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "invoice.finalised", invoice)
    return invoice


@transaction.atomic
def invoice_finalise(*, invoice: Invoice, by: User) -> Invoice:
    invoice = _locked_draft(invoice)
    if not by.has_perm("invoicing.finalise_invoice"):
        raise PermissionDenied("Your role cannot finalise invoices.")
    return _issue(invoice, by)


def _credited_so_far(line: InvoiceLine) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    agg = InvoiceLine.objects.filter(credited_line=line).aggregate(
        q=Sum("quantity"), n=Sum("net"), t=Sum("tax"), g=Sum("gross")
    )
    return (-(agg["q"] or Decimal(0)), -(agg["n"] or ZERO), -(agg["t"] or ZERO), -(agg["g"] or ZERO))


@transaction.atomic
def credit_note_issue(
    *,
    invoice: Invoice,
    by: User,
    reason: str,
    lines: list[tuple[InvoiceLine, Decimal]] | None = None,
) -> Invoice:
    """Issue a credit note for ``lines`` [(line, quantity to credit)] of a finalised invoice, or for everything
    not yet credited when ``lines`` is None. Nothing can be credited twice; crediting all that remains of a line
    reverses its remaining amounts exactly, so a line credited in parts ends at zero to the cent."""
    if not by.has_perm("invoicing.issue_credit_note"):
        raise PermissionDenied("Your role cannot issue credit notes.")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status != Invoice.Status.FINALISED:
        raise DomainError(f"Only a finalised invoice can be credited; {invoice.reference} is {invoice.status}.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the credit note is issued."})
    own_lines = {line.pk: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    wanted: list[tuple[InvoiceLine | None, Decimal | None]] = (
        [(line, None) for line in own_lines.values()]
        if lines is None
        else [(own_lines.get(line.pk), quantity) for line, quantity in lines]
    )
    note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE, client=invoice.client, credits=invoice, reason=reason[:300], created_by=by
    )
    position = 0
    for line, quantity in wanted:
        if line is None:
            raise DomainError(f"That line is not on {invoice.reference}.", field="lines")
        done_q, done_n, done_t, done_g = _credited_so_far(line)
        remaining = line.quantity - done_q
        quantity = remaining if quantity is None else Decimal(quantity)
        if quantity == 0 and lines is None:
            continue
        if quantity <= 0:
            raise ValidationError({"lines": "Credit a quantity more than zero."})
        if quantity > remaining:
            raise DomainError(
                f"Only {plain_number(remaining)} of “{line.description}” is left to credit on {invoice.reference}.",
                field="lines",
                code="over_credit",
            )
        if quantity == remaining:
            net, tax, gross = -(line.net - done_n), -(line.tax - done_t), -(line.gross - done_g)
        else:
            share = quantity / line.quantity
            amounts = calc.line_amounts(
                quantity=-quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                discount_percent=line.discount_percent,
                discount_amount=quantize_money(line.discount_amount * share),
            )
            net, tax, gross = amounts.net, amounts.tax, amounts.gross
        position += 1
        InvoiceLine.objects.create(
            invoice=note,
            position=position,
            product=line.product,
            description=line.description,
            animal=line.animal,
            vet=line.vet,
            service_date=line.service_date,
            category=line.category,
            quantity=-quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            discount_amount=quantize_money(line.discount_amount * quantity / line.quantity),
            tax_rate=line.tax_rate,
            net=net,
            tax=tax,
            gross=gross,
            credited_line=line,
        )
    if position == 0:
        raise DomainError(f"Everything on {invoice.reference} has already been credited.", code="over_credit")
    # Crediting a paid invoice leaves it owing less than was paid: the client's balance goes negative, which is
    # their credit (refundable, or applied to later invoices).
    return _issue(note, by)


@transaction.atomic
def invoice_void(*, invoice: Invoice, by: User, reason: str) -> Invoice:
    """Void = a full credit note for everything not yet credited, and the invoice marked void."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.VOID:
        raise DomainError(f"{invoice.reference} is already void.")
    if Allocation.objects.filter(invoice=invoice).exists():
        raise DomainError(
            f"{invoice.reference} has payments allocated; refund them or credit the invoice instead of voiding it.",
            code="has_payments",
        )
    if invoice.claims.exclude(status="declined").exists():
        raise DomainError(f"{invoice.reference} has a live insurance claim; withdraw it first.", code="has_claims")
    credit_note_issue(invoice=invoice, by=by, reason=reason)
    invoice.status = Invoice.Status.VOID
    invoice._allow_issued_change = True  # type: ignore[attr-defined]
    invoice.save(update_fields=["status", "updated_at"])
    audit.record(actor=by, obj=invoice, action="void", changes={"status": ["finalised", "void"]}, note=reason)
    return invoice


# --- Opening balances (a practice moving in) ----------------------------------------------------------------------

OPENING_BALANCE = "Opening balance"


def _zero_rated(day: dt.date) -> TaxCategory:
    """The tax category an opening balance is issued in: nothing was sold, so no tax (the old system accounted for
    it when it invoiced). The reference data's "zero" category, else any category whose rate that day is 0."""
    candidates = sorted(TaxCategory.objects.all(), key=lambda c: c.code != "zero")
    for category in candidates:
        try:
            if tax_rate_on(category=category, day=day) == ZERO:
                return category
        except DomainError:
            continue
    raise DomainError("Add a zero-rated tax category first: an opening balance carries no tax.", field="balance")


@transaction.atomic
def opening_balance_record(
    *, client: Client, amount: Decimal, as_of: dt.date, by: User, source: str, note: str = ""
) -> Invoice | Payment:
    """Carry a client's balance over from the system the practice used before (the import of opening balances).

    What the client owed (``amount`` > 0) becomes one issued invoice of its own (not the client's draft), numbered
    in the invoice series like any other, with one zero-rated line "Opening balance brought forward from <source>
    as of <date>", issued today and due on ``as_of`` (it was owed already): the account page, the statement, the
    receivables (overdue from ``as_of``) and the balance all show it, and it is paid or credited as any invoice.
    It is marked ``opening_balance``: money owed from before, not a sale of today, so the revenue summaries and
    report leave it (and a credit note of it) out.
    What the practice owed the client (``amount`` < 0) becomes a payment on account of that size, method "other",
    reference "Opening balance", dated ``as_of`` and allocated to nothing: the client's credit, as the account page
    shows it and "apply credit" uses it. Money is quantised to pence (ROUND_HALF_UP) before anything is written;
    zero carries nothing and is refused."""
    amount = quantize_money(Decimal(amount))
    if amount == ZERO:
        raise DomainError("A balance of 0.00 carries nothing over.", field="balance", code="zero")
    today = timezone.localdate()
    if as_of > today:
        raise ValidationError({"as_of": f"A balance is carried over as of a past day, not {as_of:%d %b %Y}."})
    Client.objects.select_for_update().filter(pk=client.pk).first()  # one writer of this client's account
    description = f"{OPENING_BALANCE} brought forward from {source} as of {as_of:%d %b %Y}"
    if note.strip():
        description = f"{description}: {note.strip()}"
    if amount > ZERO:
        invoice = Invoice.objects.create(client=client, created_by=by, notes=description[:2000], opening_balance=True)
        audit.record(actor=by, obj=invoice, action="create", note=OPENING_BALANCE.lower())
        invoice_add_line(
            invoice=invoice,
            by=by,
            quantity=Decimal(1),
            description=description[:300],
            unit_price=amount,
            tax_category=_zero_rated(today),
            service_date=today,
        )
        return _issue(Invoice.objects.select_for_update().get(pk=invoice.pk), by, due_date=as_of)
    return payment_record(
        client=client,
        amount=-amount,
        method=Payment.Method.OTHER,
        by=by,
        received_on=as_of,
        reference=f"{OPENING_BALANCE} ({source})"[:100],
        allocate_to=[],
    )


# --- Payments ----------------------------------------------------------------------------------------------------


def money_day(day: dt.date | None, *, field: str, what: str) -> dt.date:
    """The practice-local day a sum of money changed hands: today when not given, never after today.

    Every screen reads balances "as of" a day: the account page and the invoice PDF count everything recorded,
    the statement and receivables what is dated up to their end. A payment dated tomorrow would count on the
    first and not the second, so no money event (payment, refund, insurer's payment, claim submitted or decided)
    is recorded with a date after today; it is recorded on the day it happens."""
    today = timezone.localdate()
    if day is None:
        return today
    if day > today:
        raise ValidationError(
            {field: f"{what} cannot be dated after today ({today.day} {today:%b %Y}); record it on the day."}
        )
    return day


@transaction.atomic
def payment_record(
    *,
    client: Client,
    amount: Decimal,
    method: str,
    by: User,
    received_on: dt.date | None = None,
    reference: str = "",
    allocate_to: list[tuple[Invoice, Decimal]] | None = None,
) -> Payment:
    """Take a payment from a client and allocate it (to the invoices given, else to the oldest outstanding
    ones); what is not allocated stays on the client's account as credit."""
    Client.objects.select_for_update().filter(pk=client.pk).first()  # serialise payments of one client
    payment = Payment(
        client=client,
        amount=Decimal(amount),
        method=method,
        received_on=money_day(received_on, field="received_on", what="A payment"),
        reference=reference,
        created_by=by,
    )
    payment.full_clean()
    if payment.amount <= 0:
        raise ValidationError({"amount": "A payment is more than zero."})
    if payment.method == Payment.Method.INSURANCE:
        raise ValidationError({"method": "Insurers' payments are recorded on their claim."})
    payment.save()
    audit.record(actor=by, obj=client, action="payment", changes={"payment": [None, str(payment)]})
    _allocate(payment=payment, client=client, allocate_to=allocate_to)
    events.publish("payment.received", payment)
    return payment


def _allocate(*, payment: Payment, client: Client, allocate_to: list[tuple[Invoice, Decimal]] | None) -> None:
    from invoicing.selectors import client_outstanding, outstanding_invoices

    available = payment.amount
    if allocate_to is not None:
        for invoice, amount in allocate_to:
            invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
            amount = Decimal(amount)
            if invoice.client_id != client.pk:
                raise DomainError(f"{invoice.reference} is not {client}'s invoice.", field="allocations")
            if invoice.kind != Invoice.Kind.INVOICE or invoice.status != Invoice.Status.FINALISED:
                raise DomainError(
                    f"{invoice.reference} is {invoice.get_status_display().lower()}; it cannot take a payment.",
                    field="allocations",
                    code="not_payable",
                )
            if amount <= 0:
                raise ValidationError({"allocations": "Allocate an amount more than zero."})
            owed = client_outstanding(invoice)
            if amount > owed:
                raise DomainError(
                    f"{invoice.reference} has only {owed} outstanding; {amount} cannot be allocated to it.",
                    field="allocations",
                    code="over_allocation",
                )
            if amount > available:
                raise DomainError("The allocations add up to more than the payment.", field="allocations")
            Allocation.objects.create(payment=payment, invoice=invoice, amount=amount)
            available -= amount
        return
    for invoice in outstanding_invoices(client=client):
        if available <= 0:
            break
        owed = client_outstanding(invoice)
        if owed <= 0:
            continue
        part = min(owed, available)
        Allocation.objects.create(payment=payment, invoice=invoice, amount=part)
        available -= part


@transaction.atomic
def apply_client_credit(*, client: Client, by: User) -> Decimal:
    """Allocate what the client paid and is not yet allocated (less refunds) to their outstanding invoices,
    oldest first. Returns the amount applied."""
    from invoicing.selectors import client_outstanding, outstanding_invoices, unallocated_payments

    Client.objects.select_for_update().filter(pk=client.pk).first()
    free = unallocated_payments(client=client)
    budget = sum((amount for _, amount in free), ZERO) - _sum_refunds(client)
    applied = ZERO
    invoices = outstanding_invoices(client=client)
    for payment, amount in free:
        amount = min(amount, budget - applied)
        while amount > 0 and invoices:
            owed = client_outstanding(invoices[0])
            part = min(owed, amount)
            Allocation.objects.create(payment=payment, invoice=invoices[0], amount=part)
            amount -= part
            applied += part
            if part == owed:
                invoices.pop(0)
    if applied:
        audit.record(actor=by, obj=client, action="credit applied", changes={"applied": [None, str(applied)]})
    return applied


def _sum_refunds(client: Client) -> Decimal:
    refunds = Payment.objects.live().filter(client=client, kind=Payment.Kind.REFUND)
    return refunds.aggregate(s=Sum("amount"))["s"] or ZERO


@transaction.atomic
def refund_record(
    *, client: Client, amount: Decimal, method: str, by: User, reference: str = "", received_on: dt.date | None = None
) -> Payment:
    """Pay money back to a client; only their unallocated credit can be refunded."""
    from invoicing.selectors import client_credit

    Client.objects.select_for_update().filter(pk=client.pk).first()
    amount = Decimal(amount)
    received_on = money_day(received_on, field="received_on", what="A refund")
    credit = client_credit(client=client)
    if amount <= 0:
        raise ValidationError({"amount": "A refund is more than zero."})
    if amount > credit:
        raise DomainError(f"{client} has {credit} of credit; {amount} cannot be refunded.", code="over_refund")
    refund = Payment(
        kind=Payment.Kind.REFUND,
        client=client,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=reference,
        created_by=by,
    )
    refund.full_clean()
    refund.save()
    audit.record(actor=by, obj=client, action="refund", changes={"refund": [None, str(refund)]})
    return refund


@transaction.atomic
def payment_void(*, payment: Payment, by: User, reason: str) -> Payment:
    """Void a client's payment recorded by mistake: it stays on record, marked void with who, when and why, and
    counts nowhere from then on (balances, statements, receivables, takings), as if it had never been taken. Its
    allocations are undone, so the invoices it paid are open again (the list of open invoices follows through the
    allocations' delete signal, in this transaction). Money that really went back to the client is a refund."""
    if not by.has_perm("invoicing.void_payment"):
        raise PermissionDenied("Your role cannot void payments.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the payment is void."})
    if len(reason) > 300:
        raise ValidationError({"reason": "A reason has at most 300 characters."})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.client_id is None:
        raise DomainError(
            "An insurer's payment belongs to its claim and cannot be voided here.", field="payment", code="insurer"
        )
    if payment.kind != Payment.Kind.PAYMENT:
        raise DomainError("Only a payment can be voided; a refund is money that went back.", code="not_a_payment")
    Client.objects.select_for_update().filter(pk=payment.client_id).first()  # serialise with this client's payments
    if payment.is_void:
        raise DomainError(f"That {payment.get_kind_display().lower()} is already void.", code="already_void")
    undone = list(Allocation.objects.filter(payment=payment).select_related("invoice"))
    for allocation in undone:
        allocation.delete()  # one by one: each delete refreshes its invoice on the list of open invoices
    payment.voided_at = timezone.now()
    payment.voided_by = by
    payment.void_reason = reason
    payment._allow_void = True  # type: ignore[attr-defined]
    payment.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit.record(
        actor=by,
        obj=payment.client,  # type: ignore[arg-type]  # a client's payment (checked above)
        action="payment void",
        changes={
            "payment": [str(payment), "void"],
            **({"allocations": [", ".join(f"{a.amount} to {a.invoice}" for a in undone), None]} if undone else {}),
        },
        note=reason,
    )
    return payment


# --- Insurance ---------------------------------------------------------------------------------------------------

PAYOR_FIELDS = frozenset({"name", "contact_name", "claims_email", "address", "phone", "reference", "is_active"})
POLICY_FIELDS = frozenset({"animal", "payor", "policy_number", "starts_on", "ends_on", "excess", "copay_percent"})


@transaction.atomic
def payor_save(*, by: User, data: dict[str, Any], payor: Payor | None = None) -> Payor:
    return audit.save_fields(obj=payor or Payor(), data=data, allowed=PAYOR_FIELDS, by=by)


@transaction.atomic
def policy_save(*, by: User, data: dict[str, Any], policy: Policy | None = None) -> Policy:
    return audit.save_fields(obj=policy or Policy(), data=data, allowed=POLICY_FIELDS, by=by)


class _Priced(Protocol):
    """What ``claim_amount`` reads of a line (the practice-scale seeding passes its rows before they are saved)."""

    @property
    def gross(self) -> Decimal: ...


def claim_amount(*, lines: Iterable[_Priced], policy: Policy) -> Decimal:
    """What the insurer is asked for: the lines' gross less the excess, less the co-pay share; never negative."""
    gross = sum((line.gross for line in lines), ZERO)
    after_excess = max(ZERO, gross - policy.excess)
    return quantize_money(after_excess * (Decimal(100) - policy.copay_percent) / Decimal(100))


@transaction.atomic
def claim_create(
    *,
    invoice: Invoice,
    policy: Policy,
    lines: list[InvoiceLine],
    by: User,
    direct_settlement: bool = True,
    notes: str = "",
) -> Claim:
    """A draft claim for chosen lines of a finalised invoice, each for the policy's animal on a covered date."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status != Invoice.Status.FINALISED:
        raise DomainError(
            f"Only a finalised invoice can be claimed; {invoice.reference} is {invoice.get_status_display().lower()}.",
            field="invoice",
            code="not_claimable",
        )
    if not lines:
        raise ValidationError({"lines": "Choose the lines to claim."})
    policy = Policy.objects.select_related("payor", "animal").get(pk=policy.pk)
    if not policy.payor.is_active:
        raise DomainError(f"{policy.payor} is no longer an active payor.", field="policy")
    own = {line.pk: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    chosen: list[InvoiceLine] = []
    for line in lines:
        mine = own.get(line.pk)
        if mine is None:
            raise DomainError(f"That line is not on {invoice.reference}.", field="lines")
        if mine.animal_id != policy.animal_id:
            raise DomainError(
                f"“{mine.description}” is not for {policy.animal.name}, the animal policy {policy} covers.",
                field="lines",
                code="not_covered",
            )
        if not policy.covers(mine.service_date):
            raise DomainError(
                f"Policy {policy} does not cover {mine.service_date:%d %b %Y} (it runs {policy.starts_on:%d %b %Y} "
                f"to {policy.ends_on:%d %b %Y}).",
                field="lines",
                code="not_covered",
            )
        chosen.append(mine)
    credited = InvoiceLine.objects.filter(credited_line__in=chosen).values_list("credited_line_id", flat=True)
    if credited:
        raise DomainError("A line that was credited cannot be claimed.", field="lines", code="credited")
    claim = Claim.objects.create(
        policy=policy,
        invoice=invoice,
        direct_settlement=direct_settlement,
        amount_claimed=claim_amount(lines=chosen, policy=policy),
        notes=notes,
        created_by=by,
    )
    try:
        with transaction.atomic():
            ClaimLine.objects.bulk_create([ClaimLine(claim=claim, line=line) for line in chosen])
    except IntegrityError as exc:
        raise DomainError(
            "One of these lines is already in a live claim.", field="lines", code="already_claimed"
        ) from exc
    audit.record(actor=by, obj=invoice, action="claim created", changes={"claim": [None, str(claim.amount_claimed)]})
    return claim


def _locked_claim(claim: Claim, *allowed: str) -> Claim:
    claim = Claim.objects.select_for_update().select_related("policy__payor", "invoice").get(pk=claim.pk)
    if claim.status not in allowed:
        raise DomainError(
            f"A {claim.get_status_display().lower()} claim cannot do that.", field="status", code="bad_transition"
        )
    return claim


@transaction.atomic
def claim_submit(*, claim: Claim, by: User, on: dt.date | None = None) -> Claim:
    claim = _locked_claim(claim, Claim.Status.DRAFT)
    claim.status = Claim.Status.SUBMITTED
    claim.submitted_on = money_day(on, field="on", what="A claim's submission")
    claim.save(update_fields=["status", "submitted_on", "updated_at"])
    audit.record(actor=by, obj=claim.invoice, action="claim submitted", changes={"claim": ["draft", "submitted"]})
    events.publish("claim.status_changed", claim, changed={"status"})
    return claim


@transaction.atomic
def claim_withdraw(*, claim: Claim, by: User) -> None:
    """Drop a draft claim; its lines become free to claim again."""
    claim = _locked_claim(claim, Claim.Status.DRAFT)
    audit.record(actor=by, obj=claim.invoice, action="claim withdrawn", changes={"claim": [str(claim.pk), None]})
    ClaimLine.objects.filter(claim=claim).delete()
    claim.delete()


@transaction.atomic
def claim_decide(*, claim: Claim, by: User, accepted: Decimal, reference: str = "", on: dt.date | None = None) -> Claim:
    """Record the insurer's decision: all (accepted), some (partly accepted) or nothing (declined)."""
    claim = _locked_claim(claim, Claim.Status.SUBMITTED)
    accepted = Decimal(accepted)
    if accepted < 0 or _places(accepted) > 2:
        raise ValidationError({"accepted": "An accepted amount is zero or more, with at most 2 decimal places."})
    if accepted > claim.amount_claimed:
        raise DomainError(
            f"The insurer cannot accept more ({accepted}) than was claimed ({claim.amount_claimed}).",
            field="accepted",
        )
    if accepted == 0:
        claim.status = Claim.Status.DECLINED
        ClaimLine.objects.filter(claim=claim).update(live=False)
    elif accepted == claim.amount_claimed:
        claim.status = Claim.Status.ACCEPTED
    else:
        claim.status = Claim.Status.PARTLY_ACCEPTED
    claim.amount_accepted = accepted
    claim.decided_on = money_day(on, field="on", what="An insurer's decision")
    claim.insurer_reference = reference or claim.insurer_reference
    claim.save()
    audit.record(
        actor=by, obj=claim.invoice, action=f"claim {claim.status}", changes={"accepted": [None, str(accepted)]}
    )
    events.publish("claim.status_changed", claim, changed={"status", "amount_accepted"})
    return claim


@transaction.atomic
def claim_settle(
    *, claim: Claim, by: User, amount: Decimal, received_on: dt.date | None = None, reference: str = ""
) -> Claim:
    """The insurer paid: record their payment against the invoice (the payor's share) and close the claim."""
    claim = _locked_claim(claim, Claim.Status.ACCEPTED, Claim.Status.PARTLY_ACCEPTED)
    amount = Decimal(amount)
    if amount <= 0 or _places(amount) > 2:
        raise ValidationError({"amount": "A payment is more than zero, with at most 2 decimal places."})
    share = claim.amount_accepted or ZERO
    if amount > share - claim.amount_paid:
        raise DomainError(f"The insurer owes {share - claim.amount_paid} on this claim, not {amount}.", field="amount")
    payment = Payment(
        payor=claim.policy.payor,
        method=Payment.Method.INSURANCE,
        amount=amount,
        received_on=money_day(received_on, field="received_on", what="An insurer's payment"),
        reference=reference or claim.insurer_reference,
        created_by=by,
    )
    payment.full_clean()
    payment.save()
    Allocation.objects.create(payment=payment, invoice=claim.invoice, claim=claim, amount=amount)
    claim.amount_paid += amount
    if claim.amount_paid == share:
        claim.status = Claim.Status.SETTLED
        claim.settled_on = payment.received_on
    claim.save()
    audit.record(actor=by, obj=claim.invoice, action="claim payment", changes={"paid": [None, str(amount)]})
    events.publish(
        "claim.status_changed", claim, changed={"status", "amount_paid"} if claim.settled_on else {"amount_paid"}
    )
    return claim
