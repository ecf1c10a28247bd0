"""Shared by the import and export tests: reminder types a practice sets up, and emptying the practice's records
(clients, animals and all that hangs on them) while its set-up stays (staff, vets and their hours, appointment and
reminder types, tax categories): what "an empty VetPMS" is to an import, since an export carries no set-up."""

from __future__ import annotations

import pytest
from django.db import connection

from animals.models import Animal, Ownership, Weight
from appointments.models import Appointment, AppointmentEvent
from clients.models import Client
from clinical.models import Vaccination
from exchange.models import ImportedRecord
from invoicing.models import Allocation, Invoice, InvoiceLine, OpenInvoice, Payment, Product
from reminders.models import ProductReminder, Reminder, ReminderType
from reminders.services import reminder_type_save


@pytest.fixture
def rabies_type(rabies, manager):
    """Yearly rabies vaccination, renewed by the rabies vaccine (the reminders' product link)."""
    return reminder_type_save(
        by=manager,
        data={
            "name": "Rabies vaccination",
            "interval": 12,
            "interval_unit": ReminderType.Unit.MONTHS,
            "stages": [-14, 0, 30],
            "subject": "{pets}: vaccination due",
            "body_text": "Dear {owner_name}, {items}",
        },
        products=[rabies],
    )


@pytest.fixture
def worming(db):
    return ReminderType.objects.create(
        name="Worming", interval=3, interval_unit="months", stages=[0], subject="{pets}", body_text="{items}"
    )


def wipe_practice() -> None:
    """Delete every client, animal, vaccination, reminder, appointment, document, payment and product. Issued
    documents refuse deletion by trigger on PostgreSQL (as they should): the test connection, a superuser, turns
    triggers off for these deletes only."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        for model in (
            ImportedRecord,
            Reminder,
            Vaccination,
            AppointmentEvent,
            Appointment,
            Allocation,
            Payment,
            OpenInvoice,
            InvoiceLine,
            Invoice,
            ProductReminder,
            Product,
            Weight,
            Ownership,
            Animal,
            Client,
        ):
            model.objects.all().delete()
    finally:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
