"""One generator of CSV rows per entity of the import/export spec (``exchange.importing.columns.ENTITIES``).

Each yields dicts keyed by the spec's column names; ``cells`` turns one into the list of strings in the spec's order
and formats (ISO dates, ``yes``/``no``, money as ``1234.50``). VetPMS writes its own primary keys as source ids, so
an animal's ``owner_source_id`` is its owner's row in clients.csv. Rows are read by key in chunks of ``CHUNK``:
whatever the size of the practice, at most one chunk is in memory.

Text a spreadsheet would run as a formula (a cell starting with = + - @, tab or CR) gets a leading apostrophe, as
the reports' CSV does; only free-text columns are touched (phone numbers in E.164 start with "+", amounts with "-").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from animals.models import Animal
from appointments.models import NON_BLOCKING, Appointment
from clients.models import Client
from clinical.models import Vaccination
from exchange.importing.columns import ENTITIES, ColumnType, Entity
from invoicing.models import Product
from invoicing.selectors import client_balances
from reminders.models import Reminder
from reports.formats import neutralise
from vetpms.money import quantize_money
from vetpms.timeutils import to_local

CHUNK = 2000
FREE_TEXT = {ColumnType.TEXT, ColumnType.NAME_REF}


def by_key(queryset: QuerySet, size: int = CHUNK) -> Iterator[Any]:
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:size])
        if not rows:
            return
        yield from rows
        last = rows[-1].pk


def cell(value: Any, kind: ColumnType) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return to_local(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(quantize_money(value)) if kind == ColumnType.MONEY else format(value, "f")
    if isinstance(value, Model):
        value = value.pk
    text = str(value)
    return neutralise(text) if kind in FREE_TEXT else text


def cells(entity: Entity, row: dict[str, Any]) -> list[str]:
    return [cell(row.get(col.name), col.type) for col in entity.columns]


def clients() -> Iterator[dict[str, Any]]:
    fields = [c for c in ENTITIES["clients"].column_names if c != "source_id"]
    for client in by_key(Client.objects.only("pk", *fields)):
        row = {name: getattr(client, name) for name in fields}
        row["source_id"] = client.pk
        yield row


def animals() -> Iterator[dict[str, Any]]:
    plain = ("name", "sex", "neuter_status", "date_of_birth", "date_of_birth_estimated", "colour", "microchip")
    plain += ("alerts", "notes", "deceased_on", "is_active")
    for animal in by_key(Animal.objects.select_related("species", "breed")):
        row = {name: getattr(animal, name) for name in plain}
        row.update(
            source_id=animal.pk,
            owner_source_id=animal.owner_id,
            species=animal.species.name,
            breed=animal.breed.name if animal.breed else "",
        )
        yield row


def vaccinations() -> Iterator[dict[str, Any]]:
    plain = ("given_on", "manufacturer", "batch", "batch_expiry", "route", "site", "next_due_on")
    for vaccination in by_key(Vaccination.objects.select_related("product", "given_by")):
        row = {name: getattr(vaccination, name) for name in plain}
        row.update(
            source_id=vaccination.pk,
            animal_source_id=vaccination.animal_id,
            product_code=vaccination.product.code,
            given_by=vaccination.given_by.get_username(),
        )
        yield row


def reminders() -> Iterator[dict[str, Any]]:
    for reminder in by_key(Reminder.objects.select_related("type")):
        yield {
            "source_id": reminder.pk,
            "animal_source_id": reminder.animal_id,
            "reminder_type": reminder.type.name,
            "due_on": reminder.due_on,
            "status": reminder.status,
            "note": reminder.note,
        }


def appointments() -> Iterator[dict[str, Any]]:
    """Future appointments that still hold their time (the past lives in the consultations and invoices)."""
    future = Appointment.objects.filter(start__gte=timezone.now()).exclude(status__in=NON_BLOCKING)
    for appointment in by_key(future.select_related("vet", "type")):
        yield {
            "source_id": appointment.pk,
            "animal_source_id": appointment.animal_id,
            "vet": appointment.vet.display_name,
            "appointment_type": appointment.type.name,
            "start": appointment.start,
            "end": appointment.end,
            "duration_minutes": appointment.minutes,
            "reason": appointment.reason,
            "notes": appointment.notes,
        }


def opening_balances() -> Iterator[dict[str, Any]]:
    """Each client's balance today (documents issued, insurers' shares and payments), where it is not zero."""
    today = timezone.localdate()
    ids: list[int] = []

    def flush() -> Iterator[dict[str, Any]]:
        for client_id, balance in sorted(client_balances(client_ids=ids).items()):
            if balance.balance:
                yield {
                    "source_id": f"balance-{client_id}",
                    "client_source_id": client_id,
                    "balance": balance.balance,
                    "as_of": today,
                    "note": "Balance exported from VetPMS",
                }

    for client_id in by_key(Client.objects.only("pk")):
        ids.append(client_id.pk)
        if len(ids) == CHUNK:
            yield from flush()
            ids = []
    if ids:
        yield from flush()


def products() -> Iterator[dict[str, Any]]:
    for product in by_key(Product.objects.select_related("tax_category", "reminder_link__reminder_type")):
        link = getattr(product, "reminder_link", None)  # the reminder type a vaccine renews, if any
        yield {
            "source_id": product.pk,
            "code": product.code,
            "name": product.name,
            "category": product.category,
            "unit": product.unit,
            "unit_price": product.unit_price,
            "tax_category": product.tax_category.code,
            "is_active": product.is_active,
            "reminder_type": link.reminder_type.name if link is not None else "",
        }


ROWS: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
    "clients": clients,
    "animals": animals,
    "vaccinations": vaccinations,
    "reminders": reminders,
    "appointments": appointments,
    "opening_balances": opening_balances,
    "products": products,
}
