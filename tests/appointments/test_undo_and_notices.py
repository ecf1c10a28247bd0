"""Front-desk mistakes can be taken back and owners are told: Arrived, No-show, Cancelled and Completed are undone
on the day by the role that set them (a recorded, audited move back); No-show asks first; the history shows
reschedules; owners get an email with the .ics update (same UID, higher SEQUENCE) or CANCEL when their appointment
moves or is cancelled, through the page and the API alike, unless the box is unticked. Emails go through the real
local SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from appointments.services import (
    appointment_reschedule,
    appointment_transition,
    appointment_undo,
    undoable_move,
)
from tests.api.conftest import JsonClient
from tests.appointments.conftest import at
from tests.factories import AnimalFactory, UserFactory, make_token
from vetpms.errors import DomainError
from vetpms.models import AuditEntry, Role

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def booked(book, monday):
    animal = AnimalFactory(name="Biscuit", owner__email="owner@example.com", owner__reminder_consent=True)
    return book(at(monday, 10), minutes=15, animal=animal)


def _ics(message) -> tuple[str, dict]:
    part = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    cal = Calendar.from_ical(part.get_content())
    return str(cal["method"]), cal.walk("VEVENT")[0]


# --- Undo -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moves", "back_to"),
    [
        (["arrived"], S.BOOKED),
        (["no_show"], S.BOOKED),
        (["confirmed", "cancelled"], S.CONFIRMED),
        (["arrived", "completed"], S.ARRIVED),
    ],
)
def test_a_mistaken_move_is_undone_as_a_recorded_and_audited_move_back(booked, receptionist, moves, back_to):
    for to in moves:
        appointment_transition(appointment=booked, to=to, by=receptionist, note="owner rang")
    undone = appointment_undo(appointment=booked, by=receptionist)
    assert undone.status == back_to and undone.cancel_reason == ""
    last = booked.events.order_by("-at", "-id").first()
    assert (last.kind, last.from_status, last.to_status) == (AppointmentEvent.Kind.UNDO, moves[-1], back_to)
    assert booked.events.count() == len(moves) + 2  # the booking, the moves, the undo: nothing deleted
    assert AuditEntry.objects.filter(action="status undo", object_id=str(booked.pk)).exists()
    # an undo is not itself undone by a second click
    with pytest.raises(DomainError):
        appointment_undo(appointment=booked, by=receptionist)


def test_only_the_role_that_set_it_may_undo_it(booked, receptionist, vet_user):
    appointment_transition(appointment=booked, to="no_show", by=vet_user)
    with pytest.raises(DomainError, match="same role"):
        appointment_undo(appointment=booked, by=receptionist)
    colleague = UserFactory(username="vera", role=Role.VET)
    assert appointment_undo(appointment=booked, by=colleague).status == S.BOOKED


def test_a_move_made_before_today_cannot_be_undone(booked, receptionist):
    appointment_transition(appointment=booked, to="arrived", by=receptionist)
    yesterday = timezone.now() - dt.timedelta(days=1)
    AppointmentEvent.objects.filter(appointment=booked, to_status="arrived").update(at=yesterday)
    booked.refresh_from_db()
    assert undoable_move(booked, receptionist) is None
    with pytest.raises(DomainError):
        appointment_undo(appointment=booked, by=receptionist)


def test_undoing_a_cancellation_refuses_when_its_time_was_booked_again(booked, book, monday, receptionist):
    appointment_transition(appointment=booked, to="cancelled", by=receptionist, note="owner rang")
    book(at(monday, 10), minutes=15)
    with pytest.raises(DomainError, match="already booked"):
        appointment_undo(appointment=booked, by=receptionist)
    booked.refresh_from_db()
    assert booked.status == S.CANCELLED


def test_the_pages_offer_undo_and_ask_before_a_no_show(as_receptionist, booked, vet, monday):
    day_list = reverse("appointments:day_list") + f"?vet={vet.pk}&date={monday}"
    body = as_receptionist.get(day_list).content.decode()
    assert 'data-confirm="Mark Biscuit at 10:00 as a no-show?"' in body
    detail = reverse("appointments:detail", args=[booked.pk])
    assert 'data-confirm="Mark Biscuit as a no-show?"' in as_receptionist.get(detail).content.decode()
    as_receptionist.post(reverse("appointments:transition", args=[booked.pk]), {"to": "no_show", "next": day_list})
    body = as_receptionist.get(day_list).content.decode()
    assert "Undo no-show" in body
    response = as_receptionist.post(reverse("appointments:undo", args=[booked.pk]), {"next": day_list})
    assert response.url == day_list
    booked.refresh_from_db()
    assert booked.status == S.BOOKED
    history = as_receptionist.get(detail).content.decode()
    assert "Undone" in history and "No-show undone" in history


# --- Reschedules in the history, and the owner's emails ---------------------------------------------------------


def test_history_shows_a_reschedule_from_to_and_who(as_receptionist, booked, receptionist, monday):
    appointment_reschedule(appointment=booked, start=at(monday, 14, 30), by=receptionist, notify_owner=False)
    event = booked.events.get(kind=AppointmentEvent.Kind.RESCHEDULE)
    assert (event.from_start, event.to_start, event.by) == (at(monday, 10), at(monday, 14, 30), receptionist)
    body = as_receptionist.get(reverse("appointments:detail", args=[booked.pk])).content.decode()
    assert f"{monday:%a %-d %b} 10:00" in body and f"{monday:%a %-d %b} 14:30" in body and "Rescheduled" in body


def test_owner_is_emailed_the_new_time_with_an_updated_ics_from_the_page(
    as_receptionist, booked, vet, monday, smtp_server, django_capture_on_commit_callbacks
):
    url = reverse("appointments:reschedule", args=[booked.pk])
    slot = f"{vet.pk}|{at(monday, 15).astimezone(dt.UTC).isoformat()}"
    with django_capture_on_commit_callbacks(execute=True):
        as_receptionist.post(url, {"minutes": 15, "vet": vet.pk, "date": monday, "slot": slot, "notify_owner": "on"})
    (message,) = smtp_server.messages
    assert message["To"] == "owner@example.com" and "moved" in message["Subject"]
    assert "15:00" in message.get_body(("plain",)).get_content()
    method, event = _ics(message)
    assert method == "PUBLISH" and str(event["uid"]) == f"appointment-{booked.pk}@vetpms"
    assert int(event["sequence"]) == 1 and event.decoded("dtstart") == at(monday, 15)


def test_unticking_the_box_tells_the_owner_nothing(
    as_receptionist, booked, vet, monday, smtp_server, django_capture_on_commit_callbacks
):
    url = reverse("appointments:reschedule", args=[booked.pk])
    slot = f"{vet.pk}|{at(monday, 15).astimezone(dt.UTC).isoformat()}"
    with django_capture_on_commit_callbacks(execute=True):
        as_receptionist.post(url, {"minutes": 15, "vet": vet.pk, "date": monday, "slot": slot})
        as_receptionist.post(
            reverse("appointments:transition", args=[booked.pk]), {"to": "cancelled", "note": "owner rang"}
        )
    booked.refresh_from_db()
    assert booked.start == at(monday, 15) and booked.status == S.CANCELLED
    assert smtp_server.messages == []


def test_a_cancellation_sends_an_ics_cancel_and_its_undo_restores_it(
    as_receptionist, booked, receptionist, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        as_receptionist.post(
            reverse("appointments:transition", args=[booked.pk]),
            {"to": "cancelled", "note": "pet is better", "notify_owner": "on"},
        )
    (message,) = smtp_server.messages
    assert "cancelled" in message["Subject"] and "pet is better" in message.get_body(("plain",)).get_content()
    method, event = _ics(message)
    assert method == "CANCEL" and str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 1
    assert str(event["uid"]) == f"appointment-{booked.pk}@vetpms"
    with django_capture_on_commit_callbacks(execute=True):
        appointment_undo(appointment=booked, by=receptionist)
    method, event = _ics(smtp_server.messages[1])
    assert method == "PUBLISH" and str(event["status"]) == "CONFIRMED" and int(event["sequence"]) == 2


def test_the_api_tells_the_owner_too_unless_asked_not_to(
    booked, receptionist, monday, smtp_server, django_capture_on_commit_callbacks
):
    _, secret = make_token(receptionist)
    api = JsonClient({"Authorization": f"Bearer {secret}"})
    url = f"/api/v1/appointments/{booked.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        moved = api.post(f"{url}/reschedule", {"start": f"{monday}T11:00"})
    with django_capture_on_commit_callbacks(execute=True):
        quiet = api.post(f"{url}/reschedule", {"start": f"{monday}T11:30", "notify_owner": False})
    assert moved.status_code == quiet.status_code == 200, moved.content
    assert len(smtp_server.messages) == 1
    assert int(_ics(smtp_server.messages[0])[1]["sequence"]) == 1
    history = quiet.json()["events"]
    assert [e["kind"] for e in history] == ["status", "reschedule", "reschedule"]
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = api.post(f"{url}/cancel", {"reason": "owner rang"})
    assert cancelled.status_code == 200
    method, event = _ics(smtp_server.messages[1])
    assert method == "CANCEL" and int(event["sequence"]) == 3
    undone = api.post(f"{url}/undo", {"notify_owner": False})
    assert undone.status_code == 200 and undone.json()["status"] == "booked"
    assert api.post(f"{url}/undo", {}).status_code == 409
    assert Appointment.objects.get(pk=booked.pk).status == S.BOOKED
