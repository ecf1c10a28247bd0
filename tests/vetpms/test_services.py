import pytest

from tests.factories import UserFactory
from vetpms.audit import entries_for
from vetpms.errors import DomainError
from vetpms.models import ApiToken, Role, Vet
from vetpms.services import api_token_create, api_token_revoke, staff_create, staff_set_role

pytestmark = pytest.mark.django_db


def test_token_secret_is_shown_once_and_stored_hashed(manager, receptionist):
    token, secret = api_token_create(user=receptionist, name="lab link", by=manager)
    assert secret.startswith("vpms_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.key_hash, stored.key_prefix)
    assert stored.key_hash == ApiToken.hash_secret(secret)
    assert entries_for(token).get().actor == manager


def test_token_needs_a_name_and_revoking_twice_is_refused(manager, receptionist):
    with pytest.raises(DomainError):
        api_token_create(user=receptionist, name="  ", by=manager)
    token, _ = api_token_create(user=receptionist, name="x", by=manager)
    api_token_revoke(token=token, by=manager)
    with pytest.raises(DomainError):
        api_token_revoke(token=token, by=manager)
    assert not ApiToken.objects.live().filter(pk=token.pk).exists()


def test_staff_create_gives_a_vet_an_appointment_book_holder_record(manager):
    user = staff_create(
        username="newvet",
        first_name="Nia",
        last_name="Jones",
        email="nia@example.org",
        role=Role.VET,
        password="a-long-password-1",
        by=manager,
    )
    assert user.has_role(Role.VET) and user.check_password("a-long-password-1")
    assert Vet.objects.get(user=user).display_name == "Nia Jones"
    with pytest.raises(DomainError):
        staff_create(username="NEWVET", first_name="", last_name="", email="", role=Role.VET, password=None, by=manager)


def test_staff_set_role_leaves_exactly_one_role(manager):
    user = UserFactory(role=Role.RECEPTIONIST)
    staff_set_role(user=user, role=Role.MANAGER, by=manager)
    user.refresh_from_db()
    assert sorted(g.name for g in user.groups.all()) == ["Manager"]
    with pytest.raises(DomainError):
        staff_set_role(user=user, role="Janitor", by=manager)
