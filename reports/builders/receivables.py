"""The receivables report: what clients and insurers owe at the end of a day, by age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import ExpressionWrapper, F, Sum
from django.utils import timezone

from clients.models import Client
from invoicing.models import (
    Allocation,
    Claim,
    ClientBalance,
    Invoice,
    OpenInvoice,
    Payment,
    Payor,
    Policy,
)
from invoicing.selectors import ISSUED, MONEY, SHARING_CLAIM_STATUSES, _share_expression, sharing_claims
from reports.base import Chart, Column, ReportParams, ReportResult
from reports.builders.common import MAX_ROWS, column_totals, columns_keys, fetch_all, money, refuse_vets, result
from vetpms.money import ZERO

AGE_KEYS = ("d0_30", "d31_60", "d61_90", "d90")
AGE_LABELS = ("0-30 days", "31-60 days", "61-90 days", "Over 90 days")


def _tables() -> dict[str, str]:
    return {
        "invoice": Invoice._meta.db_table,
        "claim": Claim._meta.db_table,
        "policy": Policy._meta.db_table,
        "allocation": Allocation._meta.db_table,
        "payment": Payment._meta.db_table,
    }


def _in_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # constants from the models' choices, never user input


def _age_cases(column: str, amount: str, as_of: dt.date) -> tuple[str, list]:
    """SUM(CASE ...) per age bucket of ``column`` (a date) as of ``as_of``: 0-30, 31-60, 61-90, 90+ days."""
    limits = [as_of - dt.timedelta(days=n) for n in (30, 60, 90)]
    sql = (
        f"SUM(CASE WHEN {column} >= %s THEN {amount} ELSE 0 END), "
        f"SUM(CASE WHEN {column} < %s AND {column} >= %s THEN {amount} ELSE 0 END), "
        f"SUM(CASE WHEN {column} < %s AND {column} >= %s THEN {amount} ELSE 0 END), "
        f"SUM(CASE WHEN {column} < %s THEN {amount} ELSE 0 END)"
    )
    return sql, [limits[0], limits[0], limits[1], limits[1], limits[2], limits[2]]


def client_open_items_sql(as_of: dt.date, *, open_list: bool = False) -> tuple[str, list]:
    """Per client: what is left to pay on each invoice issued up to ``as_of`` (invoicing.selectors.
    client_outstanding as it stood that day: gross + its credit notes - the insurers' shares - the client's
    payments allocated to it), summed by age of the invoice, and what of it is past the due date.

    Each source is summed per invoice first and joined to the invoices (one pass over each table). The client's
    allocations are those without a claim (insurers' payments are always allocated to their claim:
    invoicing.services), all of them, less those of payments dated after ``as_of``: for "as of today" that is
    none, and no payment has to be read.

    With ``open_list`` (as of today or later) only the invoices on invoicing's list of open invoices
    (invoicing.models.OpenInvoice, kept by the invoicing models' signals) are summed: the report then reads tens
    of thousands of rows instead of every invoice ever issued. An invoice cannot be open at the end of today
    without being on that list, which tests/invoicing/test_open_invoices.py checks."""
    t = _tables()
    issued = _in_list(ISSUED)
    sharing = _in_list(SHARING_CLAIM_STATUSES)
    ages, age_params = _age_cases("o.issue_date", "o.owed", as_of)
    if open_list:
        # The list reflects every payment and claim recorded; one dated after ``as_of`` may have closed an invoice
        # that was open that day, so those invoices are read too.
        candidates = f"""
        ), candidates AS (
            SELECT invoice_id FROM {OpenInvoice._meta.db_table}
            UNION SELECT invoice_id FROM paid_later
            UNION SELECT invoice_id FROM {t["claim"]} WHERE submitted_on > %s"""  # noqa: S608 (table names)
        only_paid = "AND a.invoice_id IN (SELECT invoice_id FROM candidates)"
        only_invoices = "AND i.id IN (SELECT invoice_id FROM candidates)"
        candidate_params = [as_of]
    else:
        candidates = only_paid = only_invoices = ""
        candidate_params = []
    sql = f"""
        WITH paid_later AS (
            SELECT a.invoice_id, SUM(a.amount) AS total FROM {t["allocation"]} a
              JOIN {t["payment"]} p ON p.id = a.payment_id
             WHERE a.claim_id IS NULL AND p.received_on > %s GROUP BY a.invoice_id{candidates}
        ), paid AS (
            SELECT a.invoice_id, SUM(a.amount) AS total FROM {t["allocation"]} a WHERE a.claim_id IS NULL {only_paid}
             GROUP BY a.invoice_id
        ), credited AS (  -- credits_id is set on credit notes only (a check constraint): read from its index
            SELECT credits_id AS invoice_id, SUM(gross_total) AS total FROM {t["invoice"]}
             WHERE credits_id IS NOT NULL AND status IN ({issued}) AND issue_date <= %s GROUP BY credits_id
        ), insured AS (
            SELECT invoice_id,
                   SUM(CASE WHEN amount_accepted IS NOT NULL THEN amount_accepted ELSE amount_claimed END) AS total
              FROM {t["claim"]}
             WHERE direct_settlement AND status IN ({sharing}) AND submitted_on <= %s GROUP BY invoice_id
        ), o AS (
            SELECT i.client_id, i.issue_date, i.due_date,
                   i.gross_total + COALESCE(c.total, 0) - COALESCE(ins.total, 0)
                   - COALESCE(pd.total, 0) + COALESCE(pl.total, 0) AS owed
              FROM {t["invoice"]} i
              LEFT JOIN paid pd ON pd.invoice_id = i.id
              LEFT JOIN paid_later pl ON pl.invoice_id = i.id
              LEFT JOIN credited c ON c.invoice_id = i.id
              LEFT JOIN insured ins ON ins.invoice_id = i.id
             WHERE i.kind = 'invoice' AND i.status IN ({issued}) AND i.issue_date <= %s {only_invoices}
        )
        SELECT o.client_id, {ages}, SUM(CASE WHEN o.due_date < %s THEN o.owed ELSE 0 END), MIN(o.due_date)
          FROM o
         WHERE o.owed > 0.004
         GROUP BY o.client_id
    """  # noqa: S608 (table names from the models, statuses from their choices; values are parameters)
    return sql, [as_of, *candidate_params, as_of, as_of, as_of, *age_params, as_of]


def client_balances_sql(as_of: dt.date) -> tuple[str, list]:
    """Per client: the balance of invoicing.selectors.client_balance(upto=as_of), for every client at once."""
    t = _tables()
    issued = _in_list(ISSUED)
    sharing = _in_list(SHARING_CLAIM_STATUSES)
    sql = f"""
        SELECT client_id, SUM(amount) FROM (
            SELECT client_id, gross_total AS amount FROM {t["invoice"]}
             WHERE status IN ({issued}) AND issue_date <= %s
            UNION ALL
            SELECT i.client_id,
                   -(CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted ELSE c.amount_claimed END)
              FROM {t["claim"]} c JOIN {t["invoice"]} i ON i.id = c.invoice_id
             WHERE c.direct_settlement AND c.status IN ({sharing}) AND c.submitted_on <= %s
            UNION ALL
            SELECT client_id, CASE WHEN kind = 'payment' THEN -amount ELSE amount END FROM {t["payment"]}
             WHERE client_id IS NOT NULL AND voided_at IS NULL AND received_on <= %s
        ) entries
        GROUP BY client_id HAVING SUM(amount) > 0.004 OR SUM(amount) < -0.004
    """  # noqa: S608 (table names from the models, statuses from their choices; values are parameters)
    return sql, [as_of, as_of, as_of]


def payor_open_items_sql(as_of: dt.date, payor_ids: tuple[int, ...]) -> tuple[str, list]:
    """Per payor: each sharing claim submitted up to ``as_of`` less what that payor paid on it by then, aged by
    the claimed invoice's issue date; past due when the invoice is."""
    t = _tables()
    sharing = _in_list(SHARING_CLAIM_STATUSES)
    ages, age_params = _age_cases("o.issue_date", "o.owed", as_of)
    payor_filter = f"AND pol.payor_id IN ({', '.join(['%s'] * len(payor_ids))})" if payor_ids else ""
    sql = f"""
        SELECT o.payor_id, {ages}, SUM(CASE WHEN o.due_date < %s THEN o.owed ELSE 0 END), COUNT(*)
          FROM (
            SELECT pol.payor_id, i.issue_date, i.due_date,
                   (CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted ELSE c.amount_claimed END)
                   - COALESCE((SELECT SUM(a.amount) FROM {t["allocation"]} a JOIN {t["payment"]} p
                                ON p.id = a.payment_id
                                WHERE a.claim_id = c.id AND p.received_on <= %s), 0) AS owed
              FROM {t["claim"]} c
              JOIN {t["policy"]} pol ON pol.id = c.policy_id
              JOIN {t["invoice"]} i ON i.id = c.invoice_id
             WHERE c.direct_settlement AND c.status IN ({sharing}) AND c.submitted_on <= %s {payor_filter}
          ) o
         WHERE o.owed > 0.004
         GROUP BY o.payor_id
    """  # noqa: S608 (table names from the models, statuses from their choices; values are parameters)
    return sql, [*age_params, as_of, as_of, as_of, *payor_ids]


@dataclass
class Receivables:
    as_of: dt.date
    clients: dict[int, dict[str, Any]]  # client id -> ages, credit, balance, overdue, oldest_due
    payors: dict[int, dict[str, Any]]

    @property
    def overdue_total(self) -> Decimal:
        return sum((c["overdue"] for c in self.clients.values()), ZERO) + sum(
            (p["overdue"] for p in self.payors.values()), ZERO
        )


def receivables_as_of(as_of: dt.date, payor_ids: tuple[int, ...] = ()) -> Receivables:
    """Clients' and insurers' balances as they stood at the end of ``as_of`` (three queries). As of today (or
    later) the clients' come from the lists kept beside the documents (open invoices, clients' balances), so the
    cost follows the clients who owe or are in credit, not the years of history."""
    clients: dict[int, dict[str, Any]] = {}
    today = timezone.localdate()
    for client_id, *figures in fetch_all(*client_open_items_sql(as_of, open_list=as_of >= today)):
        ages = [money(v) for v in figures[:4]]
        clients[client_id] = {
            **dict(zip(AGE_KEYS, ages, strict=True)),
            "open": sum(ages, ZERO),
            "overdue": money(figures[4]),
            "oldest_due": figures[5] if not isinstance(figures[5], str) else dt.date.fromisoformat(figures[5]),
        }
    if as_of >= today:  # nothing can be dated after today: the balances kept beside the documents are those
        balances = dict(ClientBalance.objects.values_list("client_id", "balance"))
    else:
        balances = {client_id: money(total) for client_id, total in fetch_all(*client_balances_sql(as_of))}
    empty = {**dict.fromkeys(AGE_KEYS, ZERO), "open": ZERO, "overdue": ZERO, "oldest_due": None}
    for client_id in set(clients) | set(balances):
        row = clients.setdefault(client_id, dict(empty))
        row["balance"] = balances.get(client_id, ZERO)
        # Payments not allocated to an open invoice, refunds, over-credited invoices: the balance less the open
        # items, so a client's row adds up to the balance their account page shows.
        row["credit"] = row["balance"] - row["open"]
    payors: dict[int, dict[str, Any]] = {}
    for payor_id, *figures in fetch_all(*payor_open_items_sql(as_of, payor_ids)):
        ages = [money(v) for v in figures[:4]]
        payors[payor_id] = {
            **dict(zip(AGE_KEYS, ages, strict=True)),
            "balance": sum(ages, ZERO),
            "overdue": money(figures[4]),
            "claims": figures[5],
        }
    return Receivables(as_of=as_of, clients=clients, payors=payors)


def overdue_now(today: dt.date) -> Decimal:
    """What clients and insurers owe past the due date with everything recorded up to now: the clients' share from
    the list of open invoices, which keeps what each still owes (invoicing.open_invoices), and the insurers' from
    their claims' share less what they paid on it (Claim.amount_paid, kept by claim_settle). Two small queries,
    where receivables_as_of(today) settles every client's balance and every claim's allocations. The two agree
    (tests/reports/test_summaries.py), since no payment, refund or claim can be dated after today."""
    clients = OpenInvoice.objects.filter(due_date__lt=today).aggregate(total=Sum("owed"))["total"]
    insurers = (
        sharing_claims()
        .filter(submitted_on__lte=today, invoice__due_date__lt=today)
        .annotate(owed=ExpressionWrapper(_share_expression() - F("amount_paid"), output_field=MONEY))
        .filter(owed__gt=0)
        .aggregate(total=Sum("owed"))["total"]
    )
    return money(clients) + money(insurers)


AGE_COLUMNS = [Column(k, label, "money") for k, label in zip(AGE_KEYS, AGE_LABELS, strict=True)]


def receivables(params: ReportParams) -> ReportResult:
    refuse_vets(params)
    as_of = params.end
    data = receivables_as_of(as_of, params.payor_ids)
    notes = [
        f"Balances as they stood at the end of {as_of.day} {as_of:%b %Y}. Aged by the invoice's issue date "
        "(payment terms are counted from it, so the first column is mostly not yet due); 'overdue' is what is "
        "past its due date.",
    ]
    if params.vet_ids or params.categories:
        notes.append("Receivables are owed per invoice, not per vet or category: those filters do not apply here.")
    client_rows = sorted(data.clients.items(), key=lambda item: (-item[1]["balance"], item[0]))
    shown = [cid for cid, _ in client_rows[:MAX_ROWS]]
    overdue_ids = sorted(
        (cid for cid, row in data.clients.items() if row["overdue"] > 0), key=lambda c: -data.clients[c]["overdue"]
    )[:MAX_ROWS]
    people = Client.objects.only(
        "title", "first_name", "last_name", "organisation", "email", "mobile_phone", "home_phone", "work_phone"
    ).in_bulk(set(shown) | set(overdue_ids))
    payor_names = dict(Payor.objects.filter(pk__in=data.payors).values_list("pk", "name"))

    def totals_of(rows: Iterable[dict], keys) -> dict[str, Any]:
        return column_totals(rows, keys)

    client_totals = totals_of(data.clients.values(), [*AGE_KEYS, "credit", "balance", "overdue"])
    payor_totals = totals_of(data.payors.values(), [*AGE_KEYS, "balance", "overdue"])
    summary = []
    for who, totals in (("Clients", client_totals), ("Insurers", payor_totals)):
        summary.append(
            {
                "who": who,
                **{k: totals.get(k) or ZERO for k in AGE_KEYS},
                "credit": totals.get("credit") or ZERO,
                "balance": totals.get("balance") or ZERO,
                "overdue": totals.get("overdue") or ZERO,
            }
        )
    if params.payor_ids:
        summary[0] = {**summary[0], **dict.fromkeys([*AGE_KEYS, "credit", "balance", "overdue"], None)}
        notes.append("Filtered by payor: only those insurers' balances are shown, not the clients'.")
    columns = [
        Column("who", "Owed by"),
        *AGE_COLUMNS,
        Column("credit", "Credit and unallocated", "money"),
        Column("balance", "Balance", "money"),
        Column("overdue", "Of which overdue", "money"),
    ]
    per_payor = [
        {
            "name": payor_names.get(pid, str(pid)),
            "claims": row["claims"],
            **{k: row[k] for k in AGE_KEYS},
            "balance": row["balance"],
            "overdue": row["overdue"],
        }
        for pid, row in sorted(data.payors.items(), key=lambda item: payor_names.get(item[0], ""))
    ]
    payor_section = ReportResult(
        name="receivables",
        title="Per payor (insurers' shares not yet paid)",
        params=params,
        columns=[
            Column("name", "Payor"),
            Column("claims", "Claims", "int"),
            *AGE_COLUMNS,
            Column("balance", "Balance", "money"),
            Column("overdue", "Of which overdue", "money"),
        ],
        rows=per_payor,
        totals=totals_of(per_payor, ["claims", *AGE_KEYS, "balance", "overdue"]),
    )
    sections = [payor_section]
    if not params.payor_ids:
        per_client = [
            {
                "name": people[cid].display_name if cid in people else str(cid),
                **{k: data.clients[cid][k] for k in AGE_KEYS},
                "credit": data.clients[cid]["credit"],
                "balance": data.clients[cid]["balance"],
                "overdue": data.clients[cid]["overdue"],
            }
            for cid in shown
        ]
        client_notes = []
        if len(client_rows) > MAX_ROWS:
            client_notes.append(f"The {MAX_ROWS} largest balances of {len(client_rows):,}; the totals cover all.")
        sections.append(
            ReportResult(
                name="receivables",
                title="Per client",
                params=params,
                columns=[
                    Column("name", "Client"),
                    *AGE_COLUMNS,
                    Column("credit", "Credit and unallocated", "money"),
                    Column("balance", "Balance", "money"),
                    Column("overdue", "Of which overdue", "money"),
                ],
                rows=per_client,
                totals=client_totals,
                notes=client_notes,
            )
        )
        overdue_rows = []
        for cid in overdue_ids:
            person = people.get(cid)
            row = data.clients[cid]
            overdue_rows.append(
                {
                    "name": person.display_name if person else str(cid),
                    "phone": person.main_phone if person else "",
                    "email": person.email if person else "",
                    "oldest_due": row["oldest_due"],
                    "overdue": row["overdue"],
                    "balance": row["balance"],
                }
            )
        sections.append(
            ReportResult(
                name="receivables",
                title="Overdue clients",
                params=params,
                columns=[
                    Column("name", "Client"),
                    Column("phone", "Phone"),
                    Column("email", "Email"),
                    Column("oldest_due", "Oldest open invoice due", "date"),
                    Column("overdue", "Overdue", "money"),
                    Column("balance", "Balance", "money"),
                ],
                rows=overdue_rows,
                totals=totals_of(overdue_rows, ["overdue", "balance"]),
            )
        )
    chart = Chart(
        kind="stacked_bar",
        title="Receivables by age",
        x_label="Age of the invoice",
        y_label="Owed",
        categories=list(AGE_LABELS),
        series=[
            (str(r["who"]), [Decimal(r[k] or ZERO) for k in AGE_KEYS]) for r in summary if r["balance"] is not None
        ],
    )
    return result(
        params,
        "receivables",
        "Receivables",
        columns,
        summary,
        totals=totals_of(summary, columns_keys(columns)),
        chart=chart,
        notes=notes,
        sections=sections,
    )
