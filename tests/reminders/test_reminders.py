import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from animals.services import animal_mark_deceased, animal_set_active
from appointments.models import AppointmentType
from appointments.services import appointment_book, appointment_transition
from clients.services import client_deactivate
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reminders.models import ProductReminder, Reminder, ReminderType
from reminders.services import reminder_cancel, reminder_create, reminder_type_save
from tests.appointments.conftest import at
from tests.factories import AnimalFactory, species
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_template_with_an_unknown_placeholder_is_refused_naming_it(manager):
    with pytest.raises(ValidationError) as exc:
        reminder_type_save(
            by=manager,
            data={
                "name": "FeLV",
                "interval": 1,
                "interval_unit": "months",
                "stages": [0],
                "subject": "Hello {owner_nmae}",
                "body_text": "{items}",
            },
        )
    message = " ".join(exc.value.message_dict["subject"])
    assert "{owner_nmae}" in message and "{owner_name}" in message
    assert not ReminderType.objects.filter(name="FeLV").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("interval", 0), ("stages", [400]), ("stages", [-366, 0]), ("stages", []), ("stages", [0, 0]), ("stages", ["x"])],
)
def test_bad_intervals_and_stages_are_field_errors(manager, field, value):
    data = {
        "name": "DHPP booster",
        "interval": 12,
        "interval_unit": "months",
        "stages": [-14, 0],
        "subject": "Due",
        "body_text": "{items}",
        field: value,
    }
    with pytest.raises(ValidationError) as exc:
        reminder_type_save(by=manager, data=data)
    assert field in exc.value.message_dict


def test_month_intervals_keep_the_day_or_use_the_months_last_day(rabies_type):
    assert rabies_type.next_due(dt.date(2026, 1, 31)) == dt.date(2027, 1, 31)
    six = ReminderType(interval=1, interval_unit="months")
    assert six.next_due(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert ReminderType(interval=2, interval_unit="weeks").next_due(dt.date(2026, 1, 1)) == dt.date(2026, 1, 15)


def test_one_pending_reminder_per_type(rabies_type, receptionist):
    pet = AnimalFactory()
    reminder_create(animal=pet, reminder_type=rabies_type, due_on=dt.date(2027, 1, 1), by=receptionist)
    with pytest.raises(DomainError):
        reminder_create(animal=pet, reminder_type=rabies_type, due_on=dt.date(2027, 2, 1), by=receptionist)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(animal=pet, type=rabies_type, due_on=dt.date(2027, 3, 1))


def test_a_type_for_other_species_is_refused(rabies_type, receptionist):
    rabies_type.species.set([species("Cat")])
    with pytest.raises(DomainError):
        reminder_create(animal=AnimalFactory(), reminder_type=rabies_type, due_on=dt.date(2027, 1, 1), by=receptionist)


def test_invoicing_the_vaccine_completes_the_reminder_and_creates_the_next(
    rabies_type, rabies, owner_pet, receptionist
):
    client, pet = owner_pet
    ProductReminder.objects.create(product=rabies, reminder_type=rabies_type)
    old = reminder_create(animal=pet, reminder_type=rabies_type, due_on=timezone.localdate(), by=receptionist)
    draft = invoice_draft_for(client=client, by=receptionist)
    given = dt.date(2026, 11, 20)
    line = invoice_add_line(
        invoice=draft, by=receptionist, product=rabies, quantity=D(1), animal=pet, service_date=given
    )
    assert Reminder.objects.get(pk=old.pk).status == "pending"  # a draft changes nothing yet
    invoice_finalise(invoice=draft, by=receptionist)
    old.refresh_from_db()
    assert old.status == "completed" and old.completed_by_line == line
    new = Reminder.objects.get(animal=pet, status="pending")
    assert new.due_on == dt.date(2027, 11, 20) and new.source == "invoice" and new.source_line == line


def test_completing_an_appointment_with_a_recall_creates_it(vet, monday, receptionist, vet_user, rabies_type):
    dental = AppointmentType.objects.create(name="Dental", default_minutes=60, recall_interval=6, recall_unit="months")
    rabies_type.appointment_type = dental
    rabies_type.save()
    appointment = appointment_book(
        animal=AnimalFactory(), vet=vet_user.vet, type=dental, start=at(monday, 10), by=receptionist
    )
    for status in ("arrived", "completed"):
        appointment_transition(appointment=appointment, to=status, by=vet_user)
    reminder = Reminder.objects.get(animal=appointment.animal)
    assert reminder.source == "recall" and reminder.source_appointment == appointment
    expected = monday.replace(year=monday.year + (monday.month + 5) // 12, month=(monday.month + 5) % 12 + 1)
    assert reminder.due_on == expected


def test_retired_animals_and_inactive_owners_lose_their_pending_reminders(rabies_type, receptionist):
    dead, dormant, orphan = AnimalFactory(), AnimalFactory(), AnimalFactory()
    for pet in (dead, dormant, orphan):
        reminder_create(animal=pet, reminder_type=rabies_type, due_on=dt.date(2027, 1, 1), by=receptionist)
    animal_mark_deceased(animal=dead, on=timezone.localdate(), by=receptionist)
    animal_set_active(animal=dormant, active=False, by=receptionist)
    client_deactivate(client=orphan.owner, by=receptionist)
    assert set(Reminder.objects.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(DomainError):
        reminder_create(animal=dead, reminder_type=rabies_type, due_on=dt.date(2027, 1, 1), by=receptionist)


def test_cancelling_by_hand_needs_a_reason(rabies_type, receptionist):
    reminder = reminder_create(
        animal=AnimalFactory(), reminder_type=rabies_type, due_on=dt.date(2027, 1, 1), by=receptionist
    )
    with pytest.raises(ValidationError):
        reminder_cancel(reminder=reminder, by=receptionist, note=" ")
    reminder_cancel(reminder=reminder, by=receptionist, note="moved away")
    with pytest.raises(DomainError):
        reminder_cancel(reminder=reminder, by=receptionist, note="again")


def test_reminder_list_cells_are_the_librarys_own(rabies_type, receptionist):
    """The reminder list's cells drawn by table_body's per-column drawers equal django-tables2's own: pending and
    cancelled reminders, an owner who takes email and one who does not, markup in a pet's name."""
    from reminders import selectors
    from reminders.tables import ReminderTable
    from tests.vetpms.test_tables import _cells_both_ways

    emailed = AnimalFactory(name="Rex <b>", owner__email="a@example.com", owner__reminder_consent=True)
    phoned = AnimalFactory(name="Tibbles", owner__email="", owner__reminder_consent=False)
    reminder_create(animal=emailed, reminder_type=rabies_type, due_on=dt.date(2027, 1, 1), by=receptionist)
    gone = reminder_create(animal=phoned, reminder_type=rabies_type, due_on=dt.date(2026, 1, 1), by=receptionist)
    reminder_cancel(reminder=gone, by=receptionist, note="moved away")
    for can_change in (True, False):
        table = ReminderTable(selectors.reminder_list(), can_change=can_change, csrf_token="t", next_url="/r/")
        ours, theirs, fell_back = _cells_both_ways(table)
        assert ours == theirs and fell_back == 0 and len(ours) == 2 * len(table.columns)
    assert any("Phone" in cell for cell in ours) and any("Rex &lt;b&gt;" in cell for cell in ours)
