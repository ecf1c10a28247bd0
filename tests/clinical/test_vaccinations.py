"""Vaccinations given: the rules, and the one reminder a dose renews whichever of the vaccination record or the
invoice line comes first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinical.services import consultation_save_draft, consultation_sign, vaccination_record
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reminders.models import Reminder
from reminders.services import reminder_create
from tests.clinical.conftest import days_ago, in_days
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db


def _vaccinate(animal, product, by, **kwargs):
    kwargs.setdefault("batch", "RB-2201")
    kwargs.setdefault("batch_expiry", in_days(90))
    return vaccination_record(animal=animal, product=product, by=by, **kwargs)


def test_an_expired_batch_is_refused(dog, rabies, vet_user):
    with pytest.raises(DomainError) as err:
        _vaccinate(dog, rabies, vet_user, batch_expiry=days_ago(1))
    assert err.value.code == "batch_expired" and err.value.field == "batch_expiry"
    # A batch expiring on the day it is given is still in date.
    assert _vaccinate(dog, rabies, vet_user, batch_expiry=timezone.localdate()).pk


def test_next_due_defaults_from_the_vaccines_reminder_interval(dog, rabies, rabies_type, vet_user):
    vaccination = _vaccinate(dog, rabies, vet_user)
    today = timezone.localdate()
    assert vaccination.next_due_on == rabies_type.next_due(today)
    assert vaccination.next_due_on > today + dt.timedelta(days=360)


def test_only_vaccines_are_recorded_as_vaccinations(dog, amoxicillin, vet_user):
    with pytest.raises(DomainError):
        _vaccinate(dog, amoxicillin, vet_user)


def test_a_nurse_records_under_a_vet(dog, rabies, nurse, vet_user):
    with pytest.raises(ValidationError):
        _vaccinate(dog, rabies, nurse)
    vaccination = _vaccinate(dog, rabies, nurse, supervising_vet=vet_user.vet)
    assert vaccination.given_by == nurse and vaccination.supervising_vet == vet_user.vet


def test_a_signed_consultation_takes_no_more_vaccinations(walk_in, rabies, vet_user):
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"examination": "Healthy"})
    consultation_sign(consultation=walk_in, by=vet_user)
    with pytest.raises(DomainError) as err:
        _vaccinate(walk_in.animal, rabies, vet_user, consultation=walk_in)
    assert err.value.code == "signed"


def _pending(animal, reminder_type):
    return list(Reminder.objects.filter(animal=animal, type=reminder_type, status="pending"))


def test_vaccination_renews_the_reminder(dog, rabies, rabies_type, vet_user, receptionist):
    old = reminder_create(animal=dog, reminder_type=rabies_type, due_on=days_ago(3), by=receptionist)
    vaccination = _vaccinate(dog, rabies, vet_user)
    old.refresh_from_db()
    assert old.status == "completed" and old.completed_by_vaccination == vaccination
    [renewed] = _pending(dog, rabies_type)
    assert renewed.source == "vaccination" and renewed.source_vaccination == vaccination
    assert renewed.due_on == vaccination.next_due_on


def test_vaccination_then_invoice_renews_once(dog, rabies, rabies_type, vet_user, receptionist):
    reminder_create(animal=dog, reminder_type=rabies_type, due_on=days_ago(3), by=receptionist)
    vaccination = _vaccinate(dog, rabies, vet_user)
    invoice = invoice_draft_for(client=dog.owner, by=receptionist)
    line = invoice_add_line(invoice=invoice, by=receptionist, product=rabies, quantity=Decimal(1), animal=dog)
    invoice_finalise(invoice=invoice, by=receptionist)
    [renewed] = _pending(dog, rabies_type)
    assert renewed.source_vaccination == vaccination and renewed.source_line == line
    assert Reminder.objects.filter(animal=dog, type=rabies_type).count() == 2  # the old one, done; the next one


def test_invoice_then_vaccination_renews_once(dog, rabies, rabies_type, vet_user, receptionist):
    reminder_create(animal=dog, reminder_type=rabies_type, due_on=days_ago(3), by=receptionist)
    invoice = invoice_draft_for(client=dog.owner, by=receptionist)
    line = invoice_add_line(invoice=invoice, by=receptionist, product=rabies, quantity=Decimal(1), animal=dog)
    invoice_finalise(invoice=invoice, by=receptionist)
    [from_invoice] = _pending(dog, rabies_type)
    vaccination = _vaccinate(dog, rabies, vet_user, next_due_on=in_days(3 * 365))  # a three-year vaccine
    [renewed] = _pending(dog, rabies_type)
    assert renewed.pk == from_invoice.pk
    assert renewed.source_line == line and renewed.source_vaccination == vaccination
    assert renewed.due_on == in_days(3 * 365)  # the clinical record's next due date wins
    assert Reminder.objects.filter(animal=dog, type=rabies_type).count() == 2


def test_charged_vaccination_then_finalising_renews_once(dog, rabies, rabies_type, vet_user, receptionist):
    vaccination = _vaccinate(dog, rabies, vet_user, charge=True)
    assert vaccination.invoice_line is not None and vaccination.invoice_line.invoice.status == "draft"
    invoice_finalise(invoice=vaccination.invoice_line.invoice, by=receptionist)
    [renewed] = _pending(dog, rabies_type)
    assert renewed.source_vaccination == vaccination and renewed.source_line == vaccination.invoice_line


def test_a_dose_a_year_later_renews_again(dog, rabies, rabies_type, vet_user, receptionist):
    first = _vaccinate(dog, rabies, vet_user, given_on=days_ago(365), batch_expiry=days_ago(300))
    second = _vaccinate(dog, rabies, vet_user)
    [pending] = _pending(dog, rabies_type)
    assert pending.source_vaccination == second
    assert Reminder.objects.get(source_vaccination=first).status == "completed"
