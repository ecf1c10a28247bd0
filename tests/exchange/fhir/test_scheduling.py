"""Practitioner, Schedule, Slot (free time from the books) and Appointment, including the one write flow: book,
move and cancel through the appointments services, refusals as OperationOutcomes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from appointments import services as appointment_services
from appointments.models import Appointment, AppointmentStatus, AppointmentType, WorkingHours
from appointments.services import appointment_book
from exchange.fhir import systems
from tests.exchange.fhir.conftest import entries, link
from tests.factories import AnimalFactory
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db


def next_monday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=(0 - today.weekday()) % 7 + 7)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return local_datetime(day, dt.time(hh, mm))


def z(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def vet(vet_user):
    vet = vet_user.vet
    WorkingHours.objects.bulk_create(
        [WorkingHours(vet=vet, weekday=d, start_time=dt.time(9), end_time=dt.time(12)) for d in range(7)]
    )
    return vet


@pytest.fixture
def consult(db):
    return AppointmentType.objects.create(name="Consultation", default_minutes=15, colour="#3366cc")


def booking_body(animal, vet, consult, start, minutes=15) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "serviceType": [{"coding": [{"system": systems.practice("appointment-type"), "code": str(consult.pk)}]}],
        "start": z(start),
        "end": z(start + dt.timedelta(minutes=minutes)),
        "description": "Booster",
        "participant": [
            {"actor": {"reference": f"Patient/{animal.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{vet.pk}"}, "status": "accepted"},
        ],
    }


def test_practitioner_and_schedule_of_a_vet(receptionist, vet, fhir_as):
    client = fhir_as(receptionist)
    practitioner = client.get(f"Practitioner/{vet.pk}").fhir
    assert practitioner["name"][0]["text"] == vet.display_name and practitioner["active"] is True
    schedule = client.get(f"Schedule/{vet.pk}").fhir
    assert schedule["actor"][0]["reference"] == f"Practitioner/{vet.pk}"
    found = entries(client.get("Schedule", {"actor": f"Practitioner/{vet.pk}"}).fhir)
    assert [s["id"] for s in found] == [str(vet.pk)]
    assert entries(client.get("Practitioner", {"name": vet.display_name[:3]}).fhir)[0]["id"] == str(vet.pk)


def test_practitioner_role_is_the_vet_at_the_practice_with_the_regular_week(receptionist, vet, fhir_as, manager):
    client = fhir_as(receptionist)
    role = client.get(f"PractitionerRole/{vet.pk}").fhir
    assert role["practitioner"]["reference"] == f"Practitioner/{vet.pk}"
    assert role["organization"]["reference"] == "Organization/practice"
    assert [c["coding"][0]["code"] for c in role["code"]] == ["vet"]
    # The fixture's vet works 09:00-12:00 every day: one availableTime with the seven days.
    assert role["availableTime"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "availableStartTime": "09:00:00",
            "availableEndTime": "12:00:00",
        }
    ]
    schedule = client.get(f"Schedule/{vet.pk}").fhir
    assert {"reference": f"PractitionerRole/{vet.pk}"}.items() <= schedule["actor"][1].items()
    for query in ({"practitioner": f"Practitioner/{vet.pk}"}, {"organization": "Organization/practice"}):
        assert [r["id"] for r in entries(client.get("PractitionerRole", query).fhir)] == [str(vet.pk)], query
    assert entries(client.get("PractitionerRole", {"organization": "Organization/9"}).fhir) == []
    assert client.get("PractitionerRole", {"organization": "Patient/1"}).status_code == 400

    # New hours change the role, and its change time moves with them.
    before = role["meta"]["lastUpdated"]
    appointment_services.working_hours_set(
        vet=vet, sessions=[(0, dt.time(14), dt.time(18)), (2, dt.time(14), dt.time(18))], by=manager
    )
    changed = client.get(f"PractitionerRole/{vet.pk}").fhir
    assert changed["availableTime"] == [
        {"daysOfWeek": ["mon", "wed"], "availableStartTime": "14:00:00", "availableEndTime": "18:00:00"}
    ]
    assert dt.datetime.fromisoformat(changed["meta"]["lastUpdated"]) > dt.datetime.fromisoformat(before)
    since = entries(client.get("PractitionerRole", {"_lastUpdated": f"gt{before.replace('+00:00', 'Z')}"}).fhir)
    assert [r["id"] for r in since] == [str(vet.pk)]


def test_a_slot_id_that_is_neither_free_nor_booked_is_a_404_saying_why(receptionist, vet, consult, fhir_as):
    client = fhir_as(receptionist)
    day = next_monday()

    def reason(start: dt.datetime, minutes: int = 15) -> str:
        response = client.get(f"Slot/{vet.pk}-{start.astimezone(dt.UTC):%Y%m%d%H%M}-{minutes}")
        assert response.status_code == 404 and response.fhir["resourceType"] == "OperationOutcome"
        return response.fhir["issue"][0]["diagnostics"]

    assert "outside" in reason(at(day, 20))
    assert "steps" in reason(at(day, 9, 5))
    assert "passed" in reason(at(day - dt.timedelta(days=14), 9))
    assert client.get(f"Slot/{vet.pk}-{at(day, 9).astimezone(dt.UTC):%Y%m%d%H%M}-15").fhir["status"] == "free"
    # A cancelled booking gives the time back.
    booked = appointment_book(animal=AnimalFactory(), vet=vet, type=consult, start=at(day, 9), by=receptionist)
    slot = f"Slot/{vet.pk}-{at(day, 9).astimezone(dt.UTC):%Y%m%d%H%M}-15"
    assert client.get(slot).fhir["status"] == "busy"
    appointment_services.appointment_transition(
        appointment=booked, to=AppointmentStatus.CANCELLED, by=receptionist, note="Owner away"
    )
    assert client.get(slot).fhir["status"] == "free"


def test_slots_are_the_free_time_of_the_book(receptionist, vet, consult, fhir_as):
    day = next_monday()
    appointment_book(animal=AnimalFactory(), vet=vet, type=consult, start=at(day, 10), minutes=30, by=receptionist)
    client = fhir_as(receptionist)
    params = {
        "schedule": f"Schedule/{vet.pk}",
        "start": [f"ge{day.isoformat()}", f"lt{(day + dt.timedelta(days=1)).isoformat()}"],
        "status": "free",
        "_count": "100",
    }
    bundle = client.get("Slot", params).fhir
    starts = [s["start"] for s in entries(bundle)]
    # 09:00-12:00 in 15-minute steps (12 slots) minus the two 10:00-10:30 takes.
    assert len(starts) == 10
    assert z(at(day, 10)) not in starts and z(at(day, 10, 15)) not in starts
    assert z(at(day, 9)) in starts and z(at(day, 10, 30)) in starts
    for slot in entries(bundle):
        assert slot["status"] == "free" and slot["schedule"]["reference"] == f"Schedule/{vet.pk}"
        assert client.get(f"Slot/{slot['id']}").status_code == 200
    assert entries(client.get("Slot", {**params, "status": "busy"}).fhir) == []


def test_slots_page_by_key(receptionist, vet, fhir_as):
    day = next_monday()
    client = fhir_as(receptionist)
    query = {"schedule": str(vet.pk), "start": [f"ge{day}", f"lt{day + dt.timedelta(days=1)}"], "_count": "5"}
    bundle = client.get("Slot", query).fhir
    seen = []
    while True:
        seen += [s["start"] for s in entries(bundle)]
        if not link(bundle, "next"):
            break
        bundle = client.get(link(bundle, "next")).fhir
    assert len(seen) == 12 and seen == sorted(seen)
    back = client.get(link(bundle, "previous")).fhir
    assert [s["start"] for s in entries(back)] == seen[5:10]


def test_slot_search_is_bounded(receptionist, vet, fhir_as):
    response = fhir_as(receptionist).get("Slot", {"start": ["ge2030-01-01", "lt2030-06-01"]})
    assert response.status_code == 400


def test_book_a_slot_and_it_is_no_longer_free(receptionist, vet, consult, fhir_as):
    day = next_monday()
    animal = AnimalFactory()
    client = fhir_as(receptionist)
    slot = entries(client.get("Slot", {"schedule": vet.pk, "start": f"ge{day}"}).fhir)[0]
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot['id']}"}],
        "serviceType": [{"text": "consultation"}],
        "participant": [{"actor": {"reference": f"Patient/{animal.pk}"}, "status": "accepted"}],
    }
    response = client.send("post", "Appointment", body)
    assert response.status_code == 201, response.content
    created = response.fhir
    assert created["status"] == "booked" and created["start"] == slot["start"] and created["end"] == slot["end"]
    assert response["Location"].endswith(f"/fhir/R4/Appointment/{created['id']}")
    stored = Appointment.objects.get(pk=created["id"])
    assert stored.animal == animal and stored.vet == vet and stored.booked_by == receptionist
    # The slot id still answers: the time is now busy (a search lists free time only).
    taken = client.get(f"Slot/{slot['id']}")
    assert taken.status_code == 200 and taken.fhir["status"] == "busy" and taken.fhir["start"] == slot["start"]
    assert slot["id"] not in [s["id"] for s in entries(client.get("Slot", {"schedule": vet.pk}).fhir)]
    again = client.send("post", "Appointment", body)
    assert again.status_code == 409
    assert again.fhir["issue"][0]["code"] == "conflict"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"participant": []},
        {"participant": [{"actor": {"reference": "Patient/999999"}, "status": "accepted"}]},
        {"start": "next tuesday"},
        {"start": "2030-01-01T10:00:00"},
        {"serviceType": [{"text": "no such type"}]},
        {"status": "fulfilled"},
        {"slot": [{"reference": "Slot/nonsense"}]},
        {"end": "2001-01-01T00:00:00Z"},
        {"start": "9999-12-31T23:59:00Z", "end": None},
        {"slot": {"reference": "Slot/1"}},
        {"participant": [{"actor": "Patient/1"}]},
        {"minutesDuration": 15.5, "end": None},
    ],
)
def test_bad_bookings_are_422(receptionist, vet, consult, fhir_as, change):
    body = {**booking_body(AnimalFactory(), vet, consult, at(next_monday(), 9)), **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = fhir_as(receptionist).send("post", "Appointment", body)
    assert response.status_code == 422, response.content
    assert not Appointment.objects.exists()


def test_a_booking_in_the_past_or_outside_hours_is_refused(receptionist, vet, consult, fhir_as):
    client = fhir_as(receptionist)
    past = booking_body(AnimalFactory(), vet, consult, at(dt.date.today() - dt.timedelta(days=7), 9))
    assert client.send("post", "Appointment", past).status_code == 409
    evening = booking_body(AnimalFactory(), vet, consult, at(next_monday(), 20))
    assert client.send("post", "Appointment", evening).status_code == 409


def test_not_json_and_wrong_types_are_400_or_415(receptionist, vet, fhir_as):
    client = fhir_as(receptionist)
    assert client.send("post", "Appointment", "{not json").status_code == 400
    assert client.send("post", "Appointment", {"resourceType": "Patient"}).status_code == 400
    assert client.send("post", "Appointment", ["a"]).status_code == 400
    assert client.send("post", "Appointment", "{}", content_type="text/plain").status_code == 415


def test_patch_cancels_and_moves_through_the_services(receptionist, vet, consult, fhir_as):
    day = next_monday()
    client = fhir_as(receptionist)
    created = client.send("post", "Appointment", booking_body(AnimalFactory(), vet, consult, at(day, 9))).fhir
    url = f"Appointment/{created['id']}"
    moved = client.send(
        "patch",
        url,
        [
            {"op": "replace", "path": "/start", "value": z(at(day, 11))},
            {"op": "replace", "path": "/end", "value": z(at(day, 11, 30))},
        ],
        content_type="application/json-patch+json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.fhir["start"] == z(at(day, 11)) and moved.fhir["minutesDuration"] == 30
    stored = Appointment.objects.get(pk=created["id"])
    assert stored.events.filter(kind="reschedule").exists()
    cancelled = client.send(
        "patch",
        url,
        {"status": "cancelled", "cancelationReason": {"text": "Owner away"}},
        content_type="application/merge-patch+json",
    )
    assert cancelled.status_code == 200
    assert cancelled.fhir["status"] == "cancelled" and cancelled.fhir["cancelationReason"]["text"] == "Owner away"
    stored.refresh_from_db()
    assert stored.status == AppointmentStatus.CANCELLED and stored.cancel_reason == "Owner away"
    again = client.send("patch", url, {"status": "arrived"}, content_type="application/merge-patch+json")
    assert again.status_code == 409
    assert client.send("patch", url, {"reason": "x"}, content_type="application/merge-patch+json").status_code == 422
    failed_test = client.send(
        "patch", url, [{"op": "test", "path": "/status", "value": "booked"}], content_type="application/json-patch+json"
    )
    assert failed_test.status_code == 409


def test_put_reschedules_with_the_whole_resource(receptionist, vet, consult, fhir_as):
    day = next_monday()
    client = fhir_as(receptionist)
    created = client.send("post", "Appointment", booking_body(AnimalFactory(), vet, consult, at(day, 9))).fhir
    body = {**created, "start": z(at(day, 10)), "end": z(at(day, 10, 15))}
    response = client.send("put", f"Appointment/{created['id']}", body)
    assert response.status_code == 200, response.content
    assert response.fhir["start"] == z(at(day, 10))
    other = AnimalFactory()
    body["participant"] = [{"actor": {"reference": f"Patient/{other.pk}"}, "status": "accepted"}]
    assert client.send("put", f"Appointment/{created['id']}", body).status_code == 422
    assert client.send("put", f"Appointment/{created['id']}", {**created, "id": "999"}).status_code == 400


def test_appointment_search_and_status_mapping(receptionist, vet, consult, fhir_as):
    day = next_monday()
    rex, tom = AnimalFactory(name="Rex"), AnimalFactory(name="Tom")
    first = appointment_book(animal=rex, vet=vet, type=consult, start=at(day, 9), by=receptionist)
    second = appointment_book(animal=tom, vet=vet, type=consult, start=at(day, 10), by=receptionist)
    Appointment.objects.filter(pk=second.pk).update(status=AppointmentStatus.NO_SHOW)
    client = fhir_as(receptionist)

    def ids(params):
        return [int(a["id"]) for a in entries(client.get("Appointment", params).fhir)]

    assert ids({"patient": f"Patient/{rex.pk}"}) == [first.pk]
    assert ids({"practitioner": str(vet.pk), "date": day.isoformat()}) == [first.pk, second.pk]
    assert ids({"status": "noshow"}) == [second.pk]
    assert ids({"status": "booked,noshow"}) == [first.pk, second.pk]
    assert ids({"date": f"gt{day}"}) == []
    assert client.get("Appointment", {"status": "nonsense"}).status_code == 400
    assert client.get("Appointment", {"patient": "Practitioner/1"}).status_code == 400


def test_roles_and_scopes_on_appointment_writes(receptionist, nurse_user, vet, consult, fhir_as):
    body = booking_body(AnimalFactory(), vet, consult, at(next_monday(), 9))
    assert fhir_as(receptionist, scopes="system/*.read").send("post", "Appointment", body).status_code == 403
    assert fhir_as(receptionist, scopes="system/Patient.*").send("post", "Appointment", body).status_code == 403
    assert fhir_as(nurse_user).send("post", "Appointment", body).status_code == 403  # nurses do not book
    assert (
        fhir_as(receptionist, scopes="system/Appointment.write system/*.read")
        .send("post", "Appointment", body)
        .status_code
        == 201
    )


def test_round_trip_over_plain_http(receptionist, vet, consult, fhir_as):
    """A partner's script: find the animal by its microchip, read its owner, find a free slot in its vet's book
    and book it; the booking is on the vet's day list. (Clinical reads join here once their types exist.)"""
    from tests.factories import ClientFactory

    owner = ClientFactory(first_name="Ann", last_name="Owner")
    dog = AnimalFactory(name="Biscuit", owner=owner, microchip="985141000555666")
    client = fhir_as(receptionist)

    found = client.get("Patient", {"identifier": f"{systems.MICROCHIP}|985141000555666"}).fhir
    (patient,) = entries(found)
    owner_ref = patient["link"][0]["other"]["reference"]
    person = client.get(owner_ref).fhir
    assert person["name"][0]["family"] == "Owner" and person["patient"]["reference"] == f"Patient/{patient['id']}"

    for type_name in ("Immunization", "Observation"):  # the clinical types, when served
        listed = client.get("metadata").fhir["rest"][0]["resource"]
        if any(r["type"] == type_name for r in listed):
            assert client.get(type_name, {"patient": f"Patient/{patient['id']}"}).status_code == 200

    day = next_monday()
    query = urlencode({"schedule": f"Schedule/{vet.pk}", "start": f"ge{day}", "status": "free"})
    slot = entries(client.get(f"Slot?{query}").fhir)[0]
    booked = client.send(
        "post",
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "serviceType": [{"coding": [{"system": systems.practice("appointment-type"), "code": str(consult.pk)}]}],
            "participant": [{"actor": {"reference": f"Patient/{patient['id']}"}, "status": "accepted"}],
        },
    )
    assert booked.status_code == 201

    page = HttpClient()
    page.force_login(receptionist)
    start_day = dt.datetime.fromisoformat(slot["start"]).astimezone(local_datetime(day, dt.time(0)).tzinfo).date()
    day_list = page.get("/appointments/day/", {"vet": vet.pk, "date": start_day.isoformat()})
    assert day_list.status_code == 200
    assert "Biscuit" in day_list.content.decode()
    assert dog.appointments.get().pk == int(booked.fhir["id"])
