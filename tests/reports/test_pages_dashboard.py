"""The manager's dashboard, their home page: revenue this month against the same month a year before, today's
appointments, overdue receivables and reminders sent this week, each linking to its report. Figures come from
reports.builders.dashboard.dashboard_figures; here a stand-in gives figures the test chose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from reports import views
from reports.base import REPORTS, ReportSpec
from reports.views import dashboard_cards

pytestmark = pytest.mark.django_db
D = Decimal
FIGURES = {
    "revenue_this_month": D("12500.40"),
    "revenue_same_month_last_year": D("10000.00"),
    "appointments_today": 37,
    "overdue_receivables": D("2345.67"),
    "reminders_sent_this_week": 1204,
}


@pytest.fixture
def figures(monkeypatch):
    seen = []

    def stand_in(user):
        seen.append(user)
        return FIGURES

    monkeypatch.setattr(views, "_dashboard_figures", stand_in)
    return seen


@pytest.fixture
def linked_reports():
    """Register the four reports the cards link to (only those not registered already), for the test's duration."""
    added = [n for n in ("revenue", "appointments", "receivables", "reminders") if n not in REPORTS]
    for name in added:
        REPORTS[name] = ReportSpec(name, name.title(), "", build=lambda params: None)
    yield
    for name in added:
        REPORTS.pop(name, None)


def test_a_manager_lands_on_the_dashboard(as_manager, manager, figures, linked_reports):
    response = as_manager.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert figures == [manager]
    assert 'data-testid="dashboard-revenue"' in html
    assert "£12,500.40" in html and "£10,000.00" in html and "(+25.0%)" in html
    assert ">37<" in html and "£2,345.67" in html and "1,204" in html
    today = timezone.localdate()
    month_start = today.replace(day=1)
    assert f'href="/reports/revenue/?start={month_start.isoformat()}&amp;end={today.isoformat()}' in html
    assert f'href="/reports/appointments/?start={today.isoformat()}&amp;end={today.isoformat()}' in html
    assert 'href="/reports/receivables/?' in html and 'href="/reports/reminders/?' in html
    assert " style=" not in html


def test_the_dashboard_page_itself(as_manager, figures):
    assert as_manager.get("/reports/dashboard/").status_code == 200


def test_a_vet_still_lands_on_their_day_list_and_a_receptionist_on_the_plain_home(as_vet, as_receptionist, figures):
    assert "dashboard-revenue" not in as_vet.get("/").content.decode()
    assert "dashboard-revenue" not in as_receptionist.get("/").content.decode()
    assert figures == []


def test_cards_say_how_revenue_moved_against_last_year():
    today = dt.date(2025, 3, 15)
    cards = {c.key: c for c in dashboard_cards({**FIGURES, "revenue_this_month": D("9000")}, today)}
    assert cards["revenue"].label == "Revenue in March 2025"
    assert cards["revenue"].detail == "£10,000.00 in March 2024 (-10.0%)"
    assert cards["revenue"].trend == "down"
    no_history = dashboard_cards({**FIGURES, "revenue_same_month_last_year": D("0")}, today)[0]
    assert no_history.detail == "£0.00 in March 2024" and no_history.trend == ""
    assert cards["reminders"].detail == "Since 10 Mar 2025"  # the Monday of that week


def test_without_the_figures_the_dashboard_shows_dashes_not_an_error():
    cards = dashboard_cards(None, dt.date(2025, 3, 15))
    assert [c.value for c in cards] == ["—"] * 4
