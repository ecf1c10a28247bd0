"""On-screen tables of the reports (django-tables2), built from a ``ReportResult``'s columns at request time: every
report is drawn by the same code, whatever its columns. Numbers are right-aligned in tabular figures; the totals
are the table's footer. Rows keep the order the report gave them (time order, or largest first), so the tables
do not sort.
"""

from __future__ import annotations

import django_tables2 as tables

from reports.base import Column, ReportResult
from reports.exports import totals_row
from reports.formats import display

NUMERIC_KINDS = ("money", "int", "percent")
MINUS = "\u2212"  # the pages write a real minus sign, as the invoicing pages do


class ReportColumn(tables.Column):
    def __init__(self, column: Column, footer_text: str | None = None, **kwargs):
        self.kind = column.kind
        attrs = {"th": {"scope": "col"}, "tf": {}}
        if column.kind in NUMERIC_KINDS:
            attrs = {"td": {"class": "text-end num"}, "th": {"class": "text-end", "scope": "col"}}
            attrs["tf"] = {"class": "text-end num"}
        super().__init__(
            verbose_name=column.label,
            accessor=tables.A(column.key),
            orderable=False,
            empty_values=(),
            attrs=attrs,
            footer=footer_text,
            **kwargs,
        )

    def render(self, value):
        return display(value, self.kind, minus=MINUS)


def report_table(result: ReportResult, *, prefix: str = "") -> tables.Table:
    """A django-tables2 table of ``result`` (rows are dicts keyed by column key), totals in the footer."""
    footers = {}
    show_totals = bool(result.totals and result.rows)  # an empty table has nothing to total
    if show_totals:
        footers = {
            c.key: "" if v is None else display(v, c.kind, minus=MINUS)
            for c, v in totals_row(result.columns, result.totals)
        }
    attrs: dict = {f"col_{i}": ReportColumn(c, footers.get(c.key)) for i, c in enumerate(result.columns)}

    class Meta:
        attrs = {"class": "table table-sm table-hover mb-0 report-table"}
        empty_text = "Nothing in this period."

    attrs["Meta"] = Meta
    table_class = type("ReportTable", (tables.Table,), attrs)
    return table_class(result.rows, prefix=prefix, show_footer=show_totals)
