"""A household written through the services: an owner who moved house once (so an old address lives only in the
audit trail), a dog with notes, a past visit with its consultation, an issued and paid invoice, a reminder
emailed to them through a real SMTP server, and the audit entries all of that leaves.

The strings that identify the owner are unusual on purpose, so a search of every text column finds only them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from animals.services import animal_create
from appointments.models import Appointment, AppointmentStatus
from clients.models import Client
from clients.services import client_create, client_update
from clinical.services import consultation_open, consultation_save_draft, consultation_sign
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise, payment_record
from reminders import sending
from reminders.models import ReminderRun, ReminderType
from reminders.services import reminder_create
from tests.appointments.conftest import book, consult, vet  # noqa: F401 - shared fixtures
from tests.factories import species
from tests.invoicing.conftest import consult_fee, standard  # noqa: F401 - shared fixtures

FIRST, LAST = "Quentavius", "Marchbankley"
EMAIL = "q.marchbankley@example.org"
MOBILE = "07400 634502"
MOBILE_E164 = "+447400634502"
OLD_ADDRESS = "7 Quarrystone Lane"
ADDRESS = "14 Zanzibarton Crescent"
TOWN = "Wexcombury"
POSTCODE = "WX9 4QT"

# Everything that identifies the owner, in the forms it could be stored in.
NEEDLES = [FIRST, LAST, EMAIL, MOBILE, MOBILE_E164, "07400634502", "447400634502", OLD_ADDRESS, ADDRESS, TOWN, POSTCODE]


@dataclass
class Household:
    owner: Client
    dog: object
    past_visit: Appointment
    consultation: object
    invoice: object
    payment: object
    reminder: object


def make_owner(receptionist, **extra) -> Client:
    data = dict(
        title="Mr",
        first_name=FIRST,
        last_name=LAST,
        email=EMAIL,
        mobile_phone=MOBILE,
        address_line1=OLD_ADDRESS,
        town=TOWN,
        postcode=POSTCODE,
        reminder_consent=True,
        notes=f"Call {FIRST} after 5pm.",
    )
    data.update(extra)
    owner = client_create(by=receptionist, **data)
    return client_update(client=owner, by=receptionist, data={"address_line1": ADDRESS})


@pytest.fixture
def reminder_type(db):
    return ReminderType.objects.create(
        name="Booster",
        interval=12,
        interval_unit="months",
        stages=[0],
        subject="Reminder for {owner_name}: {pets}",
        body_text="Dear {owner_first_name}, {items}",
    )


@pytest.fixture
def household(smtp_server, receptionist, vet_user, manager, book, consult_fee, reminder_type):  # noqa: F811
    owner = make_owner(receptionist)
    dog = animal_create(
        by=receptionist, owner=owner, name="Biscuit", species=species("Dog"), notes=f"{LAST}s' neighbour feeds him."
    )
    # Booked through the service (bookings in the past are refused), then moved to last month as the visit it was.
    start = timezone.now() + dt.timedelta(days=3)
    visit = book(start.replace(hour=10, minute=0, second=0, microsecond=0), animal=dog, notes=f"Ring {MOBILE}")
    past = timezone.now() - dt.timedelta(days=30)
    Appointment.objects.filter(pk=visit.pk).update(
        start=past, end=past + dt.timedelta(minutes=30), status=AppointmentStatus.COMPLETED
    )
    consultation = consultation_open(animal=dog, by=vet_user)
    consultation_save_draft(
        consultation=consultation,
        by=vet_user,
        data={"complaint": "Limping on the left fore", "plan": "Rest for a week"},
    )
    consultation = consultation_sign(consultation=consultation, by=vet_user)
    invoice = invoice_draft_for(client=owner, by=receptionist)
    invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=Decimal(1), animal=dog)
    invoice = invoice_finalise(invoice=invoice, by=receptionist)
    payment = payment_record(client=owner, amount=invoice.gross_total, method="card", by=receptionist)
    reminder = reminder_create(animal=dog, reminder_type=reminder_type, due_on=timezone.localdate(), by=manager)
    run = ReminderRun.objects.create(trigger=ReminderRun.Trigger.MANUAL, for_date=timezone.localdate())
    sending.execute_run(run_id=run.pk)
    assert len(smtp_server.messages) == 1  # the reminder really went to the owner
    owner.refresh_from_db()
    return Household(owner, dog, visit, consultation, invoice, payment, reminder)
