"""/api/v1/appointments: roles, booking and its bad input, idempotency, rescheduling, cancelling, status moves,
filters, the detail's history and query counts."""

import datetime as dt

import pytest
from django.utils import timezone

from animals.services import animal_mark_deceased
from appointments.models import Appointment, AppointmentStatus, AppointmentType
from appointments.services import appointment_book, appointment_transition
from tests.api.conftest import error_fields
from tests.appointments.conftest import at, next_dst_change, next_weekday
from tests.factories import AnimalFactory, ClientFactory, UserFactory, WeightFactory, breed
from vetpms.models import Role

pytestmark = pytest.mark.django_db
S = AppointmentStatus
URL = "/api/v1/appointments"


def naive(day: dt.date, hh: int, mm: int = 0) -> str:
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}"


def detail(appointment) -> str:
    return f"{URL}/{appointment.pk}"


@pytest.fixture
def booking(pet, vet, consult, monday):
    """The body of a 30-minute booking for Rex with the vet at 10:00 next Monday (practice time)."""
    return {"animal": pet.pk, "vet": vet.pk, "type": consult.pk, "start": naive(monday, 10), "minutes": 30}


@pytest.fixture
def existing(book, monday):
    """Bella, 10:00-10:30 next Monday."""
    return book(at(monday, 10), animal=AnimalFactory(name="Bella"))


# --- who may do what -------------------------------------------------------------------------------------------

READERS = {"receptionist": 200, "vet_user": 200, "manager": 200, "nobody": 403}
BOOKERS = {"receptionist": 201, "vet_user": 201, "manager": 201, "nobody": 403}


@pytest.mark.parametrize(("role", "expected"), READERS.items())
def test_list_and_retrieve_by_role(role, expected, existing, api_for):
    api = api_for(role)
    assert api.get(URL).status_code == expected
    assert api.get(detail(existing)).status_code == expected


@pytest.mark.parametrize(("role", "expected"), BOOKERS.items())
def test_book_by_role(role, expected, booking, api_for):
    response = api_for(role).post(URL, booking)
    assert response.status_code == expected, response.content
    assert Appointment.objects.exists() == (expected == 201)


@pytest.mark.parametrize(("role", "expected"), READERS.items())
def test_reschedule_cancel_and_status_by_role(role, expected, book, monday, api_for):
    api = api_for(role)
    first, second, third = (book(at(monday, hh)) for hh in (10, 11, 12))
    assert api.post(f"{detail(first)}/reschedule", {"start": naive(monday, 14)}).status_code == expected
    assert api.post(f"{detail(second)}/cancel", {"reason": "owner rang"}).status_code == expected
    assert api.post(f"{detail(third)}/status", {"to": "confirmed"}).status_code == expected
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == ({S.BOOKED, S.CANCELLED, S.CONFIRMED} if expected == 200 else {S.BOOKED})


ENDPOINTS = [
    ("get", "/{id}", None),
    ("post", "/{id}/reschedule", {"start": "2030-01-07T10:00"}),
    ("post", "/{id}/cancel", {"reason": "x"}),
    ("post", "/{id}/status", {"to": "confirmed"}),
]


@pytest.mark.parametrize(("method", "path", "body"), [("get", "", None), ("post", "", {}), *ENDPOINTS])
def test_every_endpoint_is_401_without_credentials(method, path, body, existing, anonymous):
    url = URL + path.format(id=existing.pk)
    response = anonymous.get(url) if method == "get" else anonymous.post(url, body)
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_nobody_is_refused_before_any_lookup(method, path, body, nobody, api_as):
    api = api_as(nobody)
    url = URL + path.format(id=999999)
    response = api.get(url) if method == "get" else api.post(url, body)
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("bad_id", ["999999", "abc", "0", "99999999999999999999999"])
def test_unknown_or_malformed_id_is_404_json(method, path, body, bad_id, existing, manager, api_as):
    api = api_as(manager)
    url = URL + path.format(id=bad_id)
    response = api.get(url) if method == "get" else api.post(url, body)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- booking ---------------------------------------------------------------------------------------------------


def test_book_returns_the_appointment_in_practice_time_with_its_history(booking, pet, vet, receptionist, api_as):
    WeightFactory(animal=pet, kg="31.2")
    response = api_as(receptionist).post(URL, booking | {"reason": "limping", "notes": "left fore"})
    assert response.status_code == 201, response.content
    data = response.json()
    appointment = Appointment.objects.get()
    assert data["id"] == appointment.pk
    start = dt.datetime.fromisoformat(data["start"])
    assert start == appointment.start and start.utcoffset() == timezone.localtime(appointment.start).utcoffset()
    assert data["start"].startswith(booking["start"]) and not data["start"].endswith("Z")
    assert dt.datetime.fromisoformat(data["end"]) - start == dt.timedelta(minutes=30)
    assert data["minutes"] == 30
    assert (data["status"], data["status_display"]) == ("booked", "Booked")
    assert data["vet"]["id"] == vet.pk
    assert data["type"]["name"] == "Consultation"
    assert data["animal"]["name"] == "Rex" and data["animal"]["last_weight_kg"] == "31.200"
    assert data["client"]["id"] == pet.owner_id
    assert (data["reason"], data["notes"], data["outside_hours"]) == ("limping", "left fore", False)
    assert data["booked_by_id"] == receptionist.pk
    assert [(e["from_status"], e["to_status"], e["by"]) for e in data["events"]] == [("", "booked", "Rita Reception")]


def test_minutes_default_to_the_types_duration(booking, receptionist, api_as):
    del booking["minutes"]
    assert api_as(receptionist).post(URL, booking).json()["minutes"] == 15


def test_start_with_an_offset_keeps_the_instant(booking, monday, receptionist, api_as):
    utc_start = dt.datetime.combine(monday, dt.time(10), tzinfo=dt.UTC)
    data = api_as(receptionist).post(URL, booking | {"start": utc_start.isoformat()}).json()
    assert dt.datetime.fromisoformat(data["start"]) == utc_start


def test_end_instead_of_minutes(booking, monday, receptionist, api_as):
    del booking["minutes"]
    data = api_as(receptionist).post(URL, booking | {"end": naive(monday, 10, 45)}).json()
    assert data["minutes"] == 45


@pytest.mark.parametrize("minutes", [0, -5, 721, 1440, 100000, "ten", 1.5, None])
def test_impossible_durations_are_422_on_minutes(minutes, booking, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {"minutes": minutes})
    if minutes is None:  # null means "the type's duration"
        assert response.status_code == 201
        return
    assert error_fields(response) == ["minutes"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("hh", "mm"), [(9, 30), (10, 0), (0, 0)])
def test_end_before_or_at_the_start_is_422_on_end(hh, mm, booking, monday, receptionist, api_as):
    del booking["minutes"]
    response = api_as(receptionist).post(URL, booking | {"end": naive(monday, hh, mm)})
    assert error_fields(response) == ["end"]


def test_end_more_than_twelve_hours_after_the_start_is_422_on_end(booking, monday, receptionist, api_as):
    del booking["minutes"]
    tomorrow = monday + dt.timedelta(days=1)
    assert error_fields(api_as(receptionist).post(URL, booking | {"end": naive(tomorrow, 10)})) == ["end"]


def test_both_minutes_and_end_is_422(booking, monday, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {"end": naive(monday, 11)})
    assert response.status_code == 422
    assert "either minutes or end" in response.content.decode()


@pytest.mark.parametrize("field", ["animal", "vet", "type"])
def test_unknown_ids_in_the_body_are_422_on_that_field(field, booking, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {field: 999999})
    assert error_fields(response) == [field]
    assert "999999" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("field", ["animal", "vet", "type"])
@pytest.mark.parametrize("value", ["rex", 0, -1, 2**63, None, [1]])
def test_malformed_ids_in_the_body_are_422_on_that_field(field, value, booking, receptionist, api_as):
    assert field in error_fields(api_as(receptionist).post(URL, booking | {field: value}))


@pytest.mark.parametrize(
    "start",
    [
        "2026-02-30T10:00",
        "2026-13-01T10:00",
        "2026-06-01T25:00",
        "next monday",
        "2026-06-01",
        "01/06/2026 10:00",
        "",
        1780000000,
        "10000-01-01T10:00",
        "9999-12-31T23:59",
        "0001-01-01T00:00+14:00",
        None,
    ],
)
def test_malformed_starts_are_422_on_start(start, booking, receptionist, api_as):
    assert error_fields(api_as(receptionist).post(URL, booking | {"start": start})) == ["start"]


def test_start_with_seconds_is_422(booking, receptionist, api_as):
    assert error_fields(api_as(receptionist).post(URL, booking | {"start": booking["start"] + ":30"})) == ["start"]


def test_naive_start_is_read_as_practice_time(booking, monday, receptionist, api_as):
    api_as(receptionist).post(URL, booking | {"start": naive(monday, 9)})
    assert timezone.localtime(Appointment.objects.get().start).replace(tzinfo=None) == dt.datetime.combine(
        monday, dt.time(9)
    )


def test_unknown_body_fields_are_422(booking, receptionist, api_as):
    assert error_fields(api_as(receptionist).post(URL, booking | {"strat": "x"})) == ["strat"]


def test_slot_already_taken_is_409_naming_the_clash(existing, booking, monday, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {"start": naive(monday, 10, 15)})
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["field"]) == ("clash", "start")
    assert f"#{existing.pk}" in body["detail"] and "Bella" in body["detail"]
    assert Appointment.objects.count() == 1


def test_back_to_back_is_fine(existing, booking, monday, receptionist, api_as):
    assert api_as(receptionist).post(URL, booking | {"start": naive(monday, 10, 30)}).status_code == 201


def test_a_time_in_the_past_is_409(booking, receptionist, api_as):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = api_as(receptionist).post(URL, booking | {"start": naive(yesterday, 10)})
    assert response.status_code == 409
    assert response.json()["code"] == "past"


def test_outside_working_hours_without_override_is_409(booking, monday, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {"start": naive(monday, 18)})
    assert response.status_code == 409
    assert response.json()["code"] == "outside_hours"
    assert not Appointment.objects.exists()


def test_receptionist_may_override_working_hours(booking, monday, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {"start": naive(monday, 18), "override_hours": True})
    assert response.status_code == 201, response.content
    assert response.json()["outside_hours"] is True


def test_override_inside_working_hours_is_not_marked_outside(booking, receptionist, api_as):
    response = api_as(receptionist).post(URL, booking | {"override_hours": True})
    assert response.json()["outside_hours"] is False


def test_vet_may_not_override_working_hours(booking, monday, vet_user, api_as):
    for start in (naive(monday, 18), naive(monday, 10)):
        response = api_as(vet_user).post(URL, booking | {"start": start, "override_hours": True})
        assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_deceased_animal_cannot_be_booked(booking, pet, receptionist, api_as):
    animal_mark_deceased(animal=pet, on=timezone.localdate(), by=receptionist)
    response = api_as(receptionist).post(URL, booking)
    assert response.status_code == 409
    assert response.json()["field"] == "animal"


def test_inactive_type_cannot_be_booked(booking, consult, receptionist, api_as):
    AppointmentType.objects.filter(pk=consult.pk).update(is_active=False)
    assert api_as(receptionist).post(URL, booking).json()["field"] == "type"


# --- DST: Europe/London, last Sunday of March (gap 01:00-02:00) and of October (01:00-02:00 twice) ------------


def test_a_naive_time_that_does_not_exist_is_422_with_the_message(booking, receptionist, api_as, settings):
    spring = next_dst_change(3)
    response = api_as(receptionist).post(URL, booking | {"start": naive(spring, 1, 30), "override_hours": True})
    assert error_fields(response) == ["start"]
    assert "does not exist" in response.json()["detail"][0]["msg"]


def test_a_repeated_fall_back_time_means_the_first_unless_an_offset_says(booking, receptionist, api_as):
    autumn = next_dst_change(10)
    api = api_as(receptionist)
    first = api.post(URL, booking | {"start": naive(autumn, 1, 30), "override_hours": True}).json()
    assert first["start"] == f"{autumn.isoformat()}T01:30:00+01:00"
    second = api.post(URL, booking | {"start": f"{naive(autumn, 1, 30)}+00:00", "override_hours": True}).json()
    assert second["start"] == f"{autumn.isoformat()}T01:30:00+00:00"
    starts = sorted(Appointment.objects.values_list("start", flat=True))
    assert starts[1] - starts[0] == dt.timedelta(hours=1)


# --- idempotency -----------------------------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_books_once(booking, receptionist, api_as):
    api = api_as(receptionist)
    headers = {"Idempotency-Key": "4f1c2a9e-2b7d-4c1e-9a3b-0d6e5f7a8b9c"}
    first = api.http.post(URL, booking, content_type="application/json", headers=api.headers | headers)
    second = api.http.post(URL, booking, content_type="application/json", headers=api.headers | headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Appointment.objects.count() == 1


def _post_with_key(api, body, key):
    return api.http.post(URL, body, content_type="application/json", headers=api.headers | {"Idempotency-Key": key})


def test_a_repeat_after_the_slot_was_taken_still_answers_with_the_first_booking(booking, receptionist, api_as):
    api = api_as(receptionist)
    first = _post_with_key(api, booking, "k1")
    assert _post_with_key(api, booking, "k1").json()["id"] == first.json()["id"]
    assert api.post(URL, booking).status_code == 409  # the same body without the key is a second booking: clash


def test_different_keys_are_different_bookings(booking, monday, receptionist, api_as):
    api = api_as(receptionist)
    assert _post_with_key(api, booking, "a").status_code == 201
    assert _post_with_key(api, booking | {"start": naive(monday, 11)}, "b").status_code == 201
    assert Appointment.objects.count() == 2


def test_keys_are_per_user(booking, monday, receptionist, manager, api_as):
    assert _post_with_key(api_as(receptionist), booking, "same").status_code == 201
    other = _post_with_key(api_as(manager), booking | {"start": naive(monday, 11)}, "same")
    assert other.status_code == 201
    assert Appointment.objects.count() == 2


def test_a_key_reused_for_another_animal_is_409(booking, receptionist, api_as):
    api = api_as(receptionist)
    _post_with_key(api, booking, "k")
    response = _post_with_key(api, booking | {"animal": AnimalFactory().pk}, "k")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "x" * 41, "has space", "naïve", "a/b"])
def test_malformed_idempotency_keys_are_422(key, booking, receptionist, api_as):
    response = _post_with_key(api_as(receptionist), booking, key)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][0] == "header"
    assert not Appointment.objects.exists()


# --- reschedule, cancel, status --------------------------------------------------------------------------------


def test_reschedule_to_another_time_and_vet(existing, monday, receptionist, api_as):
    other = UserFactory(username="olga", role=Role.VET).vet
    from appointments.models import WorkingHours

    WorkingHours.objects.create(vet=other, weekday=monday.weekday(), start_time=dt.time(8), end_time=dt.time(12))
    response = api_as(receptionist).post(
        f"{detail(existing)}/reschedule", {"start": naive(monday, 8), "minutes": 20, "vet": other.pk}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["start"].startswith(naive(monday, 8)) and data["minutes"] == 20 and data["vet"]["id"] == other.pk


def test_reschedule_keeps_the_duration_by_default(existing, monday, receptionist, api_as):
    data = api_as(receptionist).post(f"{detail(existing)}/reschedule", {"start": naive(monday, 15)}).json()
    assert data["minutes"] == 30


def test_reschedule_onto_another_booking_is_409_naming_it(existing, book, monday, receptionist, api_as):
    other = book(at(monday, 14), animal=AnimalFactory(name="Tibbles"))
    response = api_as(receptionist).post(f"{detail(existing)}/reschedule", {"start": naive(monday, 14, 15)})
    assert response.status_code == 409
    assert response.json()["code"] == "clash" and f"#{other.pk}" in response.json()["detail"]


def test_reschedule_onto_its_own_time_is_fine(existing, monday, receptionist, api_as):
    assert (
        api_as(receptionist).post(f"{detail(existing)}/reschedule", {"start": naive(monday, 10, 15)}).status_code == 200
    )


def test_reschedule_outside_hours_needs_the_override_permission(existing, monday, vet_user, receptionist, api_as):
    body = {"start": naive(monday, 19)}
    assert api_as(vet_user).post(f"{detail(existing)}/reschedule", body).json()["code"] == "outside_hours"
    assert api_as(vet_user).post(f"{detail(existing)}/reschedule", body | {"override_hours": True}).status_code == 403
    response = api_as(receptionist).post(f"{detail(existing)}/reschedule", body | {"override_hours": True})
    assert response.json()["outside_hours"] is True


def test_reschedule_to_an_unknown_vet_is_422_on_vet(existing, monday, receptionist, api_as):
    response = api_as(receptionist).post(f"{detail(existing)}/reschedule", {"start": naive(monday, 11), "vet": 999999})
    assert error_fields(response) == ["vet"]


def test_reschedule_into_the_past_is_409(existing, receptionist, api_as):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = api_as(receptionist).post(f"{detail(existing)}/reschedule", {"start": naive(yesterday, 10)})
    assert (response.status_code, response.json()["code"]) == (409, "past")


def test_a_completed_appointment_cannot_be_moved(existing, monday, vet_user, api_as):
    for to in (S.ARRIVED, S.COMPLETED):
        appointment_transition(appointment=existing, to=to, by=vet_user)
    response = api_as(vet_user).post(f"{detail(existing)}/reschedule", {"start": naive(monday, 15)})
    assert (response.status_code, response.json()["code"]) == (409, "bad_status")


def test_cancel_records_the_reason_and_frees_the_slot(existing, booking, receptionist, api_as):
    api = api_as(receptionist)
    data = api.post(f"{detail(existing)}/cancel", {"reason": "owner rang"}).json()
    assert (data["status"], data["cancel_reason"]) == ("cancelled", "owner rang")
    assert data["events"][-1] | {"at": None} == {
        "at": None,
        "by": "Rita Reception",
        "kind": "status",
        "from_status": "booked",
        "to_status": "cancelled",
        "note": "owner rang",
        "from_start": None,
        "to_start": None,
    }
    assert api.post(URL, booking).status_code == 201


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 201}])
def test_cancel_without_a_reason_is_422_on_reason(body, existing, receptionist, api_as):
    assert error_fields(api_as(receptionist).post(f"{detail(existing)}/cancel", body)) == ["reason"]


def test_cancel_twice_is_409(existing, receptionist, api_as):
    api = api_as(receptionist)
    api.post(f"{detail(existing)}/cancel", {"reason": "owner rang"})
    response = api.post(f"{detail(existing)}/cancel", {"reason": "again"})
    assert (response.status_code, response.json()["code"]) == (409, "bad_transition")


def test_the_whole_flow_is_recorded_in_order(existing, vet_user, api_as):
    api = api_as(vet_user)
    for to in ["confirmed", "arrived", "in_consultation", "completed"]:
        response = api.post(f"{detail(existing)}/status", {"to": to, "note": f"now {to}"})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == to
    events = api.get(detail(existing)).json()["events"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("", "booked"),
        ("booked", "confirmed"),
        ("confirmed", "arrived"),
        ("arrived", "in_consultation"),
        ("in_consultation", "completed"),
    ]
    assert events[-1]["by"] == "Victor Vet" and events[-1]["note"] == "now completed"
    assert all(dt.datetime.fromisoformat(e["at"]).utcoffset() is not None for e in events)


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ([], "completed"),
        ([], "in_consultation"),
        ([], "booked"),
        ([S.ARRIVED], "cancelled"),
        ([S.ARRIVED], "no_show"),
        ([S.ARRIVED, S.COMPLETED], "arrived"),
        ([S.NO_SHOW], "arrived"),
    ],
)
def test_a_move_the_flow_does_not_allow_is_409_with_the_message(path, to, existing, vet_user, api_as):
    for step in path:
        appointment_transition(appointment=existing, to=step, by=vet_user)
    response = api_as(vet_user).post(f"{detail(existing)}/status", {"to": to, "note": "x"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "bad_transition" and "cannot become" in body["detail"]


@pytest.mark.parametrize("to", ["done", "", None, "BOOKED", 1])
def test_unknown_status_is_422_on_to(to, existing, vet_user, api_as):
    assert error_fields(api_as(vet_user).post(f"{detail(existing)}/status", {"to": to})) == ["to"]


def test_cancel_through_status_needs_a_note(existing, receptionist, api_as):
    response = api_as(receptionist).post(f"{detail(existing)}/status", {"to": "cancelled"})
    assert error_fields(response) == ["note"]


# --- list: filters, pagination, query counts -------------------------------------------------------------------


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [a["id"] for a in response.json()["items"]]


def test_filters(book, vet, monday, receptionist, api_as):
    smith = ClientFactory(last_name="Smith")
    rex = AnimalFactory(owner=smith)
    tuesday = monday + dt.timedelta(days=1)
    a = book(at(monday, 9), animal=rex)
    b = book(at(monday, 16, 30))
    c = book(at(tuesday, 0, 0), animal=rex, override_hours=True)  # local midnight belongs to Tuesday
    d = book(at(tuesday, 23, 30), override_hours=True)
    appointment_transition(appointment=b, to=S.CONFIRMED, by=receptionist)
    other = UserFactory(username="olga", role=Role.VET).vet
    e = appointment_book(
        animal=AnimalFactory(), vet=other, type=a.type, start=at(monday, 9), by=receptionist, override_hours=True
    )
    api = api_as(receptionist)
    assert ids(api.get(URL)) == [a.pk, e.pk, b.pk, c.pk, d.pk]
    assert ids(api.get(URL, {"vet": other.pk})) == [e.pk]
    assert ids(api.get(URL, {"vet": 999999})) == []
    assert ids(api.get(URL, {"animal": rex.pk})) == [a.pk, c.pk]
    assert ids(api.get(URL, {"client": smith.pk})) == [a.pk, c.pk]
    assert ids(api.get(URL, {"status": "confirmed"})) == [b.pk]
    assert ids(api.get(URL, {"date_from": tuesday.isoformat()})) == [c.pk, d.pk]
    assert ids(api.get(URL, {"date_to": monday.isoformat()})) == [a.pk, e.pk, b.pk]
    both = {"date_from": tuesday.isoformat(), "date_to": tuesday.isoformat(), "vet": vet.pk}
    assert ids(api.get(URL, both)) == [c.pk, d.pk]


def test_the_date_range_follows_local_days_across_a_dst_change(book, vet, receptionist, api_as):
    autumn = next_dst_change(10)  # a 25-hour day
    late = book(at(autumn, 23, 30), override_hours=True)
    next_day = book(at(autumn + dt.timedelta(days=1), 0, 0), override_hours=True)
    api = api_as(receptionist)
    day = autumn.isoformat()
    assert ids(api.get(URL, {"date_from": day, "date_to": day})) == [late.pk]
    assert ids(api.get(URL, {"date_from": (autumn + dt.timedelta(days=1)).isoformat()})) == [next_day.pk]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("date_from", "2026-02-30"),
        ("date_to", "tomorrow"),
        ("date_from", "9999-12-31"),
        ("status", "done"),
        ("vet", "abc"),
        ("vet", "0"),
        ("limit", "101"),
        ("offset", "-1"),
    ],
)
def test_bad_query_parameters_are_422(param, value, receptionist, api_as):
    response = api_as(receptionist).get(URL, {param: value})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", param]


def test_date_to_before_date_from_is_422(receptionist, api_as):
    response = api_as(receptionist).get(URL, {"date_from": "2030-01-02", "date_to": "2030-01-01"})
    assert response.json()["detail"][0]["loc"] == ["query", "date_to"]


def test_pagination(book, monday, receptionist, api_as):
    made = [book(at(monday, hh)) for hh in (9, 10, 11)]
    body = api_as(receptionist).get(URL, {"limit": 2, "offset": 1}).json()
    assert (body["count"], [a["id"] for a in body["items"]]) == (3, [made[1].pk, made[2].pk])


def _fill(book, count: int) -> None:
    """``count`` appointments over the following days, each pet with a breed, a weight, an alert and an owner."""
    first = next_weekday(0, weeks_ahead=2)
    for i in range(count):
        day = first + dt.timedelta(days=i // 16)
        animal = AnimalFactory(breed=breed(), alerts="Bites")
        WeightFactory(animal=animal)
        book(at(day, 9 + (i % 16) // 2, 30 * (i % 2)), animal=animal)


@pytest.mark.parametrize("count", [5, 50])
def test_list_query_count_does_not_grow_with_rows(count, book, receptionist, api_as, django_assert_max_num_queries):
    _fill(book, count)
    api = api_as(receptionist)
    api.get(URL)  # warm the token's last_used_at
    with django_assert_max_num_queries(6):
        body = api.get(URL, {"limit": 100}).json()
    assert len(body["items"]) == count


@pytest.mark.parametrize("events", [1, 4])
def test_detail_query_count_does_not_grow_with_events(
    events, existing, vet_user, api_as, django_assert_max_num_queries
):
    for to in [S.CONFIRMED, S.ARRIVED, S.IN_CONSULTATION][: events - 1]:
        appointment_transition(appointment=existing, to=to, by=vet_user)
    api = api_as(vet_user)
    api.get(detail(existing))
    with django_assert_max_num_queries(6):
        assert len(api.get(detail(existing)).json()["events"]) == events
