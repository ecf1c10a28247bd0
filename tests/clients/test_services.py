import pytest
from django.core.exceptions import ValidationError

from clients.models import Client
from clients.services import (
    client_create,
    client_deactivate,
    client_reactivate,
    client_set_consent,
    client_update,
)
from tests.factories import AnimalFactory, ClientFactory
from vetpms.audit import entries_for
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db


def test_create_normalises_phones_and_records_who_created(receptionist):
    client = client_create(
        by=receptionist,
        first_name="Jane",
        last_name="Smith",
        mobile_phone="07400 123456",
        home_phone="(0113) 496 0001",
    )
    client.refresh_from_db()
    assert client.mobile_phone == "+447400123456"
    assert client.home_phone == "+441134960001"
    assert client.phones == [("Mobile", "07400 123456"), ("Home", "0113 496 0001")]
    entry = entries_for(client).get()
    assert entry.action == "create" and entry.actor == receptionist
    assert entry.changes["last_name"] == [None, "Smith"]


def test_a_client_needs_a_last_name_or_an_organisation(receptionist):
    with pytest.raises(ValidationError) as exc:
        client_create(by=receptionist, first_name="Jane")
    assert "last_name" in exc.value.message_dict
    assert Client.objects.count() == 0
    farm = client_create(by=receptionist, organisation="Hill Top Farm")
    assert farm.display_name == "Hill Top Farm"


@pytest.mark.parametrize("phone", ["call me", "12", "+44 7700 9001234567"])
def test_phone_numbers_that_are_not_numbers_are_refused(receptionist, phone):
    with pytest.raises(ValidationError) as exc:
        client_create(by=receptionist, last_name="Smith", mobile_phone=phone)
    assert "mobile_phone" in exc.value.message_dict


def test_a_5000_character_name_is_refused(receptionist):
    with pytest.raises(ValidationError) as exc:
        client_create(by=receptionist, last_name="x" * 5000)
    assert "at most 100 characters" in exc.value.message_dict["last_name"][0]


def test_update_records_old_and_new_values_only_for_changed_fields(receptionist, manager):
    client = client_create(by=receptionist, first_name="Jane", last_name="Smith", town="Exampletown")
    client_update(client=client, by=manager, data={"town": "Newtown", "first_name": "Jane"})
    entry = entries_for(client).first()
    assert entry.action == "update" and entry.actor == manager
    assert entry.changes == {"town": ["Exampletown", "Newtown"]}


def test_update_without_change_writes_no_audit_entry(receptionist):
    client = client_create(by=receptionist, last_name="Smith")
    client_update(client=client, by=receptionist, data={"last_name": "Smith"})
    assert entries_for(client).count() == 1


def test_consent_change_records_when(receptionist):
    client = client_create(by=receptionist, last_name="Smith")
    assert client.consent_changed_at is None
    client = client_update(client=client, by=receptionist, data={"reminder_consent": True})
    given_at = client.consent_changed_at
    assert given_at is not None
    client = client_set_consent(client=client, by=None, consent=False, note="unsubscribe link")
    assert client.reminder_consent is False and client.consent_changed_at >= given_at
    again = client_set_consent(client=client, by=None, consent=False)
    assert again.consent_changed_at == client.consent_changed_at
    assert [e.action for e in entries_for(client)][:1] == ["consent withdrawn"]
    assert entries_for(client).filter(action="consent withdrawn").count() == 1


def test_deactivate_twice_is_a_domain_error(receptionist):
    client = ClientFactory()
    client_deactivate(client=client, by=receptionist)
    with pytest.raises(DomainError):
        client_deactivate(client=client, by=receptionist)
    client_reactivate(client=client, by=receptionist)
    client.refresh_from_db()
    assert client.is_active


def test_renaming_an_owner_keeps_pet_search_current(receptionist):
    client = client_create(by=receptionist, first_name="Jane", last_name="Smith")
    pet = AnimalFactory(owner=client, name="Rex")
    client_update(client=client, by=receptionist, data={"last_name": "Jones"})
    pet.refresh_from_db()
    assert " jones " in pet.search_text and "smith" not in pet.search_text


def test_unknown_fields_are_a_programming_error(receptionist):
    client = ClientFactory()
    with pytest.raises(ValueError):
        client_update(client=client, by=receptionist, data={"is_active": False})
