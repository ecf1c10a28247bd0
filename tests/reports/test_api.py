"""/api/v1/reports: who may read what (401, 403, 404), bad filters as 422 with the form's words, and the figures
as JSON with exact money strings, the same as the builder's."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def march(books, vets):
    ng, _ = vets
    books.invoice((2025, 3, 10, 11), [("consult", 1, ng), ("food", 1, None)])  # 54.00 + 12.99
    books.invoice((2025, 3, 31, 23, 30), [("vaccine", 3, ng)])  # 138.60


def test_anonymous_gets_401_and_a_role_without_reports_403(receptionist, nobody, bearer):
    anonymous = HttpClient()
    assert anonymous.get("/api/v1/reports").status_code == 401
    assert anonymous.get("/api/v1/reports/revenue").status_code == 401
    for user in (receptionist, nobody):
        response = HttpClient().get("/api/v1/reports/revenue", headers=bearer(user))
        assert response.status_code == 403 and response.json()["detail"]
        assert HttpClient().get("/api/v1/reports/nothing-here", headers=bearer(user)).status_code == 403


def test_the_list_shows_a_manager_every_report_and_a_vet_their_own(manager, vet_user, bearer):
    names = [r["name"] for r in HttpClient().get("/api/v1/reports", headers=bearer(manager)).json()["items"]]
    assert names == ["revenue", "receivables", "appointments", "reminders", "day_sheet"]
    mine = [r["name"] for r in HttpClient().get("/api/v1/reports", headers=bearer(vet_user)).json()["items"]]
    assert mine == ["revenue", "appointments", "day_sheet"]


def test_unknown_report_is_404(manager, bearer):
    response = HttpClient().get("/api/v1/reports/profits", headers=bearer(manager))
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_a_vet_cannot_read_practice_wide_reports(vet_user, bearer):
    for name in ("receivables", "reminders"):
        assert HttpClient().get(f"/api/v1/reports/{name}", headers=bearer(vet_user)).status_code == 403


def test_revenue_as_json_with_exact_money_strings(manager, bearer, march):
    response = HttpClient().get(
        "/api/v1/reports/revenue?start=2025-03-01&end=2025-03-31&grain=month", headers=bearer(manager)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["params"]["start"] == "2025-03-01" and body["params"]["grain"] == "month"
    (row,) = body["rows"]
    assert row["period"] == "Mar 2025"
    assert row["invoiced_gross"] == "205.59" and row["invoiced_net"] == "173.49" and row["invoiced_tax"] == "32.10"
    assert row["credited"] == "0.00" and row["collected"] == "0.00" and row["change"] is None
    assert body["totals"]["revenue"] == "205.59"
    by_vet = next(s for s in body["sections"] if s["title"] == "By vet")
    assert {r["name"]: r["gross"] for r in by_vet["rows"]} == {"Amy Ng": "192.60", "No vet": "12.99"}
    assert body["chart"]["series"][0] == {"name": "This period", "values": ["205.59"]}
    assert "Revenue per period" in body["chart"]["text"]


def test_a_vet_gets_their_own_figures_and_cannot_ask_for_another_vets(bearer, march, vets):
    ng, shah = vets
    headers = bearer(shah.user)
    own = HttpClient().get("/api/v1/reports/revenue?start=2025-03-01&end=2025-03-31", headers=headers).json()
    assert own["params"]["only_vet"] == shah.pk and own["totals"]["revenue"] == "0.00"
    ngs = HttpClient().get("/api/v1/reports/revenue?start=2025-03-01&end=2025-03-31", headers=bearer(ng.user)).json()
    assert ngs["totals"]["revenue"] == "192.60"
    refused = HttpClient().get(f"/api/v1/reports/revenue?vet={ng.pk}", headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {"loc": ["query", "vet"], "msg": "You can see only your own figures.", "type": "value_error"}
    ]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("start=2025-03-31&end=2025-03-01", "end", "ends (01 Mar 2025) before it starts (31 Mar 2025)"),
        ("start=2025-13-01", "start", "Enter a valid date"),
        ("vet=999999&vet=abc", "vet", "Unknown vets: abc, 999999."),
        ("category=vaccine&category=caviar", "category", "Unknown category: caviar."),
        ("payor=424242", "payor", "Unknown payor: 424242."),
        ("grain=fortnight", "grain", "fortnight"),
        ("top_n=0", "top_n", "greater than or equal to 1"),
    ],
)
def test_bad_filters_are_422_with_the_forms_message(manager, bearer, query, field, words):
    response = HttpClient().get(f"/api/v1/reports/revenue?{query}", headers=bearer(manager))
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", field] and words in error["msg"]


def test_fifty_years_are_capped_with_a_note(manager, bearer):
    response = HttpClient().get(
        "/api/v1/reports/revenue?start=1975-01-01&end=2024-12-31&grain=year", headers=bearer(manager)
    )
    body = response.json()
    assert response.status_code == 200
    assert body["params"]["start"] == "2005-01-01" and len(body["rows"]) == 20
    assert any("shortened to the 20 years ending 31 Dec 2024" in n for n in body["notes"])


def test_every_report_answers_json_for_a_manager(manager, bearer, march):
    for name in ("revenue", "receivables", "appointments", "reminders", "day_sheet"):
        response = HttpClient().get(f"/api/v1/reports/{name}?start=2025-03-01&end=2025-03-31", headers=bearer(manager))
        assert response.status_code == 200, (name, response.content)
        assert response.json()["name"] == name


def test_the_session_works_too(as_manager):
    assert as_manager.get(f"/api/v1/reports/day_sheet?start={timezone.localdate()}").status_code == 200
