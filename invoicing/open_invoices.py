"""The list of open invoices (invoicing.models.OpenInvoice): which issued invoices still have something for the
client to pay, and how much. The receivables report reads it for "as of today" instead of settling every invoice
ever issued; the manager's dashboard adds up what is overdue from it.

It is kept in step by the models' own save and delete signals (connected in InvoicingConfig.ready), so every path
that changes what a client owes on an invoice refreshes it inside the same transaction, whatever service made the
change: an invoice issued, a credit note against it, a claim created, submitted, decided, settled or withdrawn, an
allocation made. Bulk loads (the practice-scale seed) and a repair call ``rebuild()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from invoicing.models import Allocation, Claim, Invoice, OpenInvoice


def refresh(invoice_ids: Iterable[int | None]) -> None:
    """Recompute whether each invoice is open (what the client owes on it is more than zero) and what it owes."""
    from invoicing.selectors import ISSUED, client_outstanding

    ids = {pk for pk in invoice_ids if pk is not None}
    if not ids:
        return
    for invoice in Invoice.objects.filter(pk__in=ids, kind=Invoice.Kind.INVOICE, status__in=ISSUED):
        owed = client_outstanding(invoice)
        if owed > 0:
            OpenInvoice.objects.update_or_create(
                invoice=invoice, defaults={"client_id": invoice.client_id, "owed": owed, "due_date": invoice.due_date}
            )
        else:
            OpenInvoice.objects.filter(invoice=invoice).delete()


def rebuild() -> int:
    """Empty the list and fill it from the documents, claims and payments in one statement; returns its size."""
    table = OpenInvoice._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - the model's table name
        cursor.execute(*rebuild_sql())
    return OpenInvoice.objects.count()


def rebuild_sql() -> tuple[str, list]:
    """INSERT ... SELECT of every issued invoice whose gross + credit notes - insurers' shares - the client's
    allocations is more than zero (invoicing.selectors.client_outstanding for all invoices at once)."""
    from invoicing.selectors import ISSUED, SHARING_CLAIM_STATUSES

    t = {
        "open": OpenInvoice._meta.db_table,
        "invoice": Invoice._meta.db_table,
        "claim": Claim._meta.db_table,
        "allocation": Allocation._meta.db_table,
    }
    issued = ", ".join(["%s"] * len(ISSUED))
    sharing = ", ".join(["%s"] * len(SHARING_CLAIM_STATUSES))
    sql = f"""
        INSERT INTO {t["open"]} (invoice_id, client_id, owed, due_date)
        SELECT i.id, i.client_id,
               i.gross_total + COALESCE(c.total, 0) - COALESCE(ins.total, 0) - COALESCE(pd.total, 0), i.due_date
          FROM {t["invoice"]} i
          LEFT JOIN (SELECT invoice_id, SUM(amount) AS total FROM {t["allocation"]} WHERE claim_id IS NULL
                      GROUP BY invoice_id) pd ON pd.invoice_id = i.id
          LEFT JOIN (SELECT credits_id AS invoice_id, SUM(gross_total) AS total FROM {t["invoice"]}
                      WHERE credits_id IS NOT NULL AND status IN ({issued}) GROUP BY credits_id) c
                 ON c.invoice_id = i.id
          LEFT JOIN (SELECT invoice_id,
                            SUM(CASE WHEN amount_accepted IS NOT NULL THEN amount_accepted ELSE amount_claimed END)
                            AS total
                       FROM {t["claim"]} WHERE direct_settlement AND status IN ({sharing}) GROUP BY invoice_id) ins
                 ON ins.invoice_id = i.id
         WHERE i.kind = 'invoice' AND i.status IN ({issued})
           AND i.gross_total + COALESCE(c.total, 0) - COALESCE(ins.total, 0) - COALESCE(pd.total, 0) > 0.004
    """  # noqa: S608 - table names from the models; values are parameters
    return sql, [*ISSUED, *SHARING_CLAIM_STATUSES, *ISSUED]


# --- signal receivers (connected in InvoicingConfig.ready) -------------------------------------------------------


def on_invoice_saved(sender, instance: Invoice, **kwargs) -> None:
    if instance.status != Invoice.Status.DRAFT:
        refresh([instance.credits_id if instance.kind == Invoice.Kind.CREDIT_NOTE else instance.pk])


def on_allocation_changed(sender, instance: Allocation, **kwargs) -> None:
    refresh([instance.invoice_id])


def on_claim_changed(sender, instance: Claim, **kwargs) -> None:
    refresh([instance.invoice_id])
