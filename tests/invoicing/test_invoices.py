import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from invoicing.models import FrozenError, Invoice, InvoiceLine
from invoicing.selectors import client_balance, client_outstanding
from invoicing.services import (
    credit_note_issue,
    invoice_add_line,
    invoice_change_line,
    invoice_draft_for,
    invoice_finalise,
    invoice_remove_line,
    invoice_void,
    product_save,
    tax_rate_add,
)
from tests.factories import AnimalFactory
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
D = Decimal


def test_one_draft_per_client_collects_lines_with_catalogue_defaults(
    owner_pet, consult_fee, amoxicillin, vet_user, manager
):
    client, pet = owner_pet
    draft = invoice_draft_for(client=client, by=vet_user)
    assert invoice_draft_for(client=client, by=vet_user) == draft
    line = invoice_add_line(
        invoice=draft, by=vet_user, product=amoxicillin, quantity=D("2.5"), animal=pet, vet=vet_user.vet
    )
    assert line.description == "Amoxicillin 50 mg/ml" and line.unit == "ml" and line.unit_price == D("1.33")
    # 2.5 x 1.33 = 3.325 -> 3.33 (half up); tax 20 % of 3.33 = 0.666 -> 0.67
    assert (line.net, line.tax, line.gross) == (D("3.33"), D("0.67"), D("4.00"))
    invoice_add_line(
        invoice=draft, by=manager, product=consult_fee, quantity=D(1), animal=pet, discount_percent=D("10")
    )
    draft.refresh_from_db()
    assert (draft.net_total, draft.tax_total, draft.gross_total) == (D("43.83"), D("8.77"), D("52.60"))


def test_a_price_other_than_the_catalogues_needs_the_permission(owner_pet, consult_fee, receptionist, manager):
    client, _pet = owner_pet
    draft = invoice_draft_for(client=client, by=receptionist)
    with pytest.raises(PermissionDenied):
        invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), unit_price=D("30.00"))
    line = invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1), unit_price=D("30.00"))
    assert line.price_overridden and line.unit_price == D("30.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", D("-1")), ("quantity", D("0")), ("unit_price", D("1.234")), ("discount_percent", D("101"))],
)
def test_bad_line_values_are_field_errors(owner_pet, consult_fee, manager, field, value):
    client, _pet = owner_pet
    draft = invoice_draft_for(client=client, by=manager)
    kwargs = {"quantity": D(1), field: value}
    with pytest.raises(ValidationError) as exc:
        invoice_add_line(invoice=draft, by=manager, product=consult_fee, **kwargs)
    assert field in exc.value.message_dict
    assert not InvoiceLine.objects.exists()


def test_a_discount_larger_than_the_line_is_refused(owner_pet, consult_fee, manager):
    client, _pet = owner_pet
    draft = invoice_draft_for(client=client, by=manager)
    with pytest.raises(ValidationError):
        invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1), discount_amount=D("46"))


@pytest.mark.parametrize("role", ["receptionist", "vet_user"])
@pytest.mark.parametrize("discount", [{"discount_percent": D("100")}, {"discount_amount": D("45.00")}])
def test_a_discount_needs_the_permission_a_price_change_needs(request, owner_pet, consult_fee, manager, role, discount):
    user = request.getfixturevalue(role)
    client, _pet = owner_pet
    draft = invoice_draft_for(client=client, by=manager)
    with pytest.raises(PermissionDenied):
        invoice_add_line(invoice=draft, by=user, product=consult_fee, quantity=D(1), **discount)
    line = invoice_add_line(invoice=draft, by=user, product=consult_fee, quantity=D(1))
    with pytest.raises(PermissionDenied):
        invoice_change_line(line=line, by=user, data=discount)
    line.refresh_from_db()
    assert line.net == D("45.00")
    # A manager gives it; a change that keeps the discount needs no permission, and removing it restores the
    # catalogue price, which is never a bypass.
    line = invoice_change_line(line=line, by=manager, data=discount)
    assert line.net == D("0.00")
    assert invoice_change_line(line=line, by=user, data={"description": "Consultation (free)"}).net == D("0.00")
    with pytest.raises(PermissionDenied):
        invoice_change_line(line=line, by=user, data={"discount_percent": D("50"), "discount_amount": D("0")})
    back = invoice_change_line(line=line, by=user, data={"discount_percent": D("0"), "discount_amount": D("0")})
    assert back.net == D("45.00")


def test_lines_are_for_the_clients_own_animals(owner_pet, consult_fee, receptionist):
    client, _ = owner_pet
    draft = invoice_draft_for(client=client, by=receptionist)
    with pytest.raises(DomainError):
        invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=AnimalFactory())


def test_tax_rate_is_the_one_valid_on_the_service_date(owner_pet, consult_fee, standard, manager):
    client, _pet = owner_pet
    change = timezone.localdate() + dt.timedelta(days=10)
    tax_rate_add(by=manager, category=standard, rate=D("17.50"), valid_from=change)
    draft = invoice_draft_for(client=client, by=manager)
    before = invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1))
    after = invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1), service_date=change)
    assert (before.tax_rate, after.tax_rate) == (D("20.00"), D("17.50"))
    with pytest.raises(ValidationError):
        tax_rate_add(by=manager, category=standard, rate=D("120"), valid_from=change + dt.timedelta(days=1))


def test_finalising_numbers_freezes_and_snapshots(issued, owner_pet):
    client, _ = owner_pet
    year = timezone.localdate().year
    assert issued.status == "finalised" and issued.reference == f"INV-{year}-00001"
    assert issued.issue_date == timezone.localdate() and issued.gross_total == D("100.20")
    assert issued.client_name == "Mrs Zoë Ångström"
    client.last_name = "Changed"
    client.save()
    issued.refresh_from_db()
    assert issued.client_name == "Mrs Zoë Ångström"


def test_an_empty_invoice_cannot_be_finalised(owner_pet, receptionist):
    draft = invoice_draft_for(client=owner_pet[0], by=receptionist)
    with pytest.raises(DomainError) as exc:
        invoice_finalise(invoice=draft, by=receptionist)
    assert exc.value.code == "empty"


def test_issued_invoices_cannot_change_through_services(issued, consult_fee, receptionist):
    line = issued.lines.first()
    with pytest.raises(DomainError):
        invoice_add_line(invoice=issued, by=receptionist, product=consult_fee, quantity=D(1))
    with pytest.raises(DomainError):
        invoice_change_line(line=line, by=receptionist, data={"quantity": D(2)})
    with pytest.raises(DomainError):
        invoice_remove_line(line=line, by=receptionist)
    with pytest.raises(DomainError):
        invoice_finalise(invoice=issued, by=receptionist)


def test_issued_invoices_cannot_change_through_the_models(issued):
    issued.gross_total = D("1.00")
    with pytest.raises(FrozenError):
        issued.save()
    with pytest.raises(FrozenError):
        issued.delete()
    line = InvoiceLine.objects.filter(invoice=issued).first()
    line.unit_price = D("0.01")
    with pytest.raises(FrozenError):
        line.save()
    with pytest.raises(FrozenError):
        line.delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoicing_invoice SET gross_total = 1 WHERE id = %s",
        "UPDATE invoicing_invoice SET number = 99 WHERE id = %s",
        "UPDATE invoicing_invoice SET status = 'draft' WHERE id = %s",
        "UPDATE invoicing_invoiceline SET unit_price = 0 WHERE invoice_id = %s",
    ],
)
def test_the_database_refuses_changes_to_issued_documents(issued, sql):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [issued.pk])
    issued.refresh_from_db()
    assert issued.gross_total == D("100.20") and issued.status == "finalised"


def test_price_changes_never_alter_issued_invoices(issued, consult_fee, manager):
    product_save(by=manager, product=consult_fee, data={"unit_price": D("60.00")})
    issued.refresh_from_db()
    assert issued.gross_total == D("100.20")
    assert issued.lines.get(product=consult_fee).unit_price == D("45.00")


def test_partial_credit_then_the_rest_ends_at_zero(issued, manager, receptionist):
    line = issued.lines.get(description="Consultation")
    with pytest.raises(PermissionDenied):
        credit_note_issue(invoice=issued, by=receptionist, reason="x", lines=[(line, D(1))])
    first = credit_note_issue(invoice=issued, by=manager, reason="Goodwill", lines=[(line, D("0.5"))])
    assert first.kind == "credit_note" and first.credits == issued and first.reference.startswith("CN-")
    assert first.gross_total == D("-27.00")
    with pytest.raises(DomainError) as exc:
        credit_note_issue(invoice=issued, by=manager, reason="again", lines=[(line, D("0.6"))])
    assert exc.value.code == "over_credit"
    rest = credit_note_issue(invoice=issued, by=manager, reason="Everything else")
    assert rest.gross_total == D("-73.20")
    assert issued.gross_total + first.gross_total + rest.gross_total == 0
    with pytest.raises(DomainError):
        credit_note_issue(invoice=issued, by=manager, reason="nothing left")


def test_a_credit_note_needs_a_reason(issued, manager):
    with pytest.raises(ValidationError):
        credit_note_issue(invoice=issued, by=manager, reason="  ")


def test_void_is_a_full_credit_note(issued, manager, owner_pet):
    invoice_void(invoice=issued, by=manager, reason="Charged to the wrong client")
    issued.refresh_from_db()
    assert issued.status == "void"
    note = Invoice.objects.get(credits=issued)
    assert note.gross_total == -issued.gross_total
    assert client_balance(client=owner_pet[0]).balance == 0
    assert client_outstanding(issued) == 0
    with pytest.raises(DomainError):
        invoice_void(invoice=issued, by=manager, reason="twice")


def test_numbers_are_consecutive_per_series(owner_pet, consult_fee, receptionist, manager):
    client, _ = owner_pet
    refs = []
    for _ in range(3):
        draft = invoice_draft_for(client=client, by=receptionist)
        invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1))
        refs.append(invoice_finalise(invoice=draft, by=receptionist).number)
    assert refs == [1, 2, 3]
    note = credit_note_issue(invoice=Invoice.objects.get(number=2), by=manager, reason="x")
    assert note.number == 1 and note.series.startswith("CN-")


def test_changing_the_quantity_of_a_line_keeps_its_agreed_price_without_the_permission(
    owner_pet, consult_fee, receptionist, manager
):
    client, _ = owner_pet
    draft = invoice_draft_for(client=client, by=manager)
    line = invoice_add_line(invoice=draft, by=manager, product=consult_fee, quantity=D(1), unit_price=D("30.00"))
    changed = invoice_change_line(line=line, by=receptionist, data={"quantity": D(2)})
    assert changed.unit_price == D("30.00") and changed.net == D("60.00")
    with pytest.raises(PermissionDenied):
        invoice_change_line(line=line, by=receptionist, data={"unit_price": D("25.00")})
