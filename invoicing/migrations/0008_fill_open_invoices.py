"""Fill the list of open invoices from what is already there (new databases start empty and the services keep it).

The statement is written out here, as it stood, so that later changes to the code cannot change this migration."""

from django.db import migrations

SQL = """
    INSERT INTO invoicing_openinvoice (invoice_id, client_id)
    SELECT i.id, i.client_id FROM invoicing_invoice i
      LEFT JOIN (SELECT invoice_id, SUM(amount) AS total FROM invoicing_allocation WHERE claim_id IS NULL
                  GROUP BY invoice_id) pd ON pd.invoice_id = i.id
      LEFT JOIN (SELECT credits_id AS invoice_id, SUM(gross_total) AS total FROM invoicing_invoice
                  WHERE credits_id IS NOT NULL AND status IN ('finalised', 'void') GROUP BY credits_id) c
             ON c.invoice_id = i.id
      LEFT JOIN (SELECT invoice_id,
                        SUM(CASE WHEN amount_accepted IS NOT NULL THEN amount_accepted ELSE amount_claimed END) AS total
                   FROM invoicing_claim
                  WHERE direct_settlement AND status IN ('submitted', 'accepted', 'partly_accepted', 'settled')
                  GROUP BY invoice_id) ins ON ins.invoice_id = i.id
     WHERE i.kind = 'invoice' AND i.status IN ('finalised', 'void')
       AND i.gross_total + COALESCE(c.total, 0) - COALESCE(ins.total, 0) - COALESCE(pd.total, 0) > 0.004
"""


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM invoicing_openinvoice")
        cursor.execute(SQL)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0007_open_invoices")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
