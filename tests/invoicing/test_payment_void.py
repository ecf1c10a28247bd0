"""Voiding a payment recorded by mistake: managers only, with a reason, audited; the payment stays on record and
counts nowhere (balance, statement, receivables, takings, the revenue report's collected figure); its allocations
are undone and the invoices it paid are open again, on the list of open invoices too. Page and API alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from invoicing.models import Allocation, OpenInvoice, Payment
from invoicing.open_invoices import rebuild
from invoicing.selectors import client_balance, client_outstanding, client_statement, invoices_outstanding
from invoicing.services import payment_record, payment_void, refund_record
from reports.base import ReportParams
from reports.builders.day_sheet import day_sheet
from reports.builders.receivables import receivables_as_of
from reports.builders.revenue import revenue
from vetpms.errors import DomainError
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_voided_payment_counts_nowhere_and_its_invoice_is_open_again(issued, owner_pet, receptionist, manager):
    client, _ = owner_pet
    today = timezone.localdate()
    payment = payment_record(client=client, amount=D("150.00"), method="cash", by=receptionist)  # 100.20 + credit
    assert client_balance(client=client).balance == D("-49.80")
    assert not OpenInvoice.objects.filter(invoice=issued).exists()

    payment_void(payment=payment, by=manager, reason="Card was declined after all")

    payment.refresh_from_db()
    assert payment.is_void and payment.voided_by == manager and payment.void_reason == "Card was declined after all"
    assert not Allocation.objects.filter(payment=payment).exists()
    assert client_balance(client=client).balance == D("100.20")
    assert client_outstanding(issued) == D("100.20")
    assert [inv.pk for inv, _ in invoices_outstanding(client=client)] == [issued.pk]
    # The list of open invoices moved in the same transaction, and agrees with a rebuild from scratch.
    assert OpenInvoice.objects.filter(invoice=issued).exists()
    kept = set(OpenInvoice.objects.values_list("invoice_id", flat=True))
    rebuild()
    assert set(OpenInvoice.objects.values_list("invoice_id", flat=True)) == kept
    # The statement, receivables, the day's takings and the revenue report's collected figure leave it out.
    statement = client_statement(client=client, start=today, end=today)
    assert [e.kind for e in statement.entries] == ["Invoice"] and statement.closing == D("100.20")
    assert receivables_as_of(today).clients[client.pk]["balance"] == D("100.20")
    cash_up = next(s for s in day_sheet(ReportParams(today, today)).sections if "cash-up" in s.title)
    assert cash_up.rows == []
    assert revenue(ReportParams(today, today, "day")).rows[0]["collected"] == D("0.00")
    # Audited, with the reason and what was undone.
    entry = AuditEntry.objects.get(action="payment void")
    assert entry.actor == manager and entry.note == "Card was declined after all"
    assert issued.reference in entry.changes["allocations"][0]


def test_voiding_needs_the_permission_a_reason_and_a_live_client_payment(issued, owner_pet, receptionist, manager):
    client, _ = owner_pet
    payment = payment_record(client=client, amount=D("20.00"), method="cash", by=receptionist)
    with pytest.raises(PermissionDenied):
        payment_void(payment=payment, by=receptionist, reason="mine")
    with pytest.raises(ValidationError):
        payment_void(payment=payment, by=manager, reason="   ")
    payment_void(payment=payment, by=manager, reason="Wrong client")
    with pytest.raises(DomainError) as again:
        payment_void(payment=payment, by=manager, reason="Wrong client")
    assert again.value.code == "already_void"
    paid = payment_record(client=client, amount=D("130.00"), method="cash", by=receptionist)
    refund = refund_record(client=client, amount=D("29.80"), method="cash", by=manager)
    with pytest.raises(DomainError) as not_payment:
        payment_void(payment=refund, by=manager, reason="no")
    assert not_payment.value.code == "not_a_payment"
    assert Payment.objects.get(pk=paid.pk).voided_at is None


def test_a_payment_dated_after_today_is_refused(issued, owner_pet, receptionist, manager):
    client, _ = owner_pet
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        payment_record(client=client, amount=D("10.00"), method="cash", by=receptionist, received_on=tomorrow)
    assert "received_on" in refused.value.message_dict
    assert not Payment.objects.exists()


def test_void_through_the_page_for_managers_only(issued, owner_pet, receptionist, as_receptionist, as_manager):
    client, _ = owner_pet
    payment = payment_record(client=client, amount=D("100.20"), method="card", by=receptionist)
    url = f"/payments/{payment.pk}/void/"
    assert as_receptionist.get(url).status_code == 403
    assert as_receptionist.post(url, {"reason": "x"}).status_code == 403
    account = as_manager.get(f"/clients/{client.pk}/account/").content.decode()
    assert url in account
    page = as_manager.get(url)
    assert page.status_code == 200 and issued.reference in page.content.decode()
    assert as_manager.post(url, {"reason": ""}).status_code == 200  # the form asks for a reason
    assert not Payment.objects.get(pk=payment.pk).is_void
    response = as_manager.post(url, {"reason": "Keyed on the wrong account"})
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).is_void
    account = as_manager.get(f"/clients/{client.pk}/account/").content.decode()
    assert "Void" in account and "Keyed on the wrong account" in account and url not in account


def test_void_through_the_api(issued, owner_pet, receptionist, manager):
    from tests.api.conftest import JsonClient
    from tests.factories import make_token

    def api_as(user) -> JsonClient:
        return JsonClient({"Authorization": f"Bearer {make_token(user)[1]}"})

    client, _ = owner_pet
    payment = payment_record(client=client, amount=D("100.20"), method="card", by=receptionist)
    url = f"/api/v1/payments/{payment.pk}/void"
    assert api_as(receptionist).post(url, {"reason": "x"}).status_code == 403
    assert api_as(manager).post(url, {}).status_code == 422
    response = api_as(manager).post(url, {"reason": "Duplicate of the card payment"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["voided_at"] and body["void_reason"] == "Duplicate of the card payment" and body["allocations"] == []
    assert api_as(manager).post(url, {"reason": "again"}).status_code == 409
    balance = api_as(manager).get(f"/api/v1/clients/{client.pk}/balance").json()
    assert balance["balance"] == "100.20" and balance["paid"] == "0.00"
    assert api_as(manager).post("/api/v1/payments/999999/void", {"reason": "x"}).status_code == 404
