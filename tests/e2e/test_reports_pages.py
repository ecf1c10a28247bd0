"""The report page in a real browser with the test's own sample report: the chart draws under the strict CSP
(no console errors), and the CSV and PDF download with the figures on screen."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.factories import UserFactory
from tests.reports import sample
from tests.reports.sample import sample_spec, stand_in_form  # noqa: F401 - fixtures
from vetpms.models import Role

PASSWORD = "correct-horse-battery"


@pytest.fixture
def manager(transactional_db, sample_spec, stand_in_form):  # noqa: F811
    return UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER, password=PASSWORD)


def test_sample_report_page_chart_and_downloads(page, log_in, screenshot, manager):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    log_in("mona", PASSWORD)
    page.goto("/reports/")
    page.get_by_role("link", name=sample.TITLE).click()
    page.wait_for_load_state("load")
    page.fill("#id_start", "2025-07-01")
    page.fill("#id_end", "2025-09-30")
    page.select_option("#id_grain", "quarter")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name=sample.TITLE)).to_be_visible()
    chart = page.get_by_role("img", name=sample.build(None).chart.title)
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 200
    expect(page.locator(".report-chart rect.bar")).to_have_count(6)
    expect(page.locator("table.report-table").first.locator("tfoot")).to_contain_text("£20,405.55")
    assert "start=2025-07-01" in page.url
    screenshot("sample-report")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    target = ARTIFACTS / "sample-report.csv"
    info.value.save_as(str(target))
    assert info.value.suggested_filename == "sample-2025-07-01-to-2025-09-30.csv"
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[4] == ["Total", "20405.55", "24486.66", "193", "100"]

    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    target = ARTIFACTS / "sample-report.pdf"
    info.value.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        command = [shutil.which("pdftoppm"), "-png", "-r", "80", str(target), str(ARTIFACTS / "sample-report-pdf")]
        subprocess.run(command, check=True)  # noqa: S603 - our own file
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
