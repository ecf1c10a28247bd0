"""An index in the invoice list's order.

The list is ordered by issue date (drafts first), number and id, newest first. Without an index in that order every
page sorted all documents (500k at practice scale: an external sort on disk, about 0.3 s a page before rendering);
read backwards, a btree on (issue_date, number, id) gives exactly ``issue_date DESC NULLS FIRST, number DESC, id
DESC``, so a page is the next rows of the index. Measured by bench/invoicing.py; plans in docs/explain/invoicing.md.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0005_roles")]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["issue_date", "number", "id"], name="invoice_list_order_idx"),
        ),
    ]
