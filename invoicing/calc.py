"""The one place where line amounts and document totals are computed (Decimal, ROUND_HALF_UP via vetpms.money).

A line: base = quantity x unit price, rounded to cents; discount = percent of base (rounded) + a fixed amount;
net = base - discount; tax = rate % of net (rounded per line); gross = net + tax. A document's totals are the
sums of its stored, already-rounded lines, so the totals always equal what the lines say. Credit-note lines have
negative quantities and come out as the exact negatives of the same computation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from vetpms.money import ZERO, percent_of, quantize_money


@dataclass(frozen=True)
class LineAmounts:
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    tax_rate: Decimal,
    discount_percent: Decimal = ZERO,
    discount_amount: Decimal = ZERO,
) -> LineAmounts:
    sign = -1 if quantity < 0 else 1
    base = quantize_money(abs(quantity) * unit_price)
    discount = percent_of(base, discount_percent) + quantize_money(discount_amount)
    if discount > base:
        raise ValidationError({"discount_amount": f"The discount ({discount}) is more than the line ({base})."})
    net = base - discount
    tax = percent_of(net, tax_rate)
    return LineAmounts(discount=sign * discount, net=sign * net, tax=sign * tax, gross=sign * (net + tax))


def document_totals(lines: Iterable) -> Totals:
    """Sums of the lines' stored net, tax and gross."""
    net = tax = gross = ZERO
    for line in lines:
        net += line.net
        tax += line.tax
        gross += line.gross
    return Totals(net=net, tax=tax, gross=gross)


def tax_breakdown(lines: Iterable) -> list[tuple[Decimal, Decimal, Decimal]]:
    """[(rate, net, tax)] per tax rate, highest rate first, for the invoice's tax summary."""
    by_rate: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line in lines:
        by_rate[line.tax_rate][0] += line.net
        by_rate[line.tax_rate][1] += line.tax
    return [(rate, net, tax) for rate, (net, tax) in sorted(by_rate.items(), reverse=True)]
