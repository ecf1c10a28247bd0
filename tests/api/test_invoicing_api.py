"""/api/v1/invoices: drafts and lines, money in and out as strings, finalising, immutability after it, credit notes,
voiding, roles, bad input, and query counts that do not grow with lines or invoices."""

from decimal import Decimal

import pytest

from invoicing.models import Invoice, InvoiceLine, Product
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from tests.api.conftest import error_fields
from tests.factories import AnimalFactory, ClientFactory

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/invoices"


def detail(invoice) -> str:
    return f"{URL}/{invoice.pk}"


@pytest.fixture
def draft(owner_pet, receptionist):
    """Zoë's open draft. A test that also wants ``issued`` (the same client) asks for it first: issuing finalises
    the client's open draft, and this fixture then opens a new one."""
    client, _pet = owner_pet
    return invoice_draft_for(client=client, by=receptionist)


@pytest.fixture
def charged(draft, owner_pet, consult_fee, amoxicillin, receptionist):
    """The draft with a consultation (45.00) and 2.5 ml of amoxicillin (3.33) for Mírzá."""
    _client, pet = owner_pet
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    invoice_add_line(invoice=draft, by=receptionist, product=amoxicillin, quantity=D("2.5"), animal=pet)
    return draft


def line_body(product, pet, **extra):
    return {"product": product.pk, "quantity": "1", "animal": pet.pk, **extra}


# --- who may do what -------------------------------------------------------------------------------------------


def test_anonymous_is_401(anonymous, issued):
    assert anonymous.get(URL).status_code == 401
    assert anonymous.get(detail(issued)).status_code == 401
    assert anonymous.post(f"{detail(issued)}/credit", {"reason": "x"}).status_code == 401


@pytest.mark.parametrize(("role", "expected"), [("receptionist", 200), ("vet_user", 200), ("manager", 200)])
def test_staff_read_invoices(role, expected, issued, api_for):
    api = api_for(role)
    assert api.get(URL).status_code == expected
    assert api.get(detail(issued)).status_code == expected


def test_nobody_is_403_everywhere_before_any_lookup(nobody, issued, api_as):
    api = api_as(nobody)
    assert api.get(URL).status_code == 403
    assert api.get(detail(issued)).status_code == 403
    assert api.get(f"{URL}/999999").status_code == 403  # learns nothing about which ids exist
    assert api.post(URL, {"client": issued.client_id}).status_code == 403
    assert api.post(f"{detail(issued)}/lines", {"product": 1, "quantity": "1"}).status_code == 403
    assert api.post(f"{detail(issued)}/finalise").status_code == 403
    assert api.post(f"{detail(issued)}/credit", {"reason": "x"}).status_code == 403
    assert api.post(f"{detail(issued)}/void", {"reason": "x"}).status_code == 403


def test_a_vet_charges_lines_but_cannot_finalise(owner_pet, consult_fee, vet_user, api_as):
    client, pet = owner_pet
    api = api_as(vet_user)
    created = api.post(URL, {"client": client.pk})
    assert created.status_code == 201, created.content
    invoice_id = created.json()["id"]
    added = api.post(f"{URL}/{invoice_id}/lines", line_body(consult_fee, pet, vet=vet_user.vet.pk))
    assert added.status_code == 201, added.content
    assert added.json()["lines"][0]["vet"] == {"id": vet_user.vet.pk, "display_name": vet_user.vet.display_name}
    assert api.post(f"{URL}/{invoice_id}/finalise").status_code == 403
    assert Invoice.objects.get(pk=invoice_id).status == "draft"


def test_a_receptionist_cannot_change_prices_or_credit(issued, charged, owner_pet, consult_fee, receptionist, api_as):
    _client, pet = owner_pet
    api = api_as(receptionist)
    response = api.post(f"{detail(charged)}/lines", line_body(consult_fee, pet, unit_price="30.00"))
    assert response.status_code == 403
    line = charged.lines.first()
    assert api.patch(f"{detail(charged)}/lines/{line.pk}", {"unit_price": "1.00"}).status_code == 403
    # the catalogue price itself is not an override
    assert api.post(f"{detail(charged)}/lines", line_body(consult_fee, pet, unit_price="45")).status_code == 201
    assert api.post(f"{detail(issued)}/credit", {"reason": "goodwill"}).status_code == 403
    assert api.post(f"{detail(issued)}/void", {"reason": "mistake"}).status_code == 403
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_a_manager_overrides_a_price(draft, owner_pet, consult_fee, manager, api_as):
    _client, pet = owner_pet
    body = api_as(manager).post(f"{detail(draft)}/lines", line_body(consult_fee, pet, unit_price="30.00")).json()
    assert body["lines"][0]["unit_price"] == "30.00" and body["lines"][0]["price_overridden"] is True
    assert body["gross_total"] == "36.00"


# --- drafts and lines ------------------------------------------------------------------------------------------


def test_one_draft_per_client_201_then_200(owner_pet, receptionist, api_as):
    client, _pet = owner_pet
    api = api_as(receptionist)
    first = api.post(URL, {"client": client.pk})
    again = api.post(URL, {"client": client.pk})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "draft" and first.json()["reference"].startswith("Draft invoice")
    assert first.json()["outstanding"] is None  # nothing is owed on a draft


def test_money_and_quantities_are_strings_and_totals_add_up(
    draft, owner_pet, amoxicillin, consult_fee, api_as, manager
):
    _client, pet = owner_pet
    api = api_as(manager)
    api.post(f"{detail(draft)}/lines", line_body(amoxicillin, pet, quantity="2.5"))
    body = api.post(
        f"{detail(draft)}/lines", line_body(consult_fee, pet, quantity=1, discount_percent="10", service_date=None)
    ).json()
    amox, consult = body["lines"]
    # 2.5 x 1.33 = 3.325 -> 3.33 (half up); 20 % tax 0.666 -> 0.67
    assert (amox["quantity"], amox["unit_price"], amox["net"], amox["tax"], amox["gross"]) == (
        "2.500",
        "1.33",
        "3.33",
        "0.67",
        "4.00",
    )
    assert (consult["discount_percent"], consult["net"], consult["tax_rate"]) == ("10.00", "40.50", "20.00")
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == ("43.83", "8.77", "52.60")
    assert body["tax_breakdown"] == [{"rate": "20.00", "net": "43.83", "tax": "8.77"}]
    assert amox["animal"] == {"id": pet.pk, "name": "Mírzá"}
    stored = Invoice.objects.get(pk=draft.pk)
    assert stored.gross_total == D("52.60") == sum(line.gross for line in stored.lines.all())


@pytest.mark.parametrize(
    ("number", "stored"),
    [(0.5, "0.500"), (2, "2.000"), (12.125, "12.125"), ("1.5", "1.500"), ("3", "3.000")],
)
def test_quantities_as_numbers_are_read_exactly(number, stored, draft, owner_pet, amoxicillin, api_as, receptionist):
    _client, pet = owner_pet
    response = api_as(receptionist).post(f"{detail(draft)}/lines", line_body(amoxicillin, pet, quantity=number))
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["quantity"] == stored


BAD_LINES = [
    ({"quantity": " 3 "}, "quantity"),  # numbers are exactly what the schema's pattern says: no padding
    ({"quantity": "\uff13"}, "quantity"),  # nor full-width digits
    ({"quantity": "-1"}, "quantity"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": -2}, "quantity"),
    ({"quantity": "1.2345"}, "quantity"),
    ({"quantity": 0.30000000000000004}, "quantity"),  # 0.1 + 0.2: more digits than a decimal in a double
    ({"quantity": True}, "quantity"),
    ({"quantity": "NaN"}, "quantity"),
    ({"quantity": "Infinity"}, "quantity"),
    ({"quantity": "1e400"}, "quantity"),
    ({"quantity": "two"}, "quantity"),
    ({"unit_price": "45.001"}, "unit_price"),
    ({"unit_price": 45.001}, "unit_price"),
    ({"unit_price": "-1"}, "unit_price"),
    ({"discount_percent": "101"}, "discount_percent"),
    ({"discount_percent": "10.555"}, "discount_percent"),
    ({"discount_amount": "0.001"}, "discount_amount"),
    ({"product": 999999}, "product"),
    ({"animal": 999999}, "animal"),
    ({"vet": 999999}, "vet"),
    ({"product": 0}, "product"),
    ({"service_date": "0001-01-01"}, "service_date"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("change", "field"), BAD_LINES)
def test_bad_line_input_is_422_on_the_field(change, field, draft, owner_pet, consult_fee, manager, api_as):
    _client, pet = owner_pet
    response = api_as(manager).post(f"{detail(draft)}/lines", line_body(consult_fee, pet) | change)
    assert field in error_fields(response)
    assert not InvoiceLine.objects.exists()


def test_a_discount_larger_than_the_line_is_422(draft, owner_pet, consult_fee, manager, api_as):
    _client, pet = owner_pet
    response = api_as(manager).post(f"{detail(draft)}/lines", line_body(consult_fee, pet, discount_amount="46"))
    assert "discount_amount" in error_fields(response)


@pytest.mark.parametrize("role", ["receptionist", "vet_user"])
@pytest.mark.parametrize("discount", [{"discount_percent": "100"}, {"discount_amount": "45.00"}])
def test_a_discount_without_the_price_permission_is_403(
    request, charged, owner_pet, consult_fee, manager, api_as, role, discount
):
    _client, pet = owner_pet
    api = api_as(request.getfixturevalue(role))
    before = charged.lines.count()
    assert api.post(f"{detail(charged)}/lines", line_body(consult_fee, pet, **discount)).status_code == 403
    line = charged.lines.get(product=consult_fee)
    assert api.patch(f"{detail(charged)}/lines/{line.pk}", discount).status_code == 403
    assert charged.lines.count() == before
    line.refresh_from_db()
    assert line.discount_percent == 0 and line.discount_amount == 0
    assert api_as(manager).patch(f"{detail(charged)}/lines/{line.pk}", discount).status_code == 200


def test_a_null_service_date_on_a_change_is_422_not_500(charged, manager, api_as):
    line = charged.lines.first()
    response = api_as(manager).patch(f"{detail(charged)}/lines/{line.pk}", {"service_date": None})
    assert response.status_code == 422
    assert "service_date" in error_fields(response)


def test_another_clients_animal_is_409(draft, consult_fee, receptionist, api_as):
    response = api_as(receptionist).post(f"{detail(draft)}/lines", line_body(consult_fee, AnimalFactory()))
    assert response.status_code == 409 and response.json()["field"] == "animal"


def test_a_withdrawn_product_is_409(draft, owner_pet, consult_fee, receptionist, api_as):
    Product.objects.filter(pk=consult_fee.pk).update(is_active=False)
    response = api_as(receptionist).post(f"{detail(draft)}/lines", line_body(consult_fee, owner_pet[1]))
    assert response.status_code == 409 and response.json()["field"] == "product"


def test_change_and_remove_lines_recompute_totals(charged, receptionist, api_as):
    api = api_as(receptionist)
    consult, amox = charged.lines.order_by("position")
    changed = api.patch(f"{detail(charged)}/lines/{amox.pk}", {"quantity": "5", "description": "Amoxicillin drops"})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["lines"][1]["description"] == "Amoxicillin drops" and body["lines"][1]["net"] == "6.65"
    assert body["net_total"] == "51.65"
    removed = api.http.delete(f"{detail(charged)}/lines/{consult.pk}", headers=api.headers)
    assert removed.status_code == 200
    assert [line["id"] for line in removed.json()["lines"]] == [amox.pk]
    assert removed.json()["gross_total"] == "7.98"


def test_line_of_another_invoice_or_unknown_is_404(issued, charged, receptionist, api_as):
    api = api_as(receptionist)
    other = issued.lines.first()
    assert api.patch(f"{detail(charged)}/lines/{other.pk}", {"quantity": "2"}).status_code == 404
    assert api.patch(f"{detail(charged)}/lines/999999", {"quantity": "2"}).status_code == 404
    assert api.post(f"{URL}/999999/lines", {"product": 1, "quantity": "1"}).status_code == 404
    assert api.post(f"{URL}/99999999999999999999/finalise").status_code == 404
    assert api.get(f"{URL}/999999").json() == {"detail": "Not found."}


def test_patch_refuses_null_quantity_and_unknown_fields(charged, receptionist, api_as):
    api = api_as(receptionist)
    line = charged.lines.first()
    assert "quantity" in error_fields(api.patch(f"{detail(charged)}/lines/{line.pk}", {"quantity": None}))
    assert "product" in error_fields(api.patch(f"{detail(charged)}/lines/{line.pk}", {"product": 1}))


def test_unknown_client_is_422_and_inactive_client_409(receptionist, api_as):
    api = api_as(receptionist)
    assert "client" in error_fields(api.post(URL, {"client": 999999}))
    inactive = ClientFactory(is_active=False)
    response = api.post(URL, {"client": inactive.pk})
    assert response.status_code == 409 and response.json()["field"] == "client"


def test_deleting_a_draft(charged, receptionist, api_as):
    api = api_as(receptionist)
    response = api.http.delete(detail(charged), headers=api.headers)
    assert response.status_code == 204
    assert not Invoice.objects.filter(pk=charged.pk).exists()


# --- finalising and immutability -------------------------------------------------------------------------------


def test_finalising_numbers_and_freezes(charged, receptionist, api_as):
    body = api_as(receptionist).post(f"{detail(charged)}/finalise").json()
    assert body["status"] == "finalised" and body["number"] == 1
    assert body["reference"] == f"{body['series']}-00001"
    assert body["client_name"].endswith("Zoë Ångström") and body["finalised_by"] == "Rita Reception"
    assert (body["owner_share"], body["insurer_share"], body["outstanding"]) == ("58.00", "0.00", "58.00")


def test_finalising_an_empty_invoice_is_409(draft, receptionist, api_as):
    response = api_as(receptionist).post(f"{detail(draft)}/finalise")
    assert response.status_code == 409 and response.json()["code"] == "empty"
    assert Invoice.objects.get(pk=draft.pk).status == "draft"


def test_every_write_on_an_issued_invoice_is_409_and_nothing_changes(issued, owner_pet, consult_fee, manager, api_as):
    _client, pet = owner_pet
    api = api_as(manager)
    before = api.get(detail(issued)).json()
    line = issued.lines.first()
    writes = [
        api.post(f"{detail(issued)}/lines", line_body(consult_fee, pet)),
        api.patch(f"{detail(issued)}/lines/{line.pk}", {"quantity": "3"}),
        api.patch(f"{detail(issued)}/lines/{line.pk}", {"unit_price": "0.00"}),
        api.http.delete(f"{detail(issued)}/lines/{line.pk}", headers=api.headers),
        api.http.delete(detail(issued), headers=api.headers),
        api.post(f"{detail(issued)}/finalise"),
    ]
    for response in writes:
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "frozen"
    after = api.get(detail(issued)).json()
    assert after == before
    stored = Invoice.objects.get(pk=issued.pk)
    assert (stored.net_total, stored.tax_total, stored.gross_total) == (D("83.50"), D("16.70"), D("100.20"))
    assert stored.lines.count() == 2


# --- credit notes and voiding ----------------------------------------------------------------------------------


def test_a_partial_credit_note(issued, manager, api_as):
    api = api_as(manager)
    consult = issued.lines.get(description="Consultation")
    response = api.post(
        f"{detail(issued)}/credit", {"reason": "Goodwill", "lines": [{"line": consult.pk, "quantity": "1"}]}
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["kind"] == "credit_note" and note["credits"] == {"id": issued.pk, "reference": issued.reference}
    assert note["gross_total"] == "-54.00" and note["lines"][0]["quantity"] == "-1.000"
    assert note["lines"][0]["credited_line"] == consult.pk
    assert note["outstanding"] is None
    invoice = api.get(detail(issued)).json()
    assert [n["id"] for n in invoice["credit_notes"]] == [note["id"]]
    assert invoice["owner_share"] == "46.20" and invoice["outstanding"] == "46.20"


def test_a_full_credit_note_then_nothing_is_left(issued, manager, api_as):
    api = api_as(manager)
    assert api.post(f"{detail(issued)}/credit", {"reason": "Refund"}).json()["gross_total"] == "-100.20"
    again = api.post(f"{detail(issued)}/credit", {"reason": "Again"})
    assert again.status_code == 409 and again.json()["code"] == "over_credit"


def test_a_credit_note_larger_than_the_invoice_is_409(issued, manager, api_as):
    line = issued.lines.first()
    response = api_as(manager).post(
        f"{detail(issued)}/credit", {"reason": "Too much", "lines": [{"line": line.pk, "quantity": "2"}]}
    )
    assert response.status_code == 409 and response.json()["code"] == "over_credit"
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_credit_note_bad_input(issued, charged, manager, api_as):
    api = api_as(manager)
    line = issued.lines.first()
    assert "lines" in error_fields(api.post(f"{detail(issued)}/credit", {"reason": "x", "lines": [{"line": 999999}]}))
    negative = {"reason": "x", "lines": [{"line": line.pk, "quantity": "-1"}]}
    assert "quantity" in error_fields(api.post(f"{detail(issued)}/credit", negative))
    assert "reason" in error_fields(api.post(f"{detail(issued)}/credit", {"reason": ""}))
    other = {"reason": "x", "lines": [{"line": charged.lines.first().pk}]}
    assert api.post(f"{detail(issued)}/credit", other).status_code == 409
    assert api.post(f"{detail(charged)}/credit", {"reason": "x"}).status_code == 409  # a draft


def test_voiding(issued, manager, api_as):
    api = api_as(manager)
    body = api.post(f"{detail(issued)}/void", {"reason": "Wrong client"}).json()
    assert body["status"] == "void" and len(body["credit_notes"]) == 1
    assert body["outstanding"] == "0.00"
    assert api.post(f"{detail(issued)}/void", {"reason": "again"}).status_code == 409


# --- lists ------------------------------------------------------------------------------------------------------


def test_list_filters(issued, charged, vet_user, manager, api_as):
    api = api_as(manager)
    all_ids = {row["id"] for row in api.get(URL).json()["items"]}
    assert all_ids == {issued.pk, charged.pk}
    assert [r["id"] for r in api.get(URL, {"status": "draft"}).json()["items"]] == [charged.pk]
    assert [r["id"] for r in api.get(URL, {"kind": "invoice", "status": "finalised"}).json()["items"]] == [issued.pk]
    assert api.get(URL, {"client": ClientFactory().pk}).json()["count"] == 0
    assert api.get(URL, {"vet": vet_user.vet.pk}).json()["count"] == 0
    day = issued.issue_date.isoformat()
    assert api.get(URL, {"issued_from": day, "issued_to": day}).json()["count"] == 1
    assert "issued_to" in error_fields(api.get(URL, {"issued_from": day, "issued_to": "2000-01-01"}))
    assert "status" in error_fields(api.get(URL, {"status": "paid"}))
    row = api.get(URL, {"status": "finalised"}).json()["items"][0]
    assert row["gross_total"] == "100.20" and row["client"]["display_name"].endswith("Zoë Ångström")


@pytest.mark.parametrize("count", [2, 30])
def test_list_query_count_does_not_grow_with_invoices(
    count, owner_pet, consult_fee, manager, api_as, django_assert_max_num_queries
):
    for _ in range(count):
        client = ClientFactory()
        draft = invoice_draft_for(client=client, by=manager)
        invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1))
        invoice = invoice_finalise(invoice=draft, by=manager)
        api_as(manager).post(f"{detail(invoice)}/credit", {"reason": "x", "lines": None})
    api = api_as(manager)
    api.get(URL)  # warm the token's last_used_at
    with django_assert_max_num_queries(6):
        body = api.get(URL, {"limit": 100}).json()
    assert body["count"] == 2 * count


@pytest.mark.parametrize("lines", [2, 30])
def test_detail_query_count_does_not_grow_with_lines(
    lines, draft, owner_pet, consult_fee, manager, api_as, django_assert_max_num_queries
):
    _client, pet = owner_pet
    for _ in range(lines):
        invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1), animal=pet, vet=manager_vet())
    invoice = invoice_finalise(invoice=draft, by=manager)
    api = api_as(manager)
    api.post(f"{detail(invoice)}/credit", {"reason": "x", "lines": [{"line": invoice.lines.first().pk}]})
    api.post("/api/v1/payments", {"client": invoice.client_id, "amount": "10.00", "method": "cash"})
    with django_assert_max_num_queries(18):
        body = api.get(detail(invoice)).json()
    assert len(body["lines"]) == lines and len(body["credit_notes"]) == 1 and len(body["payments"]) == 1


def manager_vet():
    from tests.factories import UserFactory
    from vetpms.models import Role

    return UserFactory(role=Role.VET).vet


def test_a_null_price_goes_back_to_the_catalogue(draft, owner_pet, consult_fee, manager, api_as):
    _client, pet = owner_pet
    api = api_as(manager)
    body = api.post(f"{detail(draft)}/lines", line_body(consult_fee, pet, unit_price="30.00")).json()
    line_id = body["lines"][0]["id"]
    line = api.patch(f"{detail(draft)}/lines/{line_id}", {"unit_price": None}).json()["lines"][0]
    assert (line["unit_price"], line["price_overridden"]) == ("45.00", False)
