"""The day grid tells the truth: every live appointment is drawn once, at its real time and for its real length
whatever minute it starts on; appointments that overlap sit side by side; and a "Book ... at" link is offered only
where the booking service accepts a booking (checked by booking every offered time, and by trying every five
minutes of random days and finding no refused time among the offers)."""

from __future__ import annotations

import datetime as dt
import random
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.urls import reverse

from appointments.models import Appointment, AppointmentStatus, AppointmentType, BookException, WorkingHours
from appointments.services import appointment_book, appointment_transition, slot_step_minutes
from appointments.tables import Column, day_grid_rows, week_grid_rows
from tests.appointments.conftest import next_weekday
from tests.factories import AnimalFactory, UserFactory
from vetpms.errors import DomainError
from vetpms.models import Role
from vetpms.timeutils import local_datetime, to_local

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="(/appointments/new/\?[^"]+)"')


class _Rollback(Exception):
    pass


def _books(*, vet, start, by, animal, consult) -> bool:
    """Whether the booking service accepts ``start`` for one step's length; nothing is kept either way."""
    try:
        with transaction.atomic():
            appointment_book(animal=animal, vet=vet, type=consult, start=start, minutes=slot_step_minutes(), by=by)
            raise _Rollback
    except _Rollback:
        return True
    except DomainError:
        return False


def _offers(body: str) -> set[tuple[int, dt.datetime]]:
    offers = set()
    for href in LINK.findall(body):
        query = parse_qs(urlsplit(unescape(href)).query)
        day = dt.date.fromisoformat(query["date"][0])
        at = dt.time.fromisoformat(query["time"][0])
        fold = int(query.get("fold", ["0"])[0])
        offers.add((int(query["vet"][0]), local_datetime(day, at, fold=fold)))
    return offers


def _random_day(rng: random.Random, day: dt.date, vets, consult, receptionist) -> None:
    """Sessions and leave on odd minutes, and appointments at any minute (some outside the hours by override),
    some cancelled or marked no-show (which must free their time)."""
    for vet in vets:
        open_at = rng.randrange(7 * 60, 10 * 60)
        lunch = rng.randrange(11 * 60, 13 * 60)
        close = rng.randrange(15 * 60, 19 * 60)
        for start, end in ((open_at, lunch), (lunch + rng.choice([0, 30, 47, 60]), close)):
            if end > start:
                WorkingHours.objects.create(
                    vet=vet,
                    weekday=day.weekday(),
                    start_time=dt.time(*divmod(start, 60)),
                    end_time=dt.time(*divmod(end, 60)),
                )
        if rng.random() < 0.5:
            leave = rng.randrange(open_at, close - 20)
            BookException.objects.create(
                vet=vet,
                date=day,
                kind=BookException.Kind.LEAVE,
                start_time=dt.time(*divmod(leave, 60)),
                end_time=dt.time(*divmod(leave + rng.choice([20, 45, 90]), 60)),
            )
        for _ in range(rng.randrange(4, 14)):
            minute = rng.randrange(6 * 60, 20 * 60)
            try:
                appointment = appointment_book(
                    animal=AnimalFactory(),
                    vet=vet,
                    type=consult,
                    start=local_datetime(day, dt.time(*divmod(minute, 60))),
                    minutes=rng.choice([5, 10, 15, 20, 25, 40, 55]),
                    override_hours=True,
                    by=receptionist,
                )
            except DomainError:
                continue
            if rng.random() < 0.2:
                appointment_transition(
                    appointment=appointment, to=rng.choice(["cancelled", "no_show"]), by=receptionist, note="test"
                )


@pytest.mark.parametrize("seed", range(3))
def test_every_offered_slot_books_and_no_refused_time_is_offered(as_receptionist, receptionist, seed):
    rng = random.Random(seed)
    day = next_weekday(rng.randrange(7))
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15)
    vets = [UserFactory(username=f"vet{i}", role=Role.VET).vet for i in range(2)]
    _random_day(rng, day, vets, consult, receptionist)
    response = as_receptionist.get(reverse("appointments:day_grid"), {"date": day.isoformat()})
    offers = _offers(response.content.decode())
    assert offers, "a random day with working hours offers some time"
    animal = AnimalFactory()
    by_pk = {v.pk: v for v in vets}
    for vet_id, start in sorted(offers, key=lambda o: (o[0], o[1])):
        assert _books(vet=by_pk[vet_id], start=start, by=receptionist, animal=animal, consult=consult), (
            f"{to_local(start):%H:%M} was offered for vet {vet_id} but the booking service refuses it"
        )
    for vet in vets:
        for minute in range(7 * 60, 20 * 60, 5):
            start = local_datetime(day, dt.time(*divmod(minute, 60)))
            if not _books(vet=vet, start=start, by=receptionist, animal=animal, consult=consult):
                assert (vet.pk, start) not in offers, f"{to_local(start):%H:%M} is refused but offered"


@pytest.mark.parametrize("seed", range(4))
def test_every_live_appointment_is_drawn_once_at_its_real_time_and_length(as_receptionist, receptionist, seed):
    rng = random.Random(100 + seed)
    day = next_weekday(rng.randrange(7))
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15)
    vets = [UserFactory(username=f"vet{i}", role=Role.VET).vet for i in range(2)]
    _random_day(rng, day, vets, consult, receptionist)
    response = as_receptionist.get(reverse("appointments:day_grid"), {"date": day.isoformat()})
    body = response.content.decode()
    assert "Also on this day" not in body
    rows = response.context["rows"]
    drawn: dict[int, int] = {}
    for index, row in enumerate(rows):
        for cell in row.cells:
            if cell.kind == "block":
                appointment = cell.appointment
                assert appointment.pk not in drawn
                drawn[appointment.pk] = sum(r.minutes for r in rows[index : index + cell.rowspan])
                assert (row.label or "") in ("", f"{to_local(appointment.start):%H:%M}")
    live = Appointment.objects.filter(vet__in=vets).blocking()
    assert set(drawn) == set(live.values_list("pk", flat=True))
    for appointment in live:
        assert drawn[appointment.pk] == appointment.minutes, f"{appointment} drawn {drawn[appointment.pk]} minutes"
    for appointment in Appointment.objects.filter(vet__in=vets).exclude(pk__in=live):
        assert reverse("appointments:detail", args=[appointment.pk]) + '"' not in body


def _unsaved(pk: int, start: dt.datetime, minutes: int, status: str = AppointmentStatus.BOOKED) -> Appointment:
    return Appointment(pk=pk, start=start, end=start + dt.timedelta(minutes=minutes), status=status)


def test_overlapping_appointments_sit_side_by_side_and_free_time_spans_the_lanes():
    day = next_weekday(2)
    nine = local_datetime(day, dt.time(9))
    sessions = [(nine, nine + dt.timedelta(hours=2))]
    appointments = [
        _unsaved(1, nine + dt.timedelta(minutes=55), 15),  # 09:55-10:10
        _unsaved(2, nine + dt.timedelta(minutes=60), 30),  # 10:00-10:30, over the first
        _unsaved(3, nine + dt.timedelta(minutes=65), 10),  # 10:05-10:15, over both
        _unsaved(4, nine + dt.timedelta(minutes=60), 30, AppointmentStatus.CANCELLED),  # not drawn
    ]
    column = Column("Vet", 1, day, sessions, appointments, offered=[nine])
    rows = day_grid_rows(day=day, columns=[column], step_minutes=15)
    assert column.lanes == 3
    blocks = {c.appointment.pk: (i, c) for i, r in enumerate(rows) for c in r.cells if c.kind == "block"}
    assert set(blocks) == {1, 2, 3}
    for pk, (first, cell) in blocks.items():
        appointment = appointments[pk - 1]
        assert sum(r.minutes for r in rows[first : first + cell.rowspan]) == appointment.minutes
    first_row = rows[0]
    assert first_row.label == "09:00"
    assert [(c.kind, c.colspan, c.offer) for c in first_row.cells] == [("free", 3, nine)]
    # every row is as wide as the column: lanes taken by blocks above plus the cells drawn
    for index, row in enumerate(rows):
        covering = sum(1 for i, c in blocks.values() if i < index < i + c.rowspan)
        assert sum(c.colspan for c in row.cells) + covering == 3


def test_week_blocks_show_the_name_before_the_time(as_receptionist, receptionist):
    day = next_weekday(0)
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15)
    vet = UserFactory(username="weekvet", role=Role.VET).vet
    WorkingHours.objects.create(vet=vet, weekday=0, start_time=dt.time(8), end_time=dt.time(12))
    appointment_book(
        animal=AnimalFactory(name="Pickle"),
        vet=vet,
        type=consult,
        start=local_datetime(day, dt.time(8, 30)),
        by=receptionist,
    )
    body = as_receptionist.get(reverse("appointments:week"), {"vet": vet.pk, "date": day}).content.decode()
    block = re.search(r'<a class="appt-block[^>]*>(.*?)</a>', body, re.S).group(1)
    assert block.index("Pickle") < block.index("08:30")
    assert 'class="appt-time"' in block  # the time the narrow layout hides


def test_week_rows_follow_appointments_at_odd_minutes():
    day = next_weekday(0)
    eight = local_datetime(day, dt.time(8))
    columns = [
        Column(
            "Mon", 1, day, [(eight, eight + dt.timedelta(hours=1))], [_unsaved(1, eight + dt.timedelta(minutes=7), 16)]
        )
    ]
    columns += [Column(str(i), 1, day + dt.timedelta(days=i), [], []) for i in range(1, 7)]
    rows = week_grid_rows(columns=columns, step_minutes=15)
    labels = [r.label for r in rows]
    assert labels[:4] == ["08:00", "", "08:15", ""]  # 08:00-08:07, 08:07-08:15, 08:15-08:23, 08:23-08:30
    assert [r.minutes for r in rows[:4]] == [7, 8, 8, 7]


def test_the_reported_case_appointments_off_the_grid_are_drawn_and_their_times_not_offered(
    as_receptionist, vet, consult, receptionist, monday
):
    """08:55-09:10 in the report; here 09:55-10:10 and 10:10-10:25 (the vet works from 09:00). Before, the second
    went to an "Also on this day" list and "Book ... at 10:15" was offered over it."""
    for minute in (55, 70):
        appointment_book(
            animal=AnimalFactory(),
            vet=vet,
            type=consult,
            start=local_datetime(monday, dt.time(9)) + dt.timedelta(minutes=minute),
            minutes=15,
            by=receptionist,
        )
    body = as_receptionist.get(reverse("appointments:day_grid"), {"date": monday}).content.decode()
    assert "Also on this day" not in body
    offered = {f"{to_local(start):%H:%M}" for _, start in _offers(body)}
    assert {"09:30", "10:30"} <= offered and not {"09:45", "10:00", "10:15"} & offered
    assert body.count('class="appt-block') == 2
