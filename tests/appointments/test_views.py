"""Appointment pages: who may open what, booking by pet (slots, one click, twice-submitted forms, clashes,
overrides, refusals), the appointment page and its status moves, rescheduling, the grid, week and day list with
fixed query counts, the calendar feed, and the managers' set-up pages. Bad input never gives a 500."""

from __future__ import annotations

import datetime as dt
import uuid
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from animals.services import animal_mark_deceased, animal_set_active
from appointments.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookException,
    CalendarFeed,
    WorkingHours,
)
from appointments.services import appointment_book, appointment_transition, calendar_feed_create
from tests.appointments.conftest import next_dst_change
from tests.factories import AnimalFactory, UserFactory, WeightFactory
from vetpms.models import Role
from vetpms.timeutils import local_datetime, to_local

pytestmark = pytest.mark.django_db
S = AppointmentStatus


def at(day, hh, mm=0):
    return local_datetime(day, dt.time(hh, mm))


@pytest.fixture
def booked(vet, consult, receptionist, monday):
    """Rex, Monday 10:00-10:15 with the vet."""
    animal = AnimalFactory(name="Rex", alerts="Bites\nAllergic to penicillin")
    return appointment_book(
        animal=animal, vet=vet, type=consult, start=at(monday, 10), by=receptionist, reason="Limping"
    )


def slot_value(vet, start):
    return f"{vet.pk}|{start.astimezone(dt.UTC).isoformat()}"


def booking_post(animal, book_vet, appointment_type, start, **extra):
    data = {
        "type": appointment_type.pk,
        "minutes": 15,
        "vet": book_vet.pk,
        "date": to_local(start).date().isoformat(),
        "reason": "Vaccination",
        "notes": "",
        "request_key": str(uuid.uuid4()),
        "slot": slot_value(book_vet, start),
    }
    data.update(extra)
    return data


# --- Who may open what ----------------------------------------------------------------------------------------


def _page_urls(booked, vet, monday):
    day = monday.isoformat()
    return [
        reverse("appointments:day_grid") + f"?date={day}",
        reverse("appointments:week") + f"?vet={vet.pk}&date={day}",
        reverse("appointments:day_list") + f"?vet={vet.pk}&date={day}",
        reverse("appointments:day_list_pdf") + f"?vet={vet.pk}&date={day}",
        reverse("appointments:detail", args=[booked.pk]),
        reverse("appointments:slots") + f"?minutes=15&date={day}",
    ]


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)])
def test_book_pages_need_view_appointment(users, login, booked, vet, monday, role, status):
    http = login(users[role])
    for url in _page_urls(booked, vet, monday):
        assert http.get(url).status_code == status, url


def test_anonymous_visitors_are_sent_to_sign_in(client, booked, vet, monday, pet):
    urls = [
        *_page_urls(booked, vet, monday),
        reverse("appointments:book", args=[pet.pk]),
        reverse("appointments:setup"),
        reverse("appointments:types_css"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND and response.url.startswith(reverse("login")), url


@pytest.mark.parametrize(("role", "status"), [("receptionist", 200), ("vet", 200), ("manager", 200), ("nobody", 403)])
def test_booking_pages_need_add_appointment(users, login, vet, consult, pet, role, status):
    http = login(users[role])
    assert http.get(reverse("appointments:book", args=[pet.pk])).status_code == status
    assert http.get(reverse("appointments:start") + f"?vet={vet.pk}").status_code == status


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("vet", 403), ("manager", 200), ("nobody", 403)])
def test_set_up_pages_are_for_managers(users, login, vet, consult, role, status):
    http = login(users[role])
    for url in [
        reverse("appointments:setup"),
        reverse("appointments:hours", args=[vet.pk]),
        reverse("appointments:exceptions", args=[vet.pk]),
        reverse("appointments:feeds", args=[vet.pk]),
        reverse("appointments:type_list"),
        reverse("appointments:type_create"),
        reverse("appointments:type_update", args=[consult.pk]),
    ]:
        assert http.get(url).status_code == status, url


@pytest.mark.parametrize(
    ("role", "allowed"), [("receptionist", True), ("vet", True), ("manager", True), ("nobody", False)]
)
def test_status_moves_need_change_appointment(users, login, booked, role, allowed):
    response = login(users[role]).post(reverse("appointments:transition", args=[booked.pk]), {"to": "arrived"})
    booked.refresh_from_db()
    assert booked.status == (S.ARRIVED if allowed else S.BOOKED)
    assert response.status_code == (HTTPStatus.FOUND if allowed else HTTPStatus.FORBIDDEN)


def test_navigation_shows_appointments_by_role(users, login):
    for role, visible in [("receptionist", True), ("manager", True), ("nobody", False)]:
        body = login(users[role]).get(reverse("clients:list") if role != "nobody" else reverse("home")).content.decode()
        nav = body[body.index("<header") : body.index("</header>")]
        assert (reverse("appointments:day_grid") in nav) is visible, role
        assert (reverse("appointments:setup") in nav) is (role == "manager"), role


# --- Booking by pet -------------------------------------------------------------------------------------------


def test_book_page_offers_free_slots_grouped_by_vet_with_a_one_off_key(as_receptionist, vet, consult, pet, monday):
    response = as_receptionist.get(reverse("appointments:book", args=[pet.pk]) + f"?date={monday}")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{slot_value(vet, at(monday, 9))}"' in body
    assert f'value="{slot_value(vet, at(monday, 16, 45))}"' in body
    assert 'name="request_key"' in body and "Book at this time anyway" in body  # receptionists may override
    assert f'data-minutes="{consult.default_minutes}"' in body


def test_booking_in_one_click_creates_it_and_shows_the_appointment(as_receptionist, vet, consult, pet, monday):
    data = booking_post(pet, vet, consult, at(monday, 11))
    response = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data)
    appointment = Appointment.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("appointments:detail", args=[appointment.pk])
    assert appointment.start == at(monday, 11) and appointment.vet == vet and appointment.reason == "Vaccination"
    page = as_receptionist.get(response.url).content.decode()
    assert "is booked with" in page and "Rex" in page


def test_the_same_form_submitted_twice_books_once(as_receptionist, vet, consult, pet, monday):
    data = booking_post(pet, vet, consult, at(monday, 11))
    first = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data)
    second = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data)
    assert Appointment.objects.count() == 1
    assert first.url == second.url


def test_a_taken_slot_is_a_form_error_naming_the_clash(as_receptionist, vet, consult, pet, monday, booked):
    data = booking_post(pet, vet, consult, at(monday, 10))
    response = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "already booked" in body and f"#{booked.pk}" in body and "Rex" in body
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "slot",
    ["", "nonsense", "1|not-a-date", "999999|2030-01-01T10:00:00+00:00", "1|2030-01-01T10:00:00", "99999999999|x"],
)
def test_a_missing_or_forged_slot_is_a_form_error(as_receptionist, vet, consult, pet, monday, slot):
    data = booking_post(pet, vet, consult, at(monday, 11), slot=slot)
    response = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data)
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_slot_outside_working_hours_is_refused_without_the_override(as_vet, vet, consult, pet, monday):
    data = booking_post(pet, vet, consult, at(monday, 7), override_hours="on", at_time="07:00")
    response = as_vet.post(reverse("appointments:book", args=[pet.pk]), data)
    assert "outside" in response.content.decode() and not Appointment.objects.exists()
    assert "Book at this time anyway" not in as_vet.get(reverse("appointments:book", args=[pet.pk])).content.decode()


def test_a_receptionist_may_book_outside_working_hours_explicitly(as_receptionist, vet, consult, pet, monday):
    data = booking_post(pet, vet, consult, at(monday, 11), slot="", override_hours="on", at_time="07:30")
    first = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data).content.decode()
    # the first click asks again, naming the vet's hours that day; nothing is booked yet
    assert f"{vet} works 09:00\u201317:00 on {monday:%A %-d %B}. 07:30\u201307:45 is outside those hours" in first
    assert 'name="override_hours" value="confirmed"' in first and not Appointment.objects.exists()
    response = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data | {"override_hours": "confirmed"})
    appointment = Appointment.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert appointment.start == at(monday, 7, 30) and appointment.outside_hours is True


def test_the_override_needs_a_vet_and_a_time(as_receptionist, vet, consult, pet, monday):
    data = booking_post(pet, vet, consult, at(monday, 11), slot="", override_hours="on", at_time="", vet="")
    body = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data).content.decode()
    assert "Choose the vet" in body and not Appointment.objects.exists()


def test_a_time_in_the_past_is_refused(as_receptionist, vet, consult, pet):
    past = timezone.now() - dt.timedelta(days=2)
    data = booking_post(pet, vet, consult, past)
    body = as_receptionist.post(reverse("appointments:book", args=[pet.pk]), data).content.decode()
    assert "already passed" in body and not Appointment.objects.exists()


def test_deceased_and_inactive_animals_get_a_clear_refusal(as_receptionist, receptionist, vet, consult, monday):
    gone = AnimalFactory(name="Goldie")
    animal_mark_deceased(animal=gone, on=timezone.localdate(), by=receptionist)
    resting = AnimalFactory(name="Sleepy")
    animal_set_active(animal=resting, active=False, by=receptionist)
    for animal, word in [(gone, "deceased"), (resting, "inactive")]:
        page = as_receptionist.get(reverse("appointments:book", args=[animal.pk])).content.decode()
        assert word in page and 'name="slot"' not in page
        as_receptionist.post(
            reverse("appointments:book", args=[animal.pk]), booking_post(animal, vet, consult, at(monday, 11))
        )
    assert not Appointment.objects.exists()


def test_unknown_animal_vet_and_bad_dates_never_give_a_500(as_receptionist, vet, consult, pet):
    assert as_receptionist.get(reverse("appointments:book", args=[999999])).status_code == 404
    assert as_receptionist.get(reverse("appointments:book", args=[pet.pk]) + "?vet=999999").status_code == 404
    assert as_receptionist.get(reverse("appointments:book", args=[pet.pk]) + "?vet=abc").status_code == 404
    response = as_receptionist.get(reverse("appointments:book", args=[pet.pk]) + "?date=2026-02-30", follow=True)
    assert response.status_code == 200 and "is not a date" in response.content.decode()


def test_the_free_slot_partial_follows_type_duration_vet_and_date(as_receptionist, vet, monday, booked):
    url = reverse("appointments:slots")
    body = as_receptionist.get(url, {"minutes": 60, "vet": vet.pk, "date": monday}).content.decode()
    assert slot_value(vet, at(monday, 9)) in body  # 09:00-10:00 fits before Rex at 10:00
    assert slot_value(vet, at(monday, 9, 15)) not in body  # 09:15-10:15 would overlap
    assert slot_value(vet, at(monday, 10, 15)) in body
    bad = as_receptionist.get(url, {"minutes": 0, "vet": "x", "date": "2026-02-30"})
    assert bad.status_code == 200 and "alert" in bad.content.decode()


@override_settings(TIME_ZONE="Europe/London")
def test_free_slots_on_the_autumn_change_show_both_half_past_ones(as_receptionist, vet):
    autumn = next_dst_change(10)
    WorkingHours.objects.filter(vet=vet).delete()
    WorkingHours.objects.create(vet=vet, weekday=autumn.weekday(), start_time=dt.time(0), end_time=dt.time(4))
    body = as_receptionist.get(
        reverse("appointments:slots"), {"minutes": 30, "vet": vet.pk, "date": autumn}
    ).content.decode()
    assert "01:30 BST" in body and "01:30 GMT" in body
    assert body.index("01:30 BST") < body.index("01:30 GMT")


def test_a_slot_picked_in_the_grid_is_highlighted(as_receptionist, vet, consult, pet, monday):
    url = reverse("appointments:book", args=[pet.pk]) + f"?vet={vet.pk}&date={monday}&time=11:15"
    body = as_receptionist.get(url).content.decode()
    chosen = body[body.index(f'value="{slot_value(vet, at(monday, 11, 15))}"') :][:120]
    assert "btn-primary" in chosen


def test_starting_from_an_empty_slot_asks_for_the_pet(as_receptionist, vet, monday, pet):
    url = reverse("appointments:start")
    page = as_receptionist.get(url, {"vet": vet.pk, "date": monday, "time": "11:15"}).content.decode()
    assert "Which pet" in page and "11:15" in page
    results = as_receptionist.get(
        url, {"vet": vet.pk, "date": monday, "time": "11:15", "q": "Rex"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert reverse("appointments:book", args=[pet.pk]) + f"?vet={vet.pk}&amp;date={monday}&amp;time=11%3A15" in results


# --- The appointment page, moves, rescheduling ------------------------------------------------------------------


def test_appointment_page_shows_pet_alerts_owner_status_history_and_moves(as_receptionist, booked):
    appointment_transition(appointment=booked, to="confirmed", by=booked.booked_by, note="phoned")
    body = as_receptionist.get(reverse("appointments:detail", args=[booked.pk])).content.decode()
    assert "Bites" in body and "Allergic to penicillin" in body
    assert booked.client.display_name in body and booked.client.main_phone in body
    assert "Limping" in body and "phoned" in body and "Confirmed" in body
    assert 'name="to" value="arrived"' in body and 'name="to" value="cancelled"' in body
    assert 'name="to" value="completed"' not in body  # not allowed from confirmed
    assert as_receptionist.get(reverse("appointments:detail", args=[999999])).status_code == 404


def test_a_move_the_flow_does_not_allow_leaves_a_message_and_no_change(as_receptionist, booked):
    response = as_receptionist.post(
        reverse("appointments:transition", args=[booked.pk]), {"to": "completed"}, follow=True
    )
    booked.refresh_from_db()
    assert booked.status == S.BOOKED and "cannot become completed" in response.content.decode()
    response = as_receptionist.post(reverse("appointments:transition", args=[booked.pk]), {"to": "bogus"}, follow=True)
    assert response.status_code == 200 and "Unknown status" in response.content.decode()
    assert as_receptionist.get(reverse("appointments:transition", args=[booked.pk])).status_code == 405
    assert as_receptionist.post(reverse("appointments:transition", args=[999999]), {"to": "arrived"}).status_code == 404


def test_cancelling_needs_a_reason(as_receptionist, booked):
    url = reverse("appointments:transition", args=[booked.pk])
    response = as_receptionist.post(url, {"to": "cancelled", "note": "  "}, follow=True)
    booked.refresh_from_db()
    assert booked.status == S.BOOKED and "Say why" in response.content.decode()
    as_receptionist.post(url, {"to": "cancelled", "note": "Owner rang"})
    booked.refresh_from_db()
    assert booked.status == S.CANCELLED and booked.cancel_reason == "Owner rang"


def test_moves_from_the_day_list_return_there_but_never_off_site(as_vet, booked, vet, monday):
    here = reverse("appointments:day_list") + f"?vet={vet.pk}&date={monday}"
    url = reverse("appointments:transition", args=[booked.pk])
    assert as_vet.post(url, {"to": "arrived", "next": here}).url == here
    assert as_vet.post(url, {"to": "completed", "next": "https://evil.example/"}).url == reverse(
        "appointments:detail", args=[booked.pk]
    )


def test_rescheduling_moves_the_appointment_to_a_free_slot(as_receptionist, booked, vet, monday):
    url = reverse("appointments:reschedule", args=[booked.pk])
    page = as_receptionist.get(url).content.decode()
    assert slot_value(vet, at(monday, 14)) in page
    data = {"minutes": 15, "vet": vet.pk, "date": monday, "slot": slot_value(vet, at(monday, 14))}
    response = as_receptionist.post(url, data)
    booked.refresh_from_db()
    assert response.status_code == HTTPStatus.FOUND and booked.start == at(monday, 14)


def test_rescheduling_into_a_clash_is_a_form_error(as_receptionist, booked, vet, consult, monday, receptionist):
    other = appointment_book(
        animal=AnimalFactory(name="Tom"), vet=vet, type=consult, start=at(monday, 15), by=receptionist
    )
    data = {"minutes": 15, "vet": vet.pk, "date": monday, "slot": slot_value(vet, at(monday, 15))}
    body = as_receptionist.post(reverse("appointments:reschedule", args=[booked.pk]), data).content.decode()
    booked.refresh_from_db()
    assert booked.start == at(monday, 10) and f"#{other.pk}" in body


def test_a_completed_appointment_cannot_be_rescheduled(as_receptionist, booked):
    for to in ("arrived", "completed"):
        appointment_transition(appointment=booked, to=to, by=booked.booked_by)
    response = as_receptionist.get(reverse("appointments:reschedule", args=[booked.pk]), follow=True)
    assert "cannot be moved" in response.content.decode()


# --- Day grid, week, day list -----------------------------------------------------------------------------------


def _book_many(n, vet, consult, receptionist, day):
    second = UserFactory(username="second-vet", first_name="Sam", last_name="Second", role=Role.VET).vet
    WorkingHours.objects.create(vet=second, weekday=day.weekday(), start_time=dt.time(9), end_time=dt.time(17))
    for i in range(n):
        start = at(day, 9) + dt.timedelta(minutes=15 * (i // 2))
        appointment_book(
            animal=AnimalFactory(), vet=vet if i % 2 == 0 else second, type=consult, start=start, by=receptionist
        )


def _queries(http, url) -> int:
    http.get(url)  # steady state: the session's once-a-minute touch is not part of the page's cost
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["day_grid", "day_list", "week"])
def test_query_count_does_not_grow_with_appointments(as_receptionist, vet, consult, receptionist, monday, page):
    url = reverse(f"appointments:{page}") + f"?vet={vet.pk}&date={monday}"
    _book_many(2, vet, consult, receptionist, monday)
    few = _queries(as_receptionist, url)
    for i in range(18):
        appointment_book(
            animal=AnimalFactory(),
            vet=vet,
            type=consult,
            start=at(monday, 12) + dt.timedelta(minutes=15 * i),
            by=receptionist,
        )
    assert Appointment.objects.count() == 20
    assert _queries(as_receptionist, url) == few


def test_day_grid_has_a_column_per_vet_blocks_by_type_and_bookable_empty_slots(as_receptionist, booked, vet, monday):
    BookException.objects.create(vet=vet, date=monday, kind="leave", start_time=dt.time(13), end_time=dt.time(14))
    body = as_receptionist.get(reverse("appointments:day_grid"), {"date": monday}).content.decode()
    assert vet.display_name in body
    assert f"appt-type-{booked.type_id} status-booked" in body
    assert reverse("appointments:detail", args=[booked.pk]) in body
    assert f"{reverse('appointments:start')}?vet={vet.pk}&amp;date={monday}&amp;time=11%3A00" in body
    assert "time=13%3A15" not in body  # on leave: greyed, not bookable
    assert 'class="slot-off"' in body
    assert reverse("appointments:types_css") in body
    assert 'style="' not in body


def test_day_grid_navigation_and_a_bad_date(as_receptionist, vet, monday):
    body = as_receptionist.get(reverse("appointments:day_grid"), {"date": monday}).content.decode()
    assert f"?date={monday - dt.timedelta(days=1)}" in body and f"?date={monday + dt.timedelta(days=1)}" in body
    response = as_receptionist.get(reverse("appointments:day_grid"), {"date": "2026-02-30"})
    assert response.status_code == 200 and "is not a date" in response.content.decode()
    assert timezone.localdate().strftime("%B") in response.content.decode()


def test_week_view_shows_seven_days_of_one_vet(as_receptionist, booked, vet, monday):
    body = as_receptionist.get(reverse("appointments:week"), {"vet": vet.pk, "date": monday + dt.timedelta(days=3)})
    text = body.content.decode()
    assert f"week of {monday:%-d %b}" in text and "Rex" in text
    assert as_receptionist.get(reverse("appointments:week"), {"vet": 999999}).status_code == 404


def test_day_list_shows_pet_details_owner_and_one_click_moves(as_vet, booked, vet, monday):
    WeightFactory(animal=booked.animal, kg="23.400")
    body = as_vet.get(reverse("appointments:day_list"), {"vet": vet.pk, "date": monday}).content.decode()
    assert "Rex" in body and "Dog" in body and "23.4 kg" in body and booked.animal.age in body
    assert "Bites" in body and booked.client.main_phone in body and "Limping" in body
    assert 'name="to" value="confirmed"' in body and 'name="to" value="arrived"' in body
    assert reverse("animals:detail", args=[booked.animal.pk]) in body


def test_a_signed_in_vet_lands_on_their_own_day_list(as_vet, vet):
    body = as_vet.get(reverse("home")).content.decode()
    today = timezone.localdate()
    assert f"{vet.display_name} · {today:%A} {today.day}" in body
    assert reverse("appointments:day_list_pdf") + f"?vet={vet.pk}&amp;date={today}" in body


def test_a_receptionist_still_gets_the_home_page(as_receptionist):
    assert "Find a pet or owner" in as_receptionist.get(reverse("home")).content.decode()


def test_day_list_pdf_is_a_download_named_after_vet_and_day(as_vet, booked, vet, monday):
    response = as_vet.get(reverse("appointments:day_list_pdf"), {"vet": vet.pk, "date": monday})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert f"{monday.isoformat()}.pdf" in response["Content-Disposition"]


# --- Animal page and search -------------------------------------------------------------------------------------


def test_animal_page_has_book_button_and_appointment_history(as_receptionist, booked):
    body = as_receptionist.get(reverse("animals:detail", args=[booked.animal.pk])).content.decode()
    assert reverse("appointments:book", args=[booked.animal.pk]) in body
    assert reverse("appointments:detail", args=[booked.pk]) in body and "Limping" in body


def test_search_results_offer_book_per_pet(as_receptionist, pet, vet):
    body = as_receptionist.get(reverse("search"), {"q": "Rex"}).content.decode()
    assert reverse("appointments:book", args=[pet.pk]) in body


# --- Calendar feed ----------------------------------------------------------------------------------------------


def test_manager_creates_and_revokes_a_feed_which_is_public_until_revoked(as_manager, client, booked, vet):
    response = as_manager.post(reverse("appointments:feeds", args=[vet.pk]))
    assert response.status_code == HTTPStatus.FOUND
    feed = CalendarFeed.objects.get(vet=vet)
    url = reverse("calendar_feed", args=[feed.token])
    assert url in as_manager.get(reverse("appointments:feeds", args=[vet.pk])).content.decode()
    served = client.get(url)  # no login
    assert served.status_code == 200 and served["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(served.content).walk("VEVENT")
    assert len(events) == 1 and "Rex" in str(events[0]["summary"]) and "Limping" in str(events[0]["description"])
    assert booked.client.main_phone.replace(" ", "")[-6:] not in served.content.decode().replace(" ", "")
    as_manager.post(reverse("appointments:feeds", args=[vet.pk]), {"revoke": feed.pk})
    assert client.get(url).status_code == 404
    assert client.get(reverse("calendar_feed", args=["no-such-token"])).status_code == 404


def test_feed_of_another_vet_cannot_be_revoked_through_this_page(as_manager, vet, manager):
    other = UserFactory(username="other-vet", role=Role.VET).vet
    feed = calendar_feed_create(vet=other, by=manager)
    response = as_manager.post(reverse("appointments:feeds", args=[vet.pk]), {"revoke": feed.pk})
    assert response.status_code == 404
    assert as_manager.post(reverse("appointments:feeds", args=[vet.pk]), {"revoke": "x"}).status_code == 404


# --- Set-up ----------------------------------------------------------------------------------------------------


def test_manager_edits_working_hours_with_two_sessions(as_manager, vet):
    data = {"d0_s1_start": "08:00", "d0_s1_end": "12:00", "d0_s2_start": "13:00", "d0_s2_end": "17:30"}
    response = as_manager.post(reverse("appointments:hours", args=[vet.pk]), data)
    assert response.status_code == HTTPStatus.FOUND
    rows = list(WorkingHours.objects.filter(vet=vet).values_list("weekday", "start_time", "end_time"))
    assert rows == [(0, dt.time(8), dt.time(12)), (0, dt.time(13), dt.time(17, 30))]
    page = as_manager.get(reverse("appointments:hours", args=[vet.pk])).content.decode()
    assert 'value="13:00"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"d1_s1_start": "12:00", "d1_s1_end": "09:00"}, "end must be after"),
        ({"d1_s1_start": "09:00"}, "both a start and an end"),
        ({"d1_s1_start": "09:00", "d1_s1_end": "13:00", "d1_s2_start": "12:00", "d1_s2_end": "15:00"}, "overlap"),
        ({"d1_s1_start": "25:00", "d1_s1_end": "26:00"}, "valid time"),
    ],
)
def test_bad_working_hours_are_form_errors(as_manager, vet, data, message):
    before = WorkingHours.objects.filter(vet=vet).count()
    response = as_manager.post(reverse("appointments:hours", args=[vet.pk]), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert WorkingHours.objects.filter(vet=vet).count() == before


def test_manager_adds_and_removes_leave(as_manager, vet, monday):
    url = reverse("appointments:exceptions", args=[vet.pk])
    assert as_manager.post(url, {"date": monday, "kind": "leave", "note": "Conference"}).status_code == 302
    exc = BookException.objects.get()
    assert "Conference" in as_manager.get(url).content.decode()
    bad = as_manager.post(url, {"date": monday, "kind": "extra", "start_time": "", "end_time": ""})
    assert bad.status_code == 200 and "needs its times" in bad.content.decode()
    as_manager.post(reverse("appointments:exception_remove", args=[exc.pk]))
    assert not BookException.objects.exists()


def test_manager_creates_and_edits_appointment_types_and_their_colours_are_served(as_manager, consult):
    data = {"name": "Dental", "default_minutes": 45, "colour": "#aa3300", "recall_name": "Dental recheck"}
    data |= {"recall_interval": 6, "recall_unit": "months", "is_active": "on"}
    assert as_manager.post(reverse("appointments:type_create"), data).status_code == 302
    dental = AppointmentType.objects.get(name="Dental")
    assert dental.recall_text == "Dental recheck in 6 months"
    listing = as_manager.get(reverse("appointments:type_list")).content.decode()
    assert "Dental recheck in 6 months" in listing and "45 min" in listing
    data |= {"colour": "#00aa00", "recall_interval": ""}
    response = as_manager.post(reverse("appointments:type_update", args=[dental.pk]), data)
    assert response.status_code == 200 and "Give both the recall interval" in response.content.decode()
    data |= {"recall_unit": ""}
    as_manager.post(reverse("appointments:type_update", args=[dental.pk]), data)
    css = as_manager.get(reverse("appointments:types_css"))
    assert css["Content-Type"].startswith("text/css")
    assert f".type-swatch.appt-type-{dental.pk} {{ background-color: #00aa00; }}" in css.content.decode()
    again = as_manager.get(reverse("appointments:types_css"), headers={"If-None-Match": css["ETag"]})
    assert again.status_code == HTTPStatus.NOT_MODIFIED


def test_a_duplicate_type_name_is_a_form_error(as_manager, consult):
    response = as_manager.post(
        reverse("appointments:type_create"), {"name": "Consultation", "default_minutes": 15, "colour": "#112233"}
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()


def test_day_grid_query_count_is_flat_with_rebooked_slots(as_receptionist, vet, consult, receptionist, monday):
    """A cancelled appointment whose slot was booked again is listed under the grid; that list must not cost a
    query per entry either."""

    def cancel_and_rebook(hour):
        first = appointment_book(animal=AnimalFactory(), vet=vet, type=consult, start=at(monday, hour), by=receptionist)
        appointment_transition(appointment=first, to="cancelled", by=receptionist, note="owner rang")
        appointment_book(animal=AnimalFactory(), vet=vet, type=consult, start=at(monday, hour), by=receptionist)

    url = reverse("appointments:day_grid") + f"?date={monday}"
    cancel_and_rebook(9)
    few = _queries(as_receptionist, url)
    for hour in range(10, 16):
        cancel_and_rebook(hour)
    assert _queries(as_receptionist, url) == few
