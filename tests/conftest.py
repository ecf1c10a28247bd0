"""Shared fixtures: one user per role, a logged-in test client per role, and API helpers."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from tests.factories import UserFactory, make_token
from vetpms.models import Role


@pytest.fixture
def receptionist(db):
    return UserFactory(username="rita", first_name="Rita", last_name="Reception", role=Role.RECEPTIONIST)


@pytest.fixture
def vet_user(db):
    return UserFactory(username="victor", first_name="Victor", last_name="Vet", role=Role.VET)


@pytest.fixture
def manager(db):
    return UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)


@pytest.fixture
def nobody(db):
    """A logged-in user with no role at all."""
    return UserFactory(username="norole", first_name="No", last_name="Role")


@pytest.fixture
def users(receptionist, vet_user, manager, nobody):
    return {"receptionist": receptionist, "vet": vet_user, "manager": manager, "nobody": nobody}


def _logged_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def as_receptionist(receptionist):
    return _logged_in(receptionist)


@pytest.fixture
def as_vet(vet_user):
    return _logged_in(vet_user)


@pytest.fixture
def as_manager(manager):
    return _logged_in(manager)


@pytest.fixture
def login():
    """login(user) -> a Django test client with that user's session."""
    return _logged_in


@pytest.fixture
def bearer():
    """bearer(user) -> headers dict carrying a fresh API token of that user."""

    def make(user):
        _, secret = make_token(user)
        return {"Authorization": f"Bearer {secret}"}

    return make
