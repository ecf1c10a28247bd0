"""The report pages, drawn from any registered report (here the test's own "sample" report and a stand-in filter
form): who may open them, the filter form and its errors, notes, chart, tables with totals, the download links,
and the same figures on the screen, in the CSV and in the PDF."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from reports.formats import csv_cell, display
from tests.reports import sample
from tests.reports.html import page_tables
from tests.reports.sample import sample_spec, stand_in_form  # noqa: F401 - fixtures
from vetpms.models import Vet

pytestmark = pytest.mark.django_db
D = Decimal
QUERY = "start=2025-07-01&end=2025-09-30&grain=quarter"
PAGES = ["/reports/", "/reports/sample/", f"/reports/sample/csv?{QUERY}", f"/reports/sample/pdf?{QUERY}"]


@pytest.fixture(autouse=True)
def _sample(sample_spec, stand_in_form):  # noqa: F811
    return sample_spec


# --- Who may see what -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*PAGES, "/reports/dashboard/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [*PAGES, "/reports/dashboard/"])
@pytest.mark.parametrize("who", ["receptionist", "nobody"])
def test_staff_without_report_permissions_are_refused(login, users, who, url):
    response = login(users[who]).get(url)
    assert response.status_code == 403
    assert sample.calls == []  # nothing was computed


@pytest.mark.parametrize("url", PAGES)
def test_a_vet_sees_every_page_limited_to_their_own_figures(as_vet, vet_user, url):
    response = as_vet.get(url)
    assert response.status_code == 200
    if url != "/reports/":
        assert sample.calls and all(p.only_vet_id == vet_user.vet.pk for p in sample.calls)


def test_a_vet_does_not_get_the_managers_dashboard(as_vet):
    assert as_vet.get("/reports/dashboard/").status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_a_manager_sees_every_figure(as_manager, url):
    assert as_manager.get(url).status_code == 200
    if url != "/reports/":
        assert sample.calls[-1].only_vet_id is None


@pytest.mark.parametrize("url", ["/reports/nope/", "/reports/nope/csv", "/reports/nope/pdf"])
def test_an_unknown_report_is_404(as_manager, url):
    assert as_manager.get(url).status_code == 404


# --- The index and the page -----------------------------------------------------------------------------------


def test_the_index_lists_the_reports_with_links(as_manager, as_vet):
    html = as_manager.get("/reports/").content.decode()
    assert sample.TITLE in html and 'href="/reports/sample/"' in html
    assert "Figures chosen by the test." in html
    assert "your own figures" in as_vet.get("/reports/").content.decode()


def test_the_report_page_shows_filters_notes_chart_tables_and_download_links(as_manager):
    response = as_manager.get(f"/reports/sample/?{QUERY}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 class="page-title">{sample.TITLE}</h1>' in html
    assert 'name="start"' in html and 'value="2025-07-01"' in html  # the form keeps the filters
    assert "1 Jul 2025 to 30 Sep 2025, by quarter" in html
    assert sample.NOTE in html
    assert '<svg class="report-chart chart-bar"' in html and "A year before" in html
    assert 'class="visually-hidden">Net by vet, this period and a year before. This period: ' in html
    assert f'href="/reports/sample/csv?{QUERY.replace("&", "&amp;")}"' in html
    assert f'href="/reports/sample/pdf?{QUERY.replace("&", "&amp;")}"' in html
    assert ">Download CSV<" in html and ">Download PDF<" in html
    # Money is right-aligned in tabular figures; formula-like names are shown as plain, escaped text.
    assert html.count('class="num text-end"') >= 4 * 4 + 1
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in html
    assert '<h2 class="h5 mt-2">By category</h2>' in html
    # No inline style or script anywhere (the CSP forbids them).
    assert " style=" not in html and "<script>" not in html


def test_tables_have_a_header_the_rows_and_the_totals_in_the_footer(as_manager):
    html = as_manager.get(f"/reports/sample/?{QUERY}").content.decode()
    main, section = page_tables(html)
    assert main[0] == ["Vet", "Net", "Gross", "Invoices", "Share"]
    assert main[1] == ["Zoë Ångström", "£12,345.50", "£14,814.60", "120", "60.5%"]
    assert main[2][1:] == ["\u2212£150.00", "\u2212£180.00", "\u22122", "\u22120.7%"]
    assert main[-1] == ["Total", "£20,405.55", "£24,486.66", "193", "100%"]
    assert "<tfoot" in html
    assert section == [["Category", "Net"], ["Vaccines", "£1,000.10"], ["-Discounts", "\u2212£99.99"],
                       ["Total", "£900.11"]]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2025-09-30&end=2025-07-01", "The period ends before it starts."),
        ("start=yesterday&end=2025-07-01", "Enter a valid date."),
        ("start=2025-07-01&end=2025-09-30&vet=999999", "Select a valid choice."),
        ("start=2025-07-01&end=2025-09-30&grain=fortnight", "Select a valid choice."),
    ],
)
def test_bad_filters_show_the_form_with_errors_never_a_500(as_manager, query, message):
    response = as_manager.get(f"/reports/sample/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Download CSV" not in html and "report-chart" not in html
    assert sample.calls == []
    for kind in ("csv", "pdf"):
        download = as_manager.get(f"/reports/sample/{kind}?{query}")
        assert download.status_code == 400
        assert message in download.content.decode()
        assert download["Content-Type"].startswith("text/html")


def test_a_rule_broken_inside_the_builder_is_a_form_error(as_manager, monkeypatch):
    from reports.base import REPORTS, ReportSpec
    from vetpms.errors import DomainError

    def refuse(params):
        raise DomainError("That period is too long to compute at once.")

    REPORTS["sample"] = ReportSpec("sample", "Sample", "", refuse)
    html = as_manager.get(f"/reports/sample/?{QUERY}").content.decode()
    assert "That period is too long to compute at once." in html


def test_the_page_costs_a_fixed_handful_of_queries(as_manager, django_assert_max_num_queries):
    as_manager.get("/reports/")  # warm the session and permission caches the same way for each request
    with django_assert_max_num_queries(6):
        assert as_manager.get(f"/reports/sample/?{QUERY}").status_code == 200


# --- The same figures on screen, in the CSV and in the PDF ----------------------------------------------------


def _pdf_text(body: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(body)
    command = [shutil.which("pdftotext"), "-layout", str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own file


def test_screen_csv_and_pdf_show_the_same_figures(as_manager, tmp_path):
    screen = page_tables(as_manager.get(f"/reports/sample/?{QUERY}").content.decode())
    result = sample.build(sample.calls[-1])  # the figures the builder gave the page

    response = as_manager.get(f"/reports/sample/csv?{QUERY}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sample-2025-07-01-to-2025-09-30.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    pdf = as_manager.get(f"/reports/sample/pdf?{QUERY}")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="sample-2025-07-01-to-2025-09-30.pdf"'
    text = re.sub(r"[ \t]+", " ", _pdf_text(pdf.content, tmp_path))

    for i, row in enumerate([*result.rows, {**result.totals, "vet": "Total"}], start=1):
        cells = [row.get(c.key) for c in result.columns]
        # Screen: the formatted figure; CSV: the exact figure; both from the result.
        assert screen[0][i] == [display(v, c.kind, minus="\u2212") for v, c in zip(cells, result.columns, strict=True)]
        assert rows[i] == [csv_cell(v, c.kind) for v, c in zip(cells, result.columns, strict=True)]
        # PDF: the figures of the row appear together on one line.
        numbers = " ".join(display(v, c.kind) for v, c in zip(cells[1:], result.columns[1:], strict=True))
        assert numbers in text
        # And the three agree with each other, read back as numbers.
        assert D(rows[i][1]) == D(screen[0][i][1].replace("£", "").replace(",", "").replace("\u2212", "-"))
    assert "Period: 1 Jul 2025 to 30 Sep 2025, by quarter" in text


def test_the_pdf_names_the_chosen_filters(as_manager, manager, tmp_path):
    dr = Vet.objects.create(user=manager, display_name="Dr Zoë Ng")
    text = _pdf_text(as_manager.get(f"/reports/sample/pdf?{QUERY}&vet={dr.pk}").content, tmp_path)
    assert "Vet: Dr Zoë Ng" in text
    assert "By: Quarter" not in text  # the grain is in the period line


def test_a_vets_page_and_pdf_say_the_figures_are_their_own(as_vet, vet_user, tmp_path):
    assert "Your own figures" in as_vet.get(f"/reports/sample/?{QUERY}").content.decode()
    text = _pdf_text(as_vet.get(f"/reports/sample/pdf?{QUERY}").content, tmp_path)
    assert f"Figures of: {vet_user.vet.display_name}" in text


def test_the_form_shows_only_the_filters_the_report_uses_and_any_field_in_error(as_manager, sample_spec):  # noqa: F811
    from reports.base import REPORTS, ReportSpec

    REPORTS["sample"] = ReportSpec("sample", "Sample", "", sample.build, filters=("period",))
    html = as_manager.get(f"/reports/sample/?{QUERY}").content.decode()
    assert 'name="start"' in html and 'name="end"' in html
    assert 'name="vet"' not in html and 'name="grain"' not in html
    html = as_manager.get(f"/reports/sample/?{QUERY}&vet=999999").content.decode()
    assert 'name="vet"' in html and "Select a valid choice." in html
