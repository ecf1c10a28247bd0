"""The report filters: several vets, categories or payors are ticked (no Ctrl-click, no names cut at a select box's
width); receivables ask for the day the balances are "as of", the day sheet for one day, and both say so."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from invoicing.models import Payor
from tests.factories import UserFactory
from vetpms.models import Role

pytestmark = pytest.mark.django_db
LONG = "Dr Maximiliana Featherstonehaugh-Cholmondeley"


@pytest.fixture
def long_named_vet(db):
    user = UserFactory(username="maxi", first_name="Maximiliana", last_name="F", role=Role.VET)
    user.vet.display_name = LONG
    user.vet.save()
    return user.vet


def test_multiple_choices_are_tick_boxes_with_whole_names(as_manager, long_named_vet):
    Payor.objects.create(name="Agria Pet Insurance Limited (claims department)")
    html = as_manager.get("/reports/revenue/").content.decode()
    assert "<select" not in re.sub(r'<select name="grain".*?</select>', "", html, flags=re.S)
    assert "Ctrl-click" not in html
    for name in ("vet", "category", "payor"):
        assert f'data-testid="check-list-{name}"' in html
        assert re.search(rf'<input type="checkbox" name="{name}" value="[^"]+" class="form-check-input"', html), name
    assert LONG in html and "Agria Pet Insurance Limited (claims department)" in html
    ticked = as_manager.get(f"/reports/revenue/?vet={long_named_vet.pk}&category=vaccine&category=imaging")
    assert ticked.status_code == 200
    assert ticked.context["result"].params.vet_ids == (long_named_vet.pk,)
    assert ticked.context["result"].params.categories == ("imaging", "vaccine")


def test_receivables_are_as_of_a_day(as_manager):
    html = as_manager.get("/reports/receivables/?end=2025-03-31").content.decode()
    assert re.search(r'<label[^>]*for="id_end">As of</label>', html)
    assert 'name="start"' not in html and 'name="grain"' not in html
    period = re.search(r'data-testid="report-period">([^<]+)<', html).group(1)
    assert period == "as of 31 Mar 2025"
    csv = as_manager.get("/reports/receivables/csv?end=2025-03-31")
    assert csv.status_code == 200


def test_the_day_sheet_is_one_day_and_says_so(as_manager):
    today = timezone.localdate()
    page = as_manager.get("/reports/day_sheet/")
    html = page.content.decode()
    assert re.search(r'<label[^>]*for="id_end">Day</label>', html) and 'name="start"' not in html
    assert f'data-testid="report-period">{today.day} {today:%b %Y}, one day<' in html
    # A period given by hand (an old bookmark) is read as its last day, never as a range.
    ranged = as_manager.get("/reports/day_sheet/?start=2025-01-01&end=2025-01-31")
    params = ranged.context["result"].params
    assert (params.start, params.end) == (dt.date(2025, 1, 31), dt.date(2025, 1, 31))
    assert "31 Jan 2025, one day" in ranged.content.decode()
    api = as_manager.get("/api/v1/reports/day_sheet?start=2025-02-03")
    assert api.status_code == 200
