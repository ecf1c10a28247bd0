"""The clinical PDFs read back with pdftotext: the dispensing label (its size, every item a label must carry), the
vaccination certificate, the clinical history of a period, and the claim form's clinical section. The PNGs made
by ``render_pngs`` (pdftoppm) were looked at when these were written."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from clinical.models import Consultation
from clinical.pdf import LABEL_HEIGHT, LABEL_WIDTH, render_certificate, render_history, render_label
from clinical.services import (
    addendum_add,
    consultation_open,
    consultation_record_vitals,
    consultation_save_draft,
    consultation_set_diagnoses,
    consultation_sign,
    prescription_dispense,
    problem_save,
    vaccination_record,
)
from invoicing.models import Payor, Policy
from invoicing.pdf import render_claim_form
from invoicing.services import claim_create, invoice_draft_for, invoice_finalise
from tests.clinical.conftest import days_ago, in_days
from tests.invoicing.test_pdf import pdf_text, squash

D = Decimal
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pdfinfo() -> str:
    path = shutil.which("pdfinfo")
    if path is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    return path


def keep_png(body: bytes, name: str, tmp_path, dpi: int = 110, page: int = 1) -> None:
    """Render the first page to test-artifacts/<name>.png (to look at); skipped without poppler."""
    if not shutil.which("pdftoppm") or os.environ.get("CI"):
        return
    ARTIFACTS.mkdir(exist_ok=True)
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(body)
    command = [
        shutil.which("pdftoppm"),
        "-png",
        "-r",
        str(dpi),
        "-f",
        str(page),
        "-singlefile",
        str(source),
        str(ARTIFACTS / name),
    ]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own file


@pytest.fixture
def dispensed(consultation, vet_user, amoxicillin):
    return prescription_dispense(
        animal=consultation.animal,
        consultation=consultation,
        product=amoxicillin,
        strength="50 mg/ml",
        dose="1 ml",
        frequency="twice daily",
        duration="7 days",
        quantity=D("14"),
        instructions="Give with food. Shake well before use.",
        by=vet_user,
    )


def test_dispensing_label_is_89_by_36_mm_and_carries_everything(dispensed, tmp_path):
    body = render_label(dispensed)
    keep_png(body, "clinical-label", tmp_path, dpi=300)
    info = subprocess.run([pdfinfo(), "-"], input=body, capture_output=True, check=True).stdout.decode()  # noqa: S603
    assert re.search(r"Page size:\s+252.28\d* x 102.04\d* pts", info), info  # 89 x 36 mm
    assert round(LABEL_WIDTH / 72 * 25.4) == 89 and round(LABEL_HEIGHT / 72 * 25.4) == 36
    flat = squash(pdf_text(body, tmp_path).replace("\n", " "))
    animal = dispensed.animal
    for expected in (
        "Amoxicillin 50 mg/ml · Qty 14 ml",
        "1 ml twice daily for 7 days, oral (PO).",
        "Give with food. Shake well before use.",
        f"Animal: {animal.name} (Dog)",
        f"Owner: {animal.owner.display_name}",
        "Vet: Victor Vet",
        f"{timezone.localdate().day} {timezone.localdate():%b %Y}",
        "Riverside Veterinary Practice",
        "For animal treatment only",
        "Keep out of reach of children",
    ):
        assert expected in flat, expected
    assert pdf_info_pages(body) == 1


def test_a_long_instruction_shrinks_the_type_and_keeps_the_warnings(dispensed, tmp_path):
    dispensed.instructions = "Give half a tablet in the morning and half in the evening with a small meal. " * 4
    flat = squash(pdf_text(render_label(dispensed), tmp_path).replace("\n", " "))
    assert "Keep out of reach of children" in flat and "Vet: Victor Vet" in flat


def pdf_info_pages(body: bytes) -> int:
    info = subprocess.run([pdfinfo(), "-"], input=body, capture_output=True, check=True).stdout.decode()  # noqa: S603
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_vaccination_certificate_lists_each_vaccine_with_batch_and_next_due(
    dog, vet_user, rabies, rabies_type, tmp_path
):
    dog.microchip = "985141000123456"
    dog.save()
    first = vaccination_record(
        animal=dog, product=rabies, batch="RB-1001", batch_expiry=in_days(30), given_on=days_ago(400),
        manufacturer="Zoetis", by=vet_user,
    )  # fmt: skip
    second = vaccination_record(
        animal=dog, product=rabies, batch="RB-2291", batch_expiry=in_days(300), manufacturer="Zoetis", by=vet_user
    )
    body = render_certificate(dog)
    keep_png(body, "clinical-certificate", tmp_path)
    flat = squash(pdf_text(body, tmp_path))
    assert "Vaccination certificate" in flat and dog.owner.display_name in flat
    assert "985141000123456" in flat and dog.name in flat
    assert "RB-1001" in flat and "RB-2291" in flat and "Zoetis" in flat
    due = second.next_due_on
    assert f"{due.day} {due:%b %Y}" in flat
    assert flat.index("RB-1001") < flat.index("RB-2291")  # oldest first
    assert "Victor Vet" in flat and "Riverside Veterinary Practice" in flat
    assert first.next_due_on is not None


def test_certificate_of_an_unvaccinated_animal_says_so(dog, tmp_path):
    assert "No vaccinations of" in pdf_text(render_certificate(dog), tmp_path)


@pytest.fixture
def signed_history(dog, vet_user, otitis):
    """Two signed consultations a month apart (one with an addendum), a weight, a problem."""
    older = consultation_open(animal=dog, by=vet_user)
    Consultation.objects.filter(pk=older.pk).update(opened_at=timezone.now() - dt.timedelta(days=40))
    older.refresh_from_db()
    consultation_save_draft(
        consultation=older, by=vet_user,
        data={"complaint": "Shaking head", "examination": "Left ear canal red, waxy", "plan": "Ear drops 7 days"},
    )  # fmt: skip
    consultation_record_vitals(consultation=older, by=vet_user, weight_kg=D("31.4"), temperature_c=D("38.7"))
    consultation_set_diagnoses(consultation=older, by=vet_user, diagnoses=[(otitis, "confirmed")])
    consultation_sign(consultation=older, by=vet_user)
    addendum_add(consultation=older, by=vet_user, text="Owner reports the drops were stopped on day 5.")
    newer = consultation_open(animal=dog, by=vet_user)
    consultation_save_draft(consultation=newer, by=vet_user, data={"complaint": "Recheck ears", "plan": "Resolved"})
    consultation_sign(consultation=newer, by=vet_user)
    problem_save(by=vet_user, animal=dog, data={"diagnosis": otitis, "status": "chronic", "onset": days_ago(40)})
    return older, newer


def test_history_pdf_of_a_period_with_notes_addenda_and_problems(dog, signed_history, tmp_path):
    body = render_history(dog, since=days_ago(60), until=timezone.localdate())
    keep_png(body, "clinical-history", tmp_path)
    flat = squash(pdf_text(body, tmp_path))
    assert "Clinical history" in flat and dog.name in flat and dog.owner.display_name in flat
    assert "Current problems" in flat and "Otitis externa (chronic" in flat
    assert "Shaking head" in flat and "Left ear canal red, waxy" in flat and "Ear drops 7 days" in flat
    assert "weight 31.4 kg" in flat and "T 38.7 °C" in flat
    assert "Owner reports the drops were stopped on day 5." in flat
    assert flat.index("Shaking head") < flat.index("Recheck ears")  # oldest first
    only_recent = squash(pdf_text(render_history(dog, since=days_ago(10)), tmp_path, name="recent.pdf"))
    assert "Recheck ears" in only_recent and "Shaking head" not in only_recent


def test_history_pdf_leaves_notes_out_for_whom_may_not_read_them(dog, signed_history, receptionist, tmp_path, settings):
    from django.test import Client as HttpClient

    http = HttpClient()
    http.force_login(receptionist)
    response = http.get(reverse("clinical:history_pdf", args=[dog.pk]), {"since": days_ago(60).isoformat()})
    flat = squash(pdf_text(response.content, tmp_path))
    assert "Otitis externa" in flat and "Shaking head" not in flat and "not included" in flat
    bad = http.get(reverse("clinical:history_pdf", args=[dog.pk]), {"since": "2024-13-45"})
    assert bad.status_code == 200  # a malformed date is dropped, the whole history prints


def test_claim_form_gains_the_consultations_and_conditions_of_its_dates(
    dog, signed_history, vet_user, receptionist, consult_fee, tmp_path
):
    from invoicing.services import invoice_add_line

    older, _ = signed_history
    payor = Payor.objects.create(name="Petsure Insurance", address="PO Box 12\nLeeds LS1 1AA")
    policy = Policy.objects.create(
        animal=dog, payor=payor, policy_number="PS-1", starts_on=days_ago(100), ends_on=in_days(200), excess=D("0")
    )
    invoice = invoice_draft_for(client=dog.owner, by=receptionist)
    visit_day = timezone.localtime(older.opened_at).date()
    line = invoice_add_line(
        invoice=invoice, by=receptionist, product=consult_fee, quantity=D(1), animal=dog, service_date=visit_day
    )
    invoice = invoice_finalise(invoice=invoice, by=receptionist)
    claim = claim_create(invoice=invoice, policy=policy, lines=[line], by=receptionist)
    body = render_claim_form(claim)
    keep_png(body, "clinical-claim", tmp_path)
    flat = squash(pdf_text(body, tmp_path))
    assert "Clinical details" in flat
    assert f"{visit_day:%d/%m/%Y}" in flat and "Shaking head" in flat and "Otitis externa" in flat
    assert "Recheck ears" not in flat  # another day's consultation
    assert "Conditions on record" in flat and "Chronic" in flat


def test_certificate_and_history_pages_per_role(dog, signed_history, receptionist, nurse, nobody):
    from django.test import Client as HttpClient

    for user, allowed in ((receptionist, True), (nurse, True), (nobody, False)):
        http = HttpClient()
        http.force_login(user)
        certificate = http.get(reverse("clinical:certificate", args=[dog.pk]))
        history = http.get(reverse("clinical:history_pdf", args=[dog.pk]))
        assert (certificate.status_code == 200) is allowed and (history.status_code == 200) is allowed
    assert HttpClient().get(reverse("clinical:certificate", args=[dog.pk])).status_code == 302
