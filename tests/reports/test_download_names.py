"""Downloaded files name the period they cover: one date for one day ("day_sheet-2025-07-01.csv"), "from-to-to"
for a range. Every registered report (CSV and PDF) and the client statement (page and API) are walked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reports.base import REPORTS
from tests.api.conftest import JsonClient
from tests.factories import ClientFactory, make_token

pytestmark = pytest.mark.django_db
DAY = "2025-07-01"


def _name(response) -> str:
    assert response.status_code == 200, response.content[:300]
    found = re.search(r'filename="([^"]+)"', response["Content-Disposition"])
    assert found, response["Content-Disposition"]
    return found.group(1)


def test_file_period_is_one_date_for_one_day():
    import datetime as dt

    from vetpms.text import file_period

    assert file_period(dt.date(2025, 7, 1), dt.date(2025, 7, 1)) == DAY
    assert file_period(dt.date(2025, 7, 1), dt.date(2025, 9, 30)) == "2025-07-01-to-2025-09-30"


@pytest.mark.parametrize("name", sorted(REPORTS))
@pytest.mark.parametrize("extension", ["csv", "pdf"])
def test_every_report_for_one_day_downloads_under_that_date(name, extension, as_manager):
    query = {"start": DAY, "end": DAY, "as_of": DAY, "day": DAY}
    response = as_manager.get(reverse(f"reports:{extension}", args=[name]), query)
    assert _name(response) == f"{name}-{DAY}.{extension}"


@pytest.mark.parametrize("name", sorted(n for n, spec in REPORTS.items() if spec.period_kind == "range"))
def test_a_report_over_a_range_names_both_ends(name, as_manager):
    response = as_manager.get(reverse("reports:csv", args=[name]), {"start": DAY, "end": "2025-07-31"})
    assert _name(response) == f"{name}-{DAY}-to-2025-07-31.csv"


def test_a_one_day_statement_is_named_after_its_day_on_the_page_and_in_the_api(as_manager, manager):
    client = ClientFactory()
    page = as_manager.get(reverse("invoicing:statement_pdf", args=[client.pk]), {"start": DAY, "end": DAY})
    assert _name(page) == f"statement-{client.pk}-{DAY}.pdf"
    _, secret = make_token(manager)
    api = JsonClient({"Authorization": f"Bearer {secret}"})
    answer = api.get(f"/api/v1/clients/{client.pk}/statement/pdf", {"start": DAY, "end": DAY})
    assert _name(answer) == f"statement-{client.pk}-{DAY}.pdf"
    ranged = api.get(f"/api/v1/clients/{client.pk}/statement/pdf", {"start": DAY, "end": "2025-07-31"})
    assert _name(ranged) == f"statement-{client.pk}-{DAY}-to-2025-07-31.pdf"
