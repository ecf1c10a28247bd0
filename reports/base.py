"""What every report is made of, shared by the report builders (reports.builders) and the ways a report is shown
(the page, the CSV, the PDF, the JSON API). A builder computes one ``ReportResult``; every output renders that same
object, so the screen, the CSV and the PDF cannot disagree.

- ``ReportParams`` is the validated filter (reports.forms.ReportFilterForm builds it from a query string, for the
  pages and the API alike).
- ``ReportResult`` holds columns, rows (dicts keyed by column key), optional totals, an optional chart, and notes
  (e.g. "the period was capped to 20 years").
- ``REPORTS`` maps a report's name (the URL and API slug) to its ``ReportSpec``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

ColumnKind = Literal["text", "money", "int", "percent", "date"]
# What a report's dates mean: a period (from, to, by a grain), the balances at the end of one day (receivables),
# or one day (the day sheet). The filter form, the page, the CSV's name and the PDF all follow it.
PeriodKind = Literal["range", "as_of", "day"]
Grain = Literal["day", "week", "month", "quarter", "year"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class ReportParams:
    start: dt.date  # first local day, inclusive
    end: dt.date  # last local day, inclusive
    grain: Grain = "month"
    vet_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()  # invoicing.models.Product.Category codes (a line keeps its own copy)
    payor_ids: tuple[int, ...] = ()
    top_n: int = 10
    only_vet_id: int | None = None  # set when a vet sees their own figures: every figure is limited to them
    period_kind: PeriodKind = "range"  # as_of and day: start == end, the one day
    # What the form changed and the reader should know (e.g. the period capped to 20 years); every builder copies
    # these into ReportResult.notes.
    notes: tuple[str, ...] = ()


@dataclass
class Chart:
    kind: Literal["bar", "line", "stacked_bar"]
    title: str
    x_label: str
    y_label: str
    categories: list[str]
    series: list[tuple[str, list[Decimal | int]]]  # (series name, one value per category)

    def text_alternative(self) -> str:
        """The chart's figures in words, for screen readers and the PDF's alt text."""
        parts = []
        for name, values in self.series:
            pairs = ", ".join(f"{c}: {v}" for c, v in zip(self.categories, values, strict=False))
            parts.append(f"{name}: {pairs}" if pairs else f"{name}: no data")
        return f"{self.title}. " + "; ".join(parts) + "."


@dataclass
class ReportResult:
    name: str
    title: str
    params: ReportParams
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)
    sections: list[ReportResult] = field(default_factory=list)  # a report with several tables (e.g. breakdowns)


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    description: str
    build: Callable[[ReportParams], ReportResult]
    filters: tuple[str, ...] = ("period",)  # which of period, grain, vet, category, payor, top_n the form shows
    # False for practice-wide figures that cannot be limited to one vet (receivables, reminders): a user with only
    # reports.view_own_figures does not see the report listed, and its builder refuses them (PermissionDenied).
    for_vets: bool = True
    period_kind: PeriodKind = "range"


REPORTS: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    REPORTS[spec.name] = spec
    return spec
