"""The same booking, with one Idempotency-Key, sent ten times at the same moment on separate connections."""

import datetime as dt
import json
import threading

import pytest
from django.db import connections
from django.test import Client as HttpClient

from appointments.models import Appointment, AppointmentType, WorkingHours
from tests.appointments.conftest import next_weekday
from tests.factories import AnimalFactory, UserFactory, make_token
from vetpms.models import Role

ATTEMPTS = 10


@pytest.mark.django_db(transaction=True)
def test_simultaneous_repeats_of_one_key_book_once_and_answer_201_then_200():
    receptionist = UserFactory(username="desk", role=Role.RECEPTIONIST)
    vet = UserFactory(username="doc", role=Role.VET).vet
    WorkingHours.objects.create(vet=vet, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    consult = AppointmentType.objects.create(name="Consultation", default_minutes=15)
    pet = AnimalFactory()
    _, secret = make_token(receptionist)
    body = json.dumps(
        {"animal": pet.pk, "vet": vet.pk, "type": consult.pk, "start": f"{next_weekday(0).isoformat()}T10:00"}
    )
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "7d6f0c1e-0b0e-4a52-9f8e-3a1c2b4d5e6f"}

    barrier = threading.Barrier(ATTEMPTS)
    results: list[tuple[int, int | None]] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            response = HttpClient().post("/api/v1/appointments", body, content_type="application/json", headers=headers)
            outcome = (response.status_code, response.json().get("id"))
        except Exception as exc:  # any failure is what this test looks for
            outcome = (0, repr(exc))
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    appointment = Appointment.objects.get()
    assert sorted(status for status, _ in results) == [200] * (ATTEMPTS - 1) + [201], results
    assert {pk for _, pk in results} == {appointment.pk}
