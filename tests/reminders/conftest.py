import pytest

from reminders.models import ReminderType
from tests.appointments.conftest import book, consult, monday, pet, vet  # noqa: F401 - shared fixtures
from tests.invoicing.conftest import consult_fee, owner_pet, rabies, standard  # noqa: F401 - shared fixtures

TEXT = "Dear {owner_name}, {items} Call {practice_phone}."


@pytest.fixture
def rabies_type(db):
    return ReminderType.objects.create(
        name="Rabies vaccination",
        interval=12,
        interval_unit="months",
        stages=[-14, 0, 30],
        subject="{pets}: vaccination due",
        body_text=TEXT,
    )
