"""Subject access: one owner's data as JSON and as a readable PDF, holding every kind of record the practice
keeps about them, and only theirs."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from exchange.datarights import selectors
from exchange.datarights.pdf import render_subject_access
from tests.exchange.datarights.conftest import ADDRESS, EMAIL, FIRST, LAST, POSTCODE, make_owner
from tests.factories import AnimalFactory

pytestmark = pytest.mark.django_db


def test_the_copy_holds_every_kind_of_record(household, manager):
    data = selectors.subject_access(client=household.owner, by=manager)
    contact = data["contact"]
    assert (contact["first_name"], contact["last_name"], contact["email"]) == (FIRST, LAST, EMAIL)
    assert contact["phones"]["mobile_phone"] == "07400 634502"
    assert ADDRESS in contact["address"] and POSTCODE in contact["address"]
    assert data["consents"]["reminder_emails"] is True
    (dog,) = data["animals"]
    assert dog["name"] == "Biscuit" and dog["species"] == "Dog"
    history = dog["clinical_history"]
    (consultation,) = history["consultations"]
    assert consultation["complaint"] == "Limping on the left fore" and consultation["status"] == "signed"
    (appointment,) = data["appointments"]
    assert appointment["animal"] == "Biscuit" and appointment["status"] == "completed"
    (invoice,) = data["invoices"]
    assert invoice["reference"] == household.invoice.reference and invoice["gross"] == "54.00"
    assert LAST in invoice["name_on_document"]
    assert [line["description"] for line in invoice["lines"]] == ["Consultation"]
    (payment,) = data["payments"]
    assert payment["amount"] == "54.00" and payment["method"] == "card"
    assert data["balance"] == "0.00"
    (reminder,) = data["reminders"]
    assert reminder["type"] == "Booster" and reminder["animal"] == "Biscuit"
    (email,) = data["emails_sent"]
    assert email["to"] == EMAIL and email["status"] == "sent" and email["subject"].startswith("Reminder for Mr")
    actions = {(entry["record"].split()[0], entry["action"]) for entry in data["audit"]}
    assert {("client", "create"), ("client", "update"), ("client", "payment"), ("animal", "create")} <= actions
    assert {("invoice", "finalise"), ("consultation", "signed"), ("appointment", "book")} <= actions


def test_another_owners_records_are_not_in_the_copy(household, manager, receptionist):
    other = make_owner(receptionist, first_name="Ottoline", last_name="Ferrabee", email="o.f@example.org",
                       mobile_phone="07400 634999", postcode="WX1 1AA", confirm_new=True)  # fmt: skip
    AnimalFactory(owner=other, name="Pudding")
    text = json.dumps(selectors.subject_access(client=household.owner, by=manager))
    assert "Ferrabee" not in text and "Pudding" not in text and "Ottoline" not in text


def test_the_clinical_history_is_left_out_when_the_practice_does_not_share_it(household, manager, settings):
    settings.DATA_RIGHTS_SHARE_CLINICAL = False
    data = selectors.subject_access(client=household.owner, by=manager)
    assert data["clinical_history_included"] is False
    assert "clinical_history" not in data["animals"][0]
    assert "Limping" not in json.dumps(data)
    text = _pdf_text(render_subject_access(data))
    assert "clinical history is not part of this copy" in text


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run([tool, "-layout", "-", "-"], input=content, capture_output=True, check=True)  # noqa: S603
    return done.stdout.decode()


def test_the_pdf_reads_as_the_json_says(household, manager):
    data = selectors.subject_access(client=household.owner, by=manager)
    text = _pdf_text(render_subject_access(data))
    for expected in [
        "Your data",
        f"Mr {FIRST} {LAST}",
        EMAIL,
        ADDRESS,
        "Biscuit",
        "Limping on the left fore",
        household.invoice.reference,
        "£54.00",
        "Booster",
        "Reminder for Mr",
        "Animals (1)",
        "Appointments (1)",
        "Payments (1)",
        "Reminder emails and follow-up calls (1)",
    ]:
        assert expected in text, expected


def test_the_downloads_on_the_page_and_the_api_agree(household, as_manager, manager, bearer):
    pk = household.owner.pk
    page = as_manager.get(f"/exchange/data-rights/clients/{pk}/subject-access.json")
    assert page.status_code == 200 and page["Content-Type"].startswith("application/json")
    assert "attachment" in page["Content-Disposition"]
    from_page = json.loads(page.content)
    api = as_manager.get(f"/api/v1/data-rights/clients/{pk}/subject-access", headers=bearer(manager))
    assert api.status_code == 200
    from_api = api.json()
    for copy in (from_page, from_api):
        copy.pop("produced_at")
    assert from_page == from_api
    pdf = as_manager.get(f"/exchange/data-rights/clients/{pk}/subject-access.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api_pdf = as_manager.get(f"/api/v1/data-rights/clients/{pk}/subject-access/pdf", headers=bearer(manager))
    assert api_pdf.status_code == 200 and api_pdf.content.startswith(b"%PDF")
