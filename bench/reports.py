"""Issue 6 and 14 measurements: the report builders on the practice-scale data (about 500k documents with 2M lines).

    revenue, one month by day        <= 300 ms    read from the revenue summaries (invoicing.summaries): a year
    revenue, one year by month       <= 300 ms    and ten years cost about what a month costs; each beside the
    revenue, ten years by month      <= 300 ms    same figures in hand-written SQL over the lines, same run
    receivables as of today          <= 1 s
    the manager's dashboard          measured: its figures and GET / as the manager
    every report page                <= 12 queries

Read-only: nothing is written. The query plans of the heavy statements go to docs/explain/reports.md.
"""

from __future__ import annotations

import datetime as dt
import time

from bench.run import Result, measure

MONTH_MS, YEAR_MS, TEN_YEARS_MS, RECEIVABLES_MS = 300.0, 300.0, 300.0, 1000.0  # issue 14: any period, a month
PAGE_QUERIES = 12
PAGE_SAMPLES = 20  # requests per dashboard and revenue page measure


def hand_written_revenue(start: dt.date, end: dt.date, grain: str) -> list[tuple[str, list]]:
    """The revenue report's figures as plain SQL: buckets of documents and payments (this period and a year
    before), the lines by vet, category and product, and the insurers' shares."""
    from reports.periods import years_back

    ly_start, ly_end = years_back(start), years_back(end)
    periods = [start, end, ly_start, ly_end]
    now = "issue_date BETWEEN %s AND %s"
    before = "issue_date BETWEEN %s AND %s"
    docs = (
        f"SELECT date_trunc(%s, issue_date)::date AS bucket,"
        f" SUM(net_total) FILTER (WHERE kind = 'invoice' AND {now}),"
        f" SUM(tax_total) FILTER (WHERE kind = 'invoice' AND {now}),"
        f" SUM(gross_total) FILTER (WHERE kind = 'invoice' AND {now}),"
        f" SUM(gross_total) FILTER (WHERE kind = 'credit_note' AND {now}),"
        f" SUM(gross_total) FILTER (WHERE {before})"
        f" FROM invoicing_invoice WHERE status IN ('finalised', 'void') AND ({now} OR {before}) GROUP BY 1"
    )
    docs_params = [grain, start, end, start, end, start, end, start, end, ly_start, ly_end, *periods]
    pay_now, pay_before = "received_on BETWEEN %s AND %s", "received_on BETWEEN %s AND %s"
    payments = (
        f"SELECT date_trunc(%s, received_on)::date,"
        f" SUM(amount) FILTER (WHERE kind = 'payment' AND {pay_now}),"
        f" SUM(amount) FILTER (WHERE kind = 'refund' AND {pay_now}),"
        f" SUM(amount) FILTER (WHERE kind = 'payment' AND {pay_before}),"
        f" SUM(amount) FILTER (WHERE kind = 'refund' AND {pay_before})"
        f" FROM invoicing_payment WHERE voided_at IS NULL AND ({pay_now} OR {pay_before}) GROUP BY 1"
    )
    payments_params = [grain, start, end, start, end, ly_start, ly_end, ly_start, ly_end, *periods]
    lines = (
        "SELECT l.vet_id, l.category, l.product_id,"
        " SUM(l.net) FILTER (WHERE i.issue_date BETWEEN %s AND %s),"
        " SUM(l.tax) FILTER (WHERE i.issue_date BETWEEN %s AND %s),"
        " SUM(l.gross) FILTER (WHERE i.issue_date BETWEEN %s AND %s),"
        " SUM(l.gross) FILTER (WHERE i.issue_date BETWEEN %s AND %s),"
        " SUM(l.quantity) FILTER (WHERE i.issue_date BETWEEN %s AND %s),"
        " COUNT(*) FILTER (WHERE i.issue_date BETWEEN %s AND %s)"
        " FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id"
        " WHERE i.status IN ('finalised', 'void')"
        " AND (i.issue_date BETWEEN %s AND %s OR i.issue_date BETWEEN %s AND %s) GROUP BY 1, 2, 3"
    )
    lines_params = [start, end] * 3 + [ly_start, ly_end] + [start, end] * 2 + periods
    shares = (
        "SELECT pol.payor_id, pay.name, SUM(CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted"
        " ELSE c.amount_claimed END), COUNT(DISTINCT c.invoice_id)"
        " FROM invoicing_claim c JOIN invoicing_invoice i ON i.id = c.invoice_id"
        " JOIN invoicing_policy pol ON pol.id = c.policy_id JOIN invoicing_payor pay ON pay.id = pol.payor_id"
        " WHERE c.direct_settlement AND c.status IN ('submitted', 'accepted', 'partly_accepted', 'settled')"
        " AND i.status IN ('finalised', 'void') AND i.issue_date BETWEEN %s AND %s GROUP BY 1, 2"
    )
    return [(docs, docs_params), (payments, payments_params), (lines, lines_params), (shares, [start, end])]


def run_sql(statements: list[tuple[str, list]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()


def explain(title: str, sql: str, params: list) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        shown = cursor.mogrify(sql, params)
    shown = shown.decode() if isinstance(shown, bytes) else shown
    return f"## {title}\n\n```sql\n{shown.strip()}\n```\n\n```\n{plan}\n```\n"


def explain_captured(title: str, call, table: str) -> list[str]:
    """The plans of the statements ``call`` sends that read ``table`` (as sent: the ORM's own SQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    plans = []
    for number, query in enumerate(q["sql"] for q in captured.captured_queries if table in q["sql"]):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        plans.append(f"## {title}: statement {number + 1} ({table})\n\n```sql\n{query}\n```\n\n```\n{plan}\n```\n")
    return plans


def bench_dashboard_and_revenue_pages(http, manager, cases, *, samples: int) -> list[Result]:
    """The manager's home (the dashboard) and its figures, and the revenue page for each period of ``cases``, as
    the manager: what a manager waits for (issue 14: the dashboard instant, a report costing what its period
    asks)."""
    from bench.run import get_ok
    from reports.builders.dashboard import dashboard_figures

    figures = Result("dashboard figures (reports.builders.dashboard.dashboard_figures)")
    home = Result("GET / as the manager (the dashboard)")
    dashboard_figures(manager)
    get_ok(http, "/")()
    for _ in range(samples):
        measure(figures, lambda: dashboard_figures(manager))
        measure(home, get_ok(http, "/"))
    out = [figures, home]
    from invoicing.models import Payor

    payor = Payor.objects.order_by("pk").first()
    pages = [(name.removeprefix("revenue, "), start, end, grain, "") for name, start, end, grain, _ in cases]
    if payor is not None:  # the one filter still read from the documents: the claimed ones
        name, start, end, grain, _ = pages[-1]
        pages.append((f"{name}, one payor", start, end, grain, f"&payor={payor.pk}"))
    for name, start, end, grain, extra in pages:
        page = Result(f"GET /reports/revenue/, {name}")
        call = get_ok(http, f"/reports/revenue/?start={start}&end={end}&grain={grain}{extra}")
        call()
        for _ in range(samples):
            measure(page, call)
        page.note = f"{start} to {end}"
        out.append(page)
    return out


def bench_reports(args) -> tuple[list[Result], dict[str, str], str]:
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from invoicing.models import Invoice, InvoiceLine
    from reports.base import REPORTS, ReportParams
    from reports.builders.dashboard import dashboard_figures
    from reports.builders.receivables import client_open_items_sql
    from vetpms.models import User

    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    runs = max(3, args.repeat // 8)
    cases = [
        ("revenue, one month by day", last_month_end.replace(day=1), last_month_end, "day", MONTH_MS),
        ("revenue, one year by month", last_month_end.replace(year=last_month_end.year - 1) + dt.timedelta(days=1),
         last_month_end, "month", YEAR_MS),
        ("revenue, ten years by month", month_start.replace(year=month_start.year - 10), last_month_end, "month",
         TEN_YEARS_MS),
    ]  # fmt: skip
    results: list[Result] = []
    build = REPORTS["revenue"].build
    for name, start, end, grain, target in cases:
        params = ReportParams(start, end, grain)  # type: ignore[arg-type]
        build(params)  # warm the cache once, for both
        ours, theirs = (
            Result(f"{name} (reports.builders.revenue)"),
            Result("  same figures, hand-written SQL on the lines"),
        )
        statements = hand_written_revenue(start, end, grain)
        for _ in range(runs):  # alternate, so both see the same machine
            measure(ours, lambda params=params: build(params))
            measure(theirs, lambda statements=statements: run_sql(statements))
        ours.target = f"p95 <= {target:.0f} ms"
        ours.ok = ours.p95 <= target
        ours.note = f"{start} to {end}; the lines' SQL / builder p50 = {theirs.p50 / ours.p50:.1f}x"
        theirs.note = f"{len(statements)} statements over the documents, lines and payments"
        results += [ours, theirs]

    receivables = Result(
        "receivables as of today (reports.builders.receivables)", target=f"p95 <= {RECEIVABLES_MS:.0f} ms"
    )
    build_receivables = REPORTS["receivables"].build
    params = ReportParams(month_start, today)
    build_receivables(params)
    for _ in range(runs):
        measure(receivables, lambda: build_receivables(params))
    receivables.ok = receivables.p95 <= RECEIVABLES_MS
    results.append(receivables)

    http = HttpClient()
    manager = User.objects.get(username="manager")
    http.force_login(manager)
    http.get("/reports/")
    results += bench_dashboard_and_revenue_pages(http, manager, cases, samples=max(runs, PAGE_SAMPLES))
    year_start = last_month_end.replace(year=last_month_end.year - 1) + dt.timedelta(days=1)
    for name in REPORTS:
        query = f"?start={year_start}&end={last_month_end}" if name != "day_sheet" else f"?start={today}&end={today}"
        page = Result(f"GET /reports/{name}/ (a year{', today' if name == 'day_sheet' else ''})",
                      target=f"<= {PAGE_QUERIES} queries")  # fmt: skip
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = http.get(f"/reports/{name}/{query}")
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"/reports/{name}/ answered {response.status_code}")
            page.add(elapsed, len(captured.captured_queries))
        page.ok = max(page.queries) <= PAGE_QUERIES
        results.append(page)

    ten_start, ten_end = cases[2][1], cases[2][2]
    doc_sql, line_sql = (
        hand_written_revenue(ten_start, ten_end, "month")[0],
        hand_written_revenue(ten_start, ten_end, "month")[2],
    )
    ten_years = ReportParams(ten_start, ten_end, "month")  # type: ignore[arg-type]
    plans = [
        "# Query plans of the reports\n\n"
        "Made by `python -m bench --only reports` (bench/reports.py) on the practice-scale data: `EXPLAIN (ANALYZE, "
        "BUFFERS)` of the heaviest statements. First the revenue report's statements as the builder sends them for "
        "ten years by month (from the revenue summaries: whole months from `invoicing_revenuemonth`, the days at "
        "the ends from `invoicing_revenueday`, payments from `invoicing_paymentday`) and the manager's dashboard's; "
        "then, for comparison, the same figures from the documents and lines (what a payor filter still reads, "
        "and what the report read before the summaries), and the receivables.\n",
        *explain_captured("Revenue, ten years by month", lambda: build(ten_years), "invoicing_revenue"),
        *explain_captured("Revenue, ten years by month", lambda: build(ten_years), "invoicing_paymentday"),
        *explain_captured("Dashboard", lambda: dashboard_figures(manager), "invoicing_"),
        explain("Revenue from the documents: by month, this period and a year before", *doc_sql),
        explain("Revenue from the lines: by vet, category and product (the three breakdowns from one scan)", *line_sql),
        explain(
            "Receivables as of today: open items through the list of open invoices",
            *client_open_items_sql(today, open_list=True),
        ),
        explain(
            "Receivables as of an earlier day: open items from every invoice",
            *client_open_items_sql(last_month_end),
        ),
    ]
    facts = {
        "documents": f"{Invoice.objects.count():,} ({InvoiceLine.objects.count():,} lines)",
        "runs per measure": str(runs),
    }
    return results, facts, "\n".join(plans)
