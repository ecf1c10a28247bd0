"""Money is Decimal with two places, rounded half up, in exactly one place: here.

Never floats, not even in tests. Every amount a service stores has passed through ``quantize_money``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def quantize_money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (2.345 -> 2.35, -2.345 -> -2.35: away from zero, as people do by hand)."""
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a Decimal or a string.")
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount of money.") from exc


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``amount``, rounded to cents."""
    return quantize_money(amount * percent / HUNDRED)


def plain_number(value: Decimal | int | str) -> str:
    """A quantity, rate or percentage as people write it: 10.000 -> "10", 12.50 -> "12.5", 0.001 -> "0.001".

    Every number shown without a fixed number of places goes through here: ``Decimal.normalize()`` alone turns
    10 into "1E+1", which once reached the screen as "1E+1 %"."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def format_money(value: Decimal) -> str:
    """1234.5 -> "1,234.50" (the currency symbol belongs to the template)."""
    return f"{quantize_money(value):,.2f}"
