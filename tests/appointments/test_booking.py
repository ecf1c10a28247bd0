import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from animals.services import animal_mark_deceased, animal_set_active
from appointments.models import Appointment, AppointmentEvent, AppointmentStatus, BookException
from appointments.services import (
    appointment_book,
    appointment_reschedule,
    appointment_transition,
    book_exception_add,
)
from tests.appointments.conftest import at
from tests.factories import AnimalFactory
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def existing(book, monday):
    """10:00-10:30 on Monday."""
    return book(at(monday, 10))


@pytest.mark.parametrize(
    ("hh", "mm", "minutes", "allowed", "case"),
    [
        (10, 30, 15, True, "back-to-back after"),
        (9, 30, 30, True, "back-to-back before"),
        (9, 45, 60, False, "containing"),
        (10, 10, 10, False, "contained"),
        (10, 0, 30, False, "identical"),
        (9, 45, 30, False, "partial at the start"),
        (10, 15, 30, False, "partial at the end"),
    ],
)
def test_overlap_rules(book, existing, monday, hh, mm, minutes, allowed, case):
    if allowed:
        assert book(at(monday, hh, mm), minutes=minutes).pk
    else:
        with pytest.raises(DomainError) as exc:
            book(at(monday, hh, mm), minutes=minutes)
        assert exc.value.code == "clash"
        assert f"#{existing.pk}" in exc.value.message and existing.animal.name in exc.value.message
        assert Appointment.objects.count() == 1, case


@pytest.mark.parametrize("status", [S.CANCELLED, S.NO_SHOW])
def test_cancelled_and_no_show_never_block(book, existing, monday, receptionist, status):
    appointment_transition(appointment=existing, to=status, by=receptionist, note="owner rang")
    assert book(at(monday, 10)).pk


def test_other_vets_book_is_independent(book, existing, monday, consult, receptionist):
    from tests.factories import UserFactory
    from vetpms.models import Role

    other = UserFactory(username="other", role=Role.VET).vet
    other.working_hours.create(weekday=monday.weekday(), start_time=dt.time(9), end_time=dt.time(17))
    appointment = appointment_book(
        animal=AnimalFactory(), vet=other, type=consult, start=at(monday, 10), by=receptionist
    )
    assert appointment.pk


def test_past_bookings_are_refused(book):
    with pytest.raises(DomainError) as exc:
        book(timezone.now() - dt.timedelta(hours=1))
    assert exc.value.code == "past"


def test_outside_hours_needs_an_explicit_override_which_is_recorded(book, monday):
    with pytest.raises(DomainError) as exc:
        book(at(monday, 16, 45), minutes=30)
    assert exc.value.code == "outside_hours"
    appointment = book(at(monday, 16, 45), minutes=30, override_hours=True)
    assert appointment.outside_hours is True
    inside = book(at(monday, 11), override_hours=True)
    assert inside.outside_hours is False


def test_leave_closes_the_book_and_extra_sessions_open_it(book, vet, monday, manager):
    book_exception_add(
        vet=vet, by=manager, date=monday, kind=BookException.Kind.LEAVE, start_time=dt.time(12), end_time=dt.time(14)
    )
    book_exception_add(
        vet=vet, by=manager, date=monday, kind=BookException.Kind.EXTRA, start_time=dt.time(18), end_time=dt.time(20)
    )
    with pytest.raises(DomainError):
        book(at(monday, 12, 30))
    assert book(at(monday, 18, 30)).pk


@pytest.mark.parametrize("minutes", [0, -15, 24 * 60, 13 * 60])
def test_silly_durations_are_refused(book, monday, minutes):
    with pytest.raises(ValidationError):
        book(at(monday, 10), minutes=minutes)


def test_deceased_or_inactive_animals_cannot_be_booked(book, monday, receptionist):
    dead, sleepy = AnimalFactory(), AnimalFactory()
    animal_mark_deceased(animal=dead, on=timezone.localdate(), by=receptionist)
    animal_set_active(animal=sleepy, active=False, by=receptionist)
    for animal in (dead, sleepy):
        with pytest.raises(DomainError):
            book(at(monday, 10), animal=animal)


def test_the_owner_at_booking_time_is_kept(book, monday, receptionist):
    from animals.services import animal_transfer
    from tests.factories import ClientFactory

    appointment = book(at(monday, 10))
    first_owner = appointment.client
    animal_transfer(animal=appointment.animal, to_owner=ClientFactory(), by=receptionist)
    appointment.refresh_from_db()
    assert appointment.client == first_owner


def test_the_same_form_submitted_twice_books_once(book, monday):
    first = book(at(monday, 10), request_key="form-123")
    again = book(at(monday, 10), animal=first.animal, request_key="form-123")
    assert again.pk == first.pk
    assert Appointment.objects.count() == 1


def test_naive_times_are_read_as_practice_time(book, monday):
    appointment = book(dt.datetime.combine(monday, dt.time(10)))
    assert appointment.start == at(monday, 10)


def test_status_flow_is_recorded_and_enforced(existing, vet_user, receptionist):
    appointment_transition(appointment=existing, to=S.CONFIRMED, by=receptionist)
    appointment_transition(appointment=existing, to=S.ARRIVED, by=receptionist)
    appointment_transition(appointment=existing, to=S.IN_CONSULTATION, by=vet_user)
    appointment_transition(appointment=existing, to=S.COMPLETED, by=vet_user)
    moves = list(AppointmentEvent.objects.filter(appointment=existing).values_list("from_status", "to_status", "by"))
    assert moves == [
        ("", S.BOOKED, receptionist.pk),
        (S.BOOKED, S.CONFIRMED, receptionist.pk),
        (S.CONFIRMED, S.ARRIVED, receptionist.pk),
        (S.ARRIVED, S.IN_CONSULTATION, vet_user.pk),
        (S.IN_CONSULTATION, S.COMPLETED, vet_user.pk),
    ]
    with pytest.raises(DomainError) as exc:
        appointment_transition(appointment=existing, to=S.CANCELLED, by=receptionist, note="too late")
    assert exc.value.code == "bad_transition"


def test_cancelling_needs_a_reason(existing, receptionist):
    with pytest.raises(ValidationError):
        appointment_transition(appointment=existing, to=S.CANCELLED, by=receptionist, note=" ")
    appointment_transition(appointment=existing, to=S.CANCELLED, by=receptionist, note="Owner is ill")
    existing.refresh_from_db()
    assert existing.cancel_reason == "Owner is ill"


def test_unknown_status_is_a_field_error(existing, receptionist):
    with pytest.raises(ValidationError):
        appointment_transition(appointment=existing, to="teleported", by=receptionist)


def test_reschedule_keeps_every_guarantee(book, existing, monday, receptionist):
    other = book(at(monday, 11))
    with pytest.raises(DomainError):
        appointment_reschedule(appointment=other, start=at(monday, 10, 15), by=receptionist)
    moved = appointment_reschedule(appointment=other, start=at(monday, 10, 30), by=receptionist)
    assert moved.start == at(monday, 10, 30) and moved.minutes == 30
    # moving onto its own old slot is not a clash with itself
    assert appointment_reschedule(appointment=other, start=at(monday, 10, 45), by=receptionist).pk
    appointment_transition(appointment=other, to=S.ARRIVED, by=receptionist)
    with pytest.raises(DomainError):
        appointment_reschedule(appointment=other, start=at(monday, 14), by=receptionist)


def test_confirmation_email_with_ics_goes_to_consenting_owner(book, monday, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(at(monday, 10), reason="Limping <left fore>")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [appointment.client.email]
    assert message.from_email == f"{settings.PRACTICE['name']} <{settings.PRACTICE['email']}>"  # the practice writes
    assert "Rex" not in message.subject or appointment.animal.name in message.subject
    html = message.alternatives[0].content
    assert "Limping &lt;left fore&gt;" in html and "<left fore>" not in html
    assert "10:00" in message.body
    ics_name, ics, mimetype = message.attachments[0]
    assert ics_name == "appointment.ics" and mimetype.startswith("text/calendar")
    from icalendar import Calendar

    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("dtstart") == appointment.start


def test_no_email_without_consent(book, monday, django_capture_on_commit_callbacks):
    animal = AnimalFactory(owner__reminder_consent=False)
    with django_capture_on_commit_callbacks(execute=True):
        book(at(monday, 10), animal=animal)
    assert mail.outbox == []
