"""Each client's balance kept beside the documents (invoicing.models.ClientBalance): a row per client whose
account is not square, refreshed in the transaction of every change that moves it (an invoice or credit note
issued, a claim's share changing, a payment or refund recorded or voided), so the receivables report as of today
and anything else that needs "who owes what now" reads tens of thousands of rows, not every document ever issued.

The signal receivers are connected in InvoicingConfig.ready; bulk loads and a repair call ``rebuild()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from invoicing.models import Claim, ClientBalance, Invoice, Payment


def refresh(client_ids: Iterable[int | None]) -> None:
    """Recompute the balance of each client (one query for all of them) and keep a row only when it is not zero."""
    from clients.models import Client
    from invoicing.selectors import Balance, _balances

    ids = {pk for pk in client_ids if pk is not None}
    if not ids:
        return
    square = set(ids)
    for row in _balances(Client.objects.filter(pk__in=ids)):
        client_id = row.pop("pk")
        balance = Balance(**row).balance
        if balance != 0:
            square.discard(client_id)
            ClientBalance.objects.update_or_create(client_id=client_id, defaults={"balance": balance})
    if square:
        ClientBalance.objects.filter(client_id__in=square).delete()


def rebuild() -> int:
    """Empty the table and fill it from the documents, claims and payments in one statement; returns its size."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ClientBalance._meta.db_table}")  # noqa: S608 - the model's table name
        cursor.execute(*rebuild_sql())
    return ClientBalance.objects.count()


def rebuild_sql() -> tuple[str, list]:
    """INSERT ... SELECT of every client's balance that is not zero (client_balance for all clients at once)."""
    from invoicing.selectors import ISSUED, SHARING_CLAIM_STATUSES

    t = {
        "balance": ClientBalance._meta.db_table,
        "invoice": Invoice._meta.db_table,
        "claim": Claim._meta.db_table,
        "payment": Payment._meta.db_table,
    }
    issued = ", ".join(["%s"] * len(ISSUED))
    sharing = ", ".join(["%s"] * len(SHARING_CLAIM_STATUSES))
    sql = f"""
        INSERT INTO {t["balance"]} (client_id, balance)
        SELECT client_id, ROUND(SUM(amount), 2) FROM (
            SELECT client_id, gross_total AS amount FROM {t["invoice"]} WHERE status IN ({issued})
            UNION ALL
            SELECT i.client_id,
                   -(CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted ELSE c.amount_claimed END)
              FROM {t["claim"]} c JOIN {t["invoice"]} i ON i.id = c.invoice_id
             WHERE c.direct_settlement AND c.status IN ({sharing})
            UNION ALL
            SELECT client_id, CASE WHEN kind = 'payment' THEN -amount ELSE amount END FROM {t["payment"]}
             WHERE client_id IS NOT NULL AND voided_at IS NULL
        ) entries
        GROUP BY client_id HAVING ABS(SUM(amount)) > 0.004
    """  # noqa: S608 - table names from the models; values are parameters
    return sql, [*ISSUED, *SHARING_CLAIM_STATUSES]


# --- signal receivers (connected in InvoicingConfig.ready) -------------------------------------------------------


def on_invoice_saved(sender, instance: Invoice, **kwargs) -> None:
    if instance.status != Invoice.Status.DRAFT:
        refresh([instance.client_id])


def on_claim_changed(sender, instance: Claim, **kwargs) -> None:
    refresh(Invoice.objects.filter(pk=instance.invoice_id).values_list("client_id", flat=True))


def on_payment_changed(sender, instance: Payment, **kwargs) -> None:
    refresh([instance.client_id])
