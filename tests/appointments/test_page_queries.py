"""The book's pages cost the same queries whatever they show: a vet's day list of 2 appointments or of 20 in every
status (moves to take, moves to undo, consultations, owners who owe), the day grid of 2 vets or 6, a week of 2
appointments or 20. The rows are drawn in Python (appointments_tags), so nothing per row may reach the database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment, WorkingHours
from appointments.services import appointment_book, appointment_transition
from clinical.services import consultation_open
from tests.appointments.conftest import at
from tests.factories import AnimalFactory, UserFactory
from vetpms.models import Role

# A status path per row, cycled: each move is made today, so the day list offers to undo the last one.
PATHS = [
    ["no_show"],
    [],
    ["confirmed"],
    ["arrived"],
    ["arrived", "in_consultation"],
    ["arrived", "in_consultation", "completed"],
    ["cancelled"],
]


def _fill_day(n: int, *, vet, consult, by, day: dt.date, first: int = 0) -> None:
    for i in range(first, first + n):
        appointment = appointment_book(
            animal=AnimalFactory(alerts="Bites" if i % 3 == 0 else ""),
            vet=vet,
            type=consult,
            start=at(day, 9) + dt.timedelta(minutes=15 * i),
            minutes=15,
            by=by,
            reason=f"Visit {i} <b>",
        )
        for to in PATHS[i % len(PATHS)]:
            appointment = appointment_transition(
                appointment=appointment, to=to, by=by, note="rang" if to == "cancelled" else ""
            )
        if i % 4 == 1 and appointment.status in ("booked", "confirmed"):
            consultation_open(appointment=appointment, by=vet.user)


def _count(http, url: str, at_most=None) -> int:
    """The queries of one request at steady state (the session's once-a-minute touch is not the page's cost),
    held to ``at_most`` (pytest-django's django_assert_max_num_queries) when given."""
    http.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url)
    assert response.status_code == 200
    if at_most is not None:
        with at_most:
            http.get(url)
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["vet", "receptionist"])
def test_the_day_list_costs_the_same_queries_for_2_rows_and_20(
    who, vet, consult, receptionist, vet_user, monday, django_assert_max_num_queries, client
):
    client.force_login(vet_user if who == "vet" else receptionist)
    url = reverse("appointments:day_list") + f"?vet={vet.pk}&date={monday}"
    _fill_day(2, vet=vet, consult=consult, by=receptionist, day=monday)
    few = _count(client, url, django_assert_max_num_queries(15))
    _fill_day(18, vet=vet, consult=consult, by=receptionist, day=monday, first=2)
    assert Appointment.objects.filter(vet=vet).count() == 20
    many = _count(client, url, django_assert_max_num_queries(15))
    assert many == few
    body = client.get(url).content.decode()
    assert body.count('class="day-row') == 20
    assert "Visit 7 &lt;b&gt;" in body and "<b>" not in body  # what people type is escaped
    # The moves were the receptionist's: she may take them back today, the vet (another role) may not.
    assert ("Undo no-show" in body and "Undo cancelled" in body) is (who == "receptionist")


def test_the_day_grid_costs_the_same_queries_for_2_vets_and_6(
    vet, consult, receptionist, monday, as_receptionist, django_assert_max_num_queries
):
    url = reverse("appointments:day_grid") + f"?date={monday}"
    _fill_day(2, vet=vet, consult=consult, by=receptionist, day=monday)
    others = []
    for i in range(5):
        other = UserFactory(username=f"vet{i}", last_name=f"Vet{i}", role=Role.VET).vet
        WorkingHours.objects.create(vet=other, weekday=monday.weekday(), start_time=dt.time(9), end_time=dt.time(17))
        others.append(other)
    few = _count(as_receptionist, url, django_assert_max_num_queries(9))
    for other in others:
        _fill_day(4, vet=other, consult=consult, by=receptionist, day=monday)
    assert _count(as_receptionist, url, django_assert_max_num_queries(9)) == few
    assert as_receptionist.get(url).content.decode().count("appt-cell") >= 12


def test_the_week_costs_the_same_queries_for_2_appointments_and_20(
    vet, consult, receptionist, monday, as_receptionist, django_assert_max_num_queries
):
    url = reverse("appointments:week") + f"?vet={vet.pk}&date={monday}"
    _fill_day(2, vet=vet, consult=consult, by=receptionist, day=monday)
    few = _count(as_receptionist, url, django_assert_max_num_queries(9))
    for offset in range(1, 4):
        _fill_day(6, vet=vet, consult=consult, by=receptionist, day=monday + dt.timedelta(days=offset))
    assert _count(as_receptionist, url, django_assert_max_num_queries(9)) == few
