"""The vet's day list flags each pet's overdue reminders and its owner's unpaid balance (DESIGN.md 2.2), through
the appointments.flags registry, in a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.services import appointment_book
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reminders.models import ReminderType
from reminders.services import reminder_create
from tests.appointments.conftest import at
from tests.factories import AnimalFactory, species

pytestmark = pytest.mark.django_db


@pytest.fixture
def rabies_type():
    return ReminderType.objects.create(
        name="Rabies", interval=12, interval_unit="months", stages=[0], subject="{pets}", body_text="{items}"
    )


def test_day_list_shows_overdue_reminders_and_unpaid_balances(
    as_receptionist, vet, consult, receptionist, manager, monday, rabies_type, consult_fee
):
    late = AnimalFactory(name="Late", species=species("Dog"))
    owing = AnimalFactory(name="Owing")
    clear = AnimalFactory(name="Clear", species=species("Dog"))
    reminder_create(
        animal=late, reminder_type=rabies_type, due_on=timezone.localdate() - dt.timedelta(days=3), by=manager
    )
    reminder_create(
        animal=clear, reminder_type=rabies_type, due_on=timezone.localdate() + dt.timedelta(days=3), by=manager
    )
    invoice = invoice_draft_for(client=owing.owner, by=receptionist)
    invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=Decimal(1), animal=owing)
    invoice_finalise(invoice=invoice, by=receptionist)
    for i, animal in enumerate((late, owing, clear)):
        appointment_book(animal=animal, vet=vet, type=consult, start=at(monday, 9 + i), by=receptionist)

    body = as_receptionist.get(reverse("appointments:day_list"), {"vet": vet.pk, "date": monday}).content.decode()
    rows = {name: body.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0] for name in ("Late", "Owing", "Clear")}
    assert "1 reminder overdue" in rows["Late"] and "Owes" not in rows["Late"]
    assert "Owes £54.00" in rows["Owing"] and reverse("invoicing:account", args=[owing.owner_id]) in rows["Owing"]
    assert "overdue" not in rows["Clear"] and "Owes" not in rows["Clear"]


def test_a_user_without_the_permissions_sees_no_flags(client, vet, consult, receptionist, manager, monday, rabies_type):
    from tests.factories import UserFactory
    from vetpms.models import Role

    late = AnimalFactory(name="Late", species=species("Dog"))
    reminder_create(
        animal=late, reminder_type=rabies_type, due_on=timezone.localdate() - dt.timedelta(days=3), by=manager
    )
    appointment_book(animal=late, vet=vet, type=consult, start=at(monday, 9), by=receptionist)
    viewer = UserFactory(username="viewer", role=Role.VET)
    viewer.groups.clear()
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(viewer)
    body = client.get(reverse("appointments:day_list"), {"vet": vet.pk, "date": monday}).content.decode()
    assert ">Late</a>" in body and "overdue" not in body
