"""What the report builders share: money and percentages from database sums, the vet scope, results and totals."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection

from invoicing.models import (
    Product,
)
from reports.base import Column, ReportParams, ReportResult
from vetpms.money import ZERO, quantize_money

ONE_DECIMAL = Decimal("0.1")
NO_VET = "No vet"
NO_PRODUCT = "Not from the catalogue"
MAX_ROWS = 500  # the longest list of clients a report shows (its totals still cover every client)
CATEGORY_LABELS = dict(Product.Category.choices)


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


def fetch_all(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def columns_keys(columns: list[Column]) -> list[str]:
    return [c.key for c in columns if c.kind in ("money", "int")]
