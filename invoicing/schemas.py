"""API shapes of the catalogue, invoices, payments, client accounts and insurance.

Numbers that matter are decimal strings, never floats, both ways:

* Money goes out with exactly 2 decimals (``"12.50"``), quantities with 3 (``"0.500"``, as stored), percentages
  with 2 (``"20.00"``).
* Money, quantities and percentages may be sent as strings (preferred: ``"12.50"``) or as JSON numbers. A number
  is read through its shortest decimal form (``12.5`` -> ``Decimal("12.5")``), which is exactly what was written
  for any number of up to 15 significant digits; a number with more digits than a double can carry is refused
  (422, "send it as a string"), so nothing is ever silently rounded. ``true``/``false``, ``NaN`` and infinities
  are refused.
* Money has at most 2 decimal places, quantities at most 3, percentages at most 2 and lie in 0-100: more places
  are a 422, never rounded away. Quantities sent are more than zero (credit notes carry the negatives, and only
  the service makes them).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from appointments.schemas import LocalDateTime
from invoicing.models import Claim, Invoice, Payment, Product
from vetpms.api_utils import Id, InputSchema, patch_schema
from vetpms.params import DATE_MESSAGE, DAY_JSON_SCHEMA, in_bounds

# --- Decimal input and output -----------------------------------------------------------------------------------

MAX_EXACT_DIGITS = 15  # every decimal of up to 15 significant digits survives a trip through a double


_DECIMAL_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        raise ValueError('Give a number as a decimal string, e.g. "12.50".')
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Give a finite number.")
        number = Decimal(repr(value))
        if len(number.as_tuple().digits) > MAX_EXACT_DIGITS:
            raise ValueError("This number has more digits than a JSON number carries exactly; send it as a string.")
    elif isinstance(value, str):
        # Exactly what the schema's pattern publishes: ASCII digits, an optional sign and point. Python's Decimal
        # would also take full-width digits, " 12 ", "1e3" and "NaN", none of which a client means.
        if not _DECIMAL_STRING.fullmatch(value):
            raise ValueError(f'{value[:40]!r} is not a decimal number such as "12.50" (digits 0-9, no spaces).')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value[:40]!r} is not a decimal number.") from None
    else:
        raise ValueError('Give a number as a decimal string, e.g. "12.50".')
    if not number.is_finite():
        raise ValueError("Give a finite number.")
    return number


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _limits(*, places: int, minimum: Decimal, maximum: Decimal, above_minimum: bool = False, what: str):
    def check(value: Decimal) -> Decimal:
        if _places(value) > places:
            raise ValueError(f"{what} has at most {places} decimal places.")
        if value < minimum or (above_minimum and value == minimum):
            raise ValueError(f"{what} is {'more than' if above_minimum else 'at least'} {minimum}.")
        if value > maximum:
            raise ValueError(f"{what} is at most {maximum}.")
        return value

    return check


def _fixed(places: int):
    step = Decimal(1).scaleb(-places)
    return PlainSerializer(lambda v: str(Decimal(v).quantize(step)), return_type=str)


MAX_MONEY = Decimal("9999999999.99")  # (12, 2)
MAX_QUANTITY = Decimal("9999999.999")  # (10, 3)
_STRING = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
_NOT_ZERO = r"(?!0+(\.0+)?$)"  # a lookahead: any number but zero


def _bounded(*, pattern: str, minimum: Decimal, maximum: Decimal, above_minimum: bool, example: str, what: str):
    """The published schema of a decimal input: a string whose pattern carries the bounds (digits 0-9, at most so
    many places and integer digits, zero excluded where it must be more than zero), or a JSON number with the same
    bounds as ``minimum``/``exclusiveMinimum`` and ``maximum``: the limits ``_limits`` enforces, stated."""
    low = {"exclusiveMinimum": float(minimum)} if above_minimum else {"minimum": float(minimum)}
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": pattern, "examples": [example]},
                {"type": "number", **low, "maximum": float(maximum)},
            ],
            "description": what,
        }
    )


Money = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_limits(places=2, minimum=Decimal(0), maximum=MAX_MONEY, what="An amount")),
    _fixed(2),
    _bounded(
        pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$",
        minimum=Decimal(0),
        maximum=MAX_MONEY,
        above_minimum=False,
        example="12.50",
        what=f"An amount, 0 to {MAX_MONEY}, at most 2 decimal places.",
    ),
]
PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_limits(places=2, minimum=Decimal(0), maximum=MAX_MONEY, above_minimum=True, what="An amount")),
    _fixed(2),
    _bounded(
        pattern=rf"^{_NOT_ZERO}[0-9]{{1,10}}(\.[0-9]{{1,2}})?$",
        minimum=Decimal(0),
        maximum=MAX_MONEY,
        above_minimum=True,
        example="12.50",
        what=f"An amount more than 0, at most {MAX_MONEY}, at most 2 decimal places.",
    ),
]
Quantity = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_limits(places=3, minimum=Decimal(0), maximum=MAX_QUANTITY, above_minimum=True, what="A quantity")),
    _fixed(3),
    _bounded(
        pattern=rf"^{_NOT_ZERO}[0-9]{{1,7}}(\.[0-9]{{1,3}})?$",
        minimum=Decimal(0),
        maximum=MAX_QUANTITY,
        above_minimum=True,
        example="0.5",
        what=f"A quantity more than 0, at most {MAX_QUANTITY}, at most 3 decimal places.",
    ),
]
Percent = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_limits(places=2, minimum=Decimal(0), maximum=Decimal(100), what="A percentage")),
    _fixed(2),
    _bounded(
        pattern=r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$",
        minimum=Decimal(0),
        maximum=Decimal(100),
        above_minimum=False,
        example="20.00",
        what="A percentage, 0 to 100, at most 2 decimal places.",
    ),
]

# Output only (may be negative: credit notes, balances).
MoneyOut = Annotated[Decimal, _fixed(2), WithJsonSchema({**_STRING, "examples": ["12.50"]})]
QuantityOut = Annotated[Decimal, _fixed(3), WithJsonSchema({**_STRING, "examples": ["1.000"]})]
PercentOut = Annotated[Decimal, _fixed(2), WithJsonSchema({**_STRING, "examples": ["20.00"]})]


def _sane_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not in_bounds(value):
        raise ValueError(DATE_MESSAGE)
    return value


# The one date bound (vetpms.params), published in the schema so a client knows it before sending.
Day = Annotated[
    dt.date,
    AfterValidator(_sane_date),
    WithJsonSchema(DAY_JSON_SCHEMA),
]


# --- References -------------------------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class ClientRef(Schema):
    id: int
    display_name: str


class VetRef(Schema):
    id: int
    display_name: str


class DocumentRef(Schema):
    id: int
    reference: str


# --- Catalogue --------------------------------------------------------------------------------------------------


class TaxCategoryRef(Schema):
    id: int
    code: str
    name: str


class ProductFields(InputSchema):
    code: str = Field(..., min_length=1, max_length=30)
    name: str = Field(..., min_length=1, max_length=200)
    category: Product.Category
    unit: str = Field("each", min_length=1, max_length=20, description="each, ml, tablet, kg, hour, ...")
    unit_price: Money = Field(..., description='e.g. "45.00"')
    tax_category: Id = Field(..., description="Tax category id (GET /api/v1/tax-rates).")
    is_active: bool = True


ProductPatch = patch_schema(ProductFields, "ProductPatch")


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: str
    unit: str
    unit_price: MoneyOut
    tax_category: TaxCategoryRef
    tax_rate: PercentOut | None = Field(..., description="The category's rate today; null if none applies.")
    is_active: bool
    created_at: LocalDateTime
    updated_at: LocalDateTime

    @staticmethod
    def resolve_tax_rate(obj: Product) -> Decimal | None:
        return rate_today(obj.tax_category.rates.all())


def rate_today(rates) -> Decimal | None:
    """The rate in force today among ``rates`` (already fetched), without a query."""
    from django.utils import timezone

    today = timezone.localdate()
    current = [r for r in rates if r.valid_from <= today and (r.valid_until is None or r.valid_until > today)]
    return max(current, key=lambda r: r.valid_from).rate if current else None


class TaxRateIn(InputSchema):
    category: Id = Field(..., description="Tax category id.")
    rate: Percent = Field(..., description='Percent, 0-100, e.g. "20.00".')
    valid_from: Day = Field(..., description="First day it applies; the rate in force until then ends that day.")


class TaxRateOut(Schema):
    id: int
    rate: PercentOut
    valid_from: dt.date
    valid_until: dt.date | None = Field(..., description="First day it no longer applies; null while open.")


class TaxCategoryOut(Schema):
    id: int
    code: str
    name: str
    current_rate: PercentOut | None = Field(..., description="The rate today.")
    rates: list[TaxRateOut] = Field(..., description="Newest first.")

    @staticmethod
    def resolve_current_rate(obj) -> Decimal | None:
        return rate_today(obj.rates.all())

    @staticmethod
    def resolve_rates(obj) -> list:
        return sorted(obj.rates.all(), key=lambda r: r.valid_from, reverse=True)


# --- Invoices ---------------------------------------------------------------------------------------------------


class DraftIn(InputSchema):
    client: Id = Field(..., description="Client id: their open draft is returned (200) or a new one made (201).")


class LineFields(InputSchema):
    quantity: Quantity = Field(..., description='More than zero, up to 3 decimals: "1", "0.5".')
    unit_price: Money | None = Field(
        None, description="Null: the catalogue price. Another price needs invoicing.override_price (else 403)."
    )
    discount_percent: Percent = Field(
        Decimal("0.00"), description="0-100. A discount, like a price, needs invoicing.override_price (else 403)."
    )
    discount_amount: Money = Field(
        Decimal("0.00"),
        description="A fixed amount off the line (after the percent); needs invoicing.override_price (else 403).",
    )
    description: str = Field("", max_length=300, description="Defaults to the product's name.")
    animal: Id | None = Field(None, description="The client's animal the line is for.")
    vet: Id | None = Field(None, description="The vet who gave the treatment.")
    service_date: Day | None = Field(
        None, description="Defaults to today on a new line (null on a change is a 422); that day's tax rate applies."
    )


class LineIn(LineFields):
    product: Id = Field(..., description="Product id from the catalogue.")


# PATCH: only the fields sent change; ``"unit_price": null`` goes back to the catalogue price. The price check
# applies to the line's resulting price, so a role without override_price cannot change a line that carries an
# overridden (or since re-priced) price (403): the service owns that rule.
LinePatch = patch_schema(LineFields, "LinePatch")


class CreditLineIn(InputSchema):
    line: Id = Field(..., description="A line id of the invoice.")
    quantity: Quantity | None = Field(None, description="How much of it to credit; null: all that is left.")


class CreditIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=300)
    lines: list[CreditLineIn] | None = Field(
        None, max_length=500, description="Omitted or null: everything not yet credited."
    )


class VoidIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=300)


class AnimalRef(Schema):
    id: int
    name: str


class ProductRef(Schema):
    id: int
    code: str
    name: str


class LineOut(Schema):
    id: int
    position: int
    product: ProductRef | None
    description: str
    animal: AnimalRef | None
    vet: VetRef | None
    service_date: dt.date
    category: str
    quantity: QuantityOut = Field(..., description="Negative on credit notes.")
    unit: str
    unit_price: MoneyOut
    price_overridden: bool
    discount_percent: PercentOut
    discount_amount: MoneyOut
    tax_rate: PercentOut
    net: MoneyOut
    tax: MoneyOut
    gross: MoneyOut
    credited_line: int | None = Field(..., description="On a credit note: the invoice line it corrects.")

    @staticmethod
    def resolve_credited_line(obj) -> int | None:
        return obj.credited_line_id


class InvoiceOut(Schema):
    id: int
    reference: str = Field(..., description='"INV2026-00042" once issued, "Draft invoice" before.')
    kind: Invoice.Kind
    status: Invoice.Status
    series: str
    number: int | None
    client: ClientRef
    issue_date: dt.date | None
    due_date: dt.date | None
    credits: DocumentRef | None = Field(..., description="On a credit note: the invoice it corrects.")
    reason: str
    net_total: MoneyOut
    tax_total: MoneyOut
    gross_total: MoneyOut
    created_at: LocalDateTime
    updated_at: LocalDateTime


class TaxBandOut(Schema):
    rate: PercentOut
    net: MoneyOut
    tax: MoneyOut


class CreditNoteRef(Schema):
    id: int
    reference: str
    status: str
    issue_date: dt.date | None
    gross_total: MoneyOut
    reason: str


class InvoicePaymentOut(Schema):
    payment: int
    received_on: dt.date
    method: str
    from_payor: bool = Field(..., description="True when an insurer paid (a claim's settlement).")
    amount: MoneyOut


class InvoiceClaimOut(Schema):
    id: int
    status: str
    payor: str
    direct_settlement: bool
    amount_claimed: MoneyOut
    amount_accepted: MoneyOut | None
    amount_paid: MoneyOut


class InvoiceDetailOut(InvoiceOut):
    client_name: str = Field(..., description="As frozen when issued (empty on a draft).")
    client_address: list[str] = Field(..., description="As frozen when issued (empty on a draft).")
    notes: str
    lines: list[LineOut]
    tax_breakdown: list[TaxBandOut] = Field(..., description="Per tax rate, highest first.")
    credit_notes: list[CreditNoteRef]
    claims: list[InvoiceClaimOut] = Field(..., description="Empty for a caller without invoicing.view_payment.")
    payments: list[InvoicePaymentOut] = Field(..., description="Empty for a caller without invoicing.view_payment.")
    owner_share: MoneyOut | None = Field(
        ..., description="What the client owes after credit notes and the insurer's share; null unless issued."
    )
    insurer_share: MoneyOut | None
    outstanding: MoneyOut | None = Field(
        ...,
        description="The owner's share not yet paid; null unless issued, and for a caller without "
        "invoicing.view_payment.",
    )
    created_by: str | None
    finalised_by: str | None
    finalised_at: LocalDateTime | None


# --- Payments ---------------------------------------------------------------------------------------------------


class AllocationIn(InputSchema):
    invoice: Id
    amount: PositiveMoney


class PaymentIn(InputSchema):
    client: Id
    amount: PositiveMoney
    method: Payment.Method = Field(..., description="cash, card, bank_transfer or other (insurers pay on claims).")
    received_on: Day | None = Field(None, description="Defaults to today.")
    reference: str = Field("", max_length=100)
    allocations: list[AllocationIn] | None = Field(
        None,
        max_length=200,
        description="Omitted or null: the oldest outstanding invoices first. []: all of it stays as client credit.",
    )


class RefundIn(InputSchema):
    client: Id
    amount: PositiveMoney = Field(..., description="At most the client's credit.")
    method: Payment.Method
    received_on: Day | None = Field(None, description="The day paid back; defaults to today.")
    reference: str = Field("", max_length=100)


class AllocationOut(Schema):
    invoice: DocumentRef
    claim: int | None
    amount: MoneyOut


class PaymentOut(Schema):
    id: int
    kind: Payment.Kind
    client: ClientRef | None
    payor: Ref | None
    method: str
    amount: MoneyOut
    received_on: dt.date
    reference: str
    allocations: list[AllocationOut]
    unallocated: MoneyOut = Field(..., description="Of a payment: what is not yet on an invoice (client credit).")
    created_at: LocalDateTime
    voided_at: LocalDateTime | None = Field(
        None, description="Set when the payment was voided (recorded by mistake): it then counts nowhere."
    )
    void_reason: str = ""


class TakingsRowOut(Schema):
    method: str
    payments: int
    received: MoneyOut
    refunds: int
    refunded: MoneyOut
    net: MoneyOut


class TakingsOut(Schema):
    day: dt.date = Field(..., description="The one day these takings are for.")
    taken_by: int | None = Field(..., description="The user whose takings these are; null: everyone's.")
    net: MoneyOut
    by_method: list[TakingsRowOut]
    payments: list[PaymentOut] = Field(..., description="Every payment and refund of the day; voided ones marked.")


# --- Client accounts --------------------------------------------------------------------------------------------


class OutstandingOut(Schema):
    id: int
    reference: str
    issue_date: dt.date
    due_date: dt.date | None
    gross_total: MoneyOut
    outstanding: MoneyOut


class BalanceOut(Schema):
    client: ClientRef
    invoiced: MoneyOut
    credited: MoneyOut = Field(..., description="Credit notes (negative).")
    insurer: MoneyOut = Field(..., description="Insurers' shares of directly settled claims.")
    paid: MoneyOut
    refunded: MoneyOut
    balance: MoneyOut = Field(..., description="Positive: the client owes; negative: their credit.")
    credit: MoneyOut = Field(..., description="What the practice owes the client (refundable).")
    outstanding_invoices: list[OutstandingOut] = Field(..., description="Oldest first.")


class StatementQuery(InputSchema):
    start: Day | None = Field(None, description="First day; defaults to the first of the end's month.")
    end: Day | None = Field(None, description="Last day (included); defaults to today.")


class StatementEntryOut(Schema):
    date: dt.date
    kind: str = Field(..., description="Invoice, Credit note, Insurance, Payment or Refund.")
    reference: str
    description: str
    amount: MoneyOut = Field(..., description="Positive raises what the client owes.")
    balance: MoneyOut
    invoice: int | None = Field(..., description="The document's id (invoices, credit notes, insurance).")
    payment: int | None


class StatementOut(Schema):
    client: ClientRef
    start: dt.date
    end: dt.date
    opening: MoneyOut
    closing: MoneyOut
    entries: list[StatementEntryOut]


# --- Insurance --------------------------------------------------------------------------------------------------


class PayorFields(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    contact_name: str = Field("", max_length=200)
    claims_email: str = Field("", max_length=254)
    address: str = Field("", max_length=1000)
    phone: str = Field("", max_length=40)
    reference: str = Field("", max_length=60, description="The practice's reference with this payor.")
    is_active: bool = True


PayorPatch = patch_schema(PayorFields, "PayorPatch")


class PayorOut(Schema):
    id: int
    name: str
    contact_name: str
    claims_email: str
    address: str
    phone: str
    reference: str
    is_active: bool


class PolicyFields(InputSchema):
    animal: Id
    payor: Id
    policy_number: str = Field(..., min_length=1, max_length=60)
    starts_on: Day
    ends_on: Day
    excess: Money = Decimal("0.00")
    copay_percent: Percent = Decimal("0.00")


PolicyPatch = patch_schema(PolicyFields, "PolicyPatch")


class PolicyOut(Schema):
    id: int
    animal: AnimalRef
    payor: Ref
    policy_number: str
    starts_on: dt.date
    ends_on: dt.date
    excess: MoneyOut
    copay_percent: PercentOut
    created_at: LocalDateTime


class ClaimIn(InputSchema):
    invoice: Id = Field(..., description="A finalised invoice.")
    policy: Id = Field(..., description="A policy of the lines' animal covering their service dates.")
    lines: list[Id] = Field(..., min_length=1, max_length=500, description="Line ids of the invoice.")
    direct_settlement: bool = True
    notes: str = Field("", max_length=2000)


class DecideIn(InputSchema):
    accepted: Money = Field(..., description='What the insurer accepts; "0.00" declines.')
    reference: str = Field("", max_length=60)
    on: Day | None = Field(None, description="Defaults to today.")


class SettleIn(InputSchema):
    amount: PositiveMoney
    received_on: Day | None = Field(None, description="Defaults to today.")
    reference: str = Field("", max_length=60)


class ClaimLineOut(Schema):
    id: int = Field(..., description="The invoice line's id.")
    description: str
    animal: AnimalRef | None
    service_date: dt.date
    gross: MoneyOut
    live: bool


class ClaimOut(Schema):
    id: int
    status: Claim.Status
    invoice: DocumentRef
    policy: int
    payor: Ref
    animal: AnimalRef
    direct_settlement: bool
    amount_claimed: MoneyOut
    amount_accepted: MoneyOut | None
    amount_paid: MoneyOut
    insurer_reference: str
    notes: str
    submitted_on: dt.date | None
    decided_on: dt.date | None
    settled_on: dt.date | None
    created_at: LocalDateTime
    updated_at: LocalDateTime

    @staticmethod
    def resolve_policy(obj: Claim) -> int:
        return obj.policy_id

    @staticmethod
    def resolve_payor(obj: Claim) -> Any:
        return obj.policy.payor

    @staticmethod
    def resolve_animal(obj: Claim) -> Any:
        return obj.policy.animal


class OpenClaimOut(ClaimOut):
    client: ClientRef
    waiting_since: dt.date = Field(
        ..., description="The day the current step began: created (draft), submitted, or decided."
    )
    waiting_days: int
    insurer_owes: MoneyOut = Field(..., description="The insurer's share (accepted, else claimed) less paid.")

    @staticmethod
    def resolve_client(obj: Claim) -> Any:
        return obj.invoice.client


class OpenClaimsOut(Schema):
    items: list[OpenClaimOut]
    next_after: int | None = Field(..., description="Pass as `after` for the next page; null on the last page.")


class ClaimDetailOut(ClaimOut):
    lines: list[ClaimLineOut]

    @staticmethod
    def resolve_lines(obj: Claim) -> list[dict[str, Any]]:
        return [
            {
                "id": cl.line_id,
                "description": cl.line.description,
                "animal": cl.line.animal,
                "service_date": cl.line.service_date,
                "gross": cl.line.gross,
                "live": cl.live,
            }
            for cl in obj.claim_lines.all()
        ]
