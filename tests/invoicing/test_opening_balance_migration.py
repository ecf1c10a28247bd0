"""invoicing migration 0015 on a database that already holds carried-over balances: it finds them by the
description their service wrote, marks them, and refills the revenue summaries without them."""

import datetime as dt
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

from django.db import connection

from invoicing import summaries
from invoicing.models import Invoice, RevenueDay, RevenueMonth
from invoicing.services import opening_balance_record
from tests.invoicing.conftest import new_invoice

migration = import_module("invoicing.migrations.0015_invoice_opening_balance")


def _figures(model):
    return sorted(model.objects.values_list("kind", "category", "net", "tax", "gross", "quantity", "lines"))


def test_the_migration_marks_carried_over_balances_and_takes_them_out_of_revenue(owner_pet, consult_fee, receptionist):
    client, pet = owner_pet
    sale = new_invoice(client, pet, consult_fee, receptionist)
    carried = opening_balance_record(
        client=client, amount=Decimal("123.45"), as_of=dt.date(2026, 1, 31), by=receptionist, source="OldVet"
    )
    expected_days, expected_months = _figures(RevenueDay), _figures(RevenueMonth)
    assert sum(row[4] for row in expected_days) == sale.gross_total  # the carried balance is not revenue

    # The database as it was before 0015: no mark, and the summaries counting the carried balance as a sale.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE invoicing_invoice SET opening_balance = %s", [False])
    for sql, params in summaries.rebuild_sql():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert sum(RevenueDay.objects.values_list("gross", flat=True)) == sale.gross_total + Decimal("123.45")

    migration.mark(None, SimpleNamespace(connection=connection))  # what RunPython hands it: the editor's connection

    assert set(Invoice.objects.filter(opening_balance=True).values_list("pk", flat=True)) == {carried.pk}
    assert _figures(RevenueDay) == expected_days
    assert _figures(RevenueMonth) == expected_months
