import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_manager_reads_an_invoices_audit_trail(as_manager, issued):
    response = as_manager.get(reverse("audit", args=["invoice", issued.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "finalise" in body and issued.reference in body
    page = as_manager.get(reverse("invoicing:detail", args=[issued.pk])).content.decode()
    assert reverse("audit", args=["invoice", issued.pk]) in page


def test_receptionist_cannot_read_it(as_receptionist, issued):
    assert as_receptionist.get(reverse("audit", args=["invoice", issued.pk])).status_code == 403
