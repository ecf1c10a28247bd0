"""Possible duplicate clients are shown before a new one is saved: the same phone (in any field, any format), the
same email (any case), or the same surname (any case) and postcode (any spacing). The page asks to confirm; the
API answers 409 with the candidates unless confirmed."""

from __future__ import annotations

import pytest

from clients.models import Client
from clients.services import PossibleDuplicates, client_create
from tests.api.conftest import JsonClient
from tests.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def jane(receptionist):
    return client_create(
        by=receptionist, first_name="Jane", last_name="O'Brien", email="Jane.OBrien@example.com",
        mobile_phone="07400 123456", postcode="SW1A 1AA",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ({"last_name": "Smith", "home_phone": "+44 7400 123456"}, "same phone"),
        ({"last_name": "Smith", "email": "jane.obrien@EXAMPLE.com"}, "same email"),
        ({"last_name": "o'brien", "postcode": "sw1a1aa"}, "same surname and postcode"),
    ],
)
def test_a_likely_duplicate_is_refused_unless_confirmed(jane, receptionist, typed, reason):
    with pytest.raises(PossibleDuplicates) as refused:
        client_create(by=receptionist, first_name="J", **typed)
    assert refused.value.candidates == [(jane, [reason])]
    assert Client.objects.count() == 1
    again = client_create(by=receptionist, first_name="J", confirm_new=True, **typed)
    assert again.pk != jane.pk


def test_someone_else_is_not_a_duplicate(jane, receptionist):
    other = client_create(by=receptionist, last_name="O'Brien", postcode="M1 1AE", mobile_phone="07400 123999")
    assert other.pk


def test_the_page_lists_them_and_asks_to_confirm(jane, as_receptionist):
    form = {"last_name": "Obi", "mobile_phone": "07400123456", "preferred_channel": "email"}
    page = as_receptionist.post("/clients/new/", form)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="possible-duplicates"' in html and f'href="/clients/{jane.pk}/"' in html
    assert "same phone" in html and 'name="confirm_new"' in html
    assert Client.objects.count() == 1
    created = as_receptionist.post("/clients/new/", {**form, "confirm_new": "1"})
    assert created.status_code == 302 and Client.objects.count() == 2


def test_the_api_answers_409_with_the_candidates_unless_confirmed(jane, receptionist):
    api = JsonClient({"Authorization": f"Bearer {make_token(receptionist)[1]}"})
    body = {"last_name": "Other", "email": "JANE.OBRIEN@example.com"}
    response = api.post("/api/v1/clients", body)
    assert response.status_code == 409
    answer = response.json()
    assert answer["code"] == "possible_duplicate"
    assert answer["candidates"] == [
        {"id": jane.pk, "display_name": jane.display_name, "is_active": True, "reasons": ["same email"]}
    ]
    assert api.post("/api/v1/clients?confirm_new=true", body).status_code == 201
