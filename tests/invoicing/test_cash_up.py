"""The cash-up: the role that takes money sees its own takings of one day (page, menu and API); a manager may see
anyone's or everyone's; voided payments are listed and not counted; a vet is not offered it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.services import payment_record, payment_void, refund_record
from tests.api.conftest import JsonClient
from tests.factories import UserFactory, make_token
from vetpms.models import Role

pytestmark = pytest.mark.django_db
D = Decimal


def api(user) -> JsonClient:
    return JsonClient({"Authorization": f"Bearer {make_token(user)[1]}"})


@pytest.fixture
def day_of_takings(issued, owner_pet, receptionist, manager):
    client, _ = owner_pet
    other = UserFactory(username="ozzy", first_name="Ozzy", last_name="Other", role=Role.RECEPTIONIST)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    payment_record(client=client, amount=D("100.20"), method="card", by=receptionist)
    payment_record(client=client, amount=D("20.00"), method="cash", by=receptionist)
    mistake = payment_record(client=client, amount=D("500.00"), method="cash", by=receptionist)
    payment_void(payment=mistake, by=manager, reason="Typed 500 for 5")
    refund_record(client=client, amount=D("5.00"), method="cash", by=manager)
    payment_record(client=client, amount=D("7.00"), method="cash", by=other)
    payment_record(client=client, amount=D("9.00"), method="cash", by=receptionist, received_on=yesterday)
    return other


def test_the_receptionist_sees_their_own_takings_of_one_day(day_of_takings, as_receptionist):
    home = as_receptionist.get("/").content.decode()
    assert 'href="/payments/cash-up/"' in home  # offered in the menu to the role that takes money
    page = as_receptionist.get("/payments/cash-up/")
    assert page.status_code == 200
    takings = page.context["takings"]
    assert {r["method"]: r["net"] for r in takings.by_method} == {"Card": D("100.20"), "Cash": D("20.00")}
    assert takings.net == D("120.20")
    html = page.content.decode()
    assert "One day only" in html and "Void" in html and "Rita Reception took" in html
    assert "taken_by" not in page.context["form"].fields  # not someone else's
    assert as_receptionist.get("/payments/cash-up/?taken_by=1").context["takings"].net == D("120.20")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert as_receptionist.get(f"/payments/cash-up/?day={yesterday}").context["takings"].net == D("9.00")
    for hostile in ("?day=0001-01-01", "?day=9999-12-31", "?day=nonsense"):
        assert as_receptionist.get(f"/payments/cash-up/{hostile}").status_code == 200


def test_a_manager_sees_anyones_or_everyones_takings(day_of_takings, as_manager, receptionist):
    other = day_of_takings
    page = as_manager.get(f"/payments/cash-up/?day={timezone.localdate()}&taken_by={other.pk}")
    assert page.context["takings"].net == D("7.00")
    everyone = as_manager.get(f"/payments/cash-up/?day={timezone.localdate()}&taken_by=")
    assert everyone.context["takings"].net == D("122.20")  # 100.20 + 20 + 7 - 5 refunded; the void not counted


def test_a_vet_is_not_offered_the_cash_up(day_of_takings, as_vet):
    assert as_vet.get("/payments/cash-up/").status_code == 403
    assert 'href="/payments/cash-up/"' not in as_vet.get("/").content.decode()


def test_the_cash_up_through_the_api(day_of_takings, receptionist, manager, vet_user):
    other = day_of_takings
    mine = api(receptionist).get("/api/v1/payments/cash-up")
    assert mine.status_code == 200, mine.content
    body = mine.json()
    assert body["net"] == "120.20" and body["taken_by"] == receptionist.pk and body["day"] == str(timezone.localdate())
    assert [p["void_reason"] for p in body["payments"] if p["voided_at"]] == ["Typed 500 for 5"]
    assert api(receptionist).get(f"/api/v1/payments/cash-up?taken_by={other.pk}").status_code == 403
    assert api(manager).get(f"/api/v1/payments/cash-up?taken_by={other.pk}").json()["net"] == "7.00"
    assert api(manager).get("/api/v1/payments/cash-up?everyone=true").json()["net"] == "122.20"
    assert api(manager).get("/api/v1/payments/cash-up?day=0001-01-01").status_code == 422
    assert api(vet_user).get("/api/v1/payments/cash-up").status_code == 403
