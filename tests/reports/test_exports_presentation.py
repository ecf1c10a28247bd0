"""CSV and PDF of a report, written from the same ReportResult: exact decimals, neutralised formulas, sections,
the chart and page numbers in the PDF (read back with poppler's pdftotext)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from reports.base import Column, ReportParams, ReportResult
from reports.exports import report_csv
from reports.formats import csv_cell, display, filename, neutralise, period_text
from reports.pdf import render_report
from tests.reports import sample

D = Decimal
PARAMS = ReportParams(start=dt.date(2025, 7, 1), end=dt.date(2025, 9, 30), grain="month")


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, so Excel reads the accents"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def pdf_text(body: bytes, tmp_path, mode: str = "-layout") -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert body.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    command = [shutil.which("pdftotext"), mode, str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own file


# --- Cells ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (D("1234.5"), "money", "1234.50"),
        (D("-0.005"), "money", "-0.01"),  # half up, away from zero
        (D("0.10000000000000000555"), "money", "0.10"),
        (D("1E+3"), "money", "1000.00"),
        (7, "int", "7"),
        (-3, "int", "-3"),
        (D("12.50"), "percent", "12.5"),
        (dt.date(2025, 3, 9), "date", "2025-03-09"),
        (None, "money", ""),
        ("=1+1", "text", "'=1+1"),
        ("+44 7700 900123", "text", "'+44 7700 900123"),
        ("-5", "money", "'-5"),  # text in a money column is text, so it is neutralised
        ("@cmd", "text", "'@cmd"),
        ("\tTab", "text", "'\tTab"),
        ("\rCR", "text", "'\rCR"),
        ("Smith-Jones", "text", "Smith-Jones"),
    ],
)
def test_csv_cells_are_exact_and_never_formulas(value, kind, expected):
    assert csv_cell(value, kind) == expected


def test_screen_cells_read_as_people_write_them():
    assert display(D("-1234.5"), "money") == "-£1,234.50"
    assert display(D("-1234.5"), "money", minus="\u2212") == "\u2212£1,234.50"
    assert display(12045, "int") == "12,045"
    assert display(D("33.30"), "percent") == "33.3%"
    assert display(dt.date(2025, 3, 9), "date") == "9 Mar 2025"
    assert display(None, "money") == "—"
    assert neutralise("fine") == "fine"


def test_period_and_filename_name_the_report_and_period():
    assert period_text(PARAMS) == "1 Jul 2025 to 30 Sep 2025, by month"
    assert filename("revenue", PARAMS, "csv") == "revenue-2025-07-01-to-2025-09-30.csv"


# --- CSV ------------------------------------------------------------------------------------------------------


def test_csv_has_one_header_row_then_rows_totals_and_each_section_under_its_title():
    rows = parse_csv(report_csv(sample.build(PARAMS)))
    assert rows[0] == ["Vet", "Net", "Gross", "Invoices", "Share"]
    assert rows[1] == ["Zoë Ångström", "12345.50", "14814.60", "120", "60.5"]
    assert rows[2] == ['\'=HYPERLINK("http://x","y")', "-150.00", "-180.00", "-2", "-0.7"]
    assert rows[3] == ["'@SUM(A1)", "8210.05", "9852.06", "75", "40.2"]
    assert rows[4] == ["Total", "20405.55", "24486.66", "193", "100"]
    assert rows[5] == []
    assert rows[6] == ["By category"]
    assert rows[7] == ["Category", "Net"]
    assert rows[8:] == [["Vaccines", "1000.10"], ["'-Discounts", "-99.99"], ["Total", "900.11"]]


def test_csv_figures_add_up_exactly_as_decimals():
    rows = parse_csv(report_csv(sample.build(PARAMS)))
    assert sum(D(r[1]) for r in rows[1:4]) == D(rows[4][1])
    for row in rows[1:5]:
        assert re.fullmatch(r"-?\d+\.\d\d", row[1])  # no float artefacts, no thousands separators


def test_a_report_made_only_of_sections_starts_with_the_first_title():
    first = ReportResult("x", "Aged 0-30", PARAMS, [Column("n", "Client")], [{"n": "A"}])
    result = ReportResult("x", "Receivables", PARAMS, [], [], sections=[first])
    assert parse_csv(report_csv(result)) == [["Aged 0-30"], ["Client"], ["A"]]


# --- PDF ------------------------------------------------------------------------------------------------------


def test_the_pdf_prints_title_practice_period_filters_notes_chart_and_every_figure(tmp_path, settings):
    result = sample.build(PARAMS)
    body = render_report(result, filters=[("Vet", "Zoë Ångström")])
    text = pdf_text(body, tmp_path)
    flat = re.sub(r"\s+", " ", text)
    assert result.title in flat
    assert settings.PRACTICE["name"] in flat
    assert "Period: 1 Jul 2025 to 30 Sep 2025, by month" in flat
    assert "Vet: Zoë Ångström" in flat
    assert sample.NOTE in flat
    assert result.chart.title in flat and "This period" in flat and "A year before" in flat  # chart and legend
    assert "Page 1 of 1" in flat
    for row in [*result.rows, result.totals]:
        line = next(x for x in text.splitlines() if display(row["net"], "money") in x)
        assert display(row["gross"], "money") in line and display(row["invoices"], "int") in line
    assert "Total £20,405.55 £24,486.66 193 100%" in re.sub(r"[ \t]+", " ", text)
    assert "By category" in flat and "-£99.99" in flat and "£900.11" in flat


def test_a_long_report_runs_over_pages_with_numbers_and_repeated_headers(tmp_path):
    rows = [{"day": dt.date(2025, 1, 1) + dt.timedelta(days=i), "net": D(i) + D("0.25")} for i in range(120)]
    result = ReportResult(
        "daily", "Daily takings", PARAMS, [Column("day", "Day", "date"), Column("net", "Net", "money")], rows,
        totals={"net": sum((r["net"] for r in rows), D(0))},
    )  # fmt: skip
    text = pdf_text(render_report(result), tmp_path)
    pages = text.split("\f")
    count = len([p for p in pages if p.strip()])
    assert count >= 3
    assert f"Page {count} of {count}" in pages[count - 1]
    assert all("Day" in p and "Net" in p for p in pages[:count])
    assert "£7,170.00" in text  # 0+1+...+119 plus 120 quarters


def test_a_wide_report_is_landscape(tmp_path):
    columns = [Column(f"c{i}", f"Column {i}", "money") for i in range(9)]
    result = ReportResult("wide", "Wide", PARAMS, columns, [{c.key: D(1) for c in columns}])
    path = tmp_path / "wide.pdf"
    path.write_bytes(render_report(result))
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    info = subprocess.run([shutil.which("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout  # noqa: S603
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height


def test_times_are_written_in_the_practice_zone_across_a_clock_change(settings):
    settings.TIME_ZONE = "Europe/London"
    before = dt.datetime(2025, 3, 30, 0, 30, tzinfo=dt.UTC)  # 00:30 GMT
    after = dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.UTC)  # 02:30 BST: the clocks went forward at 01:00 GMT
    assert display(before, "date") == "30 Mar 2025 00:30"
    assert display(after, "date") == "30 Mar 2025 02:30"
    assert csv_cell(after, "date") == "2025-03-30 02:30"
    late = dt.datetime(2025, 10, 31, 23, 30, tzinfo=dt.UTC)  # 23:30 GMT on the last day of October
    assert csv_cell(late, "date") == "2025-10-31 23:30"


def test_an_empty_table_says_so_and_totals_nothing(tmp_path):
    columns = [Column("n", "Owner"), Column("c", "Times", "int")]
    empty = ReportResult("x", "Nothing", PARAMS, columns, [], totals={"c": 0})
    assert parse_csv(report_csv(empty)) == [["Owner", "Times"]]
    text = pdf_text(render_report(empty), tmp_path)
    assert "Nothing in this period." in text and "Total" not in text


def test_pdf_headings_are_never_broken_inside_a_word(tmp_path):
    columns = [Column("v", "Vet")] + [Column(f"c{i}", "Appointments booked", "int") for i in range(8)]
    result = ReportResult("x", "Wide", PARAMS, columns, [{"v": "Dr Ng", **{f"c{i}": i for i in range(8)}}])
    text = pdf_text(render_report(result), tmp_path, mode="-raw")
    assert text.count("Appointments") == 8
