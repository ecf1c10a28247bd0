"""How one report cell is written: on the page and in the PDF (``display``), and in the CSV (``csv_cell``).

A cell's column kind decides: money is a Decimal written with two places (never through a float), int a whole
number, percent a Decimal that is already a percentage (12.5 -> "12.5%"), date a date. A value that is not of its
column's kind (a "—" placed in a money column) is written as text.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings

from reports.base import ColumnKind, ReportParams
from vetpms.money import format_money, plain_number, quantize_money
from vetpms.text import file_period
from vetpms.timeutils import to_local

EMPTY = "—"
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection); tab and CR likewise.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GRAIN_WORDS = {"day": "by day", "week": "by week", "month": "by month", "quarter": "by quarter", "year": "by year"}


def _is_number(value) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _plain_decimal(value: Decimal) -> str:
    """Decimal("12.50") -> "12.5", Decimal("1E+1") -> "10": never exponent notation."""
    return plain_number(value)


def day_text(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def money_text(value: Decimal, minus: str = "-") -> str:
    """Decimal("-1234.5") -> "-£1,234.50" (the sign before the symbol)."""
    sign = minus if value < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{format_money(abs(value))}"


def display(value, kind: ColumnKind, *, minus: str = "-") -> str:
    """The cell as people read it: "£1,234.50", "1,204", "12.5%", "3 Mar 2025". The page passes the real minus
    sign (U+2212) as the other pages do; the PDF keeps "-" as the invoices do."""
    if value is None or value == "":
        return EMPTY
    if kind == "money" and _is_number(value):
        return money_text(Decimal(value), minus)
    if kind == "int" and _is_number(value):
        text = f"{value:,}" if isinstance(value, int) else f"{value:,f}"
        return text.replace("-", minus, 1)
    if kind == "percent" and _is_number(value):
        text = _plain_decimal(Decimal(value))
        return f"{text.replace('-', minus, 1)}%"
    if kind == "date" and isinstance(value, dt.datetime):
        local = to_local(value) if value.tzinfo else value
        return f"{day_text(local.date())} {local:%H:%M}"
    if kind == "date" and isinstance(value, dt.date):
        return day_text(value)
    return str(value)


def neutralise(text: str) -> str:
    """A leading apostrophe on text a spreadsheet would run as a formula ("=HYPERLINK(...)", "@SUM", "-2+3")."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value, kind: ColumnKind) -> str:
    """The cell for the CSV: exact and machine-readable. Money "1234.50" (two places, no thousands separator),
    ints "-3", percents "12.5", dates ISO; genuine numbers keep their minus sign, any text is neutralised."""
    if value is None:
        return ""
    if kind == "money" and _is_number(value):
        return str(quantize_money(value))
    if kind == "int" and _is_number(value):
        return str(value) if isinstance(value, int) else _plain_decimal(value)
    if kind == "percent" and _is_number(value):
        return _plain_decimal(Decimal(value))
    if kind == "date" and isinstance(value, dt.datetime):
        local = to_local(value) if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M")
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def period_text(params: ReportParams) -> str:
    """ "1 Jan 2025 to 31 Mar 2025, by month"; "as of 31 Mar 2025" (receivables); "31 Mar 2025, one day"."""
    kind = getattr(params, "period_kind", "range")
    if kind == "as_of":
        return f"as of {day_text(params.end)}"
    if kind == "day":
        return f"{day_text(params.end)}, one day"
    if params.start == params.end:
        return day_text(params.start)
    return f"{day_text(params.start)} to {day_text(params.end)}, {GRAIN_WORDS.get(params.grain, params.grain)}"


def filename(name: str, params: ReportParams, extension: str) -> str:
    """ "revenue-2025-01-01-to-2025-03-31.csv": the report and its period (one date for one day)."""
    return f"{name}-{file_period(params.start, params.end)}.{extension}"
