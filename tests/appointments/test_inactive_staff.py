"""A member of staff a manager has deactivated keeps their Vet row (history needs it) but their book is closed:
never offered (book page, day grid, week view, free-slot search, API) and never bookable (service, page, API),
whatever the book's own ``is_active`` flag says. The same holds for a book closed by its flag."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appointments import selectors
from appointments.services import appointment_book, appointment_reschedule
from tests.api.conftest import JsonClient
from tests.appointments.conftest import at
from tests.appointments.test_views import booking_post, slot_value
from tests.factories import AnimalFactory, make_token
from vetpms.errors import DomainError
from vetpms.models import Vet
from vetpms.services import staff_deactivate

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["staff account", "book"])
def closed_vet(request, vet, manager):
    """The vet's book closed one of two ways: the person deactivated by a manager, or the book's own flag."""
    if request.param == "staff account":
        staff_deactivate(user=vet.user, by=manager)
    else:
        Vet.objects.filter(pk=vet.pk).update(is_active=False)
    return Vet.objects.select_related("user").get(pk=vet.pk)


def test_the_service_refuses_to_book_or_move_into_a_closed_book(closed_vet, consult, receptionist, monday, book):
    with pytest.raises(DomainError) as refused:
        appointment_book(
            animal=AnimalFactory(), vet=closed_vet, type=consult, start=at(monday, 10), minutes=15, by=receptionist
        )
    assert refused.value.field == "vet"


def test_a_booking_cannot_be_moved_into_a_deactivated_vets_book(vet, manager, consult, receptionist, monday, book):
    other = book(at(monday, 10), minutes=15)
    leaver = Vet.objects.select_related("user").get(pk=vet.pk)
    staff_deactivate(user=leaver.user, by=manager)
    leaver.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        appointment_reschedule(appointment=other, start=at(monday, 11), vet=leaver, by=receptionist)
    assert refused.value.field == "vet"


def test_free_slots_never_include_a_closed_book(closed_vet, monday):
    assert Vet.objects.bookable().filter(pk=closed_vet.pk).exists() is False
    assert closed_vet not in list(selectors.active_vets())
    assert selectors.find_free_slots(day=monday, minutes=15, vets=[closed_vet], step_minutes=15) == []
    assert selectors.free_starts_for_days(vet=closed_vet, days=[monday], step_minutes=15) == {monday: []}


def test_pages_neither_offer_nor_book_a_closed_book(closed_vet, consult, pet, monday, as_receptionist):
    book_page = as_receptionist.get(reverse("appointments:book", args=[pet.pk]) + f"?date={monday}")
    assert book_page.status_code == 200
    assert slot_value(closed_vet, at(monday, 9)) not in book_page.content.decode()
    grid = as_receptionist.get(reverse("appointments:day_grid") + f"?date={monday}").content.decode()
    assert closed_vet.display_name not in grid
    week = as_receptionist.get(reverse("appointments:week") + f"?vet={closed_vet.pk}&date={monday}")
    assert week.status_code == 200
    assert "slot-link" not in week.content.decode()
    posted = as_receptionist.post(
        reverse("appointments:book", args=[pet.pk]), booking_post(pet, closed_vet, consult, at(monday, 11))
    )
    assert posted.status_code == 200  # the form again, with the refusal
    assert not closed_vet.appointments.exists()


def test_the_api_neither_offers_nor_books_a_closed_book(closed_vet, consult, pet, monday, receptionist):
    _, secret = make_token(receptionist)
    api = JsonClient({"Authorization": f"Bearer {secret}"})
    day = {"date": monday.isoformat(), "minutes": 15}
    any_vet = api.get("/api/v1/vets/any/free-slots", day)
    assert any_vet.status_code == 200, any_vet.content
    assert all(slot["vet"]["id"] != closed_vet.pk for slot in any_vet.json()["slots"]), any_vet.json()
    own = api.get(f"/api/v1/vets/{closed_vet.pk}/free-slots", day)
    assert (own.status_code, own.json().get("field")) == (409, "vet")
    listed = api.get("/api/v1/vets").json()
    assert closed_vet.pk not in [v["id"] for v in listed]
    closed = api.get("/api/v1/vets", {"active": "false"}).json()
    assert [(v["id"], v["is_active"]) for v in closed] == [(closed_vet.pk, False)]
    booked = api.post(
        "/api/v1/appointments",
        {"animal": pet.pk, "vet": closed_vet.pk, "type": consult.pk, "start": at(monday, 11).isoformat()},
    )
    assert (booked.status_code, booked.json().get("field")) == (409, "vet"), booked.content
