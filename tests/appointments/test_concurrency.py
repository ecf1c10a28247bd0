"""Fifty receptionists press "Book" on the same slot at the same moment, each on their own connection."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from appointments.models import Appointment, AppointmentType, WorkingHours
from appointments.services import appointment_book
from tests.factories import AnimalFactory, UserFactory
from tests.reference_data import ensure_reference_data
from vetpms.errors import DomainError
from vetpms.models import Role
from vetpms.timeutils import local_datetime

from .conftest import next_weekday

ATTEMPTS = 50

OVERLAPPING_PAIRS_SQL = """
    SELECT a.id, b.id FROM appointments_appointment a
    JOIN appointments_appointment b ON a.vet_id = b.vet_id AND a.id < b.id
     AND a.start < b."end" AND b.start < a."end"
    WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_bookings_of_one_slot_give_one_booking():
    ensure_reference_data()
    receptionist = UserFactory(username="desk", role=Role.RECEPTIONIST)
    vet = UserFactory(username="doc", role=Role.VET).vet
    WorkingHours.objects.create(vet=vet, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15)
    animals = [AnimalFactory() for _ in range(ATTEMPTS)]
    monday = next_weekday(0)
    # staggered starts so that every pair overlaps without being identical
    starts = [local_datetime(monday, dt.time(10, i % 10)) for i in range(ATTEMPTS)]

    barrier = threading.Barrier(ATTEMPTS)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            appointment_book(animal=animals[i], vet=vet, type=consult, start=starts[i], by=receptionist)
            outcome = "booked"
        except DomainError as exc:
            outcome = "refused" if exc.code == "clash" else f"other refusal: {exc.message}"
        except Exception as exc:  # any other failure is what this test looks for
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [r for r in results if r not in ("booked", "refused")]
    assert errors == []
    assert results.count("booked") == 1
    assert results.count("refused") == ATTEMPTS - 1
    assert Appointment.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_PAIRS_SQL)
        assert cursor.fetchall() == []


@pytest.mark.django_db
def test_postgresql_itself_refuses_an_overlap_that_skips_the_service(vet, consult, pet, receptionist):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only; SQLite relies on the IMMEDIATE transaction")
    from django.db import IntegrityError, transaction

    monday = next_weekday(0)
    first = appointment_book(
        animal=pet, vet=vet, type=consult, start=local_datetime(monday, dt.time(10)), by=receptionist
    )
    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        Appointment.objects.create(
            animal=pet,
            client=pet.owner,
            vet=vet,
            type=consult,
            start=first.start + dt.timedelta(minutes=5),
            end=first.end + dt.timedelta(minutes=5),
        )
    # a cancelled appointment is outside the constraint
    Appointment.objects.create(
        animal=pet, client=pet.owner, vet=vet, type=consult, status="cancelled", start=first.start, end=first.end
    )
