import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from invoicing.models import Allocation, FrozenError, Payment
from invoicing.selectors import client_balance, client_credit, client_outstanding, client_statement
from invoicing.services import (
    apply_client_credit,
    credit_note_issue,
    invoice_add_line,
    invoice_draft_for,
    invoice_finalise,
    invoice_void,
    payment_record,
    refund_record,
)
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db
D = Decimal


def another_invoice(client, product, by, quantity="1"):
    draft = invoice_draft_for(client=client, by=by)
    invoice_add_line(invoice=draft, by=by, product=product, quantity=D(quantity))
    return invoice_finalise(invoice=draft, by=by)


def test_payment_goes_to_the_oldest_invoice_first_and_the_rest_is_credit(issued, owner_pet, consult_fee, receptionist):
    client, _ = owner_pet
    newer = another_invoice(client, consult_fee, receptionist)  # 54.00
    assert client_balance(client=client).balance == D("154.20")
    payment = payment_record(client=client, amount=D("120.00"), method="card", by=receptionist)
    allocations = {a.invoice_id: a.amount for a in Allocation.objects.filter(payment=payment)}
    assert allocations == {issued.pk: D("100.20"), newer.pk: D("19.80")}
    assert client_outstanding(issued) == 0 and client_outstanding(newer) == D("34.20")
    payment_record(client=client, amount=D("50.00"), method="cash", by=receptionist)
    assert client_balance(client=client).balance == D("-15.80")
    assert client_credit(client=client) == D("15.80")


def test_chosen_allocation_and_its_limits(issued, owner_pet, consult_fee, receptionist):
    client, _ = owner_pet
    newer = another_invoice(client, consult_fee, receptionist)
    payment_record(client=client, amount=D("54.00"), method="card", by=receptionist, allocate_to=[(newer, D("54.00"))])
    assert client_outstanding(newer) == 0 and client_outstanding(issued) == D("100.20")
    with pytest.raises(DomainError) as exc:
        payment_record(client=client, amount=D("200"), method="card", by=receptionist, allocate_to=[(issued, D("150"))])
    assert exc.value.code == "over_allocation"
    assert Payment.objects.count() == 1  # the refused payment left nothing behind


def test_a_void_invoice_cannot_be_paid(issued, owner_pet, manager, receptionist):
    invoice_void(invoice=issued, by=manager, reason="wrong client")
    with pytest.raises(DomainError) as exc:
        payment_record(
            client=owner_pet[0], amount=D("10"), method="cash", by=receptionist, allocate_to=[(issued, D("10"))]
        )
    assert exc.value.code == "not_payable"


def test_an_invoice_with_payments_is_credited_not_voided(issued, owner_pet, manager, receptionist):
    payment_record(client=owner_pet[0], amount=D("100.20"), method="card", by=receptionist)
    with pytest.raises(DomainError):
        invoice_void(invoice=issued, by=manager, reason="x")
    credit_note_issue(
        invoice=issued,
        by=manager,
        reason="refund the vaccine",
        lines=[(issued.lines.get(description="Rabies vaccine"), D(1))],
    )
    assert client_credit(client=owner_pet[0]) == D("46.20")


@pytest.mark.parametrize("amount", [D("0"), D("-5"), D("1.005")])
def test_bad_payment_amounts_are_refused(issued, owner_pet, receptionist, amount):
    with pytest.raises(ValidationError):
        payment_record(client=owner_pet[0], amount=amount, method="card", by=receptionist)
    assert not Payment.objects.exists()


def test_refunds_only_of_credit(issued, owner_pet, receptionist, manager):
    client, _ = owner_pet
    payment_record(client=client, amount=D("110.20"), method="card", by=receptionist)
    with pytest.raises(DomainError):
        refund_record(client=client, amount=D("10.01"), method="card", by=manager)
    refund_record(client=client, amount=D("10.00"), method="card", by=manager)
    assert client_balance(client=client).balance == 0


def test_recorded_payments_cannot_be_edited_or_deleted(issued, owner_pet, receptionist):
    payment = payment_record(client=owner_pet[0], amount=D("5"), method="cash", by=receptionist)
    payment.amount = D("6")
    with pytest.raises(FrozenError):
        payment.save()
    with pytest.raises(FrozenError):
        payment.delete()


def test_credit_is_applied_to_a_later_invoice(issued, owner_pet, consult_fee, receptionist):
    client, _ = owner_pet
    payment_record(client=client, amount=D("150.00"), method="card", by=receptionist)
    later = another_invoice(client, consult_fee, receptionist)
    assert client_outstanding(later) == D("54.00")
    assert apply_client_credit(client=client, by=receptionist) == D("49.80")
    assert client_outstanding(later) == D("4.20")
    assert client_balance(client=client).balance == D("4.20")


def test_statement_arithmetic(owner_pet, consult_fee, receptionist, manager):
    client, _ = owner_pet
    first = another_invoice(client, consult_fee, receptionist)  # 54.00
    payment_record(client=client, amount=D("20.00"), method="cash", by=receptionist, received_on=timezone.localdate())
    second = another_invoice(client, consult_fee, receptionist, quantity="2")  # 108.00
    credit_note_issue(
        invoice=second, by=manager, reason="one consult too many", lines=[(second.lines.first(), D(1))]
    )  # -54.00
    today = timezone.localdate()
    statement = client_statement(client=client, start=today, end=today)
    assert statement.opening == 0
    assert [e.amount for e in statement.entries] == [D("54.00"), D("108.00"), D("-54.00"), D("-20.00")]
    assert statement.closing == D("88.00") == client_balance(client=client).balance
    tomorrow = today + dt.timedelta(days=1)
    later = client_statement(client=client, start=tomorrow, end=tomorrow)
    assert later.opening == D("88.00") and later.entries == [] and later.closing == D("88.00")
    assert first.gross_total == D("54.00")
