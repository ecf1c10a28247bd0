import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import AppointmentType, WorkingHours
from appointments.services import appointment_book
from tests.factories import AnimalFactory
from vetpms.timeutils import local_datetime


def next_dst_change(month: int) -> dt.date:
    """The next Europe/London clock change in ``month`` (3: spring forward, 10: fall back): its last Sunday."""

    def last_sunday(year: int) -> dt.date:
        day = dt.date(year, month, 31)
        return day - dt.timedelta(days=(day.weekday() - 6) % 7)

    today = timezone.localdate()
    return last_sunday(today.year) if last_sunday(today.year) > today else last_sunday(today.year + 1)


def next_weekday(weekday: int, weeks_ahead: int = 1) -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


@pytest.fixture
def vet(vet_user):
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(9), end_time=dt.time(17)) for d in range(7)]
    )
    return vet


@pytest.fixture
def consult(db):
    return AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3366cc")


@pytest.fixture
def pet(db):
    return AnimalFactory(name="Rex")


@pytest.fixture
def monday():
    return next_weekday(0)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """hh:mm practice time on ``day``."""
    return local_datetime(day, dt.time(hh, mm))


@pytest.fixture
def book(vet, consult, receptionist):
    """book(start, minutes=30, animal=None, **kwargs): a booking through the service, by the receptionist."""

    def _book(start, minutes=30, animal=None, **kwargs):
        return appointment_book(
            animal=animal or AnimalFactory(),
            vet=vet,
            type=consult,
            start=start,
            minutes=minutes,
            by=receptionist,
            **kwargs,
        )

    return _book
