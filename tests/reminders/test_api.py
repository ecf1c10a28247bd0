"""/api/v1/reminder-types, /reminders, /reminder-deliveries and /reminder-runs: the contract (401/403/404/409/422,
pagination), the filters shared with the page, and the writes going through the services."""

from __future__ import annotations

import pytest

from invoicing.models import Product, TaxCategory
from reminders.models import ProductReminder, Reminder, ReminderRun, ReminderType
from tests.factories import AnimalFactory, ClientFactory, species
from tests.reminders.ui_data import days, make_delivery, make_reminder, make_type, seen_by

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def api(client, bearer):
    """api(user, method, path, body=None) -> response, authenticated with a token of ``user``."""

    def call(user, method: str, path: str, body=None, **params):
        headers = bearer(user) if user is not None else {}
        fn = getattr(client, method.lower())
        if method in ("GET",):
            return fn(API + path, params or None, headers=headers)
        return fn(API + path, body if body is not None else {}, content_type="application/json", headers=headers)

    return call


@pytest.fixture
def dhpp(db):
    return make_type("DHPP booster")


TYPE_BODY = {
    "name": "FeLV",
    "interval": 12,
    "interval_unit": "months",
    "stages": [-14, 0, 30],
    "subject": "{pets}: FeLV due",
    "body_text": "Dear {owner_name}, {items}",
}


# --- Who may do what ------------------------------------------------------------------------------------------------


def test_every_endpoint_needs_authentication(api, dhpp):
    reminder = make_reminder(dhpp)
    delivery = make_delivery([reminder])
    for method, path in [
        ("GET", "/reminder-types"),
        ("GET", f"/reminder-types/{dhpp.pk}"),
        ("POST", "/reminder-types"),
        ("PATCH", f"/reminder-types/{dhpp.pk}"),
        ("GET", "/reminders"),
        ("GET", f"/reminders/{reminder.pk}"),
        ("POST", "/reminders"),
        ("POST", f"/reminders/{reminder.pk}/complete"),
        ("POST", f"/reminders/{reminder.pk}/cancel"),
        ("PATCH", f"/reminders/{reminder.pk}"),
        ("GET", "/reminder-deliveries"),
        ("GET", f"/reminder-deliveries/{delivery.pk}"),
        ("POST", f"/reminder-deliveries/{delivery.pk}/follow-up"),
        ("GET", "/reminder-runs"),
        ("POST", "/reminder-runs"),
    ]:
        response = api(None, method, path)
        assert response.status_code == 401, (method, path)
        assert "Authentication required" in response.json()["detail"]


def test_a_user_without_a_role_gets_403_before_any_lookup(api, nobody, dhpp):
    for method, path in [
        ("GET", "/reminder-types"),
        ("GET", "/reminders"),
        ("GET", "/reminders/999999"),
        ("POST", "/reminders/999999/complete"),
        ("GET", "/reminder-deliveries"),
        ("GET", "/reminder-runs"),
        ("POST", "/reminder-runs"),
    ]:
        response = api(nobody, method, path)
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"]


@pytest.mark.parametrize("role", ["receptionist", "vet"])
def test_staff_read_and_act_on_reminders_but_only_managers_write_types_and_runs(api, users, role, dhpp):
    user = users[role]
    assert api(user, "GET", "/reminder-types").status_code == 200
    assert api(user, "POST", "/reminder-types", TYPE_BODY).status_code == 403
    assert api(user, "PATCH", f"/reminder-types/{dhpp.pk}", {"interval": 6}).status_code == 403
    assert api(user, "GET", "/reminder-runs").status_code == 403
    assert api(user, "POST", "/reminder-runs").status_code == 403
    assert not ReminderRun.objects.exists()
    reminder = make_reminder(dhpp)
    assert api(user, "POST", f"/reminders/{reminder.pk}/complete").status_code == 200


def test_unknown_ids_are_404(api, manager):
    for method, path in [
        ("GET", "/reminder-types/999999"),
        ("PATCH", "/reminder-types/999999"),
        ("GET", "/reminders/999999"),
        ("POST", "/reminders/999999/complete"),
        ("POST", "/reminders/999999/cancel"),
        ("PATCH", "/reminders/999999"),
        ("GET", "/reminder-deliveries/999999"),
        ("GET", "/reminder-runs/999999"),
        ("GET", "/reminders/99999999999999999999999"),
    ]:
        body = {"reason": "x"} if path.endswith("cancel") else {"due_on": days(1).isoformat()}
        if path.endswith("complete"):
            body = {}
        if path.startswith("/reminder-types"):
            body = {"interval": 3}
        response = api(manager, method, path, body)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found."}


# --- Reminder types -------------------------------------------------------------------------------------------------


def test_a_manager_creates_and_changes_a_type(api, manager):
    vaccine = Product.objects.create(
        code="FELV", name="FeLV vaccine", category="vaccine", unit_price="20.00",
        tax_category=TaxCategory.objects.get(code="standard"),
    )  # fmt: skip
    response = api(
        manager, "POST", "/reminder-types", TYPE_BODY | {"species": [species("Cat").pk], "products": [vaccine.pk]}
    )
    assert response.status_code == 201
    data = response.json()
    assert data["stages"] == [-14, 0, 30] and data["species"] == [{"id": species("Cat").pk, "name": "Cat"}]
    assert data["products"] == [{"id": vaccine.pk, "name": "FeLV vaccine"}]
    response = api(manager, "PATCH", f"/reminder-types/{data['id']}", {"interval": 6, "stages": [0]})
    assert response.status_code == 200
    changed = response.json()
    assert changed["interval"] == 6 and changed["stages"] == [0] and changed["species"] == data["species"]
    assert ProductReminder.objects.filter(product=vaccine, reminder_type_id=data["id"]).exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"subject": "Hi {owner_nmae}"}, "subject", "Unknown placeholder {owner_nmae}"),
        ({"interval": 0}, "interval", "greater than or equal to 1"),
        ({"stages": [-14, 400]}, "stages", "at most 365 days"),
        ({"stages": []}, "stages", "at least 1"),
        ({"species": [999999]}, "species", "no species with id 999999"),
        ({"interval_unit": "years"}, "interval_unit", ""),
        ({"colour": "red"}, "colour", ""),
    ],
)
def test_bad_type_input_is_422_naming_the_field(api, manager, change, field, message):
    response = api(manager, "POST", "/reminder-types", TYPE_BODY | change)
    assert response.status_code == 422, response.json()
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field and message in e["msg"] for e in errors), errors
    assert not ReminderType.objects.filter(name="FeLV").exists()


def test_a_duplicate_type_name_is_422(api, manager, dhpp):
    response = api(manager, "POST", "/reminder-types", TYPE_BODY | {"name": "DHPP booster"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "name"]


# --- Reminders ------------------------------------------------------------------------------------------------------


def test_the_list_filters_like_the_page_and_is_paginated(api, receptionist, dhpp, vet):
    rabies = make_type("Rabies vaccination")
    overdue = make_reminder(dhpp, due=-4)
    cat = make_reminder(rabies, due=5, animal=AnimalFactory(species=species("Cat")))
    phone = make_reminder(dhpp, due=9, animal=AnimalFactory(owner=ClientFactory(email="")))
    make_reminder(rabies, due=-40, status="cancelled")
    seen_by(cat.animal, vet)

    def ids(**params):
        response = api(receptionist, "GET", "/reminders", **params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["items"]]

    assert ids(status="pending") == [overdue.pk, cat.pk, phone.pk]
    assert ids(status="overdue") == [overdue.pk]
    assert ids(type=rabies.pk, status="pending") == [cat.pk]
    assert ids(species=species("Cat").pk) == [cat.pk]
    assert ids(vet=vet.pk) == [cat.pk]
    assert ids(channel="none") == [phone.pk]
    assert ids(due_from=days(0).isoformat(), due_to=days(6).isoformat()) == [cat.pk]
    assert ids(client=phone.animal.owner_id) == [phone.pk]
    page = api(receptionist, "GET", "/reminders", limit=2, offset=1).json()
    assert page["count"] == 4 and len(page["items"]) == 2
    one = api(receptionist, "GET", f"/reminders/{cat.pk}").json()
    assert one["vet"] == {"id": vet.pk, "name": vet.display_name} and one["overdue"] is False
    assert one["channel"] == "email" and one["animal"]["species"] == "Cat"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "late"},
        {"channel": "fax"},
        {"due_from": "tomorrow"},
        {"due_from": days(5).isoformat(), "due_to": days(1).isoformat()},
        {"type": "0"},
        {"limit": "500"},
    ],
)
def test_bad_filters_are_422(api, receptionist, params):
    response = api(receptionist, "GET", "/reminders", **params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_create_complete_cancel_and_move(api, receptionist, dhpp):
    pet = AnimalFactory()
    body = {"animal": pet.pk, "type": dhpp.pk, "due_on": days(20).isoformat()}
    response = api(receptionist, "POST", "/reminders", body)
    assert response.status_code == 201
    rid = response.json()["id"]
    assert response.json()["status"] == "pending" and response.json()["source"] == "manual"
    moved = api(receptionist, "PATCH", f"/reminders/{rid}", {"due_on": days(25).isoformat()})
    assert moved.status_code == 200 and moved.json()["due_on"] == days(25).isoformat()
    done = api(receptionist, "POST", f"/reminders/{rid}/complete", {"note": "given today"})
    assert done.status_code == 200 and done.json()["status"] == "completed" and done.json()["note"] == "given today"
    again = api(receptionist, "POST", f"/reminders/{rid}/cancel", {"reason": "moved away"})
    assert again.status_code == 409 and again.json()["code"] == "not_pending"
    other = make_reminder(make_type("Rabies vaccination"), animal=pet)
    cancelled = api(receptionist, "POST", f"/reminders/{other.pk}/cancel", {"reason": "moved away"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_second_pending_reminder_of_a_type_is_409(api, receptionist, dhpp):
    existing = make_reminder(dhpp)
    body = {"animal": existing.animal_id, "type": dhpp.pk, "due_on": days(3).isoformat()}
    response = api(receptionist, "POST", "/reminders", body)
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate" and response.json()["field"] == "type"
    assert Reminder.objects.filter(animal=existing.animal).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"animal": 999999, "due_on": "2030-01-01"}, "animal"),
        ({"due_on": "2030-13-01"}, "due_on"),
        ({"due_on": "1066-10-14"}, "due_on"),
        ({"due_on": "2030-01-01", "status": "completed"}, "status"),
    ],
)
def test_bad_reminder_bodies_are_422(api, receptionist, dhpp, body, field):
    pet = AnimalFactory()
    response = api(receptionist, "POST", "/reminders", {"animal": pet.pk, "type": dhpp.pk} | body)
    assert response.status_code == 422
    assert any(e["loc"][-1] == field for e in response.json()["detail"]), response.json()


def test_cancel_needs_a_reason(api, receptionist, dhpp):
    reminder = make_reminder(dhpp)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        assert api(receptionist, "POST", f"/reminders/{reminder.pk}/cancel", body).status_code == 422
    reminder.refresh_from_db()
    assert reminder.status == "pending"


# --- Deliveries -----------------------------------------------------------------------------------------------------


def test_the_delivery_log_with_notices_and_filters(api, receptionist, dhpp):
    rex = AnimalFactory(name="Rex")
    sent = make_delivery([make_reminder(dhpp, animal=rex)], subject="Rex is due")
    phone = make_delivery([make_reminder(dhpp)], status="no_channel", channel="none")
    listed = api(receptionist, "GET", "/reminder-deliveries").json()
    assert listed["count"] == 2 and [d["id"] for d in listed["items"]] == [phone.pk, sent.pk]
    one = api(receptionist, "GET", f"/reminder-deliveries/{sent.pk}").json()
    assert one["notices"][0]["animal"]["name"] == "Rex" and one["notices"][0]["type"]["name"] == "DHPP booster"
    assert one["client"]["id"] == rex.owner_id and one["subject"] == "Rex is due"

    def ids(**params):
        return [d["id"] for d in api(receptionist, "GET", "/reminder-deliveries", **params).json()["items"]]

    assert ids(status="no_channel") == [phone.pk]
    assert ids(channel="email") == [sent.pk]
    assert ids(client=rex.owner_id) == [sent.pk]
    assert ids(follow_up="true") == [phone.pk]
    assert ids(date_from=days(1).isoformat()) == []
    assert ids(date_from=days(0).isoformat(), date_to=days(0).isoformat()) == [phone.pk, sent.pk]
    assert api(receptionist, "GET", "/reminder-deliveries", status="lost").status_code == 422


def test_follow_up_through_the_api(api, receptionist, dhpp):
    phone = make_delivery([make_reminder(dhpp)], status="no_channel", channel="none")
    response = api(receptionist, "POST", f"/reminder-deliveries/{phone.pk}/follow-up", {"note": "left a message"})
    assert response.status_code == 200 and response.json()["follow_up_note"] == "left a message"
    again = api(receptionist, "POST", f"/reminder-deliveries/{phone.pk}/follow-up", {"note": "x"})
    assert again.status_code == 409 and again.json()["code"] == "already_followed_up"


# --- Runs -----------------------------------------------------------------------------------------------------------


def test_a_manager_starts_a_run_and_reads_its_progress(api, manager):
    response = api(manager, "POST", "/reminder-runs")
    assert response.status_code == 201
    run = response.json()
    assert run["trigger"] == "manual" and run["status"] == "queued" and run["is_active"] is True
    assert run["started_by"] == str(manager)
    second = api(manager, "POST", "/reminder-runs")
    assert second.status_code == 409 and second.json()["code"] == "run_active"
    ReminderRun.objects.filter(pk=run["id"]).update(status="finished", emails_total=3, emails_sent=2, emails_failed=1)
    progress = api(manager, "GET", f"/reminder-runs/{run['id']}").json()
    assert progress["emails_done"] == 3 and progress["is_active"] is False
    listed = api(manager, "GET", "/reminder-runs").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == run["id"]


def test_complete_takes_an_empty_body_or_none(client, bearer, receptionist, dhpp):
    first, second = make_reminder(dhpp), make_reminder(dhpp)
    headers = bearer(receptionist)
    assert client.post(f"{API}/reminders/{first.pk}/complete", headers=headers).status_code == 200
    url = f"{API}/reminders/{second.pk}/complete"
    response = client.post(url, "", content_type="application/json", headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "completed"


def test_a_bad_optional_body_is_422(api, receptionist, dhpp):
    reminder = make_reminder(dhpp)
    for body in ({"note": "x" * 301}, {"nope": 1}):
        response = api(receptionist, "POST", f"/reminders/{reminder.pk}/complete", body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][0] == "body"
    reminder.refresh_from_db()
    assert reminder.status == "pending"
