"""The data-rights pages and API: managers only (each role and anonymous), the confirm step, refusals shown as
reasons, and the link from the client page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clients.models import Client
from exchange.models import Erasure
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.exchange.datarights.conftest import FIRST, LAST, make_owner
from tests.factories import UserFactory
from vetpms.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(receptionist):
    return make_owner(receptionist)


def _urls(pk: int) -> list[str]:
    return [
        "/exchange/data-rights/",
        "/exchange/data-rights/retention/",
        f"/exchange/data-rights/clients/{pk}/",
        f"/exchange/data-rights/clients/{pk}/subject-access.json",
        f"/exchange/data-rights/clients/{pk}/subject-access.pdf",
    ]


def _api(pk: int) -> list[str]:
    return [
        f"/api/v1/data-rights/clients/{pk}/subject-access",
        f"/api/v1/data-rights/clients/{pk}/subject-access/pdf",
        "/api/v1/data-rights/retention",
    ]


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.VET, Role.NURSE, None])
def test_other_roles_get_403_on_every_page_and_endpoint(owner, role, login, bearer):
    user = UserFactory(username=f"u{role or 'none'}", role=role) if role else UserFactory(username="plain")
    http = login(user)
    for url in _urls(owner.pk):
        assert http.get(url).status_code == 403, url
    assert (
        http.post(f"/exchange/data-rights/clients/{owner.pk}/", {"confirm_name": f"{FIRST} {LAST}"}).status_code == 403
    )
    for url in _api(owner.pk):
        assert http.get(url, headers=bearer(user)).status_code == 403, url
    erase = http.post(
        f"/api/v1/data-rights/clients/{owner.pk}/erase",
        {"confirm_name": f"{FIRST} {LAST}"},
        content_type="application/json",
        headers=bearer(user),
    )
    assert erase.status_code == 403
    assert Client.objects.get(pk=owner.pk).last_name == LAST


def test_anonymous_is_sent_to_log_in_and_the_api_answers_401(owner, client):
    for url in _urls(owner.pk):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    for url in _api(owner.pk):
        assert client.get(url).status_code == 401, url
    assert (
        client.post(f"/api/v1/data-rights/clients/{owner.pk}/erase", {}, content_type="application/json").status_code
        == 401
    )


def test_managers_see_every_page(owner, as_manager):
    for url in _urls(owner.pk):
        assert as_manager.get(url).status_code == 200, url
    assert as_manager.get("/exchange/data-rights/clients/999999/").status_code == 404


def test_the_client_page_links_to_data_rights_for_managers_only(owner, as_manager, as_receptionist):
    link = f"/exchange/data-rights/clients/{owner.pk}/"
    assert link in as_manager.get(f"/clients/{owner.pk}/").content.decode()
    assert link not in as_receptionist.get(f"/clients/{owner.pk}/").content.decode()


def test_the_page_erases_only_after_the_name_is_typed(owner, as_manager, manager):
    url = f"/exchange/data-rights/clients/{owner.pk}/"
    wrong = as_manager.post(url, {"confirm_name": "Somebody"})
    assert wrong.status_code == 200 and "Type the owner" in wrong.content.decode()
    assert not Erasure.objects.exists()
    done = as_manager.post(url, {"confirm_name": f"mr  {FIRST.lower()} {LAST}"}, follow=True)
    assert done.status_code == 200
    page = done.content.decode()
    assert "has been erased" in page and "Erased" in page and LAST not in page
    assert Erasure.objects.get().erased_by == manager


def test_the_page_lists_why_an_owner_cannot_be_erased(owner, as_manager, receptionist, consult_fee):
    draft = invoice_draft_for(client=owner, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=Decimal(1))
    invoice_finalise(invoice=draft, by=receptionist)
    page = as_manager.get(f"/exchange/data-rights/clients/{owner.pk}/").content.decode()
    assert "cannot be erased yet" in page and "still owes £54.00" in page
    assert 'name="confirm_name"' not in page
    posted = as_manager.post(f"/exchange/data-rights/clients/{owner.pk}/", {"confirm_name": f"{FIRST} {LAST}"})
    assert posted.status_code == 200 and not Erasure.objects.exists()


def test_the_api_erases_and_refuses_with_reasons(owner, manager, client, bearer, receptionist, consult_fee):
    url = f"/api/v1/data-rights/clients/{owner.pk}/erase"
    headers = bearer(manager)
    wrong = client.post(url, {"confirm_name": "x"}, content_type="application/json", headers=headers)
    assert wrong.status_code == 409 and wrong.json()["code"] == "confirm"
    other = make_owner(receptionist, last_name="Owington", email="ow@example.org", mobile_phone="07400 634777",
                       postcode="WX2 2AA", confirm_new=True)  # fmt: skip
    draft = invoice_draft_for(client=other, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=Decimal(1))
    invoice_finalise(invoice=draft, by=receptionist)
    refused = client.post(
        f"/api/v1/data-rights/clients/{other.pk}/erase",
        {"confirm_name": f"Mr {FIRST} Owington"},
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "erasure_refused" and "still owes" in refused.json()["detail"]
    done = client.post(url, {"confirm_name": f"Mr {FIRST} {LAST}"}, content_type="application/json", headers=headers)
    assert done.status_code == 200
    assert done.json()["client_id"] == owner.pk and done.json()["source"] == "request"
    assert Client.objects.get(pk=owner.pk).last_name == f"Erased client {owner.pk}"
    assert client.post(url, {}, content_type="application/json", headers=headers).status_code == 422
