"""Issued documents cannot be changed or deleted through the admin either."""

import pytest
from django.urls import reverse

from invoicing.models import Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "a-long-password-1")
    client.force_login(admin)
    return client


def test_admin_shows_an_issued_invoice_read_only(superuser_client, issued):
    url = reverse("admin:invoicing_invoice_change", args=[issued.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200 and b'name="gross_total"' not in page.content
    response = superuser_client.post(url, {"gross_total": "1.00", "status": "draft"})
    assert response.status_code == 403
    issued.refresh_from_db()
    assert issued.status == "finalised" and str(issued.gross_total) == "100.20"


def test_admin_cannot_delete_an_issued_invoice(superuser_client, issued):
    response = superuser_client.post(reverse("admin:invoicing_invoice_delete", args=[issued.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Invoice.objects.filter(pk=issued.pk).exists()
