import pytest
from django.urls import reverse

from tests.appointments.conftest import at

pytestmark = pytest.mark.django_db


def test_manager_reads_an_appointments_audit_trail(as_manager, book, monday):
    appointment = book(at(monday, 10))
    response = as_manager.get(reverse("audit", args=["appointment", appointment.pk]))
    assert response.status_code == 200
    assert "book" in response.content.decode()
