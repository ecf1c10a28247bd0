"""Long report tables are paged on screen (each table by its own parameter); totals, CSV and PDF keep every row."""

import csv
import io
from decimal import Decimal

import pytest

from tests.reports import sample
from tests.reports.sample import sample_spec, stand_in_form  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
QUERY = "start=2025-07-01&end=2025-09-30&grain=quarter"


@pytest.fixture
def long_section(sample_spec, stand_in_form, monkeypatch):  # noqa: F811
    rows = [{"category": f"Item {i:03d}", "net": Decimal("1.00")} for i in range(1, 61)]
    monkeypatch.setattr(sample, "SECTION_ROWS", rows)
    monkeypatch.setattr(sample, "SECTION_TOTALS", {"net": Decimal("60.00")})
    return rows


def test_a_long_table_shows_fifty_rows_a_page_with_totals_of_all(long_section, login, manager):
    http = login(manager)
    first = http.get(f"/reports/sample/?{QUERY}").content.decode()
    assert "Item 050" in first and "Item 051" not in first
    assert "t1-page=2" in first  # the section's own page parameter
    assert "£60.00" in first  # the footer still totals every row
    second = http.get(f"/reports/sample/?{QUERY}&t1-page=2").content.decode()
    assert "Item 051" in second and "Item 060" in second and "Item 050" not in second

    export = http.get(f"/reports/sample/csv?{QUERY}").content.decode("utf-8-sig")
    names = [row[0] for row in csv.reader(io.StringIO(export)) if row]
    assert "Item 001" in names and "Item 060" in names
