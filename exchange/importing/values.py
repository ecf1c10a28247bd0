"""Turning one cell into a value of its column's type, and detecting a file's date order from its data.

A cell that cannot be read raises CellError with a message a practice manager understands; the row then fails
with that message naming the column, and the other rows go on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from exchange.importing.columns import FALSE_WORDS, TRUE_WORDS, Column, ColumnType, normalise
from reports.formats import FORMULA_STARTS
from vetpms.money import quantize_money


class CellError(ValueError):
    pass


_DATE = re.compile(r"^\s*(\d{1,4})[./\- ](\d{1,2})[./\- ](\d{1,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")


def _split_date(text: str) -> tuple[int, int, int, tuple[int, int, int] | None] | None:
    m = _DATE.match(text)
    if not m:
        return None
    a, b, c = int(m.group(1)), int(m.group(2)), int(m.group(3))
    time = None
    if m.group(4) is not None:
        time = (int(m.group(4)), int(m.group(5)), int(m.group(6) or 0))
    return a, b, c, time


def _year(y: int) -> int:
    if y < 100:  # two-digit years: 00-49 -> 2000s, 50-99 -> 1900s
        return 2000 + y if y < 50 else 1900 + y
    return y


def parse_date(text: str, order: str) -> dt.date:
    try:
        return (
            dt.date.fromisoformat(text[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}", text) else _parse_ordered(text, order)
        )
    except ValueError as exc:
        raise CellError(f"“{text[:40]}” is not a date ({_order_hint(order)}).") from exc


def _order_hint(order: str) -> str:
    return {"dmy": "day first, e.g. 31/12/2024", "mdy": "month first, e.g. 12/31/2024"}.get(order, "e.g. 2024-12-31")


def _parse_ordered(text: str, order: str) -> dt.date:
    parts = _split_date(text)
    if parts is None:
        raise ValueError(text)
    a, b, c, _ = parts
    if a > 31 or order == "ymd":
        return dt.date(_year(a), b, c)
    if order == "mdy":
        return dt.date(_year(c), a, b)
    return dt.date(_year(c), b, a)


def parse_datetime(text: str, order: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        parts = _split_date(text)
        if parts is None or parts[3] is None:
            raise CellError(f"“{text[:40]}” is not a date and time (e.g. 2026-03-01 09:30).") from None
        try:
            day = _parse_ordered(text, order)
            value = dt.datetime.combine(day, dt.time(*parts[3]))
        except ValueError as exc:
            raise CellError(f"“{text[:40]}” is not a date and time ({_order_hint(order)} 09:30).") from exc
    if timezone.is_naive(value):
        # The practice's own clock, as the old system showed it; DST gaps resolve forwards, as zoneinfo does.
        value = value.replace(tzinfo=timezone.get_current_timezone())
    return value


def detect_date_order(samples: Iterable[str]) -> str:
    """dmy, mdy or ymd from the values: a first part over 12 means day first, a second over 12 month first;
    with no such evidence day first (the practice's likely convention outside the US)."""
    dmy = mdy = ymd = 0
    for text in samples:
        if re.match(r"^\s*\d{4}[-/.]", text):
            ymd += 1
            continue
        parts = _split_date(text)
        if parts is None:
            continue
        a, b, _c, _ = parts
        if a > 12 >= b:
            dmy += 1
        elif b > 12 >= a:
            mdy += 1
    if mdy > dmy:
        return "mdy"
    if dmy == 0 and mdy == 0 and ymd:
        return "ymd"
    return "dmy"


def parse_bool(text: str) -> bool:
    key = normalise(text)
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise CellError(f"“{text[:40]}” is not yes or no.")


def parse_decimal(text: str) -> Decimal:
    cleaned = re.sub(r"[£$€\s]", "", text).replace(",", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):  # accountants' negative
        cleaned = "-" + cleaned[1:-1]
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(f"“{text[:40]}” is not a number.") from None
    if not value.is_finite():
        raise CellError(f"“{text[:40]}” is not a number.")
    return value


def parse_cell(column: Column, text: str, *, order: str, value_map: dict[str, str] | None = None):
    """The typed value of ``text`` for ``column``; "" for an empty text cell, None for an empty typed one."""
    if value_map:
        mapped = value_map.get(text)
        if mapped is None:
            mapped = value_map.get(normalise(text))
        if mapped is not None:
            text = mapped
    if column.max_length and len(text) > column.max_length:
        raise CellError(f"{len(text):,} characters; {column.label} holds at most {column.max_length}.")
    if text == "":
        return "" if column.type in (ColumnType.TEXT, ColumnType.EMAIL, ColumnType.PHONE, ColumnType.NAME_REF) else None
    match column.type:
        case ColumnType.DATE:
            return parse_date(text, order)
        case ColumnType.DATETIME:
            return parse_datetime(text, order)
        case ColumnType.BOOL:
            return parse_bool(text)
        case ColumnType.INT:
            value = parse_decimal(text)
            if value != value.to_integral_value():
                raise CellError(f"“{text[:40]}” is not a whole number.")
            return int(value)
        case ColumnType.DECIMAL:
            return parse_decimal(text)
        case ColumnType.MONEY:
            return quantize_money(parse_decimal(text))
        case ColumnType.CHOICE:
            for choice in column.choices:
                if normalise(choice) == normalise(text):
                    return choice
            allowed = ", ".join(c for c in column.choices if c)
            raise CellError(f"“{text[:40]}” is not one of {allowed} (map it in the value mapping).")
        case _:
            # VetPMS's own export (and the reports' CSV) marks text a spreadsheet would run as a formula with one
            # leading apostrophe; the value itself is what follows it.
            if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
                return text[1:]
            return text
