"""The reports journey in a real browser: a manager opens last quarter's revenue by vet, sees the chart, and
downloads the CSV and the PDF; the PDF is rendered to PNG (test-artifacts/) to be looked at, and both files carry
the figures of the invoices the test issued in that quarter.

The invoices are issued through the invoicing services with the clock set inside last quarter, so their issue
dates, numbers and audit entries are what they would have been then.
"""

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
from django.utils import timezone
from playwright.sync_api import expect

from invoicing.models import Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime

PASSWORD = "correct-horse-battery"
D = Decimal


def last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_start = today.replace(month=first_month, day=1)
    end = this_start - dt.timedelta(days=1)
    return end.replace(month=end.month - 2, day=1), end


def _revenue_registered() -> bool:
    import reports.builders  # noqa: F401 - registers the builders
    from reports.base import REPORTS

    return "revenue" in REPORTS


@pytest.fixture
def practice(transactional_db):
    if not _revenue_registered():
        pytest.skip("the revenue report is not registered yet")
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    receptionist = UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)
    ng = UserFactory(username="ng", first_name="Zoë", last_name="Ng", role=Role.VET).vet
    shah = UserFactory(username="shah", first_name="Ravi", last_name="Shah", role=Role.VET).vet
    standard = TaxCategory.objects.get(code="standard")
    consult = Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=D("45.00"), tax_category=standard
    )
    dental = Product.objects.create(
        code="DENT", name="Dental scale", category="procedure", unit_price=D("180.00"), tax_category=standard
    )
    start, end = last_quarter(timezone.localdate())
    pet = AnimalFactory(name="Bramble", owner__first_name="Hélène", owner__last_name="Hawthorn")
    # (day in the quarter, vet, product, quantity): net 45 + 180 + 90 for Ng, 45 + 360 for Shah.
    issued = [
        (start + dt.timedelta(days=3), ng, consult, 1),
        (start + dt.timedelta(days=40), ng, dental, 1),
        (end, ng, consult, 2),
        (start + dt.timedelta(days=10), shah, consult, 1),
        (end - dt.timedelta(days=20), shah, dental, 2),
    ]
    for day, vet, product, quantity in issued:
        at = local_datetime(day, dt.time(11))
        with mock.patch("django.utils.timezone.now", return_value=at):
            invoice = invoice_draft_for(client=pet.owner, by=receptionist)
            invoice_add_line(
                invoice=invoice, by=receptionist, product=product, quantity=D(quantity), animal=pet, vet=vet
            )
            invoice_finalise(invoice=invoice, by=manager)
    return {"start": start, "end": end}


def test_manager_opens_last_quarters_revenue_by_vet_and_downloads_csv_and_pdf(page, log_in, screenshot, practice):
    start, end = practice["start"], practice["end"]
    log_in("mona", PASSWORD)
    # The manager's home is the dashboard; the reports are one click away.
    expect(page.get_by_test_id("dashboard-revenue")).to_be_visible()
    screenshot("dashboard")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("link", name=re.compile("^Revenue")).first.click()
    page.wait_for_load_state("load")
    page.fill("#id_start", start.isoformat())
    page.fill("#id_end", end.isoformat())
    page.select_option("#id_grain", "month")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_load_state("load")
    assert f"start={start.isoformat()}" in page.url and f"end={end.isoformat()}" in page.url
    expect(page.get_by_test_id("report-period")).to_have_text(
        f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}, by month"
    )

    chart = page.locator("[data-testid=report-chart] svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 150
    # Three months against a year earlier, and the revenue by vet (net 315.00 and 405.00: gross with 20 % tax).
    expect(page.locator(".report-chart rect.bar")).to_have_count(6)
    by_vet = page.locator("section[aria-label='By vet'] table")
    expect(by_vet).to_be_visible()
    by_vet.scroll_into_view_if_needed()
    expect(by_vet.locator("tbody tr", has_text="Zoë Ng")).to_contain_text("£315.00")
    expect(by_vet.locator("tbody tr", has_text="Ravi Shah")).to_contain_text("£405.00")
    expect(by_vet.locator("tfoot")).to_contain_text("£720.00")
    screenshot("revenue-last-quarter")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    csv_path = ARTIFACTS / "journey-revenue.csv"
    info.value.save_as(str(csv_path))
    assert info.value.suggested_filename == f"revenue-{start.isoformat()}-to-{end.isoformat()}.csv"
    text = csv_path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    flat = [cell for row in rows for cell in row]
    assert "315.00" in flat and "405.00" in flat and "720.00" in flat

    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    pdf_path = ARTIFACTS / "journey-revenue.pdf"
    info.value.save_as(str(pdf_path))
    assert pdf_path.read_bytes().startswith(b"%PDF")
    pdftotext, pdftoppm = shutil.which("pdftotext"), shutil.which("pdftoppm")
    assert pdftotext and pdftoppm, "poppler-utils is needed to read the PDF back"
    pdf_text = subprocess.run(  # noqa: S603 - our own file
        [pdftotext, "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Zoë Ng" in pdf_text and "£315.00" in pdf_text and "£405.00" in pdf_text and "£720.00" in pdf_text
    assert "Page 1 of" in pdf_text
    for stale in ARTIFACTS.glob("journey-revenue-pdf-*.png"):
        stale.unlink()
    subprocess.run([pdftoppm, "-png", "-r", "80", str(pdf_path), str(ARTIFACTS / "journey-revenue-pdf")], check=True)  # noqa: S603
    assert (ARTIFACTS / "journey-revenue-pdf-1.png").exists()
