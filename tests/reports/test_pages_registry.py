"""Every registered report (reports.builders) through the real filter form: each page and each export for each
role, bad filters on the real form, and the same revenue figures on the screen, in the CSV and in the PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal
from unittest import mock

import pytest

from invoicing.models import Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reports.base import REPORTS
from reports.formats import csv_cell, display
from reports.forms import ReportFilterForm
from tests.factories import AnimalFactory
from tests.reports.html import page_tables
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db
D = Decimal
NAMES = sorted(REPORTS)
KINDS = ["", "csv", "pdf"]


def url(name: str, kind: str, query: str = "") -> str:
    base = f"/reports/{name}/" if not kind else f"/reports/{name}/{kind}"
    return f"{base}?{query}" if query else base


def test_the_real_reports_are_registered():
    assert {"revenue", "receivables", "appointments", "reminders"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_anonymous_is_sent_to_sign_in(client, name, kind):
    response = client.get(url(name, kind))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_receptionist_is_refused(as_receptionist, name, kind):
    assert as_receptionist.get(url(name, kind)).status_code == 403


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_manager_gets_every_page_and_file(as_manager, name, kind):
    response = as_manager.get(url(name, kind))
    assert response.status_code == 200
    expected = {"": "text/html", "csv": "text/csv", "pdf": "application/pdf"}[kind]
    assert response["Content-Type"].startswith(expected)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_vet_gets_the_reports_of_their_own_figures_only(as_vet, name, kind):
    response = as_vet.get(url(name, kind))
    assert response.status_code == (200 if REPORTS[name].for_vets else 403)


def test_the_vets_index_lists_only_their_reports(as_vet, as_manager):
    vet_html = as_vet.get("/reports/").content.decode()
    manager_html = as_manager.get("/reports/").content.decode()
    for name, spec in REPORTS.items():
        link = f'href="/reports/{name}/"'
        assert link in manager_html
        assert (link in vet_html) == spec.for_vets


def test_a_vet_asking_for_another_vets_figures_gets_a_form_error(as_vet, manager):
    from vetpms.models import Vet

    other = Vet.objects.create(user=manager, display_name="Dr Other")
    response = as_vet.get(url("revenue", "", f"vet={other.pk}"))
    assert response.status_code == 200
    assert "You can see only your own figures." in response.content.decode()
    assert as_vet.get(url("revenue", "csv", f"vet={other.pk}")).status_code == 400


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2025-09-30&end=2025-07-01", "before it starts"),
        ("start=1970-01-01&end=2025-12-31", "The period was shortened to the 20 years"),
        ("vet=999999", "Unknown vet: 999999."),
        ("payor=12345678", "Unknown payor: 12345678."),
        ("category=nonsense", "Unknown category: nonsense."),
        ("start=31/02/2025", "Enter a valid date."),
        ("top_n=0", "greater than or equal to 1"),
    ],
)
def test_bad_input_on_the_real_form_is_shown_never_a_500(as_manager, query, message):
    response = as_manager.get(url("revenue", "", query))
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize("name", NAMES)
def test_each_page_costs_at_most_twelve_queries(as_manager, name, django_assert_max_num_queries):
    as_manager.get("/reports/")
    with django_assert_max_num_queries(12):
        assert as_manager.get(url(name, "")).status_code == 200


# --- The same revenue on screen, in the CSV and in the PDF ----------------------------------------------------


@pytest.fixture
def quarter(manager, receptionist):
    """Invoices issued in July-September 2025 by two vets, one client's name written to look like a formula."""
    from tests.factories import UserFactory
    from vetpms.models import Role

    ng = UserFactory(username="ng", first_name="Zoë", last_name="Ng", role=Role.VET).vet
    shah = UserFactory(username="shah", first_name="=Ravi", last_name="Shah", role=Role.VET).vet
    standard = TaxCategory.objects.get(code="standard")
    consult = Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=D("45.00"), tax_category=standard
    )
    dental = Product.objects.create(
        code="DENT", name="Dental scale", category="procedure", unit_price=D("180.10"), tax_category=standard
    )
    pet = AnimalFactory(name="Bramble")
    for day, vet, product, quantity in [
        (dt.date(2025, 7, 3), ng, consult, "1"),
        (dt.date(2025, 8, 31), ng, dental, "1"),
        (dt.date(2025, 9, 30), shah, consult, "2"),
        (dt.date(2025, 9, 12), shah, dental, "3"),
    ]:
        with mock.patch("django.utils.timezone.now", return_value=local_datetime(day, dt.time(23, 30))):
            invoice = invoice_draft_for(client=pet.owner, by=receptionist)
            invoice_add_line(
                invoice=invoice, by=receptionist, product=product, quantity=D(quantity), animal=pet, vet=vet
            )
            invoice_finalise(invoice=invoice, by=manager)
    return "start=2025-07-01&end=2025-09-30&grain=month"


def _pdf_text(body: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "revenue.pdf"
    path.write_bytes(body)
    command = [shutil.which("pdftotext"), "-layout", str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own file


def _csv_tables(body: bytes) -> list[list[list[str]]]:
    """The CSV cut at its empty lines: the report's table, then each section (title row first)."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    tables, current = [], []
    for row in rows:
        if not row:
            tables.append(current)
            current = []
        else:
            current.append(row)
    return [*tables, current]


def test_revenue_is_the_same_on_screen_in_the_csv_and_in_the_pdf(as_manager, manager, quarter, tmp_path):
    form = ReportFilterForm(dict(p.split("=") for p in quarter.split("&")), user=manager)
    assert form.is_valid()
    result = REPORTS["revenue"].build(form.params())
    tables = [result, *result.sections]

    screen = page_tables(as_manager.get(url("revenue", "", quarter)).content.decode())
    csv_tables = _csv_tables(as_manager.get(url("revenue", "csv", quarter)).content)
    pdf = re.sub(r"[ \t]+", " ", _pdf_text(as_manager.get(url("revenue", "pdf", quarter)).content, tmp_path))
    assert len(screen) == len(csv_tables) == len(tables)

    for i, table in enumerate(tables):
        csv_rows = csv_tables[i][1:] if i else csv_tables[i]  # sections start with their title row
        if i:
            assert csv_tables[i][0] == [table.title]
        expected_rows = [*table.rows, *([table.totals] if table.totals and table.rows else [])]
        assert len(screen[i]) == len(csv_rows) == 1 + len(expected_rows)
        for row, on_screen, in_csv in zip(expected_rows, screen[i][1:], csv_rows[1:], strict=True):
            for j, column in enumerate(table.columns):
                value = row.get(column.key)
                if j == 0 and row is table.totals and value is None:
                    assert on_screen[0] == in_csv[0] == "Total"
                    continue
                assert in_csv[j] == csv_cell(value, column.kind)
                if value is not None:
                    assert on_screen[j] == display(value, column.kind, minus="\u2212")
            # The PDF writes the row's figures in the same order on one line (an empty total is left blank).
            cells = [row.get(c.key) for c in table.columns[1:]]
            figures = [
                display(v, c.kind)
                for v, c in zip(cells, table.columns[1:], strict=True)
                if v is not None or row is not table.totals
            ]
            assert " ".join(figures) in pdf, figures

    # The hand-computed quarter: net 45 + 180.10 (Ng) and 90 + 540.30 (Shah), gross with 20 % tax.
    assert result.totals["invoiced_net"] == D("855.40")
    assert csv_tables[0][-1][0] == "Total" and "855.40" in csv_tables[0][-1]
    by_vet = next(s for s in result.sections if s.title == "By vet")
    names = {r["name"] for r in by_vet.rows}
    assert names == {"Zoë Ng", "=Ravi Shah"}
    # The formula-looking vet name is neutralised in the CSV and shown as written on the screen.
    assert any(row[0] == "'=Ravi Shah" for t in csv_tables for row in t)
    assert any(row[0] == "=Ravi Shah" for t in screen for row in t)


def test_the_form_shows_the_period_and_grain_the_figures_are_for(as_manager):
    from django.utils import timezone

    today = timezone.localdate()
    html = as_manager.get("/reports/revenue/").content.decode()
    assert f'value="{today.replace(day=1).isoformat()}"' in html and f'value="{today.isoformat()}"' in html
    assert '<option value="month" selected>Month</option>' in html
    assert 'name="top_n" value="10"' in html
    capped = as_manager.get("/reports/revenue/?start=1970-01-01&end=2025-12-31&grain=day").content.decode()
    assert 'value="2006-01-01"' in capped and "The period was shortened" in capped
    assert '<option value="day" selected>Day</option>' not in capped  # too many days: shown by a coarser grain


def test_the_managers_home_shows_the_real_dashboard_figures(as_manager, manager, quarter):
    from reports.builders.dashboard import dashboard_figures

    html = as_manager.get("/").content.decode()
    for key in ("revenue", "appointments", "overdue", "reminders"):
        assert f'data-testid="dashboard-{key}"' in html
    assert 'href="/reports/revenue/?start=' in html and 'href="/reports/receivables/?start=' in html
    figures = dashboard_figures(manager)
    assert figures.overdue_receivables > 0  # the quarter's invoices are past due
    assert display(figures.overdue_receivables, "money", minus="\u2212") in html
