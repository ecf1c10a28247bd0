"""Each client's balance beside the documents (invoicing.balances), filled from what is already there; new
databases start empty and the services keep it. The statement is written out as it stood, so later changes to the
code cannot change this migration."""

import django.db.models.deletion
from django.db import migrations, models

SQL = """
    INSERT INTO invoicing_clientbalance (client_id, balance)
    SELECT client_id, ROUND(SUM(amount), 2) FROM (
        SELECT client_id, gross_total AS amount FROM invoicing_invoice WHERE status IN ('finalised', 'void')
        UNION ALL
        SELECT i.client_id,
               -(CASE WHEN c.amount_accepted IS NOT NULL THEN c.amount_accepted ELSE c.amount_claimed END)
          FROM invoicing_claim c JOIN invoicing_invoice i ON i.id = c.invoice_id
         WHERE c.direct_settlement AND c.status IN ('submitted', 'accepted', 'partly_accepted', 'settled')
        UNION ALL
        SELECT client_id, CASE WHEN kind = 'payment' THEN -amount ELSE amount END FROM invoicing_payment
         WHERE client_id IS NOT NULL AND voided_at IS NULL
    ) entries
    GROUP BY client_id HAVING ABS(SUM(amount)) > 0.004
"""


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0005_search_prefix_indexes"),
        ("invoicing", "0013_list_order_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientBalance",
            fields=[
                (
                    "client",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="clients.client",
                    ),
                ),
                ("balance", models.DecimalField(decimal_places=2, max_digits=12)),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
