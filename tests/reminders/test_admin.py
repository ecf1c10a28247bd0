import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "name",
    [
        "reminders_remindertype",
        "reminders_reminder",
        "reminders_reminderdelivery",
        "reminders_reminderrun",
        "django_q_schedule",
    ],
)
def test_the_admin_lists_reminder_records_and_the_schedules(admin_client, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    if name == "django_q_schedule":
        assert b"Reminder notices (daily)" in response.content


def test_the_outbox_cannot_be_edited_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:reminders_reminderdelivery_add")).status_code == 403
    assert admin_client.get(reverse("admin:reminders_reminder_add")).status_code == 403
