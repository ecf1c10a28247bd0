"""The reminder pages: who may open them, the due list's filters and actions, adding by hand, the animal panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reminders.models import Reminder
from tests.factories import AnimalFactory, ClientFactory, species
from tests.reminders.ui_data import days, make_delivery, make_reminder, make_type, seen_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def dhpp(db):
    return make_type("DHPP booster")


@pytest.fixture
def reminder(dhpp):
    return make_reminder(dhpp, due=-3, animal=AnimalFactory(name="Rex"))


def _pages(reminder):
    """(url, method, permission holders) for every page: who may GET (or POST) it."""
    delivery = make_delivery([reminder], status="no_channel", channel="none")
    client = reminder.animal.owner
    return {
        "list": reverse("reminders:list"),
        "detail": reverse("reminders:detail", args=[reminder.pk]),
        "new": reverse("reminders:new"),
        "types": reverse("reminders:type_list"),
        "type_create": reverse("reminders:type_create"),
        "type_update": reverse("reminders:type_update", args=[reminder.type_id]),
        "log": reverse("reminders:delivery_list"),
        "client_log": reverse("reminders:client_deliveries", args=[client.pk]),
        "follow_up": reverse("reminders:follow_up"),
        "runs": reverse("reminders:run_list"),
        "_delivery": delivery,
    }


STAFF_PAGES = ["list", "detail", "new", "types", "log", "client_log", "follow_up"]
MANAGER_PAGES = ["type_create", "type_update", "runs"]


def test_anonymous_is_sent_to_the_login_page_everywhere(client, reminder):
    pages = _pages(reminder)
    for name in STAFF_PAGES + MANAGER_PAGES:
        response = client.get(pages[name])
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], name


@pytest.mark.parametrize("role", ["receptionist", "vet"])
def test_front_desk_and_vets_open_the_staff_pages_but_not_the_managers(login, users, role, reminder):
    http = login(users[role])
    pages = _pages(reminder)
    for name in STAFF_PAGES:
        assert http.get(pages[name]).status_code == 200, name
    for name in MANAGER_PAGES:
        assert http.get(pages[name]).status_code == 403, name
    assert http.post(reverse("reminders:type_preview"), {"subject": "x", "body_text": "y"}).status_code == 403
    assert http.post(reverse("reminders:run_list")).status_code == 403


def test_a_user_without_a_role_is_refused_every_page_and_action(login, nobody, reminder):
    http = login(nobody)
    pages = _pages(reminder)
    for name in STAFF_PAGES + MANAGER_PAGES:
        assert http.get(pages[name]).status_code == 403, name
    for url in [
        reverse("reminders:complete", args=[reminder.pk]),
        reverse("reminders:cancel", args=[reminder.pk]),
        reverse("reminders:move", args=[reminder.pk]),
        reverse("reminders:follow_up_mark", args=[pages["_delivery"].pk]),
    ]:
        assert http.post(url, {"note": "x", "due_on": days(5).isoformat()}).status_code == 403, url
    reminder.refresh_from_db()
    assert reminder.status == "pending" and reminder.due_on == days(-3)


def test_managers_open_every_page(as_manager, reminder):
    pages = _pages(reminder)
    for name in STAFF_PAGES + MANAGER_PAGES:
        assert as_manager.get(pages[name]).status_code == 200, name


def test_unknown_ids_are_404(as_manager):
    for url in [
        reverse("reminders:detail", args=[999999]),
        reverse("reminders:type_update", args=[999999]),
        reverse("reminders:client_deliveries", args=[999999]),
        reverse("reminders:run_detail", args=[999999]),
        reverse("reminders:new") + "?animal=999999",
    ]:
        assert as_manager.get(url).status_code == 404, url
    for url in [
        reverse("reminders:complete", args=[999999]),
        reverse("reminders:follow_up_mark", args=[999999]),
    ]:
        assert as_manager.post(url, {"note": "x"}).status_code == 404, url


# --- The due and overdue list ----------------------------------------------------------------------------------


def _rows(response) -> list[Reminder]:
    return [row.record for row in response.context["table"].page.object_list]


def test_the_list_shows_pending_reminders_earliest_first_with_overdue_marked(as_receptionist, dhpp):
    later = make_reminder(dhpp, due=10)
    overdue = make_reminder(dhpp, due=-5)
    make_reminder(dhpp, due=-1, status="completed")
    response = as_receptionist.get(reverse("reminders:list"))
    assert _rows(response) == [overdue, later]
    body = response.content.decode()
    assert body.count('text-bg-danger">Overdue<') == 1 and overdue.animal.name in body


def test_filters_status_type_species_and_due_range(as_receptionist, dhpp):
    rabies = make_type("Rabies vaccination")
    cat = make_reminder(dhpp, due=2, animal=AnimalFactory(species=species("Cat")))
    dog_rabies = make_reminder(rabies, due=-2)
    done = make_reminder(rabies, due=-20, status="completed")
    url = reverse("reminders:list")
    assert _rows(as_receptionist.get(url, {"status": "overdue"})) == [dog_rabies]
    assert _rows(as_receptionist.get(url, {"status": "completed"})) == [done]
    assert _rows(as_receptionist.get(url, {"status": "all"})) == [done, dog_rabies, cat]
    assert _rows(as_receptionist.get(url, {"type": rabies.pk})) == [dog_rabies]
    assert _rows(as_receptionist.get(url, {"species": species("Cat").pk})) == [cat]
    due = {"due_after": days(0).isoformat(), "due_before": days(5).isoformat()}
    assert _rows(as_receptionist.get(url, due)) == [cat]


def test_a_due_range_ending_before_it_starts_is_a_form_error(as_receptionist, dhpp):
    response = as_receptionist.get(
        reverse("reminders:list"), {"due_after": days(5).isoformat(), "due_before": days(0).isoformat()}
    )
    assert response.status_code == 200
    assert "The end of the range is before its start." in response.content.decode()


def test_bad_filter_values_are_form_errors_not_500(as_receptionist, dhpp):
    response = as_receptionist.get(
        reverse("reminders:list"), {"type": "abc", "vet": "999999", "due_after": "not-a-date", "status": "x"}
    )
    assert response.status_code == 200
    assert response.context["filter"].form.errors


def test_the_vet_is_the_one_who_last_saw_the_pet(as_receptionist, dhpp, vet, manager):
    from tests.factories import UserFactory
    from vetpms.models import Role

    other = UserFactory(username="olga", first_name="Olga", last_name="Other", role=Role.VET).vet
    mine = make_reminder(dhpp, due=1)
    theirs = make_reminder(dhpp, due=2)
    seen_by(mine.animal, other, days_ago=200)
    seen_by(mine.animal, vet, days_ago=20)  # the latest: this vet
    seen_by(theirs.animal, other, days_ago=5)
    url = reverse("reminders:list")
    assert _rows(as_receptionist.get(url, {"vet": vet.pk})) == [mine]
    assert _rows(as_receptionist.get(url, {"vet": other.pk})) == [theirs]
    body = as_receptionist.get(url).content.decode()
    assert vet.display_name in body and other.display_name in body


def test_the_channel_filter_splits_emailable_owners_from_those_to_phone(as_receptionist, dhpp):
    emailable = make_reminder(dhpp, due=1)
    no_consent = make_reminder(dhpp, due=2, animal=AnimalFactory(owner=ClientFactory(reminder_consent=False)))
    no_address = make_reminder(dhpp, due=3, animal=AnimalFactory(owner=ClientFactory(email="")))
    url = reverse("reminders:list")
    assert _rows(as_receptionist.get(url, {"channel": "email"})) == [emailable]
    assert _rows(as_receptionist.get(url, {"channel": "none"})) == [no_consent, no_address]


def test_the_list_costs_the_same_queries_for_5_or_50_rows(as_receptionist, dhpp, vet):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert as_receptionist.get(reverse("reminders:list"), {"per_page": 100}).status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        seen_by(make_reminder(dhpp, due=i).animal, vet)
    as_receptionist.get(reverse("home"))  # the session's once-a-minute touch is not part of the page's cost
    small = count()
    for i in range(45):
        seen_by(make_reminder(dhpp, due=i).animal, vet)
    assert count() == small


# --- Actions -----------------------------------------------------------------------------------------------------


def test_completing_from_the_list_goes_back_to_the_list(as_receptionist, receptionist, reminder):
    back = reverse("reminders:list") + "?status=overdue"
    response = as_receptionist.post(reverse("reminders:complete", args=[reminder.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    reminder.refresh_from_db()
    assert reminder.status == "completed" and reminder.closed_by == receptionist


def test_a_next_pointing_elsewhere_is_ignored(as_receptionist, reminder):
    response = as_receptionist.post(
        reverse("reminders:complete", args=[reminder.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("reminders:detail", args=[reminder.pk])


def test_cancelling_needs_a_reason(as_receptionist, reminder):
    url = reverse("reminders:cancel", args=[reminder.pk])
    response = as_receptionist.post(url, {"note": "  "})
    assert response.status_code == 422
    assert "Say why the reminder is cancelled." in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == "pending"
    as_receptionist.post(url, {"note": "Moved away"})
    reminder.refresh_from_db()
    assert reminder.status == "cancelled" and reminder.note == "Moved away"


def test_moving_the_due_date(as_receptionist, reminder):
    response = as_receptionist.post(reverse("reminders:move", args=[reminder.pk]), {"due_on": days(30).isoformat()})
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.due_on == days(30)


def test_acting_on_a_closed_reminder_says_why_and_changes_nothing(as_receptionist, reminder):
    as_receptionist.post(reverse("reminders:complete", args=[reminder.pk]))
    for action, data in [("complete", {}), ("cancel", {"note": "x"}), ("move", {"due_on": days(9).isoformat()})]:
        response = as_receptionist.post(reverse(f"reminders:{action}", args=[reminder.pk]), data)
        assert response.status_code == 422, action
        assert "already completed" in response.content.decode() or "Only a pending" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == "completed" and reminder.due_on == days(-3)


def test_get_on_an_action_is_refused(as_receptionist, reminder):
    assert as_receptionist.get(reverse("reminders:complete", args=[reminder.pk])).status_code == 405


# --- Adding by hand -----------------------------------------------------------------------------------------------


def test_adding_by_hand_finds_the_pet_then_saves(as_receptionist, receptionist, dhpp):
    pet = AnimalFactory(name="Biscuit")
    response = as_receptionist.get(reverse("reminders:new"), {"q": "biscuit"})
    assert f"?animal={pet.pk}" in response.content.decode()
    response = as_receptionist.post(
        reverse("reminders:new"), {"animal": pet.pk, "type": dhpp.pk, "due_on": days(40).isoformat()}
    )
    assert response.status_code == 302 and response["Location"] == reverse("animals:detail", args=[pet.pk])
    added = Reminder.objects.get(animal=pet)
    assert added.type == dhpp and added.due_on == days(40) and added.source == "manual"


def test_a_type_already_pending_is_not_offered_and_refused(as_receptionist, reminder, dhpp):
    response = as_receptionist.post(
        reverse("reminders:new"), {"animal": reminder.animal_id, "type": dhpp.pk, "due_on": days(40).isoformat()}
    )
    assert response.status_code == 422
    assert Reminder.objects.filter(animal=reminder.animal).count() == 1


def test_a_type_for_another_species_is_not_offered(as_receptionist, dhpp):
    felv = make_type("FeLV")
    felv.species.set([species("Cat")])
    dog = AnimalFactory()
    response = as_receptionist.get(reverse("reminders:new"), {"animal": dog.pk})
    choices = [label for _, label in response.context["form"].fields["type"].choices]
    assert choices == ["DHPP booster"]
    response = as_receptionist.post(
        reverse("reminders:new"), {"animal": dog.pk, "type": felv.pk, "due_on": days(4).isoformat()}
    )
    assert response.status_code == 422 and not Reminder.objects.filter(animal=dog).exists()


# --- The animal page panel ------------------------------------------------------------------------------------------


def test_the_animal_page_lists_pending_and_history_with_actions(as_receptionist, dhpp):
    pet = AnimalFactory(name="Rex")
    pending = make_reminder(dhpp, due=-2, animal=pet)
    rabies = make_type("Rabies vaccination")
    done = make_reminder(rabies, due=-400, animal=pet, status="completed", note="given")
    body = as_receptionist.get(reverse("animals:detail", args=[pet.pk])).content.decode()
    assert reverse("reminders:complete", args=[pending.pk]) in body
    assert reverse("reminders:detail", args=[done.pk]) in body and "Reminder history" in body
    # Rabies is offered to add (nothing pending); DHPP is not (pending already).
    assert f'<option value="{rabies.pk}">Rabies vaccination</option>' in body
    assert f'<option value="{dhpp.pk}">' not in body


def test_a_vet_without_reminder_rights_sees_no_panel(login, nobody, dhpp):
    from django.contrib.auth.models import Permission

    pet = AnimalFactory()
    make_reminder(dhpp, animal=pet)
    nobody.user_permissions.add(Permission.objects.get(codename="view_animal"))
    body = login(nobody).get(reverse("animals:detail", args=[pet.pk])).content.decode()
    assert "DHPP booster" not in body


def test_the_client_page_links_to_their_reminders(as_receptionist, reminder):
    client = reminder.animal.owner
    body = as_receptionist.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert reverse("reminders:client_deliveries", args=[client.pk]) in body
    body = as_receptionist.get(reverse("reminders:client_deliveries", args=[client.pk])).content.decode()
    assert "DHPP booster" in body and "Overdue" in body
