"""The list of open insurance claims across insurers (page and API): filtered by status, insurer and how long the
claim has waited in its current step; paged by key; a constant number of queries; roles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from invoicing.models import Payor, Policy
from invoicing.services import (
    claim_create,
    claim_decide,
    claim_settle,
    claim_submit,
    invoice_add_line,
    invoice_draft_for,
    invoice_finalise,
)
from tests.api.conftest import JsonClient
from tests.factories import AnimalFactory, make_token

pytestmark = pytest.mark.django_db
D = Decimal


def api(user) -> JsonClient:
    return JsonClient({"Authorization": f"Bearer {make_token(user)[1]}"})


@pytest.fixture
def claims(consult_fee, receptionist):
    """Claims with two insurers in every state; returns {name: claim}. Today is the practice's today."""
    today = timezone.localdate()
    insurers = [Payor.objects.create(name="Petsure"), Payor.objects.create(name="Agria")]
    made = {}

    def claim(name: str, payor: Payor, step: str, days_ago: int):
        pet = AnimalFactory()
        draft = invoice_draft_for(client=pet.owner, by=receptionist)
        invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
        invoice = invoice_finalise(invoice=draft, by=receptionist)
        policy = Policy.objects.create(
            animal=pet, payor=payor, policy_number=name, starts_on=dt.date(2000, 1, 1), ends_on=dt.date(2099, 1, 1)
        )
        made[name] = c = claim_create(invoice=invoice, policy=policy, lines=list(invoice.lines.all()), by=receptionist)
        on = today - dt.timedelta(days=days_ago)
        if step != "draft":
            c = claim_submit(claim=c, by=receptionist, on=on)
        if step in ("accepted", "declined", "settled"):
            c = claim_decide(claim=c, by=receptionist, accepted=D(0) if step == "declined" else c.amount_claimed, on=on)
        if step == "settled":
            c = claim_settle(claim=c, by=receptionist, amount=c.amount_accepted)
        made[name] = c

    claim("draft-new", insurers[0], "draft", 0)
    claim("sub-45", insurers[0], "submitted", 45)
    claim("sub-5", insurers[1], "submitted", 5)
    claim("acc-90", insurers[1], "accepted", 90)
    claim("declined", insurers[0], "declined", 100)
    claim("settled", insurers[1], "settled", 100)
    return made, insurers


def names(page_html: str, made: dict) -> set[str]:
    return {name for name, c in made.items() if f'href="/claims/{c.pk}/"' in page_html}


def test_the_page_lists_every_open_claim_across_insurers_and_filters(claims, as_receptionist):
    made, (_, agria) = claims
    page = as_receptionist.get("/claims/")
    assert page.status_code == 200
    html = page.content.decode()
    assert names(html, made) == {"draft-new", "sub-45", "sub-5", "acc-90"}
    assert 'href="/claims/"' in html  # offered in the menu
    assert "45 days" in html and "0 days" in html
    html = as_receptionist.get("/claims/?status=submitted").content.decode()
    assert names(html, made) == {"sub-45", "sub-5"}
    html = as_receptionist.get(f"/claims/?payor={agria.pk}").content.decode()
    assert names(html, made) == {"sub-5", "acc-90"}
    html = as_receptionist.get("/claims/?waiting=30").content.decode()
    assert names(html, made) == {"sub-45", "acc-90"}
    html = as_receptionist.get("/claims/?waiting=30&status=accepted&status=partly_accepted").content.decode()
    assert names(html, made) == {"acc-90"}
    for hostile in ("?after=abc", "?waiting=7", "?payor=99999999999999999999", "?status=settled", "?after=0"):
        assert as_receptionist.get(f"/claims/{hostile}").status_code == 200, hostile


def test_pages_follow_the_key_and_cost_the_same_queries(claims, as_receptionist, monkeypatch):
    from invoicing import views

    made, _ = claims
    monkeypatch.setattr(views, "OPEN_CLAIMS_PER_PAGE", 3)
    first = as_receptionist.get("/claims/")
    following = first.context["next_query"]
    assert following and len(first.context["rows"]) == 3
    second = as_receptionist.get(f"/claims/?{following}")
    assert second.context["next_query"] is None
    seen = names(first.content.decode(), made) | names(second.content.decode(), made)
    assert seen == {"draft-new", "sub-45", "sub-5", "acc-90"}
    assert not names(first.content.decode(), made) & names(second.content.decode(), made)

    def queries_for(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            as_receptionist.get(url)
        return len(captured)

    assert queries_for("/claims/") == queries_for(f"/claims/?{following}")


def test_the_api_lists_open_claims_paged_by_key(claims, receptionist, vet_user, manager):
    made, (petsure, _) = claims
    response = api(receptionist).get("/api/v1/claims/open", {"limit": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["id"] for c in body["items"]] == sorted(c["id"] for c in body["items"])
    rest = api(receptionist).get("/api/v1/claims/open", {"limit": 3, "after": body["next_after"]}).json()
    assert rest["next_after"] is None
    ids = {c["id"] for c in body["items"] + rest["items"]}
    assert ids == {made[n].pk for n in ("draft-new", "sub-45", "sub-5", "acc-90")}
    old = api(manager).get(f"/api/v1/claims/open?waiting_days=30&payor={petsure.pk}").json()["items"]
    assert [(c["id"], c["waiting_days"], c["insurer_owes"]) for c in old] == [
        (made["sub-45"].pk, 45, str(made["sub-45"].amount_claimed))
    ]
    assert old[0]["client"]["id"] == made["sub-45"].invoice.client_id
    assert api(manager).get("/api/v1/claims/open?status=settled").status_code == 422
    assert api(manager).get("/api/v1/claims/open?waiting_days=-1").status_code == 422
    assert api(vet_user).get("/api/v1/claims/open").status_code == 403


def test_a_vet_is_not_offered_the_list(claims, as_vet):
    assert as_vet.get("/claims/").status_code == 403
    assert 'href="/claims/"' not in as_vet.get("/").content.decode()
