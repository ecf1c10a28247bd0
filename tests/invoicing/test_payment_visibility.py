"""One rule for who sees money received (invoicing.access): pages, API and PDFs alike.

A vet charges and reads invoices but has no ``view_payment``: payments, what is outstanding, a client's balance and
what insurers paid stay out of everything they are shown; a receptionist (who takes the money) sees them all.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing.services import payment_record
from tests.api.conftest import JsonClient
from tests.factories import make_token
from tests.invoicing.test_pdf import pdf_text, squash

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def part_paid(issued, receptionist):
    """The 100.20 invoice with 30.00 paid by card, reference "Till 9"."""
    payment_record(client=issued.client, amount=D("30.00"), method="card", by=receptionist, reference="Till 9")
    return issued


def api(user) -> JsonClient:
    _, secret = make_token(user)
    return JsonClient({"Authorization": f"Bearer {secret}"})


def test_the_balance_endpoint_needs_view_payment(part_paid, vet_user, receptionist):
    url = f"/api/v1/clients/{part_paid.client_id}/balance"
    assert api(vet_user).get(url).status_code == 403
    body = api(receptionist).get(url).json()
    assert (body["paid"], body["balance"]) == ("30.00", "70.20")


def test_the_invoice_detail_leaves_payments_out_for_a_role_without_view_payment(part_paid, vet_user, receptionist):
    url = f"/api/v1/invoices/{part_paid.pk}"
    seen = api(vet_user).get(url)
    assert seen.status_code == 200
    body = seen.json()
    assert body["payments"] == [] and body["outstanding"] is None and body["claims"] == []
    assert body["gross_total"] == "100.20"  # what was charged is still there
    full = api(receptionist).get(url).json()
    assert [p["amount"] for p in full["payments"]] == ["30.00"] and full["outstanding"] == "70.20"


def test_the_invoice_page_leaves_payments_out_for_a_role_without_view_payment(part_paid, as_vet, as_receptionist):
    url = reverse("invoicing:detail", args=[part_paid.pk])
    vet_page = as_vet.get(url).content.decode()
    assert "Rabies vaccine" in vet_page
    for money_word in ("Till 9", "Outstanding", "outstanding", "Payments", "£70.20"):
        assert money_word not in vet_page
    front_desk = as_receptionist.get(url).content.decode()
    assert "Till 9" in front_desk and "£70.20" in front_desk


def test_the_invoice_pdf_leaves_payments_out_for_a_role_without_view_payment(
    part_paid, vet_user, as_vet, as_receptionist, tmp_path
):
    url = reverse("invoicing:pdf", args=[part_paid.pk])
    vet_pdf = squash(pdf_text(as_vet.get(url).content, tmp_path, "vet.pdf"))
    assert "Total £100.20" in vet_pdf
    assert "Paid" not in vet_pdf and "Outstanding" not in vet_pdf
    api_pdf = api(vet_user).get(f"/api/v1/invoices/{part_paid.pk}/pdf")
    assert "Outstanding" not in squash(pdf_text(api_pdf.content, tmp_path, "api.pdf"))
    full = squash(pdf_text(as_receptionist.get(url).content, tmp_path, "desk.pdf"))
    assert "Paid -£30.00" in full and "Outstanding £70.20" in full


def test_the_client_page_and_invoice_list_leave_balances_out_for_a_role_without_view_payment(
    part_paid, as_vet, as_receptionist
):
    client_url = reverse("clients:detail", args=[part_paid.client_id])
    vet_page = as_vet.get(client_url).content.decode()
    assert "Balance" not in vet_page and "£70.20" not in vet_page
    assert "£70.20 owed" in as_receptionist.get(client_url).content.decode()
    vet_list = as_vet.get(reverse("invoicing:list")).content.decode()
    assert part_paid.reference in vet_list and "Outstanding" not in vet_list and "£70.20" not in vet_list
    assert "£70.20" in as_receptionist.get(reverse("invoicing:list")).content.decode()
