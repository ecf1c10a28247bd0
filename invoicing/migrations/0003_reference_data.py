"""Tax categories with today's UK rates (editable by managers; rates have validity dates)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

CATEGORIES = [("standard", "Standard", "20.00"), ("reduced", "Reduced", "5.00"), ("zero", "Zero-rated", "0.00")]


def seed(apps, schema_editor):
    TaxCategory = apps.get_model("invoicing", "TaxCategory")
    TaxRate = apps.get_model("invoicing", "TaxRate")
    for code, name, rate in CATEGORIES:
        category, _ = TaxCategory.objects.get_or_create(code=code, defaults={"name": name})
        TaxRate.objects.get_or_create(
            category=category, valid_from=dt.date(2011, 1, 4), defaults={"rate": Decimal(rate)}
        )


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_frozen_documents")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
