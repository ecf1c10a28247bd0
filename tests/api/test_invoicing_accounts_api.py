"""/api/v1/products, /tax-rates, /payments, /clients/{id}/balance and /statement, /payors, /policies, /claims:
roles, money as strings, the rules the services own surfacing as 409s, bad input as 422s, PDFs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.models import Claim, Payment, Payor, Policy, TaxRate
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise, invoice_void
from tests.api.conftest import error_fields
from tests.factories import AnimalFactory

pytestmark = pytest.mark.django_db
D = Decimal


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def policy(owner_pet):
    _, pet = owner_pet
    payor = Payor.objects.create(name="Petsure", claims_email="claims@petsure.example")
    return Policy.objects.create(
        animal=pet,
        payor=payor,
        policy_number="PS-1",
        starts_on=today() - dt.timedelta(days=100),
        ends_on=today() + dt.timedelta(days=265),
        excess=D("20.00"),
        copay_percent=D("10"),
    )


# --- Catalogue --------------------------------------------------------------------------------------------------


def test_products_list_filters_and_shape(consult_fee, rabies, amoxicillin, vet_user, api_as):
    api = api_as(vet_user)
    body = api.get("/api/v1/products", {"q": "rab"}).json()
    assert body["count"] == 1
    row = body["items"][0]
    assert (row["code"], row["unit_price"], row["tax_rate"]) == ("VAC-RAB", "38.50", "20.00")
    assert row["tax_category"]["code"] == "standard"
    assert api.get("/api/v1/products", {"category": "medication"}).json()["items"][0]["unit"] == "ml"
    assert api.get("/api/v1/products", {"q": "AMO"}).json()["count"] == 1  # the start of a code
    assert api.get("/api/v1/products", {"active": "false"}).json()["count"] == 0


def test_only_managers_change_the_catalogue(standard, consult_fee, receptionist, manager, api_as):
    body = {"code": "DENT", "name": "Dental scale", "category": "procedure", "unit_price": "120", "tax_category": 0}
    body["tax_category"] = standard.pk
    assert api_as(receptionist).post("/api/v1/products", body).status_code == 403
    assert api_as(receptionist).patch(f"/api/v1/products/{consult_fee.pk}", {"unit_price": "1"}).status_code == 403
    created = api_as(manager).post("/api/v1/products", body)
    assert created.status_code == 201, created.content
    assert created.json()["unit_price"] == "120.00"
    changed = api_as(manager).patch(f"/api/v1/products/{consult_fee.pk}", {"unit_price": 47.5, "is_active": False})
    assert changed.json()["unit_price"] == "47.50" and changed.json()["is_active"] is False


def test_a_price_change_leaves_issued_invoices_alone(issued, consult_fee, manager, api_as):
    api_as(manager).patch(f"/api/v1/products/{consult_fee.pk}", {"unit_price": "99.00"})
    assert api_as(manager).get(f"/api/v1/invoices/{issued.pk}").json()["gross_total"] == "100.20"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit_price": "1.234"}, "unit_price"),
        ({"unit_price": "-5"}, "unit_price"),
        ({"tax_category": 999999}, "tax_category"),
        ({"category": "toys"}, "category"),
        ({"code": "CONS"}, "code"),  # taken
    ],
)
def test_product_bad_input(change, field, standard, consult_fee, manager, api_as):
    body = {"code": "X1", "name": "X", "category": "other", "unit_price": "1.00", "tax_category": standard.pk}
    assert field in error_fields(api_as(manager).post("/api/v1/products", body | change))


def test_tax_rates_over_time(standard, manager, receptionist, api_as):
    categories = api_as(receptionist).get("/api/v1/tax-rates").json()
    assert {c["code"]: c["current_rate"] for c in categories} == {
        "standard": "20.00",
        "reduced": "5.00",
        "zero": "0.00",
    }
    body = {"category": standard.pk, "rate": "17.5", "valid_from": (today() + dt.timedelta(days=30)).isoformat()}
    assert api_as(receptionist).post("/api/v1/tax-rates", body).status_code == 403
    added = api_as(manager).post("/api/v1/tax-rates", body)
    assert added.status_code == 201, added.content
    rates = added.json()["rates"]
    assert [r["rate"] for r in rates] == ["17.50", "20.00"] and rates[1]["valid_until"] == body["valid_from"]
    assert added.json()["current_rate"] == "20.00"
    again = api_as(manager).post("/api/v1/tax-rates", body | {"rate": "18"})
    assert again.status_code == 409  # rates are added in date order


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rate": "100.01"}, "rate"),
        ({"rate": "-1"}, "rate"),
        ({"rate": "5.125"}, "rate"),
        ({"category": 0}, "category"),
    ],
)
def test_tax_rate_bad_input(change, field, standard, manager, api_as):
    body = {"category": standard.pk, "rate": "10", "valid_from": "2030-01-01"} | change
    assert field in error_fields(api_as(manager).post("/api/v1/tax-rates", body))
    assert not TaxRate.objects.filter(valid_from=dt.date(2030, 1, 1)).exists()


# --- Payments ---------------------------------------------------------------------------------------------------


def test_a_payment_is_allocated_oldest_first_and_the_rest_is_credit(issued, receptionist, api_as):
    api = api_as(receptionist)
    response = api.post("/api/v1/payments", {"client": issued.client_id, "amount": "150", "method": "card"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "150.00" and body["unallocated"] == "49.80"
    assert body["allocations"] == [
        {"invoice": {"id": issued.pk, "reference": issued.reference}, "claim": None, "amount": "100.20"}
    ]
    balance = api.get(f"/api/v1/clients/{issued.client_id}/balance").json()
    assert (balance["balance"], balance["credit"], balance["outstanding_invoices"]) == ("-49.80", "49.80", [])
    listed = api.get("/api/v1/payments", {"client": issued.client_id}).json()
    assert listed["count"] == 1 and listed["items"][0]["unallocated"] == "49.80"


def test_chosen_allocations_and_their_rules(issued, owner_pet, consult_fee, receptionist, manager, api_as):
    api = api_as(receptionist)
    client = issued.client
    pay = {"client": client.pk, "amount": "50.00", "method": "cash"}
    over = api.post("/api/v1/payments", pay | {"allocations": [{"invoice": issued.pk, "amount": "100.21"}]})
    assert over.status_code == 409 and over.json()["code"] in {"over_allocation", "conflict"}
    more = api.post(
        "/api/v1/payments", pay | {"amount": "200", "allocations": [{"invoice": issued.pk, "amount": "101"}]}
    )
    assert more.status_code == 409 and more.json()["code"] == "over_allocation"
    unknown = api.post("/api/v1/payments", pay | {"allocations": [{"invoice": 999999, "amount": "1"}]})
    assert "allocations" in error_fields(unknown)
    assert not Payment.objects.exists()  # nothing half-recorded
    kept = api.post("/api/v1/payments", pay | {"allocations": []}).json()
    assert kept["allocations"] == [] and kept["unallocated"] == "50.00"
    # a void invoice takes no payment
    other = invoice_draft_for(client=client, by=manager)
    invoice_add_line(invoice=other, by=manager, product=consult_fee, quantity=D(1))
    other = invoice_finalise(invoice=other, by=manager)
    invoice_void(invoice=other, by=manager, reason="wrong")
    void = api.post("/api/v1/payments", pay | {"allocations": [{"invoice": other.pk, "amount": "1"}]})
    assert void.status_code == 409 and void.json()["code"] == "not_payable"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": 10.005}, "amount"),
        ({"method": "insurance"}, "method"),
        ({"method": "cheque"}, "method"),
        ({"client": 999999}, "client"),
        ({"received_on": "tomorrow"}, "received_on"),
    ],
)
def test_payment_bad_input(change, field, issued, receptionist, api_as):
    body = {"client": issued.client_id, "amount": "10", "method": "card"} | change
    assert field in error_fields(api_as(receptionist).post("/api/v1/payments", body))


@pytest.mark.parametrize("number", ["1.0000000000000000001", "10.005", "1e-7"])
def test_money_sent_as_a_json_number_is_read_exactly(number, issued, receptionist, api_as):
    """A float would round these to 1, 10.005 (or 10.00499...) and 1e-07: read as Decimal they are refused for
    their places, not silently rounded."""
    body = f'{{"client": {issued.client_id}, "amount": {number}, "method": "card"}}'
    response = api_as(receptionist).post("/api/v1/payments", body)
    assert response.status_code == 422 and "amount" in error_fields(response)
    assert not Payment.objects.exists()


def test_money_as_a_plain_json_number_still_works(issued, receptionist, api_as):
    body = f'{{"client": {issued.client_id}, "amount": 12.5, "method": "card"}}'
    response = api_as(receptionist).post("/api/v1/payments", body)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "12.50"


def test_refunds_need_the_permission_and_credit(issued, receptionist, manager, api_as):
    api_as(receptionist).post("/api/v1/payments", {"client": issued.client_id, "amount": "110.20", "method": "cash"})
    body = {"client": issued.client_id, "amount": "10.00", "method": "cash"}
    assert api_as(receptionist).post("/api/v1/payments/refund", body).status_code == 403
    too_much = api_as(manager).post("/api/v1/payments/refund", body | {"amount": "10.01"})
    assert too_much.status_code == 409 and too_much.json()["code"] == "over_refund"
    refund = api_as(manager).post("/api/v1/payments/refund", body)
    assert refund.status_code == 201 and refund.json()["kind"] == "refund"
    assert api_as(manager).get(f"/api/v1/clients/{issued.client_id}/balance").json()["balance"] == "0.00"


def test_payments_roles(issued, vet_user, nobody, api_as, anonymous):
    assert api_as(vet_user).get("/api/v1/payments").status_code == 403
    assert api_as(nobody).post("/api/v1/payments", {"client": 1, "amount": "1", "method": "cash"}).status_code == 403
    assert anonymous.get("/api/v1/payments").status_code == 401


# --- Client accounts --------------------------------------------------------------------------------------------


def test_balance_lists_outstanding_invoices(issued, receptionist, vet_user, nobody, api_as):
    api_as(receptionist).post("/api/v1/payments", {"client": issued.client_id, "amount": "0.20", "method": "cash"})
    body = api_as(receptionist).get(f"/api/v1/clients/{issued.client_id}/balance").json()
    assert (body["invoiced"], body["paid"], body["balance"], body["credit"]) == ("100.20", "0.20", "100.00", "0.00")
    assert body["outstanding_invoices"] == [
        {
            "id": issued.pk,
            "reference": issued.reference,
            "issue_date": issued.issue_date.isoformat(),
            "due_date": issued.due_date.isoformat(),
            "gross_total": "100.20",
            "outstanding": "100.00",
        }
    ]
    assert api_as(nobody).get(f"/api/v1/clients/{issued.client_id}/balance").status_code == 403
    assert api_as(vet_user).get(f"/api/v1/clients/{issued.client_id}/balance").status_code == 403  # no view_payment
    assert api_as(receptionist).get("/api/v1/clients/999999/balance").status_code == 404


def test_statement_arithmetic_and_period(issued, receptionist, manager, api_as):
    api = api_as(receptionist)
    client = issued.client_id
    api.post("/api/v1/payments", {"client": client, "amount": "40.00", "method": "card", "reference": "T1"})
    api_as(manager).post(f"/api/v1/invoices/{issued.pk}/credit", {"reason": "Goodwill", "lines": None})
    day = today().isoformat()
    body = api.get(f"/api/v1/clients/{client}/statement", {"start": day, "end": day}).json()
    assert body["opening"] == "0.00"
    assert [(e["kind"], e["amount"], e["balance"]) for e in body["entries"]] == [
        ("Invoice", "100.20", "100.20"),
        ("Credit note", "-100.20", "0.00"),
        ("Payment", "-40.00", "-40.00"),
    ]
    assert body["closing"] == "-40.00" and body["entries"][0]["invoice"] == issued.pk
    later = (today() + dt.timedelta(days=1)).isoformat()
    after = api.get(f"/api/v1/clients/{client}/statement", {"start": later, "end": later}).json()
    assert (after["opening"], after["closing"], after["entries"]) == ("-40.00", "-40.00", [])
    wrong = api.get(f"/api/v1/clients/{client}/statement", {"start": later, "end": day})
    assert error_fields(wrong) == ["end"]
    assert api.get(f"/api/v1/clients/{client}/statement").json()["end"] == day  # defaults: this month to today


def test_statement_needs_payment_rights(issued, vet_user, api_as):
    assert api_as(vet_user).get(f"/api/v1/clients/{issued.client_id}/statement").status_code == 403


def test_clients_own_endpoints_still_answer(issued, receptionist, api_as):
    assert api_as(receptionist).get(f"/api/v1/clients/{issued.client_id}").status_code == 200
    assert api_as(receptionist).get(f"/api/v1/clients/{issued.client_id}/balances").status_code == 404


# --- Payors and policies ----------------------------------------------------------------------------------------


def test_payors(receptionist, manager, api_as):
    body = {"name": "Agria", "claims_email": "claims@agria.example", "reference": "VP-1"}
    assert api_as(receptionist).post("/api/v1/payors", body).status_code == 403
    created = api_as(manager).post("/api/v1/payors", body)
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api_as(manager).patch(f"/api/v1/payors/{pk}", {"is_active": False}).json()["is_active"] is False
    assert api_as(receptionist).patch(f"/api/v1/payors/{pk}", {"phone": "1"}).status_code == 403
    assert api_as(receptionist).get("/api/v1/payors", {"active": "false"}).json()["count"] == 1
    assert api_as(receptionist).get(f"/api/v1/payors/{pk}").json()["name"] == "Agria"
    assert "name" in error_fields(api_as(manager).post("/api/v1/payors", body))  # taken
    assert "claims_email" in error_fields(api_as(manager).post("/api/v1/payors", {"name": "B", "claims_email": "x"}))
    assert api_as(receptionist).get("/api/v1/payors/999999").status_code == 404


def test_policies(owner_pet, policy, receptionist, vet_user, api_as):
    _, pet = owner_pet
    body = {
        "animal": pet.pk,
        "payor": policy.payor_id,
        "policy_number": "PS-2",
        "starts_on": "2020-01-01",
        "ends_on": "2020-12-31",
        "excess": "50",
        "copay_percent": "20",
    }
    assert api_as(vet_user).post("/api/v1/policies", body).status_code == 403
    created = api_as(receptionist).post("/api/v1/policies", body)
    assert created.status_code == 201, created.content
    assert (created.json()["excess"], created.json()["copay_percent"]) == ("50.00", "20.00")
    listed = api_as(vet_user).get("/api/v1/policies", {"animal": pet.pk, "covers": today().isoformat()}).json()
    assert [p["id"] for p in listed["items"]] == [policy.pk]
    changed = api_as(receptionist).patch(f"/api/v1/policies/{created.json()['id']}", {"excess": "60.00"})
    assert changed.json()["excess"] == "60.00"
    assert "animal" in error_fields(api_as(receptionist).post("/api/v1/policies", body | {"animal": 999999}))
    assert "copay_percent" in error_fields(api_as(receptionist).post("/api/v1/policies", body | {"copay_percent": 101}))
    backwards = api_as(receptionist).post("/api/v1/policies", body | {"policy_number": "PS-3", "ends_on": "2019-01-01"})
    assert backwards.status_code == 422


# --- Claims -----------------------------------------------------------------------------------------------------


def claim_body(invoice, policy, **extra):
    return {"invoice": invoice.pk, "policy": policy.pk, "lines": [line.pk for line in invoice.lines.all()], **extra}


def test_a_claim_from_draft_to_settled(issued, policy, receptionist, api_as):
    api = api_as(receptionist)
    created = api.post("/api/v1/claims", claim_body(issued, policy))
    assert created.status_code == 201, created.content
    claim = created.json()
    assert claim["status"] == "draft" and claim["amount_claimed"] == "72.18"  # (100.20 - 20.00) x 90 %
    assert [line["gross"] for line in claim["lines"]] == ["54.00", "46.20"]
    url = f"/api/v1/claims/{claim['id']}"
    assert api.post(f"{url}/submit").json()["status"] == "submitted"
    invoice = api.get(f"/api/v1/invoices/{issued.pk}").json()
    assert (invoice["owner_share"], invoice["insurer_share"]) == ("28.02", "72.18")
    decided = api.post(f"{url}/decide", {"accepted": "60.00", "reference": "PS-CL-9"}).json()
    assert decided["status"] == "partly_accepted" and decided["amount_accepted"] == "60.00"
    settled = api.post(f"{url}/settle", {"amount": "60"}).json()
    assert settled["status"] == "settled" and settled["amount_paid"] == "60.00"
    invoice = api.get(f"/api/v1/invoices/{issued.pk}").json()
    assert D(invoice["owner_share"]) + D(invoice["insurer_share"]) == D(invoice["gross_total"])
    assert invoice["payments"][0]["from_payor"] is True
    assert api.get("/api/v1/claims", {"status": "settled", "payor": policy.payor_id}).json()["count"] == 1
    assert api.post(f"{url}/submit").status_code == 409  # a settled claim cannot be submitted again


def test_a_claim_on_a_draft_invoice_is_409(owner_pet, policy, consult_fee, receptionist, api_as):
    _, pet = owner_pet
    draft = invoice_draft_for(client=pet.owner, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    response = api_as(receptionist).post("/api/v1/claims", claim_body(draft, policy))
    assert response.status_code == 409 and response.json()["code"] == "not_claimable"


def test_a_claim_for_an_animal_without_a_covering_policy_is_409(issued, policy, receptionist, api_as):
    other = Policy.objects.create(
        animal=AnimalFactory(), payor=policy.payor, policy_number="PS-9", starts_on=today(), ends_on=today()
    )
    response = api_as(receptionist).post("/api/v1/claims", claim_body(issued, other))
    assert response.status_code == 409 and response.json()["code"] == "not_covered"
    Policy.objects.filter(pk=policy.pk).update(ends_on=today() - dt.timedelta(days=1))
    lapsed = api_as(receptionist).post("/api/v1/claims", claim_body(issued, policy))
    assert lapsed.status_code == 409 and lapsed.json()["code"] == "not_covered"
    assert not Claim.objects.exists()


def test_claim_rules_and_bad_input(issued, policy, receptionist, vet_user, api_as):
    api = api_as(receptionist)
    assert api_as(vet_user).post("/api/v1/claims", claim_body(issued, policy)).status_code == 403
    assert "lines" in error_fields(api.post("/api/v1/claims", claim_body(issued, policy, lines=[999999])))
    assert "lines" in error_fields(api.post("/api/v1/claims", claim_body(issued, policy, lines=[])))
    assert "policy" in error_fields(api.post("/api/v1/claims", claim_body(issued, policy) | {"policy": 999999}))
    assert "invoice" in error_fields(api.post("/api/v1/claims", claim_body(issued, policy) | {"invoice": 999999}))
    first = api.post("/api/v1/claims", claim_body(issued, policy)).json()
    twice = api.post("/api/v1/claims", claim_body(issued, policy))
    assert twice.status_code == 409 and twice.json()["code"] == "already_claimed"
    url = f"/api/v1/claims/{first['id']}"
    assert api.post(f"{url}/decide", {"accepted": "1"}).status_code == 409  # not submitted yet
    assert api.http.delete(url, headers=api.headers).status_code == 204  # withdrawn: the lines are free again
    second = api.post("/api/v1/claims", claim_body(issued, policy)).json()
    url = f"/api/v1/claims/{second['id']}"
    api.post(f"{url}/submit")
    assert api.http.delete(url, headers=api.headers).status_code == 409
    assert "accepted" in error_fields(api.post(f"{url}/decide", {"accepted": "1.001"}))
    assert api.post(f"{url}/decide", {"accepted": "72.19"}).status_code == 409  # more than claimed
    api.post(f"{url}/decide", {"accepted": "72.18"})
    assert api.post(f"{url}/settle", {"amount": "72.19"}).status_code == 409
    assert api.get("/api/v1/claims/999999").status_code == 404


# --- PDFs -------------------------------------------------------------------------------------------------------

pdf_available = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("invoicing.pdf") is None, reason="invoicing.pdf is not there yet"
)


@pdf_available
def test_pdfs(issued, policy, receptionist, nobody, api_as):
    api = api_as(receptionist)
    invoice = api.get(f"/api/v1/invoices/{issued.pk}/pdf")
    assert invoice.status_code == 200 and invoice["Content-Type"] == "application/pdf"
    assert invoice.content.startswith(b"%PDF")
    statement = api.get(f"/api/v1/clients/{issued.client_id}/statement/pdf")
    assert statement.status_code == 200 and statement.content.startswith(b"%PDF")
    claim = api.post("/api/v1/claims", claim_body(issued, policy)).json()
    form = api.get(f"/api/v1/claims/{claim['id']}/pdf")
    assert form.status_code == 200 and form.content.startswith(b"%PDF")
    assert api_as(nobody).get(f"/api/v1/invoices/{issued.pk}/pdf").status_code == 403
    assert api.get("/api/v1/invoices/999999/pdf").status_code == 404


def test_openapi_lists_the_invoicing_endpoints(anonymous):
    paths = anonymous.get("/api/v1/openapi.json").json()["paths"]
    for path in [
        "/api/v1/products",
        "/api/v1/tax-rates",
        "/api/v1/invoices/{invoice_id}/lines/{line_id}",
        "/api/v1/invoices/{invoice_id}/credit",
        "/api/v1/payments/refund",
        "/api/v1/clients/{client_id}/balance",
        "/api/v1/clients/{client_id}/statement",
        "/api/v1/payors/{payor_id}",
        "/api/v1/policies",
        "/api/v1/claims/{claim_id}/settle",
    ]:
        assert path in paths
