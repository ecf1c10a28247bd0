"""Opening balances carried over from the system used before are marked, so revenue leaves them out. The ones
already carried over are found by the description their service wrote; when there are any, the revenue summaries
are filled again without them (the statements as they stand, so later code cannot change this migration)."""

from importlib import import_module

from django.db import migrations, models

# SQLite adds a NOT NULL column by copying the table: its frozen-document triggers (migration 0002), which name
# the invoice table, are dropped for the copy and made again after it.
frozen = import_module("invoicing.migrations.0002_frozen_documents")


def sqlite_triggers_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in frozen.SQLITE_BACKWARD:
            schema_editor.execute(statement)


def sqlite_triggers_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in frozen.SQLITE_FORWARD:
            schema_editor.execute(statement)


MARK = """
    UPDATE invoicing_invoice SET opening_balance = %s
     WHERE kind = 'invoice' AND notes LIKE 'Opening balance brought forward from %%'
       AND id IN (SELECT invoice_id FROM invoicing_invoiceline
                   WHERE description LIKE 'Opening balance brought forward from %%')
"""


def mark(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(MARK, [True])
        if not cursor.rowcount:
            return
        month = (
            "CAST(DATE_TRUNC('month', day) AS date)"
            if connection.vendor == "postgresql"
            else "DATE(day, 'start of month')"
        )
        figures = "net, tax, gross, quantity, lines"
        cursor.execute("DELETE FROM invoicing_revenueday")
        cursor.execute("DELETE FROM invoicing_revenuemonth")
        cursor.execute(
            f"""
            INSERT INTO invoicing_revenueday (day, kind, vet_key, category, product_key, {figures})
            SELECT i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0),
                   SUM(l.net), SUM(l.tax), SUM(l.gross), SUM(l.quantity), COUNT(*)
              FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id
              LEFT JOIN invoicing_invoice c ON c.id = i.credits_id
             WHERE i.status IN ('finalised', 'void') AND NOT i.opening_balance
               AND (c.id IS NULL OR NOT c.opening_balance)
             GROUP BY i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0)
            """
        )
        cursor.execute(
            f"""
            INSERT INTO invoicing_revenuemonth (month, kind, vet_key, category, product_key, {figures})
            SELECT {month}, kind, vet_key, category, product_key,
                   SUM(net), SUM(tax), SUM(gross), SUM(quantity), SUM(lines)
              FROM invoicing_revenueday
             GROUP BY {month}, kind, vet_key, category, product_key
            """
        )


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0014_client_balances"),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_off, sqlite_triggers_on),
        migrations.AddField(
            model_name="invoice",
            name="opening_balance",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Carries over what the client owed in the system used before (invoicing.services."
                "opening_balance_record): owed money, counted in balances and receivables, never revenue.",
            ),
        ),
        migrations.RunPython(sqlite_triggers_on, sqlite_triggers_off),
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
