"""Leave over booked appointments: listed before anything is saved, then kept (listed to be moved) or cancelled
(owners emailed through the real local SMTP server unless unticked); leave for a range of days in one form; the
API refuses with 409 naming them unless told what to do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from icalendar import Calendar

from appointments.models import AppointmentStatus, BookException
from appointments.services import book_exception_add
from tests.api.conftest import JsonClient
from tests.appointments.conftest import at
from tests.factories import AnimalFactory, make_token
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def tuesday_and_wednesday(book, monday):
    """Two bookings on the Tuesday and Wednesday after ``monday``, and one on the Thursday (outside the leave)."""
    rows = []
    for offset, name in ((1, "Biscuit"), (2, "Pepper"), (3, "Thursday")):
        animal = AnimalFactory(name=name, owner__email=f"{name.lower()}@example.com", owner__reminder_consent=True)
        rows.append(book(at(monday + dt.timedelta(days=offset), 10), minutes=15, animal=animal))
    return rows


def test_leave_over_bookings_is_refused_naming_them(vet, manager, monday, tuesday_and_wednesday):
    with pytest.raises(DomainError, match=r"2 booked appointments fall in this leave: Biscuit .*; Pepper") as caught:
        book_exception_add(
            vet=vet, by=manager, date=monday, until=monday + dt.timedelta(days=2), kind=BookException.Kind.LEAVE
        )
    assert caught.value.code == "booked" and not BookException.objects.exists()
    # part-day leave that misses them is fine
    book_exception_add(
        vet=vet,
        by=manager,
        date=monday + dt.timedelta(days=1),
        kind=BookException.Kind.LEAVE,
        start_time=dt.time(10, 15),
        end_time=dt.time(12),
    )


def test_a_range_of_days_is_one_form_and_cancelling_tells_each_owner(
    as_manager, vet, monday, tuesday_and_wednesday, smtp_server, django_capture_on_commit_callbacks
):
    url = reverse("appointments:exceptions", args=[vet.pk])
    form = {"date": monday, "until": monday + dt.timedelta(days=2), "kind": "leave", "note": "Conference"}
    first = as_manager.post(url, form).content.decode()
    assert "2 booked appointments fall in this leave" in first and "Biscuit" in first and "Pepper" in first
    assert not BookException.objects.exists()  # nothing saved before the choice
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(url, form | {"booked": "cancel", "notify_owners": "on"})
    assert response.status_code == 302
    assert sorted(BookException.objects.values_list("date", flat=True)) == [
        monday + dt.timedelta(days=i) for i in range(3)
    ]
    biscuit, pepper, thursday = tuesday_and_wednesday
    for appointment in (biscuit, pepper, thursday):
        appointment.refresh_from_db()
    assert (biscuit.status, pepper.status, thursday.status) == (S.CANCELLED, S.CANCELLED, S.BOOKED)
    assert "Conference" in biscuit.cancel_reason
    assert sorted(m["To"] for m in smtp_server.messages) == ["biscuit@example.com", "pepper@example.com"]
    for message in smtp_server.messages:
        ics = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
        assert str(Calendar.from_ical(ics.get_content())["method"]) == "CANCEL"


def test_kept_bookings_are_listed_to_be_moved(as_manager, vet, monday, tuesday_and_wednesday, smtp_server):
    url = reverse("appointments:exceptions", args=[vet.pk])
    tuesday = monday + dt.timedelta(days=1)
    form = {"date": tuesday, "kind": "leave", "start_time": "09:00", "end_time": "11:00", "booked": "keep"}
    assert as_manager.post(url, form).status_code == 302
    biscuit = tuesday_and_wednesday[0]
    biscuit.refresh_from_db()
    assert biscuit.status == S.BOOKED and smtp_server.messages == []
    body = as_manager.get(url).content.decode()
    assert "Booked during leave: to move" in body
    assert reverse("appointments:reschedule", args=[biscuit.pk]) in body and "Pepper" not in body


def test_too_long_a_range_and_a_backwards_one_are_form_errors(as_manager, vet, monday):
    url = reverse("appointments:exceptions", args=[vet.pk])
    body = as_manager.post(url, {"date": monday, "until": monday - dt.timedelta(days=1), "kind": "leave"})
    assert "on or after the first" in body.content.decode()
    body = as_manager.post(url, {"date": monday, "until": monday + dt.timedelta(days=400), "kind": "leave"})
    assert "at most 92 days" in body.content.decode() and not BookException.objects.exists()


def test_the_api_refuses_leave_over_bookings_unless_told(vet, manager, monday, tuesday_and_wednesday):
    _, secret = make_token(manager)
    api = JsonClient({"Authorization": f"Bearer {secret}"})
    url = f"/api/v1/vets/{vet.pk}/exceptions"
    tuesday = (monday + dt.timedelta(days=1)).isoformat()
    refused = api.post(url, {"date": tuesday, "kind": "leave"})
    assert refused.status_code == 409 and "Biscuit" in refused.json()["detail"]
    kept = api.post(url, {"date": tuesday, "kind": "leave", "booked": "keep"})
    assert kept.status_code == 201
    tuesday_and_wednesday[0].refresh_from_db()
    assert tuesday_and_wednesday[0].status == S.BOOKED


def test_closing_the_practice_lists_every_vets_bookings_then_closes_every_book(
    as_manager, vet, monday, tuesday_and_wednesday, smtp_server, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory
    from vetpms.models import Role

    other = UserFactory(username="olga", first_name="Olga", last_name="Other", role=Role.VET).vet
    tuesday = monday + dt.timedelta(days=1)
    url = reverse("appointments:closure")
    form = {"date": tuesday, "note": "Burst pipe"}
    first = as_manager.post(url, form).content.decode()
    assert "1 booked appointment falls" in first and "Biscuit" in first and not BookException.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert as_manager.post(url, form | {"booked": "cancel", "notify_owners": "on"}).status_code == 302
    assert sorted(BookException.objects.values_list("vet_id", "date", "note")) == sorted(
        [(vet.pk, tuesday, "Burst pipe"), (other.pk, tuesday, "Burst pipe")]
    )
    tuesday_and_wednesday[0].refresh_from_db()
    assert tuesday_and_wednesday[0].status == S.CANCELLED
    assert [m["To"] for m in smtp_server.messages] == ["biscuit@example.com"]
