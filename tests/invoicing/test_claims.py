import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.models import Payor, Policy
from invoicing.selectors import client_balance, client_outstanding, insurer_share, owner_share
from invoicing.services import (
    claim_create,
    claim_decide,
    claim_settle,
    claim_submit,
    claim_withdraw,
    invoice_add_line,
    invoice_draft_for,
    payment_record,
)
from tests.factories import AnimalFactory
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def policy(owner_pet):
    _, pet = owner_pet
    payor = Payor.objects.create(name="Petsure", claims_email="claims@petsure.example")
    today = timezone.localdate()
    return Policy.objects.create(
        animal=pet,
        payor=payor,
        policy_number="PS-1",
        starts_on=today - dt.timedelta(days=100),
        ends_on=today + dt.timedelta(days=265),
        excess=D("20.00"),
        copay_percent=D("10"),
    )


def test_claim_amount_and_shares_add_up(issued, policy, receptionist):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    # (100.20 - 20.00 excess) x 90 % = 72.18
    assert claim.amount_claimed == D("72.18")
    assert insurer_share(issued) == 0  # a draft claim moves nothing yet
    claim_submit(claim=claim, by=receptionist)
    assert insurer_share(issued) == D("72.18") and owner_share(issued) == D("28.02")
    assert owner_share(issued) + insurer_share(issued) == issued.gross_total
    claim = claim_decide(claim=claim, by=receptionist, accepted=D("60.00"))
    assert claim.status == "partly_accepted"
    assert owner_share(issued) == D("40.20") and client_balance(client=issued.client).balance == D("40.20")
    claim_settle(claim=claim, by=receptionist, amount=D("60.00"))
    claim.refresh_from_db()
    assert claim.status == "settled" and claim.amount_paid == D("60.00")
    payment_record(client=issued.client, amount=D("40.20"), method="card", by=receptionist)
    assert client_outstanding(issued) == 0 and client_balance(client=issued.client).balance == 0


def test_a_declined_claim_frees_its_lines_and_the_client_owes_all(issued, policy, receptionist):
    lines = list(issued.lines.all())
    claim = claim_submit(
        claim=claim_create(invoice=issued, policy=policy, lines=lines, by=receptionist), by=receptionist
    )
    with pytest.raises(DomainError) as exc:
        claim_create(invoice=issued, policy=policy, lines=lines[:1], by=receptionist)
    assert exc.value.code == "already_claimed"
    claim_decide(claim=claim, by=receptionist, accepted=D("0"))
    assert owner_share(issued) == issued.gross_total
    again = claim_create(invoice=issued, policy=policy, lines=lines[:1], by=receptionist)
    assert again.pk


def test_no_claim_on_a_draft_invoice(owner_pet, policy, consult_fee, receptionist):
    client, pet = owner_pet
    draft = invoice_draft_for(client=client, by=receptionist)
    line = invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    with pytest.raises(DomainError) as exc:
        claim_create(invoice=draft, policy=policy, lines=[line], by=receptionist)
    assert exc.value.code == "not_claimable"


def test_no_claim_for_an_animal_or_date_the_policy_does_not_cover(issued, policy, owner_pet, receptionist):
    other_pet = AnimalFactory(owner=owner_pet[0])
    other_policy = Policy.objects.create(
        animal=other_pet, payor=policy.payor, policy_number="PS-2", starts_on=policy.starts_on, ends_on=policy.ends_on
    )
    with pytest.raises(DomainError) as exc:
        claim_create(invoice=issued, policy=other_policy, lines=list(issued.lines.all()), by=receptionist)
    assert exc.value.code == "not_covered"
    lapsed = Policy.objects.create(
        animal=policy.animal,
        payor=policy.payor,
        policy_number="PS-OLD",
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2020, 12, 31),
    )
    with pytest.raises(DomainError) as exc:
        claim_create(invoice=issued, policy=lapsed, lines=list(issued.lines.all()), by=receptionist)
    assert exc.value.code == "not_covered"


def test_claim_flow_is_enforced(issued, policy, receptionist):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    with pytest.raises(DomainError):
        claim_decide(claim=claim, by=receptionist, accepted=D("1"))
    claim_submit(claim=claim, by=receptionist)
    with pytest.raises(DomainError):
        claim_decide(claim=claim, by=receptionist, accepted=D("999"))
    with pytest.raises(DomainError):
        claim_withdraw(claim=claim, by=receptionist)
    claim_decide(claim=claim, by=receptionist, accepted=claim.amount_claimed)
    with pytest.raises(DomainError):
        claim_settle(claim=claim, by=receptionist, amount=claim.amount_claimed + D("0.01"))
