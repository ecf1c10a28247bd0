"""Free slots and bookings on ordinary days and on the two DST change days (Europe/London, the test zone)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from appointments.models import WorkingHours
from appointments.selectors import find_free_slots
from appointments.services import appointment_book
from tests.appointments.conftest import next_dst_change
from tests.factories import AnimalFactory
from vetpms.timeutils import local_datetime, local_day_bounds, to_local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("london")]
SPRING = next_dst_change(3)  # 01:00 -> 02:00 local
AUTUMN = next_dst_change(10)  # 02:00 -> 01:00 local


@pytest.fixture
def london():
    with override_settings(TIME_ZONE="Europe/London"):
        yield


@pytest.fixture
def night_vet(vet):
    """A vet on call 00:00-04:00 every day, so the sessions span the changes."""
    WorkingHours.objects.filter(vet=vet).delete()
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(0), end_time=dt.time(4)) for d in range(7)]
    )
    return vet


def labels(slots):
    return [f"{to_local(s.start):%H:%M%z}" for s in slots]


def test_day_bounds_follow_local_midnights():
    start, end = local_day_bounds(SPRING)
    assert end - start == dt.timedelta(hours=23)
    start, end = local_day_bounds(AUTUMN)
    assert end - start == dt.timedelta(hours=25)


def test_free_slots_skip_the_missing_hour(night_vet):
    slots = find_free_slots(day=SPRING, minutes=30, vets=[night_vet], step_minutes=30)
    assert labels(slots) == ["00:00+0000", "00:30+0000", "02:00+0100", "02:30+0100", "03:00+0100", "03:30+0100"]


def test_free_slots_offer_the_repeated_hour_twice(night_vet):
    slots = find_free_slots(day=AUTUMN, minutes=30, vets=[night_vet], step_minutes=30)
    assert labels(slots) == [
        "00:00+0100",
        "00:30+0100",
        "01:00+0100",
        "01:30+0100",
        "01:00+0000",
        "01:30+0000",
        "02:00+0000",
        "02:30+0000",
        "03:00+0000",
        "03:30+0000",
    ]


def test_a_time_that_does_not_exist_is_refused_with_a_message(night_vet, consult, receptionist):
    with pytest.raises(ValidationError) as exc:
        appointment_book(
            animal=AnimalFactory(),
            vet=night_vet,
            type=consult,
            by=receptionist,
            start=dt.datetime.combine(SPRING, dt.time(1, 30)),
        )
    assert "does not exist" in exc.value.messages[0]


def test_booking_in_the_repeated_hour_lands_where_meant(night_vet, consult, receptionist):
    first = appointment_book(
        animal=AnimalFactory(),
        vet=night_vet,
        type=consult,
        by=receptionist,
        start=dt.datetime.combine(AUTUMN, dt.time(1, 30)),
    )
    assert to_local(first.start).utcoffset() == dt.timedelta(hours=1)
    assert first.start.astimezone(dt.UTC).time() == dt.time(0, 30)
    second = appointment_book(
        animal=AnimalFactory(),
        vet=night_vet,
        type=consult,
        by=receptionist,
        start=dt.datetime.combine(AUTUMN, dt.time(1, 30, fold=1)),
    )
    assert second.start.astimezone(dt.UTC).time() == dt.time(1, 30)
    # the two share a wall-clock time, not an instant: no clash
    assert first.end <= second.start


def test_booking_after_the_spring_change_keeps_wall_time(night_vet, consult, receptionist):
    appointment = appointment_book(
        animal=AnimalFactory(),
        vet=night_vet,
        type=consult,
        by=receptionist,
        start=dt.datetime.combine(SPRING, dt.time(2, 30)),
    )
    assert to_local(appointment.start).time() == dt.time(2, 30)
    assert appointment.start.astimezone(dt.UTC).time() == dt.time(1, 30)


def test_free_slots_leave_out_booked_times_and_the_past(vet, consult, receptionist, monday):
    appointment_book(
        animal=AnimalFactory(),
        vet=vet,
        type=consult,
        by=receptionist,
        start=local_datetime(monday, dt.time(9, 15)),
        minutes=30,
    )
    slots = find_free_slots(day=monday, minutes=30, vets=[vet], step_minutes=15)
    starts = [to_local(s.start).strftime("%H:%M") for s in slots]
    assert starts[:4] == ["09:45", "10:00", "10:15", "10:30"]
    assert starts[-1] == "16:30"
    later = find_free_slots(
        day=monday, minutes=30, vets=[vet], step_minutes=15, now=local_datetime(monday, dt.time(15, 10))
    )
    assert [to_local(s.start).strftime("%H:%M") for s in later] == [
        "15:15",
        "15:30",
        "15:45",
        "16:00",
        "16:15",
        "16:30",
    ]


def test_free_slots_for_any_vet_are_merged_in_time_order(vet, consult, monday):
    from tests.factories import UserFactory
    from vetpms.models import Role

    early = UserFactory(username="early", role=Role.VET).vet
    early.working_hours.create(weekday=monday.weekday(), start_time=dt.time(8), end_time=dt.time(9))
    slots = find_free_slots(day=monday, minutes=30, vets=[vet, early], step_minutes=30)
    assert [(s.vet_id, to_local(s.start).strftime("%H:%M")) for s in slots[:3]] == [
        (early.pk, "08:00"),
        (early.pk, "08:30"),
        (vet.pk, "09:00"),
    ]


def test_free_slot_search_costs_a_fixed_number_of_queries(
    vet, consult, receptionist, monday, django_assert_max_num_queries
):
    for hour in range(9, 16):
        appointment_book(
            animal=AnimalFactory(), vet=vet, type=consult, by=receptionist, start=local_datetime(monday, dt.time(hour))
        )
    with django_assert_max_num_queries(3):
        find_free_slots(day=monday, minutes=15, vets=[vet], step_minutes=15)
