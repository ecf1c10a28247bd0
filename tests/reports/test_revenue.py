"""The revenue report against figures worked out by hand: month boundaries in the practice's zone (Europe/London)
across both clock changes, credit notes in their own period, collected money, a year earlier, the breakdowns,
and insurer share + client share = revenue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from invoicing.models import Payor
from invoicing.selectors import insurer_share, owner_share
from reports.base import ReportParams
from reports.builders.revenue import revenue

pytestmark = pytest.mark.django_db
D = Decimal


def rows_by_period(result):
    return {r["period"]: r for r in result.rows}


def section(result, title_start: str):
    return next(s for s in result.sections if s.title.startswith(title_start))


@pytest.fixture
def spring(books, vets):
    """Documents around the end of March 2025 (clocks went forward on 30 March) and a year before."""
    ng, shah = vets
    # 23:30 BST on 31 March is 22:30 UTC: March. 00:30 BST on 1 April is 23:30 UTC on 31 March: April.
    late_march = books.invoice((2025, 3, 31, 23, 30), [("consult", 1, ng), ("vaccine", 2, shah)])  # 45+77 -> 146.40
    early_april = books.invoice((2025, 4, 1, 0, 30), [("xray", 1, shah)])  # 120 -> 144.00
    on_change_day = books.invoice((2025, 3, 30, 3, 15), [("food", 3, None)])  # 38.97, zero-rated
    last_year = books.invoice((2024, 3, 15, 10, 0), [("consult", 2, ng)])  # 90 -> 108.00
    credit = books.credit(late_march, (2025, 4, 2, 9, 0), lines=[(late_march.lines.get(vet=shah), D(1))])  # -46.20
    books.pay(late_march.client, "100.00", dt.date(2025, 3, 31), method="cash")
    books.pay(early_april.client, "144.00", dt.date(2025, 4, 1))
    return {"late_march": late_march, "early_april": early_april, "change_day": on_change_day,
            "last_year": last_year, "credit": credit}  # fmt: skip


def test_month_buckets_follow_local_dates_across_the_spring_change(spring):
    assert spring["late_march"].issue_date == dt.date(2025, 3, 31)
    assert spring["early_april"].issue_date == dt.date(2025, 4, 1)
    result = revenue(ReportParams(dt.date(2025, 3, 1), dt.date(2025, 4, 30), "month"))
    march, april = rows_by_period(result)["Mar 2025"], rows_by_period(result)["Apr 2025"]
    assert (march["invoiced_net"], march["invoiced_tax"], march["invoiced_gross"]) == (
        D("160.97"), D("24.40"), D("185.37"),
    )  # fmt: skip
    assert march["credited"] == D("0.00") and march["revenue"] == D("185.37")
    assert march["collected"] == D("100.00")
    assert march["revenue_last_year"] == D("108.00")
    assert march["change"] == D("71.6")  # (185.37 - 108) / 108
    assert (april["invoiced_gross"], april["credited"], april["revenue"]) == (D("144.00"), D("-46.20"), D("97.80"))
    assert april["collected"] == D("144.00") and april["revenue_last_year"] == D("0.00") and april["change"] is None
    assert result.totals["revenue"] == D("283.17") and result.totals["collected"] == D("244.00")
    assert result.chart.categories == ["Mar 2025", "Apr 2025"]
    assert result.chart.series[0] == ("This period", [D("185.37"), D("97.80")])
    assert result.chart.series[1] == ("A year earlier", [D("108.00"), D("0.00")])


def test_autumn_change_and_the_last_evening_of_october(books, vets):
    ng, _ = vets
    # Clocks went back on 27 October 2024: 23:30 GMT on 31 October is still 31 October, in UTC too.
    books.invoice((2024, 10, 31, 23, 30), [("consult", 1, ng)])  # 54.00
    books.invoice((2024, 10, 27, 1, 30), [("consult", 1, ng)], pet=None)  # the repeated hour (first one)
    books.invoice((2024, 10, 27, 1, 30, 1), [("vaccine", 1, ng)])  # the repeated hour, second time: 46.20
    books.invoice((2024, 11, 1, 0, 15), [("xray", 1, ng)])  # 144.00
    result = revenue(ReportParams(dt.date(2024, 10, 1), dt.date(2024, 11, 30), "month"))
    by = rows_by_period(result)
    assert by["Oct 2024"]["invoiced_gross"] == D("154.20") and by["Nov 2024"]["invoiced_gross"] == D("144.00")
    days = rows_by_period(revenue(ReportParams(dt.date(2024, 10, 26), dt.date(2024, 10, 28), "day")))
    assert [r["invoiced_gross"] for r in days.values()] == [D("0.00"), D("100.20"), D("0.00")]
    assert list(days) == ["26 Oct 2024", "27 Oct 2024", "28 Oct 2024"]


def test_credit_notes_reduce_revenue_in_their_own_period_not_the_invoices(spring):
    march_only = revenue(ReportParams(dt.date(2025, 3, 1), dt.date(2025, 3, 31), "month"))
    assert march_only.totals["credited"] == D("0.00") and march_only.totals["revenue"] == D("185.37")
    april_only = revenue(ReportParams(dt.date(2025, 4, 1), dt.date(2025, 4, 30), "month"))
    assert april_only.totals["credited"] == D("-46.20") and april_only.totals["invoiced_gross"] == D("144.00")


def test_weeks_start_on_monday_and_partial_buckets_hold_only_the_period(spring):
    result = revenue(ReportParams(dt.date(2025, 3, 30), dt.date(2025, 4, 6), "week"))
    assert [r["period"] for r in result.rows] == ["2025-W13 (24 Mar)", "2025-W14 (31 Mar)"]
    sunday, week14 = result.rows
    assert sunday["invoiced_gross"] == D("38.97")  # only Sunday 30 March is inside the period
    assert week14["invoiced_gross"] == D("290.40") and week14["credited"] == D("-46.20")
    quarter = revenue(ReportParams(dt.date(2025, 1, 1), dt.date(2025, 6, 30), "quarter"))
    assert [(r["period"], r["revenue"]) for r in quarter.rows] == [("2025 Q1", D("185.37")), ("2025 Q2", D("97.80"))]
    year = revenue(ReportParams(dt.date(2024, 1, 1), dt.date(2025, 12, 31), "year"))
    assert [(r["period"], r["revenue"], r["revenue_last_year"]) for r in year.rows] == [
        ("2024", D("108.00"), D("0.00")), ("2025", D("283.17"), D("108.00")),
    ]  # fmt: skip


def test_breakdowns_by_vet_category_and_product_add_up_to_the_revenue(spring, vets):
    ng, shah = vets
    result = revenue(ReportParams(dt.date(2025, 3, 1), dt.date(2025, 4, 30), "month", top_n=2))
    by_vet = {r["name"]: r for r in section(result, "By vet").rows}
    # Ng: consult 54.00; Shah: vaccines 92.40 + x-ray 144.00 - credit 46.20; no vet: food 38.97
    assert by_vet[ng.display_name]["gross"] == D("54.00")
    assert by_vet[shah.display_name]["gross"] == D("190.20")
    assert by_vet["No vet"]["gross"] == D("38.97")
    assert by_vet[ng.display_name]["last_year"] == D("108.00") and by_vet[ng.display_name]["change"] == D("-50.0")
    assert section(result, "By vet").totals["gross"] == result.totals["revenue"]
    by_category = {r["name"]: r["gross"] for r in section(result, "By treatment category").rows}
    assert by_category == {"Imaging": D("144.00"), "Consultation": D("54.00"), "Vaccine": D("46.20"),
                           "Retail": D("38.97")}  # fmt: skip
    assert section(result, "By treatment category").totals["gross"] == result.totals["revenue"]
    top = section(result, "Top 2")
    assert [(r["name"], r["gross"], r["quantity"]) for r in top.rows] == [
        ("X-ray", D("144.00"), D("1")), ("Consultation", D("54.00"), D("1")),
    ]  # fmt: skip


def test_filters_by_vet_and_category_read_the_lines_and_leave_collected_empty(spring, vets):
    ng, shah = vets
    shah_only = revenue(ReportParams(dt.date(2025, 3, 1), dt.date(2025, 4, 30), "month", vet_ids=(shah.pk,)))
    by = rows_by_period(shah_only)
    assert by["Mar 2025"]["invoiced_gross"] == D("92.40") and by["Apr 2025"]["revenue"] == D("97.80")
    assert by["Mar 2025"]["collected"] is None and shah_only.totals["collected"] is None
    assert any("Collected is not shown" in n for n in shah_only.notes)
    own = revenue(ReportParams(dt.date(2025, 3, 1), dt.date(2025, 3, 31), "month", only_vet_id=ng.pk))
    assert own.totals["revenue"] == D("54.00") and own.totals["revenue_last_year"] == D("108.00")
    assert [r["name"] for r in section(own, "By vet").rows] == [ng.display_name]
    vaccines = revenue(ReportParams(dt.date(2025, 3, 1), dt.date(2025, 4, 30), "month", categories=("vaccine",)))
    assert vaccines.totals["invoiced_net"] == D("77.00") and vaccines.totals["revenue"] == D("46.20")


def test_insurer_and_client_shares_add_up_to_the_invoiced_gross(books, vets):
    ng, _ = vets
    petplan, agria = Payor.objects.create(name="PetPlan"), Payor.objects.create(name="Agria")
    first = books.invoice((2025, 5, 2, 10), [("xray", 2, ng), ("consult", 1, ng)])  # 240+45 -> 342.00
    second = books.invoice((2025, 5, 20, 10), [("vaccine", 1, ng)])  # 46.20
    third = books.invoice((2025, 5, 28, 10), [("xray", 1, ng)])  # 144.00
    books.claim(
        first, books.policy(first.lines.first().animal, petplan, excess="50.00", copay="10"), dt.date(2025, 5, 3)
    )
    books.claim(second, books.policy(second.lines.first().animal, agria), dt.date(2025, 5, 21), accepted="40.00")
    books.claim(third, books.policy(third.lines.first().animal, agria), dt.date(2025, 5, 29), accepted="0")  # declined
    result = revenue(ReportParams(dt.date(2025, 5, 1), dt.date(2025, 5, 31), "month"))
    payors = section(result, "By payor")
    shares = {r["name"]: r["share"] for r in payors.rows}
    assert shares == {"Agria": D("40.00"), "PetPlan": D("262.80"), "Clients (owner share)": D("229.40")}
    assert sum(shares.values()) == result.totals["revenue"] == D("532.20") == payors.totals["share"]
    for invoice in (first, second, third):  # the same split, invoice by invoice, from invoicing's own selectors
        assert insurer_share(invoice) + owner_share(invoice) == invoice.gross_total
    assert shares["Clients (owner share)"] == sum(owner_share(i) for i in (first, second, third))
    only_agria = revenue(ReportParams(dt.date(2025, 5, 1), dt.date(2025, 5, 31), "month", payor_ids=(agria.pk,)))
    assert only_agria.totals["invoiced_gross"] == D("46.20")  # the declined claim's invoice is the client's alone
    assert [r["name"] for r in section(only_agria, "By payor").rows] == ["Agria", "Clients (owner share)"]
