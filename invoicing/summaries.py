"""Revenue summaries (invoicing.models.RevenueDay, RevenueMonth, PaymentDay): the issued documents' lines and the
payments added up per day and per month, so the revenue report and the manager's dashboard read a few thousand rows
for any period instead of two million lines.

They are kept in the same transaction as the change that moves them, whatever service made it:
- a document issued (an invoice or a credit note: ``document_finalised``) adds its lines, grouped by kind, vet,
  category and product, to the row of its issue date and to the row of that month (but for an opening balance
  carried over from the system used before, or a credit note of one: owed money, not revenue);
- a payment or refund recorded (Payment's post_save on creation) adds its amount to its day, by kind and payor;
  a payment voided (invoicing.services.payment_void: the one save of a recorded payment) takes it off again.
Each is an upsert that adds (INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x), so two transactions
issuing on the same day never overwrite each other: the second waits for the first's row lock and adds to what
it committed. Nothing else can move the figures: issued documents are frozen (a void invoice keeps its amounts
and is cancelled by its credit note), and so are payments but for being voided. Bulk loads (the practice-scale
seed), the migration that created the tables and a repair (``manage.py rebuild_revenue_summaries``) call
``rebuild()``, which leaves voided payments out.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F

from invoicing.models import Invoice, InvoiceLine, Payment, PaymentDay, RevenueDay, RevenueMonth

LINE_FIGURES = ("net", "tax", "gross", "quantity", "lines")


def _adding(table: str, figures: tuple[str, ...]) -> str:
    return ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in figures)


def add_document(invoice: Invoice) -> None:
    """Add an issued document's lines to its day and its month (two statements)."""
    lines = InvoiceLine._meta.db_table
    day = invoice.issue_date
    if day is None:
        raise ValueError(f"{invoice} is not issued: a draft has no figures.")
    if is_opening_balance(invoice):
        return
    for model, column, value in ((RevenueDay, "day", day), (RevenueMonth, "month", day.replace(day=1))):
        table = model._meta.db_table
        sql = f"""
            INSERT INTO {table} ({column}, kind, vet_key, category, product_key, net, tax, gross, quantity, lines)
            SELECT %s, %s, COALESCE(vet_id, 0), category, COALESCE(product_id, 0),
                   SUM(net), SUM(tax), SUM(gross), SUM(quantity), COUNT(*)
              FROM {lines} WHERE invoice_id = %s
             GROUP BY COALESCE(vet_id, 0), category, COALESCE(product_id, 0)
            ON CONFLICT ({column}, kind, vet_key, category, product_key)
            DO UPDATE SET {_adding(table, LINE_FIGURES)}
        """  # noqa: S608 - table names from the models; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [value, invoice.kind, invoice.pk])


def is_opening_balance(invoice: Invoice) -> bool:
    """A balance carried over from the system used before, or a credit note of one: money owed from before the
    practice used VetPMS, in the balances and receivables but not revenue of the day it was carried over."""
    if invoice.opening_balance:
        return True
    return (
        invoice.credits_id is not None and Invoice.objects.filter(pk=invoice.credits_id, opening_balance=True).exists()
    )


def add_payment(payment: Payment) -> None:
    """Add a payment or refund to its day."""
    table = PaymentDay._meta.db_table
    sql = f"""
        INSERT INTO {table} (day, kind, payor_key, amount, payments) VALUES (%s, %s, %s, %s, 1)
        ON CONFLICT (day, kind, payor_key) DO UPDATE SET {_adding(table, ("amount", "payments"))}
    """  # noqa: S608 - the model's table name; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [payment.received_on, payment.kind, payment.payor_id or 0, payment.amount])


def take_off_payment(payment: Payment) -> None:
    """Take a voided payment off its day (its row is there: the payment was added when it was recorded)."""
    PaymentDay.objects.filter(day=payment.received_on, kind=payment.kind, payor_key=payment.payor_id or 0).update(
        amount=F("amount") - payment.amount, payments=F("payments") - 1
    )


def _month_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(DATE_TRUNC('month', {column}) AS date)"
    return f"DATE({column}, 'start of month')"


def rebuild_sql() -> list[tuple[str, list]]:
    """The statements that fill the three tables from the documents and payments (emptied first)."""
    from invoicing.selectors import ISSUED

    t = {
        "day": RevenueDay._meta.db_table,
        "month": RevenueMonth._meta.db_table,
        "payments": PaymentDay._meta.db_table,
        "invoice": Invoice._meta.db_table,
        "line": InvoiceLine._meta.db_table,
        "payment": Payment._meta.db_table,
    }
    issued = ", ".join(["%s"] * len(ISSUED))
    figures = "net, tax, gross, quantity, lines"
    return [
        (f"DELETE FROM {t['day']}", []),  # noqa: S608 - the models' table names
        (f"DELETE FROM {t['month']}", []),  # noqa: S608
        (f"DELETE FROM {t['payments']}", []),  # noqa: S608
        (
            f"""
            INSERT INTO {t["day"]} (day, kind, vet_key, category, product_key, {figures})
            SELECT i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0),
                   SUM(l.net), SUM(l.tax), SUM(l.gross), SUM(l.quantity), COUNT(*)
              FROM {t["line"]} l JOIN {t["invoice"]} i ON i.id = l.invoice_id
              LEFT JOIN {t["invoice"]} c ON c.id = i.credits_id
             WHERE i.status IN ({issued}) AND NOT i.opening_balance AND (c.id IS NULL OR NOT c.opening_balance)
             GROUP BY i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0)
            """,  # noqa: S608 - table names from the models; values are parameters
            list(ISSUED),
        ),
        (
            f"""
            INSERT INTO {t["month"]} (month, kind, vet_key, category, product_key, {figures})
            SELECT {_month_of("day")}, kind, vet_key, category, product_key,
                   SUM(net), SUM(tax), SUM(gross), SUM(quantity), SUM(lines)
              FROM {t["day"]}
             GROUP BY {_month_of("day")}, kind, vet_key, category, product_key
            """,  # noqa: S608 - table names from the models
            [],
        ),
        (
            f"""
            INSERT INTO {t["payments"]} (day, kind, payor_key, amount, payments)
            SELECT received_on, kind, COALESCE(payor_id, 0), SUM(amount), COUNT(*)
              FROM {t["payment"]}
             WHERE voided_at IS NULL
             GROUP BY received_on, kind, COALESCE(payor_id, 0)
            """,  # noqa: S608 - table names from the models
            [],
        ),
    ]


def rebuild() -> dict[str, int]:
    """Empty the summaries and fill them from the documents and payments; returns how many rows each holds."""
    with connection.cursor() as cursor:
        for sql, params in rebuild_sql():
            cursor.execute(sql, params)
    return {
        "days": RevenueDay.objects.count(),
        "months": RevenueMonth.objects.count(),
        "payment days": PaymentDay.objects.count(),
    }


# --- signal receivers (connected in InvoicingConfig.ready) -------------------------------------------------------


def on_document_finalised(sender, invoice: Invoice, **kwargs) -> None:
    add_document(invoice)


def on_payment_saved(sender, instance: Payment, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    if created and instance.voided_at is None:
        add_payment(instance)
    elif not created and update_fields and "voided_at" in update_fields and instance.voided_at is not None:
        # A recorded payment is saved again only when it is voided (Payment.save refuses anything else), once:
        # payment_void refuses a payment already void, under its row lock.
        take_off_payment(instance)
