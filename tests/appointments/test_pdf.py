"""The printable day list: a real PDF (parsed back with poppler's pdftotext) with the practice, vet, date and
every pet, owner, phone, reason and alert of the day."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.conf import settings

from appointments.pdf import render_day_list
from appointments.selectors import day_list
from appointments.services import appointment_book, appointment_transition
from tests.factories import AnimalFactory, WeightFactory
from vetpms.timeutils import local_datetime

pytestmark = pytest.mark.django_db


def pdf_text(body: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "day.pdf"
    path.write_bytes(body)
    command = [shutil.which("pdftotext"), "-layout", str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own file


def test_day_list_pdf_lists_the_day_in_time_order(vet, consult, receptionist, monday, tmp_path):
    names = ["Biscuit", "Pepper", "Whiskers"]
    for i, name in enumerate(names):
        animal = AnimalFactory(name=name, alerts="Bites" if name == "Pepper" else "", owner__last_name=f"Owner{i}")
        WeightFactory(animal=animal, kg="8.250")
        appointment_book(
            animal=animal,
            vet=vet,
            type=consult,
            by=receptionist,
            reason=f"{name[:3]}-check",
            start=local_datetime(monday, dt.time(11 - i)),
        )
    body = render_day_list(vet, monday, list(day_list(vet=vet, day=monday)))
    assert body.startswith(b"%PDF")
    text = pdf_text(body, tmp_path)
    assert settings.PRACTICE["name"] in text and vet.display_name in text and str(monday.year) in text
    for name in names:
        assert name in text and f"{name[:3]}-check" in text
    assert "Bites" in text and "8.25 kg" in text and "Owner0" in text and "0113 496" in text
    assert text.index("Whiskers") < text.index("Pepper") < text.index("Biscuit")  # 09:00, 10:00, 11:00


def test_an_empty_day_and_cancelled_appointments_still_print(vet, consult, receptionist, monday, tmp_path):
    assert "No appointments" in pdf_text(render_day_list(vet, monday, []), tmp_path)
    appointment = appointment_book(
        animal=AnimalFactory(name="Ghost"),
        vet=vet,
        type=consult,
        by=receptionist,
        start=local_datetime(monday, dt.time(9)),
    )
    appointment_transition(appointment=appointment, to="cancelled", by=receptionist, note="Owner rang")
    text = pdf_text(render_day_list(vet, monday, list(day_list(vet=vet, day=monday))), tmp_path)
    assert "Ghost" in text and "Cancelled" in text and "0 appointments" in text
