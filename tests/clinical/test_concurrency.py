"""Two clicks at once: opening a consultation from one appointment, and dispensing the last repeats, each attempt
on its own database connection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from appointments.models import AppointmentType, WorkingHours
from appointments.services import appointment_book
from clinical.models import Consultation, Prescription
from clinical.services import consultation_open, prescription_dispense, prescription_dispense_repeat
from invoicing.models import Product, TaxCategory
from tests.appointments.conftest import at, next_weekday
from tests.factories import AnimalFactory, UserFactory
from tests.invoicing.test_concurrency import run_at_once
from tests.reference_data import ensure_reference_data
from vetpms.errors import DomainError
from vetpms.models import Role

ATTEMPTS = 8


@pytest.mark.django_db(transaction=True)
def test_opening_one_appointment_at_once_gives_one_consultation():
    ensure_reference_data()
    vet_user = UserFactory(username="vc", role=Role.VET)
    desk = UserFactory(username="dc", role=Role.RECEPTIONIST)
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet_user.vet, weekday=d, start_time=dt.time(9), end_time=dt.time(17)) for d in range(7)]
    )
    kind = AppointmentType.objects.create(name="Consult", default_minutes=15, colour="#123456")
    appointment = appointment_book(
        animal=AnimalFactory(), vet=vet_user.vet, type=kind, start=at(next_weekday(0), 10), minutes=15, by=desk
    )
    results = run_at_once(ATTEMPTS, lambda i: consultation_open(appointment=appointment, by=vet_user).pk)
    assert all(kind == "ok" for kind, _ in results), results
    assert len({pk for _, pk in results}) == 1
    assert Consultation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_repeats_dispensed_at_once_never_exceed_the_allowance():
    ensure_reference_data()
    vet_user = UserFactory(username="vr", role=Role.VET)
    product = Product.objects.create(
        code="MEL",
        name="Meloxicam 1.5 mg/ml",
        category="medication",
        unit="ml",
        unit_price=Decimal("0.90"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    original = prescription_dispense(
        animal=AnimalFactory(), product=product, by=vet_user, dose="0.1 ml/kg", frequency="daily",
        quantity=Decimal(10), repeats=3,
    )  # fmt: skip
    results = run_at_once(ATTEMPTS, lambda i: prescription_dispense_repeat(original=original, by=vet_user).pk)
    done = [r for kind, r in results if kind == "ok"]
    refused = [r for kind, r in results if kind == "error"]
    assert len(done) == 3 and all(isinstance(e, DomainError) and e.code == "no_repeats_left" for e in refused)
    assert Prescription.objects.filter(repeat_of=original).count() == 3
