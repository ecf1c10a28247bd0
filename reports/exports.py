"""A report as CSV: what the page shows, exact, for a spreadsheet.

UTF-8 with a byte-order mark (so Excel reads "Zoë" as written), one header row per table, money as "1234.50",
text that a spreadsheet would run as a formula neutralised (reports.formats.csv_cell). The report's own table
comes first; each section follows after an empty line, under a row with its title.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from reports.base import Column, ReportResult
from reports.formats import csv_cell, neutralise

BOM = "\ufeff"
TOTAL_LABEL = "Total"


def tables_of(result: ReportResult) -> Iterator[tuple[ReportResult, bool]]:
    """(table, is_section) for the report's own table (if it has columns) and then each section, in order."""
    if result.columns:
        yield result, False
    for section in result.sections:
        yield section, True


def totals_row(columns: list[Column], totals: dict) -> list[tuple[Column, object]]:
    """The totals as (column, value); the first column says "Total" unless the totals fill it themselves."""
    cells: list[tuple[Column, object]] = [(c, totals.get(c.key)) for c in columns]
    if columns and cells[0][1] in (None, "") and columns[0].kind == "text":
        cells[0] = (columns[0], TOTAL_LABEL)
    return cells


def _write_table(writer, table: ReportResult) -> None:
    writer.writerow([neutralise(c.label) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(c.key), c.kind) for c in table.columns])
    if table.totals and table.rows:  # an empty table has nothing to total (as on the page and in the PDF)
        writer.writerow([csv_cell(value, column.kind) for column, value in totals_row(table.columns, table.totals)])


def report_csv(result: ReportResult) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    first = True
    for table, is_section in tables_of(result):
        if not first:
            writer.writerow([])
        if is_section:
            writer.writerow([neutralise(table.title)])
        _write_table(writer, table)
        first = False
    return (BOM + buffer.getvalue()).encode("utf-8")
