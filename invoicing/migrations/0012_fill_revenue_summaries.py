"""Fill the revenue summaries from the documents and payments already there, and what each open invoice owes (new
databases start empty and the services keep them).

The statements are written out here, as they stood, so that later changes to the code cannot change this migration."""

from django.db import migrations

LINES = """
    INSERT INTO invoicing_revenueday (day, kind, vet_key, category, product_key, net, tax, gross, quantity, lines)
    SELECT i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0),
           SUM(l.net), SUM(l.tax), SUM(l.gross), SUM(l.quantity), COUNT(*)
      FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id
     WHERE i.status IN ('finalised', 'void')
     GROUP BY i.issue_date, i.kind, COALESCE(l.vet_id, 0), l.category, COALESCE(l.product_id, 0)
"""
MONTHS = """
    INSERT INTO invoicing_revenuemonth (month, kind, vet_key, category, product_key, net, tax, gross, quantity, lines)
    SELECT {month}, kind, vet_key, category, product_key, SUM(net), SUM(tax), SUM(gross), SUM(quantity), SUM(lines)
      FROM invoicing_revenueday
     GROUP BY {month}, kind, vet_key, category, product_key
"""
PAYMENTS = """
    INSERT INTO invoicing_paymentday (day, kind, payor_key, amount, payments)
    SELECT received_on, kind, COALESCE(payor_id, 0), SUM(amount), COUNT(*)
      FROM invoicing_payment
     WHERE voided_at IS NULL
     GROUP BY received_on, kind, COALESCE(payor_id, 0)
"""
OWED = """
    UPDATE invoicing_openinvoice SET
        due_date = (SELECT i.due_date FROM invoicing_invoice i WHERE i.id = invoicing_openinvoice.invoice_id),
        owed = (SELECT i.gross_total FROM invoicing_invoice i WHERE i.id = invoicing_openinvoice.invoice_id)
             + COALESCE((SELECT SUM(c.gross_total) FROM invoicing_invoice c
                          WHERE c.credits_id = invoicing_openinvoice.invoice_id AND c.status IN ('finalised', 'void')), 0)
             - COALESCE((SELECT SUM(CASE WHEN amount_accepted IS NOT NULL THEN amount_accepted ELSE amount_claimed END)
                           FROM invoicing_claim
                          WHERE invoice_id = invoicing_openinvoice.invoice_id AND direct_settlement
                            AND status IN ('submitted', 'accepted', 'partly_accepted', 'settled')), 0)
             - COALESCE((SELECT SUM(amount) FROM invoicing_allocation
                          WHERE invoice_id = invoicing_openinvoice.invoice_id AND claim_id IS NULL), 0)
"""


def fill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    month = "CAST(DATE_TRUNC('month', day) AS date)" if postgres else "DATE(day, 'start of month')"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(LINES)
        cursor.execute(MONTHS.format(month=month))
        cursor.execute(PAYMENTS)
        cursor.execute(OWED)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0011_revenue_summaries")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
