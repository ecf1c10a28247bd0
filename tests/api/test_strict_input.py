"""Lax input refused alike by API and pages: booleans as ids, money in other digits or padded, control characters."""

import pytest
from django.urls import reverse

from animals.models import Animal
from clients.models import Client
from tests.api.conftest import error_fields
from tests.factories import ClientFactory, species
from vetpms.params import DIGITS_MESSAGE

pytestmark = pytest.mark.django_db


def test_true_is_not_taken_as_id_1(manager, api_as):
    owner = ClientFactory()
    assert owner.pk == Client.objects.order_by("pk").first().pk
    body = {"owner": True, "name": "Rex", "species": species().pk}
    response = api_as(manager).post("/api/v1/animals", body)
    assert response.status_code == 422 and "owner" in error_fields(response)
    assert not Animal.objects.exists()
    # A real yes/no field still takes a boolean.
    assert api_as(manager).get("/api/v1/search?q=smith&include_inactive=false").status_code == 200


@pytest.mark.parametrize("amount", ["\uff11\uff12.00", " 12.00", "12.00 ", "1e1", "NaN", "\u0661\u0662"])
def test_money_in_other_digits_or_padded_is_refused(owner_pet, receptionist, api_as, amount):
    client, _pet = owner_pet
    response = api_as(receptionist).post("/api/v1/payments", {"client": client.pk, "amount": amount, "method": "cash"})
    assert response.status_code == 422 and "amount" in error_fields(response)


def test_money_in_other_digits_is_refused_on_the_page(owner_pet, as_receptionist):
    client, _pet = owner_pet
    response = as_receptionist.post(
        reverse("invoicing:payment_new", args=[client.pk]), {"amount": "\uff11\uff12.00", "method": "cash"}
    )
    assert response.status_code == 200 and DIGITS_MESSAGE in response.content.decode()


@pytest.mark.parametrize("bad", ["Bell\x07", "Esc\x1b[31m", "Back\x08space", "Del\x7f"])
def test_control_characters_are_refused_in_text_by_api_and_page(manager, api_as, as_manager, bad):
    response = api_as(manager).post("/api/v1/clients", {"last_name": bad})
    assert response.status_code == 422 and "last_name" in error_fields(response)
    page = as_manager.post(reverse("clients:create"), {"last_name": bad})
    assert page.status_code == 200 and "control characters" in page.content.decode()
    assert not Client.objects.filter(last_name__startswith=bad[:3]).exists()


def test_tabs_and_line_breaks_are_ordinary_text(manager, api_as):
    response = api_as(manager).post("/api/v1/clients", {"last_name": "Jones", "notes": "line one\nline\ttwo"})
    assert response.status_code == 201, response.content
