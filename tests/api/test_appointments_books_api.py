"""/api/v1/vets (working hours, exceptions, free slots, day list) and /api/v1/appointment-types; hostile input
to every appointments endpoint never produces a 500."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from appointments.models import AppointmentStatus, AppointmentType, BookException, WorkingHours
from appointments.schemas import AppointmentTypeIn, BookIn, ExceptionIn, RescheduleIn
from appointments.services import appointment_book, appointment_transition
from tests.api.conftest import error_fields
from tests.api.test_fuzz_smoke import HOSTILE, QUERY_VALUES, assert_clean
from tests.appointments.conftest import at, next_weekday
from tests.factories import AnimalFactory, UserFactory, WeightFactory, breed
from vetpms.models import Role

pytestmark = pytest.mark.django_db
S = AppointmentStatus
VETS = "/api/v1/vets"
TYPES = "/api/v1/appointment-types"


def put(api, url: str, body):
    return api.http.put(url, data=json.dumps(body), content_type="application/json", headers=api.headers)


def delete(api, url: str):
    return api.http.delete(url, headers=api.headers)


@pytest.fixture
def olga(db):
    """A second vet who works 13:00-15:00 on Mondays only."""
    other = UserFactory(username="olga", first_name="Olga", last_name="Other", role=Role.VET).vet
    WorkingHours.objects.create(vet=other, weekday=0, start_time=dt.time(13), end_time=dt.time(15))
    return other


# --- vets and their hours --------------------------------------------------------------------------------------

READERS = {"receptionist": 200, "vet_user": 200, "manager": 200, "nobody": 403}
MANAGERS = {"receptionist": 403, "vet_user": 403, "manager": 200, "nobody": 403}


@pytest.mark.parametrize(("role", "expected"), READERS.items())
def test_read_endpoints_by_role(role, expected, vet, consult, monday, api_for):
    api = api_for(role)
    for url, params in [
        (VETS, {}),
        (f"{VETS}/{vet.pk}", {}),
        (f"{VETS}/{vet.pk}/exceptions", {}),
        (f"{VETS}/{vet.pk}/free-slots", {"date": monday.isoformat(), "type": consult.pk}),
        (f"{VETS}/any/free-slots", {"date": monday.isoformat(), "type": consult.pk}),
        (f"{VETS}/{vet.pk}/day", {"date": monday.isoformat()}),
        (TYPES, {}),
        (f"{TYPES}/{consult.pk}", {}),
    ]:
        assert api.get(url, params).status_code == expected, url


@pytest.mark.parametrize(
    "url", [VETS, "/api/v1/vets/1/day", "/api/v1/vets/any/free-slots?date=2030-01-01&minutes=5", TYPES]
)
def test_reads_are_401_without_credentials(url, anonymous):
    assert anonymous.get(url).status_code == 401


@pytest.mark.parametrize(("role", "expected"), MANAGERS.items())
def test_manager_only_writes_by_role(role, expected, vet, consult, monday, api_for):
    api = api_for(role)
    sessions = {"sessions": [{"weekday": 0, "start": "08:00", "end": "12:00"}]}
    assert put(api, f"{VETS}/{vet.pk}/working-hours", sessions).status_code == expected
    leave = {"date": monday.isoformat(), "kind": "leave"}
    assert api.post(f"{VETS}/{vet.pk}/exceptions", leave).status_code == (201 if expected == 200 else 403)
    exception = BookException.objects.create(vet=vet, date=monday, kind="leave")
    assert delete(api, f"{VETS}/{vet.pk}/exceptions/{exception.pk}").status_code == (204 if expected == 200 else 403)
    assert api.post(TYPES, {"name": "Dental"}).status_code == (201 if expected == 200 else 403)
    assert api.patch(f"{TYPES}/{consult.pk}", {"colour": "#000000"}).status_code == expected


def test_vets_list_has_active_vets_with_hours_per_weekday(vet, olga, manager, api_as):
    UserFactory(username="gone", first_name="Gone", last_name="Away", role=Role.VET).vet.__class__.objects.filter(
        display_name="Gone Away"
    ).update(is_active=False)
    WorkingHours.objects.create(vet=olga, weekday=0, start_time=dt.time(8), end_time=dt.time(12))
    api = api_as(manager)
    data = api.get(VETS).json()
    assert [v["display_name"] for v in data] == ["Olga Other", "Victor Vet"]
    monday = data[0]["working_hours"][0]
    assert monday == {
        "weekday": 0,
        "name": "Monday",
        "sessions": [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "15:00"}],
    }
    assert [d["sessions"] for d in data[0]["working_hours"][1:]] == [[]] * 6
    assert [v["display_name"] for v in api.get(VETS, {"active": "false"}).json()] == ["Gone Away"]


def test_vets_list_query_count_is_fixed(vet, olga, manager, api_as, django_assert_max_num_queries):
    api = api_as(manager)
    api.get(VETS)
    with django_assert_max_num_queries(6):  # 4 of them: auth and permissions
        assert len(api.get(VETS).json()) == 2


def test_put_working_hours_replaces_the_week(vet, manager, api_as):
    body = {
        "sessions": [
            {"weekday": 0, "start": "13:00", "end": "17:30"},
            {"weekday": 0, "start": "08:30", "end": "12:00"},
            {"weekday": 5, "start": "09:00", "end": "12:00"},
        ]
    }
    response = put(api_as(manager), f"{VETS}/{vet.pk}/working-hours", body)
    assert response.status_code == 200, response.content
    hours = response.json()["working_hours"]
    assert hours[0]["sessions"] == [{"start": "08:30", "end": "12:00"}, {"start": "13:00", "end": "17:30"}]
    assert hours[5]["sessions"] == [{"start": "09:00", "end": "12:00"}]
    assert WorkingHours.objects.filter(vet=vet).count() == 3


def test_put_no_sessions_clears_the_book(vet, manager, api_as):
    assert put(api_as(manager), f"{VETS}/{vet.pk}/working-hours", {"sessions": []}).status_code == 200
    assert not WorkingHours.objects.filter(vet=vet).exists()


@pytest.mark.parametrize(
    "session",
    [
        {"weekday": 0, "start": "12:00", "end": "09:00"},
        {"weekday": 0, "start": "09:00", "end": "09:00"},
        {"weekday": 7, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "25:00", "end": "26:00"},
        {"weekday": 0, "start": "09:00+01:00", "end": "12:00+01:00"},
        {"weekday": 0, "start": "09:00"},
    ],
)
def test_bad_sessions_are_422_and_keep_the_old_hours(session, vet, manager, api_as):
    response = put(api_as(manager), f"{VETS}/{vet.pk}/working-hours", {"sessions": [session]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "sessions"]
    assert WorkingHours.objects.filter(vet=vet).count() == 7


def test_overlapping_sessions_are_422_on_sessions(vet, manager, api_as):
    body = {
        "sessions": [{"weekday": 1, "start": "09:00", "end": "13:00"}, {"weekday": 1, "start": "12:00", "end": "17:00"}]
    }
    response = put(api_as(manager), f"{VETS}/{vet.pk}/working-hours", body)
    assert error_fields(response) == ["sessions"]
    assert "overlap" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("bad_id", ["999999", "abc", "0"])
def test_unknown_vet_in_the_url_is_404(bad_id, manager, api_as):
    api = api_as(manager)
    for response in [
        api.get(f"{VETS}/{bad_id}"),
        api.get(f"{VETS}/{bad_id}/day"),
        api.get(f"{VETS}/{bad_id}/free-slots", {"date": "2030-01-07", "minutes": 15}),
        api.get(f"{VETS}/{bad_id}/exceptions"),
        api.post(f"{VETS}/{bad_id}/exceptions", {"date": "2030-01-07", "kind": "leave"}),
        put(api, f"{VETS}/{bad_id}/working-hours", {"sessions": []}),
        delete(api, f"{VETS}/{bad_id}/exceptions/1"),
    ]:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


# --- exceptions --------------------------------------------------------------------------------------------------


def test_leave_and_extra_sessions_change_the_free_slots(vet, monday, manager, api_as):
    api = api_as(manager)
    slots_url = f"{VETS}/{vet.pk}/free-slots"
    params = {"date": monday.isoformat(), "minutes": 60, "step": 60}
    assert len(api.get(slots_url, params).json()["slots"]) == 8  # 09:00 ... 16:00
    leave = api.post(
        f"{VETS}/{vet.pk}/exceptions",
        {"date": monday.isoformat(), "kind": "leave", "start_time": "09:00", "end_time": "13:00", "note": "course"},
    )
    assert leave.status_code == 201, leave.content
    assert leave.json() | {"id": 0} == {
        "id": 0,
        "date": monday.isoformat(),
        "kind": "leave",
        "start_time": "09:00",
        "end_time": "13:00",
        "note": "course",
    }
    extra = {"date": monday.isoformat(), "kind": "extra", "start_time": "18:00", "end_time": "20:00"}
    assert api.post(f"{VETS}/{vet.pk}/exceptions", extra).status_code == 201
    starts = [s["start"][11:16] for s in api.get(slots_url, params).json()["slots"]]
    assert starts == ["13:00", "14:00", "15:00", "16:00", "18:00", "19:00"]
    listed = api.get(f"{VETS}/{vet.pk}/exceptions").json()
    assert listed["count"] == 2
    assert delete(api, f"{VETS}/{vet.pk}/exceptions/{leave.json()['id']}").status_code == 204
    assert len(api.get(slots_url, params).json()["slots"]) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "extra"}, "start_time"),
        ({"kind": "leave", "start_time": "10:00"}, "non_field_errors"),
        ({"kind": "leave", "start_time": "12:00", "end_time": "10:00"}, "end_time"),
        ({"kind": "holiday"}, "kind"),
        ({"kind": "leave", "date": "2026-02-30"}, "date"),
        ({"kind": "leave", "note": "x" * 201}, "note"),
    ],
)
def test_bad_exceptions_are_422(body, field, vet, monday, manager, api_as):
    response = api_as(manager).post(f"{VETS}/{vet.pk}/exceptions", {"date": monday.isoformat()} | body)
    assert field in error_fields(response)
    assert not BookException.objects.exists()


def test_an_exception_of_another_vet_is_404(vet, olga, monday, manager, api_as):
    exception = BookException.objects.create(vet=olga, date=monday, kind="leave")
    assert delete(api_as(manager), f"{VETS}/{vet.pk}/exceptions/{exception.pk}").status_code == 404
    assert BookException.objects.exists()


# --- free slots --------------------------------------------------------------------------------------------------


def test_free_slots_skip_bookings_and_give_local_and_utc_times(book, vet, consult, monday, receptionist, api_as):
    book(at(monday, 9, 15), minutes=30)
    response = api_as(receptionist).get(f"{VETS}/{vet.pk}/free-slots", {"date": monday.isoformat(), "type": consult.pk})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["date"], data["minutes"], data["step"]) == (monday.isoformat(), 15, 15)
    first = data["slots"][0]
    assert first["vet"] == {"id": vet.pk, "display_name": "Victor Vet", "colour": vet.colour}
    assert first["start"] == at(monday, 9).isoformat()
    assert dt.datetime.fromisoformat(first["start_utc"]) == at(monday, 9) and first["start_utc"].endswith("Z")
    starts = [s["start"][11:16] for s in data["slots"]]
    assert starts[:3] == ["09:00", "09:45", "10:00"]
    assert starts[-1] == "16:45"


def test_minutes_override_the_type_and_step_is_configurable(vet, consult, monday, receptionist, api_as):
    params = {"date": monday.isoformat(), "type": consult.pk, "minutes": 120, "step": 60}
    data = api_as(receptionist).get(f"{VETS}/{vet.pk}/free-slots", params).json()
    assert data["minutes"] == 120
    assert [s["start"][11:16] for s in data["slots"]] == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]


def test_free_slots_with_any_vet_in_time_order_then_name(vet, olga, monday, receptionist, api_as):
    params = {"date": monday.isoformat(), "minutes": 60, "step": 60}
    slots = api_as(receptionist).get(f"{VETS}/any/free-slots", params).json()["slots"]
    pairs = [(s["start"][11:16], s["vet"]["display_name"]) for s in slots]
    assert pairs[4:8] == [
        ("13:00", "Olga Other"),
        ("13:00", "Victor Vet"),
        ("14:00", "Olga Other"),
        ("14:00", "Victor Vet"),
    ]
    assert len(pairs) == 10


def test_no_past_slots_today(vet, receptionist, api_as):
    today = timezone.localdate()
    slots = api_as(receptionist).get(f"{VETS}/{vet.pk}/free-slots", {"date": today.isoformat(), "minutes": 15})
    now = timezone.now()
    assert all(dt.datetime.fromisoformat(s["start"]) >= now for s in slots.json()["slots"])


def test_free_slots_on_the_spring_forward_day_never_offer_a_missing_time(vet, receptionist, api_as):
    year = timezone.localdate().year + 1
    day = dt.date(year, 3, 31) - dt.timedelta(days=(dt.date(year, 3, 31).weekday() - 6) % 7)
    WorkingHours.objects.filter(vet=vet).delete()
    WorkingHours.objects.create(vet=vet, weekday=6, start_time=dt.time(0), end_time=dt.time(4))
    data = api_as(receptionist).get(f"{VETS}/{vet.pk}/free-slots", {"date": day.isoformat(), "minutes": 30, "step": 30})
    starts = [s["start"][11:] for s in data.json()["slots"]]
    assert starts == [
        "00:00:00+00:00",
        "00:30:00+00:00",
        "02:00:00+01:00",
        "02:30:00+01:00",
        "03:00:00+01:00",
        "03:30:00+01:00",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"minutes": 15}, "date"),
        ({"date": "2026-02-30", "minutes": 15}, "date"),
        ({"date": "2030-01-07"}, "type"),
        ({"date": "2030-01-07", "type": 999999}, "type"),
        ({"date": "2030-01-07", "type": "consult"}, "type"),
        ({"date": "2030-01-07", "minutes": 0}, "minutes"),
        ({"date": "2030-01-07", "minutes": 1440}, "minutes"),
        ({"date": "2030-01-07", "minutes": 15, "step": 1}, "step"),
        ({"date": "0001-01-01", "minutes": 15}, "date"),
    ],
)
def test_bad_free_slot_queries_are_422_on_that_parameter(params, field, vet, receptionist, api_as):
    for url in (f"{VETS}/{vet.pk}/free-slots", f"{VETS}/any/free-slots"):
        response = api_as(receptionist).get(url, params)
        assert response.status_code == 422, response.content
        assert response.json()["detail"][0]["loc"] == ["query", field]


def test_free_slots_of_an_inactive_vet_are_409(vet, monday, receptionist, api_as):
    vet.is_active = False
    vet.save()
    response = api_as(receptionist).get(f"{VETS}/{vet.pk}/free-slots", {"date": monday.isoformat(), "minutes": 15})
    assert (response.status_code, response.json()["field"]) == (409, "vet")


# --- day list ----------------------------------------------------------------------------------------------------


def test_day_list_in_time_order_with_pet_owner_and_status(book, vet, monday, vet_user, api_as):
    rex = AnimalFactory(name="Rex", breed=breed(), alerts="Bites\nNervous")
    rex.owner.mobile_phone = "+447700900123"
    rex.owner.save()
    WeightFactory(animal=rex, kg="30.100", measured_on=timezone.localdate() - dt.timedelta(days=90))
    WeightFactory(animal=rex, kg="31.200")
    late = book(at(monday, 15), reason="vaccination", animal=rex)
    early = book(at(monday, 9), reason="limping")
    book(at(monday + dt.timedelta(days=1), 9))
    appointment_transition(appointment=early, to=S.ARRIVED, by=vet_user)
    response = api_as(vet_user).get(f"{VETS}/{vet.pk}/day", {"date": monday.isoformat()})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["vet"]["id"], data["date"]) == (vet.pk, monday.isoformat())
    rows = data["appointments"]
    assert [(r["id"], r["time"], r["status"]) for r in rows] == [
        (early.pk, "09:00", "arrived"),
        (late.pk, "15:00", "booked"),
    ]
    line = rows[1]
    assert line["animal"] | {"id": 0, "age": ""} == {
        "id": 0,
        "name": "Rex",
        "species": "Dog",
        "breed": "Labrador Retriever",
        "age": "",
        "last_weight_kg": "31.200",
        "alerts": ["Bites", "Nervous"],
    }
    assert line["animal"]["age"].endswith(" m")  # "2 y 11 m"
    assert line["owner"] == {
        "id": rex.owner_id,
        "display_name": rex.owner.display_name,
        "main_phone": rex.owner.main_phone,
    }
    assert (line["reason"], line["status_display"], line["type"]["name"]) == ("vaccination", "Booked", "Consultation")
    assert rows[0]["animal"]["last_weight_kg"] is None


def test_day_list_defaults_to_today(vet, vet_user, api_as):
    data = api_as(vet_user).get(f"{VETS}/{vet.pk}/day").json()
    assert data["date"] == timezone.localdate().isoformat()


@pytest.mark.parametrize("date", ["2026-02-30", "today", "9999-12-31"])
def test_day_list_bad_date_is_422(date, vet, vet_user, api_as):
    response = api_as(vet_user).get(f"{VETS}/{vet.pk}/day", {"date": date})
    assert response.json()["detail"][0]["loc"] == ["query", "date"]


@pytest.mark.parametrize("count", [5, 50])
def test_day_list_query_count_does_not_grow_with_rows(
    count, vet, consult, receptionist, api_as, django_assert_max_num_queries
):
    day = next_weekday(2, weeks_ahead=2)
    for i in range(count):
        animal = AnimalFactory(breed=breed(), alerts="Bites")
        WeightFactory(animal=animal)
        WeightFactory(animal=animal, measured_on=timezone.localdate() - dt.timedelta(days=10))
        start = at(day, 0) + dt.timedelta(minutes=20 * i)
        appointment_book(
            animal=animal, vet=vet, type=consult, start=start, minutes=20, by=receptionist, override_hours=True
        )
    api = api_as(receptionist)
    url = f"{VETS}/{vet.pk}/day"
    api.get(url, {"date": day.isoformat()})
    with django_assert_max_num_queries(6):  # 4 of them: auth and permissions
        assert len(api.get(url, {"date": day.isoformat()}).json()["appointments"]) == count


# --- appointment types ---------------------------------------------------------------------------------------------


def test_types_list_active_by_default(consult, receptionist, api_as):
    AppointmentType.objects.create(name="Old", is_active=False)
    api = api_as(receptionist)
    assert [t["name"] for t in api.get(TYPES).json()] == ["Consultation"]
    assert [t["name"] for t in api.get(TYPES, {"include_inactive": "true"}).json()] == ["Consultation", "Old"]


def test_create_and_patch_a_type_with_a_recall(manager, api_as):
    api = api_as(manager)
    body = {"name": "Dental", "default_minutes": 45, "colour": "#aa3300", "recall_name": "Dental recheck",
            "recall_interval": 6, "recall_unit": "months"}  # fmt: skip
    response = api.post(TYPES, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["recall_text"] == "Dental recheck in 6 months" and data["default_minutes"] == 45
    patched = api.patch(f"{TYPES}/{data['id']}", {"recall_interval": None, "recall_unit": None, "is_active": False})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["recall_text"], patched.json()["recall_unit"], patched.json()["is_active"]) == (
        "",
        "",
        False,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Consultation"}, "name"),
        ({"name": "X", "default_minutes": 0}, "default_minutes"),
        ({"name": "X", "default_minutes": 601}, "default_minutes"),
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X", "recall_interval": 6}, "recall_unit"),
        ({"name": "X", "recall_unit": "years"}, "recall_unit"),
    ],
)
def test_bad_types_are_422(body, field, consult, manager, api_as):
    assert field in error_fields(api_as(manager).post(TYPES, body))


def test_patch_with_null_name_is_422(consult, manager, api_as):
    assert error_fields(api_as(manager).patch(f"{TYPES}/{consult.pk}", {"name": None})) == ["name"]


def test_unknown_type_in_the_url_is_404(manager, api_as):
    assert api_as(manager).patch(f"{TYPES}/999999", {"name": "X"}).status_code == 404
    assert api_as(manager).get(f"{TYPES}/abc").status_code == 404


# --- hostile input never produces a 500 ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", list(BookIn.model_fields))
def test_booking_survives_hostile_values(field, pet, vet, consult, monday, receptionist, api_as):
    api = api_as(receptionist)
    base = {"animal": pet.pk, "vet": vet.pk, "type": consult.pk, "start": f"{monday}T10:00"}
    for value in HOSTILE:
        assert_clean(api.post("/api/v1/appointments", base | {field: value}))


@pytest.mark.parametrize("field", list(RescheduleIn.model_fields))
def test_reschedule_survives_hostile_values(field, book, monday, receptionist, api_as):
    api = api_as(receptionist)
    appointment = book(at(monday, 10))
    for value in HOSTILE:
        url = f"/api/v1/appointments/{appointment.pk}/reschedule"
        assert_clean(api.post(url, {"start": f"{monday}T11:00"} | {field: value}))


def test_status_cancel_exceptions_hours_and_types_survive_hostile_values(book, vet, consult, monday, manager, api_as):
    api = api_as(manager)
    appointment = book(at(monday, 10))
    for value in HOSTILE:
        for field in ("to", "note"):
            assert_clean(api.post(f"/api/v1/appointments/{appointment.pk}/status", {"to": "confirmed", field: value}))
        assert_clean(api.post(f"/api/v1/appointments/{appointment.pk}/cancel", {"reason": value}))
        for field in ExceptionIn.model_fields:
            assert_clean(api.post(f"{VETS}/{vet.pk}/exceptions", {"date": str(monday), "kind": "leave", field: value}))
        assert_clean(put(api, f"{VETS}/{vet.pk}/working-hours", {"sessions": value}))
        for field in ("weekday", "start", "end"):
            session = {"weekday": 0, "start": "09:00", "end": "10:00", field: value}
            assert_clean(put(api, f"{VETS}/{vet.pk}/working-hours", {"sessions": [session]}))
        for field in AppointmentTypeIn.model_fields:
            assert_clean(api.post(TYPES, {"name": "Fuzz", field: value}))
            assert_clean(api.patch(f"{TYPES}/{consult.pk}", {field: value}))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/appointments", ["vet", "animal", "client", "status", "date_from", "date_to", "limit", "offset"]),
        ("/api/v1/vets/{vet}/free-slots", ["date", "type", "minutes", "step"]),
        ("/api/v1/vets/any/free-slots", ["date", "type", "minutes", "step"]),
        ("/api/v1/vets/{vet}/day", ["date"]),
        ("/api/v1/vets/{vet}/exceptions", ["date_from", "date_to"]),
        ("/api/v1/vets", ["active"]),
        ("/api/v1/appointment-types", ["include_inactive"]),
    ],
)
def test_query_parameters_survive_hostile_values(path, params, vet, consult, manager, api_as):
    api = api_as(manager)
    url = path.format(vet=vet.pk)
    base = {"date": "2030-01-07", "type": consult.pk} if "free-slots" in path else {}
    for param in params:
        for value in [*QUERY_VALUES, "2026-02-30", "0001-01-01", "9999-12-31"]:
            assert_clean(api.get(url, base | {param: value}))


@pytest.mark.parametrize("bad_id", ["0", "-1", "99999999999999999999999", "9223372036854775808", "1%00"])
def test_ids_in_urls_survive_hostile_values(bad_id, manager, api_as):
    api = api_as(manager)
    for path in ["appointments/{}", "vets/{}", "vets/{}/day", "appointment-types/{}"]:
        assert_clean(api.get("/api/v1/" + path.format(bad_id)))
    for path in ["appointments/{}/status", "appointments/{}/cancel", "vets/{}/exceptions"]:
        assert_clean(api.post("/api/v1/" + path.format(bad_id), {}))


def test_openapi_schema_lists_the_appointment_endpoints(anonymous):
    schema = anonymous.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/appointments",
        "/api/v1/appointments/{appointment_id}",
        "/api/v1/appointments/{appointment_id}/reschedule",
        "/api/v1/appointments/{appointment_id}/cancel",
        "/api/v1/appointments/{appointment_id}/status",
        "/api/v1/vets",
        "/api/v1/vets/{vet_id}/working-hours",
        "/api/v1/vets/{vet_id}/exceptions",
        "/api/v1/vets/{vet_id}/exceptions/{exception_id}",
        "/api/v1/vets/{vet_id}/free-slots",
        "/api/v1/vets/any/free-slots",
        "/api/v1/vets/{vet_id}/day",
        "/api/v1/appointment-types",
        "/api/v1/appointment-types/{type_id}",
    ]:
        assert path in paths, path
    book = paths["/api/v1/appointments"]["post"]
    assert {"200", "201"} <= set(book["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in book["parameters"])
