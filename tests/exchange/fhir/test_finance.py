"""Organization (practice, insurers), Coverage, Claim, ClaimResponse and Invoice: the mapping and its money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from exchange.fhir import systems
from invoicing.models import Invoice, Payor, Policy, Product, TaxCategory
from invoicing.services import (
    claim_create,
    claim_decide,
    claim_settle,
    claim_submit,
    invoice_add_line,
    invoice_draft_for,
    invoice_finalise,
    invoice_void,
)
from tests.exchange.fhir.conftest import entries
from tests.factories import AnimalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pet(db):
    return AnimalFactory(name="Mitzi")


@pytest.fixture
def issued(pet, manager):
    """Consultation 45.00 with 10 % off + vaccine 38.50, 20 % tax."""
    standard = TaxCategory.objects.get(code="standard")
    fee = Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"), tax_category=standard
    )
    vaccine = Product.objects.create(
        code="VAC", name="Vaccine", category="vaccine", unit_price=Decimal("38.50"), tax_category=standard
    )
    invoice = invoice_draft_for(client=pet.owner, by=manager)
    invoice_add_line(
        invoice=invoice, by=manager, product=fee, quantity=Decimal(1), animal=pet, discount_percent=Decimal(10)
    )
    invoice_add_line(invoice=invoice, by=manager, product=vaccine, quantity=Decimal(1), animal=pet)
    return invoice_finalise(invoice=invoice, by=manager)


@pytest.fixture
def policy(pet):
    payor = Payor.objects.create(name="Petsure", claims_email="claims@petsure.example")
    return Policy.objects.create(
        animal=pet,
        payor=payor,
        policy_number="PS-1",
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2030, 12, 31),
        excess=Decimal("50.00"),
        copay_percent=Decimal("20"),
    )


def test_the_practice_and_the_insurers_are_organizations(receptionist, policy, fhir_as):
    client = fhir_as(receptionist)
    practice = client.get("Organization/practice").fhir
    assert practice["name"] == settings.PRACTICE["name"] and practice["type"][0]["coding"][0]["code"] == "prov"
    insurer = client.get(f"Organization/{policy.payor_id}").fhir
    assert insurer["name"] == "Petsure" and insurer["type"][0]["coding"][0]["code"] == "ins"
    listed = entries(client.get("Organization").fhir)
    assert [o["id"] for o in listed] == ["practice", str(policy.payor_id)]
    assert [o["id"] for o in entries(client.get("Organization", {"type": "ins"}).fhir)] == [str(policy.payor_id)]
    assert [o["id"] for o in entries(client.get("Organization", {"name": "pets"}).fhir)] == [str(policy.payor_id)]


def test_coverage_has_the_animal_as_beneficiary_and_the_insurer_as_payor(receptionist, pet, policy, fhir_as):
    client = fhir_as(receptionist)
    coverage = client.get(f"Coverage/{policy.pk}").fhir
    assert coverage["beneficiary"]["reference"] == f"Patient/{pet.pk}"
    assert coverage["payor"][0]["reference"] == f"Organization/{policy.payor_id}"
    assert coverage["period"] == {"start": "2025-01-01", "end": "2030-12-31"}
    codes = {c["type"]["coding"][0]["code"] for c in coverage["costToBeneficiary"]}
    assert codes == {"copaypct", "deductible"}
    found = entries(client.get("Coverage", {"patient": f"Patient/{pet.pk}"}).fhir)
    assert [c["id"] for c in found] == [str(policy.pk)]


def test_a_claim_refers_to_its_coverage_and_insurer(receptionist, pet, policy, issued, fhir_as):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    client = fhir_as(receptionist)
    resource = client.get(f"Claim/{claim.pk}").fhir
    assert resource["status"] == "draft" and resource["use"] == "claim"
    assert resource["patient"]["reference"] == f"Patient/{pet.pk}"
    assert resource["insurance"][0]["coverage"]["reference"] == f"Coverage/{policy.pk}"
    assert resource["insurer"]["reference"] == f"Organization/{policy.payor_id}"
    assert len(resource["item"]) == 2
    assert Decimal(str(resource["total"]["value"])) == claim.amount_claimed
    assert [c["id"] for c in entries(client.get("Claim", {"patient": str(pet.pk)}).fhir)] == [str(claim.pk)]


def test_the_insurers_decision_is_a_claim_response_once_there_is_one(receptionist, pet, policy, issued, fhir_as):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    client = fhir_as(receptionist)
    assert client.get(f"ClaimResponse/{claim.pk}").status_code == 404  # a draft: no decision yet
    claim_submit(claim=claim, by=receptionist)
    assert client.get(f"ClaimResponse/{claim.pk}").status_code == 404  # submitted: still none
    accepted = (claim.amount_claimed - Decimal("10.00")).quantize(Decimal("0.01"))
    today = timezone.localdate()
    claim_decide(claim=claim, by=receptionist, accepted=accepted, reference="PS-CL-9", on=today)
    response = client.get(f"ClaimResponse/{claim.pk}").fhir
    assert response["request"]["reference"] == f"Claim/{claim.pk}"
    assert response["patient"]["reference"] == f"Patient/{pet.pk}"
    assert response["insurer"]["reference"] == f"Organization/{policy.payor_id}"
    assert response["outcome"] == "complete" and response["disposition"] == "Partly accepted"
    assert response["created"] == today.isoformat() and response["identifier"][0]["value"] == "PS-CL-9"
    totals = {t["category"]["coding"][0]["code"]: Decimal(str(t["amount"]["value"])) for t in response["total"]}
    assert totals == {"submitted": claim.amount_claimed, "benefit": accepted}
    assert "payment" not in response and response["meta"]["lastUpdated"]

    claim_settle(claim=claim, by=receptionist, amount=accepted, received_on=today)
    settled = client.get(f"ClaimResponse/{claim.pk}").fhir
    assert settled["disposition"] == "Settled"
    assert settled["payment"]["type"]["coding"][0]["code"] == "complete"
    assert settled["payment"]["date"] == today.isoformat()
    assert Decimal(str(settled["payment"]["amount"]["value"])) == accepted

    for query in ({"patient": f"Patient/{pet.pk}"}, {"request": f"Claim/{claim.pk}"}, {"created": today.isoformat()}):
        assert [r["id"] for r in entries(client.get("ClaimResponse", query).fhir)] == [str(claim.pk)], query
    assert entries(client.get("ClaimResponse", {"created": f"gt{today.isoformat()}"}).fhir) == []
    assert entries(client.get("ClaimResponse", {"outcome": "queued"}).fhir) == []


def test_a_declined_claim_has_a_response_with_nothing_payable(receptionist, policy, issued, fhir_as):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    claim_submit(claim=claim, by=receptionist)
    claim_decide(claim=claim, by=receptionist, accepted=Decimal("0"))
    response = fhir_as(receptionist).get(f"ClaimResponse/{claim.pk}").fhir
    assert response["disposition"] == "Declined" and response["outcome"] == "complete"
    benefit = next(t for t in response["total"] if t["category"]["coding"][0]["code"] == "benefit")
    assert Decimal(str(benefit["amount"]["value"])) == 0
    assert [r["id"] for r in entries(fhir_as(receptionist).get("ClaimResponse").fhir)] == [str(claim.pk)]


def test_an_invoice_has_price_components_that_add_up(receptionist, pet, issued, fhir_as):
    resource = fhir_as(receptionist).get(f"Invoice/{issued.pk}").fhir
    assert resource["status"] == "issued"
    assert resource["identifier"][0] == {"system": systems.practice("invoice-number"), "value": issued.reference}
    assert resource["subject"]["reference"] == f"Patient/{pet.pk}"
    total = Decimal(0)
    for item in resource["lineItem"]:
        parts = {c["type"]: Decimal(str(c["amount"]["value"])) for c in item["priceComponent"]}
        assert set(parts) <= {"base", "discount", "tax"}
        total += parts["base"] - parts.get("discount", 0) + parts.get("tax", 0)
    assert total == issued.gross_total
    first = {c["type"] for c in resource["lineItem"][0]["priceComponent"]}
    assert first == {"base", "discount", "tax"}
    assert Decimal(str(resource["totalGross"]["value"])) == issued.gross_total
    assert resource["totalGross"]["currency"] == "GBP"


def test_a_void_invoice_is_cancelled_and_its_credit_note_says_what_it_is(manager, issued, fhir_as):
    invoice_void(invoice=issued, by=manager, reason="Charged twice")
    client = fhir_as(manager)
    voided = client.get(f"Invoice/{issued.pk}").fhir
    assert voided["status"] == "cancelled" and "cancelledReason" in voided
    note = Invoice.objects.get(credits=issued)
    credit = client.get(f"Invoice/{note.pk}").fhir
    assert credit["type"]["coding"][0]["code"] == "credit-note"
    assert Decimal(str(credit["totalGross"]["value"])) == -issued.gross_total
    assert [i["id"] for i in entries(client.get("Invoice", {"status": "cancelled"}).fhir)] == [str(issued.pk)]


def test_invoice_search_by_patient_date_and_number(receptionist, pet, issued, fhir_as):
    client = fhir_as(receptionist)

    def ids(params):
        return [i["id"] for i in entries(client.get("Invoice", params).fhir)]

    assert ids({"patient": f"Patient/{pet.pk}"}) == [str(issued.pk)]
    assert ids({"patient": f"Patient/{AnimalFactory().pk}"}) == []
    assert ids({"date": issued.issue_date.isoformat()}) == [str(issued.pk)]
    assert ids({"date": f"gt{issued.issue_date.isoformat()}"}) == []
    assert ids({"identifier": issued.reference}) == [str(issued.pk)]


def test_roles_decide_who_reads_money(nurse_user, vet_user, receptionist, issued, policy, fhir_as):
    assert fhir_as(nurse_user).get(f"Coverage/{policy.pk}").status_code == 403
    assert fhir_as(vet_user).get(f"Coverage/{policy.pk}").status_code == 200
    assert fhir_as(vet_user).get("Claim").status_code == 403
    assert fhir_as(vet_user).get("ClaimResponse").status_code == 403
    assert fhir_as(receptionist).get("Claim").status_code == 200


def test_the_bulk_export_writes_the_money_types_as_the_reads_do(manager, receptionist, policy, issued, fhir_as):
    """Coverage, Claim, ClaimResponse and Invoice carry decimals: each NDJSON line is the resource the read gives
    (the export once failed on the first decimal it met, at practice scale)."""
    import json

    from exchange.fhir import bulk
    from exchange.models.fhir_export import ExportJob, export_storage

    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    claim_submit(claim=claim, by=receptionist)
    claim_decide(claim=claim, by=receptionist, accepted=Decimal("20.50"))
    types = ["Organization", "Coverage", "Claim", "ClaimResponse", "Invoice"]
    job = ExportJob.objects.create(level="system", types=types, request_url="test", requested_by=manager)
    assert bulk.run_export(str(job.pk)) == ExportJob.Status.COMPLETED
    job.refresh_from_db()
    client = fhir_as(manager)
    seen = set()
    for item in job.output:
        with export_storage().open(f"{job.folder}/{item['name']}") as handle:
            for line in handle.read().decode().splitlines():
                resource = json.loads(line)
                assert resource == client.get(f"{resource['resourceType']}/{resource['id']}").fhir
                seen.add(resource["resourceType"])
    assert seen == set(types)
