"""The clinical pages per role: starting a consultation, the consultation page (autosave, vitals, diagnoses,
vaccination, dispensing, charges, files, signing, addenda), problems, the unsigned list. Everything goes through
the real views, services and database."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from PIL import Image

from appointments.models import Appointment, AppointmentStatus
from clinical.models import Attachment, Consultation, Prescription, Problem, ProductSpecies, QuickText, Vaccination
from clinical.services import consultation_save_draft, consultation_sign, problem_save
from invoicing.models import InvoiceLine, Product
from tests.clinical.conftest import days_ago, in_days
from tests.factories import species

HTMX = {"HTTP_HX_REQUEST": "true"}


def _as(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _png(size=(64, 48)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "radiograph.png"
    return buffer


# --- Starting -----------------------------------------------------------------------------------------------------


def test_day_list_offers_start_to_clinicians_only(appointment, vet_user, receptionist, nurse):
    url = reverse("appointments:day_list") + f"?vet={appointment.vet_id}&date={appointment.start.date().isoformat()}"
    start = reverse("clinical:start", args=[appointment.pk])
    assert start in _as(vet_user).get(url).content.decode()
    assert start in _as(nurse).get(url).content.decode()
    assert start not in _as(receptionist).get(url).content.decode()


def test_start_consultation_is_one_click_and_moves_the_appointment(appointment, vet_user):
    response = _as(vet_user).post(reverse("clinical:start", args=[appointment.pk]))
    consultation = Consultation.objects.get(appointment=appointment)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("clinical:consultation", args=[consultation.pk])
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_CONSULTATION
    # A second click opens the same consultation.
    again = _as(vet_user).post(reverse("clinical:start", args=[appointment.pk]))
    assert again["Location"] == response["Location"]
    assert Consultation.objects.filter(appointment=appointment).count() == 1


def test_start_is_refused_for_a_receptionist_and_a_get(appointment, vet_user, receptionist):
    assert _as(receptionist).post(reverse("clinical:start", args=[appointment.pk])).status_code == 403
    assert _as(vet_user).get(reverse("clinical:start", args=[appointment.pk])).status_code == 405
    assert not Consultation.objects.exists()


def test_day_list_links_the_open_consultation_and_shows_alerts(consultation, vet_user):
    problem_save(by=vet_user, animal=consultation.animal, data={"condition": "Bites when restrained", "is_alert": True})
    url = reverse("appointments:day_list") + f"?vet={consultation.vet_id}&date={consultation.appointment.start.date()}"
    page = _as(vet_user).get(url).content.decode()
    assert reverse("clinical:consultation", args=[consultation.pk]) in page
    assert "Consultation (draft)" in page
    assert "Bites when restrained" in page


def test_walk_in_from_the_animal_page(dog, vet_user, nurse, receptionist):
    page = _as(vet_user).get(reverse("animals:detail", args=[dog.pk])).content.decode()
    assert reverse("clinical:walk_in", args=[dog.pk]) in page
    response = _as(vet_user).post(reverse("clinical:walk_in", args=[dog.pk]))
    consultation = Consultation.objects.get(animal=dog)
    assert response["Location"] == reverse("clinical:consultation", args=[consultation.pk])
    assert consultation.appointment is None and consultation.vet.user == vet_user
    # A nurse names the vet; the receptionist cannot start one.
    _as(nurse).post(reverse("clinical:walk_in", args=[dog.pk]), {"vet": vet_user.vet.pk})
    assert Consultation.objects.filter(animal=dog, opened_by=nurse, vet=vet_user.vet).exists()
    assert _as(receptionist).post(reverse("clinical:walk_in", args=[dog.pk])).status_code == 403
    assert (
        reverse("clinical:walk_in", args=[dog.pk])
        not in _as(receptionist).get(reverse("animals:detail", args=[dog.pk])).content.decode()
    )


# --- The page per role --------------------------------------------------------------------------------------------


@pytest.fixture
def noted(consultation, vet_user):
    return consultation_save_draft(
        consultation=consultation, by=vet_user, data={"complaint": "Scratching the left ear for a week"}
    )


def test_vet_sees_editable_notes_and_the_sign_button(noted, vet_user):
    page = _as(vet_user).get(reverse("clinical:consultation", args=[noted.pk])).content.decode()
    assert 'name="complaint"' in page and "Scratching the left ear" in page
    assert reverse("clinical:sign", args=[noted.pk]) in page
    assert reverse("clinical:prescription_add", args=[noted.pk]) in page


def test_nurse_drafts_notes_but_cannot_sign_or_prescribe(noted, nurse, amoxicillin):
    http = _as(nurse)
    page = http.get(reverse("clinical:consultation", args=[noted.pk])).content.decode()
    assert 'name="complaint"' in page
    assert reverse("clinical:sign", args=[noted.pk]) not in page
    assert reverse("clinical:prescription_add", args=[noted.pk]) not in page
    assert http.post(reverse("clinical:sign", args=[noted.pk])).status_code == 403
    post = {"product": amoxicillin.pk, "dose": "1 ml", "frequency": "twice daily", "quantity": "10", "repeats": "0"}
    assert http.post(reverse("clinical:prescription_add", args=[noted.pk]), post).status_code == 403
    assert not Prescription.objects.exists()
    saved = http.post(reverse("clinical:autosave", args=[noted.pk]), {"plan": "Recheck in a week"}, **HTMX)
    assert saved.status_code == 200
    noted.refresh_from_db()
    assert noted.plan == "Recheck in a week"


def test_receptionist_sees_the_record_but_not_the_note_text(noted, receptionist, settings):
    http = _as(receptionist)
    page = http.get(reverse("clinical:consultation", args=[noted.pk])).content.decode()
    assert "Scratching the left ear" not in page
    assert "clinical staff only" in page
    assert 'name="complaint"' not in page
    assert http.post(reverse("clinical:autosave", args=[noted.pk]), {"plan": "x"}).status_code == 403
    settings.CLINICAL_NOTES_FOR_RECEPTION = True
    assert "Scratching the left ear" in http.get(reverse("clinical:consultation", args=[noted.pk])).content.decode()


def test_manager_reads_everything_and_changes_nothing(noted, manager):
    page = _as(manager).get(reverse("clinical:consultation", args=[noted.pk])).content.decode()
    assert "Scratching the left ear" in page
    assert 'name="complaint"' not in page
    assert reverse("clinical:sign", args=[noted.pk]) not in page


def test_no_role_and_unknown_ids(noted, nobody, vet_user):
    assert _as(nobody).get(reverse("clinical:consultation", args=[noted.pk])).status_code == 403
    http = _as(vet_user)
    for name in ("clinical:consultation", "clinical:label"):
        assert http.get(reverse(name, args=[987654])).status_code == 404
    assert http.get(reverse("clinical:consultation", args=[2**40])).status_code == 404
    assert http.post(reverse("clinical:start", args=[2**40])).status_code == 404
    assert http.get(reverse("clinical:history", args=[987654])).status_code == 404
    assert http.post(reverse("clinical:diagnosis_add", args=[noted.pk]), {"diagnosis": "abc"}).status_code == 404


# --- Autosave, quick texts, vitals --------------------------------------------------------------------------------


def test_autosave_saves_each_box_and_refuses_a_signed_record(noted, vet_user):
    http = _as(vet_user)
    response = http.post(
        reverse("clinical:autosave", args=[noted.pk]), {"examination": "Erythema, brown discharge"}, **HTMX
    )
    assert response.status_code == 200 and "Saved" in response.content.decode()
    noted.refresh_from_db()
    assert noted.examination == "Erythema, brown discharge"
    assert noted.complaint == "Scratching the left ear for a week"  # the other boxes are untouched
    consultation_sign(consultation=noted, by=vet_user)
    refused = http.post(reverse("clinical:autosave", args=[noted.pk]), {"examination": "changed"}, **HTMX)
    assert refused.status_code == 409 and "signed" in refused.content.decode()
    noted.refresh_from_db()
    assert noted.examination == "Erythema, brown discharge"
    assert http.post(reverse("clinical:autosave", args=[noted.pk]), {}, **HTMX).status_code == 400


def test_quick_texts_of_the_type_are_offered_in_their_section(consultation, vet_user, consult):
    QuickText.objects.create(title="Ears normal", section="objective", text="Both ear canals clean.")
    QuickText.objects.create(title="Dental plan", section="plan", text="Scale and polish.", appointment_type=None)
    QuickText.objects.create(title="Other type", section="plan", text="Never here.", appointment_type=_other_type())
    page = _as(vet_user).get(reverse("clinical:consultation", args=[consultation.pk])).content.decode()
    assert 'data-quick-target="id_examination" data-quick-text="Both ear canals clean."' in page
    assert 'data-quick-target="id_plan" data-quick-text="Scale and polish."' in page
    assert "Never here." not in page


def _other_type():
    from appointments.models import AppointmentType

    return AppointmentType.objects.create(name="Surgery", default_minutes=60, colour="#aa0000")


def _vitals(**values) -> dict:
    base = {name: "" for name in ("weight_kg", "temperature_c", "heart_rate", "respiratory_rate")}
    return base | {k: str(v) for k, v in values.items()}


def test_vitals_ask_to_confirm_an_unusual_weight_and_refuse_the_impossible(chihuahua, vet_user):
    from clinical.services import consultation_open

    consultation = consultation_open(animal=chihuahua, by=vet_user)
    http = _as(vet_user)
    url = reverse("clinical:vitals", args=[consultation.pk])
    asked = http.post(url, _vitals(weight_kg="32", temperature_c="38.6"), **HTMX).content.decode()
    assert "tick the box" in asked and 'name="confirm"' in asked
    consultation.refresh_from_db()
    assert consultation.weight is None and consultation.temperature_c is None
    impossible = http.post(url, _vitals(temperature_c="60"), **HTMX).content.decode()
    assert "is-invalid" in impossible
    consultation.refresh_from_db()
    assert consultation.temperature_c is None
    http.post(url, _vitals(weight_kg="32", temperature_c="38.6", confirm="on"), **HTMX)
    consultation.refresh_from_db()
    assert consultation.weight.kg == Decimal("32") and consultation.temperature_c == Decimal("38.6")
    assert chihuahua.weights.get().kg == Decimal("32")  # the animal's weight history, not a copy


# --- Diagnoses --------------------------------------------------------------------------------------------------


def test_diagnosis_search_add_and_remove(consultation, vet_user, otitis, gastritis):
    http = _as(vet_user)
    found = http.get(reverse("clinical:diagnosis_search"), {"q": "otit", "consultation": consultation.pk}, **HTMX)
    assert "Otitis externa" in found.content.decode() and "Gastritis" not in found.content.decode()
    by_code = http.get(reverse("clinical:diagnosis_search"), {"q": "123"}).content.decode()
    assert "Otitis externa" in by_code
    card = http.post(
        reverse("clinical:diagnosis_add", args=[consultation.pk]),
        {"diagnosis": otitis.pk, "certainty": "suspected"},
        **HTMX,
    ).content.decode()
    assert "Otitis externa" in card and "Suspected" in card
    http.post(reverse("clinical:diagnosis_add", args=[consultation.pk]), {"diagnosis": gastritis.pk}, **HTMX)
    links = consultation.diagnosis_links.order_by("position")
    assert [(link.diagnosis.name, link.certainty) for link in links] == [
        ("Otitis externa", "suspected"),
        ("Gastritis", "confirmed"),
    ]
    http.post(reverse("clinical:diagnosis_remove", args=[consultation.pk]), {"diagnosis": otitis.pk}, **HTMX)
    assert list(consultation.diagnoses.values_list("name", flat=True)) == ["Gastritis"]


# --- Vaccination, dispensing, charges ----------------------------------------------------------------------------


def _vaccination_post(product, **over) -> dict:
    return {
        "product": product.pk,
        "manufacturer": "Zoetis",
        "batch": "RB-2291",
        "batch_expiry": in_days(200).isoformat(),
        "route": "sc",
        "site": "scruff",
        "given_on": dt.date.today().isoformat(),
        "next_due_on": "",
        "charge": "on",
    } | over


def test_vaccination_form_refuses_an_expired_batch_and_records_a_good_one(consultation, vet_user, rabies, rabies_type):
    http = _as(vet_user)
    page = http.get(reverse("clinical:consultation", args=[consultation.pk])).content.decode()
    due = rabies_type.next_due(dt.date.today())
    assert f'data-next-due="{due.isoformat()}"' in page  # the vaccine's interval, filled in by the page's script
    url = reverse("clinical:vaccination_add", args=[consultation.pk])
    refused = http.post(url, _vaccination_post(rabies, batch_expiry=days_ago(3).isoformat()))
    assert refused.status_code == 422 and "expired" in refused.content.decode()
    assert not Vaccination.objects.exists()
    done = http.post(url, _vaccination_post(rabies))
    assert done.status_code == 302
    vaccination = Vaccination.objects.get()
    assert (vaccination.batch, vaccination.next_due_on, vaccination.consultation) == ("RB-2291", due, consultation)
    assert vaccination.invoice_line is not None and vaccination.invoice_line.invoice.status == "draft"


def test_vet_dispenses_charges_and_prints_the_label(consultation, vet_user, amoxicillin):
    http = _as(vet_user)
    found = http.get(
        reverse("clinical:product_search", args=[consultation.pk]), {"q": "amox", "for": "medicine"}, **HTMX
    ).content.decode()
    assert f'data-pick-value="{amoxicillin.pk}"' in found
    post = {
        "product": amoxicillin.pk,
        "strength": "50 mg/ml",
        "dose": "1 ml",
        "route": "po",
        "frequency": "twice daily",
        "duration": "7 days",
        "quantity": "14",
        "instructions": "Give with food",
        "repeats": "1",
        "charge": "on",
    }
    response = http.post(reverse("clinical:prescription_add", args=[consultation.pk]), post)
    assert response.status_code == 302
    prescription = Prescription.objects.get()
    assert prescription.invoice_line.quantity == Decimal("14")
    page = http.get(reverse("clinical:consultation", args=[consultation.pk])).content.decode()
    assert reverse("clinical:label", args=[prescription.pk]) in page
    label = http.get(reverse("clinical:label", args=[prescription.pk]))
    assert label["Content-Type"] == "application/pdf" and label.content.startswith(b"%PDF")


def test_dispense_form_errors_stay_on_the_page(consultation, vet_user):
    response = _as(vet_user).post(reverse("clinical:prescription_add", args=[consultation.pk]), {"dose": "1"})
    assert response.status_code == 422
    assert "Search for the medicine and pick it." in response.content.decode()


def test_charges_panel_offers_what_fits_the_species_and_adds_a_line(consultation, vet_user, consult_fee, standard):
    cat_food = Product.objects.create(
        code="CATF", name="Cat food senior", category="retail", unit_price=Decimal("9.99"), tax_category=standard
    )
    ProductSpecies.objects.create(product=cat_food, species=species("Cat"))
    http = _as(vet_user)
    usual = http.get(reverse("clinical:product_search", args=[consultation.pk]), {"usual": "1"}, **HTMX)
    assert "Most used for dogs" in usual.content.decode() and "Cat food senior" not in usual.content.decode()
    assert 'Charge </span><span class="fw-semibold">Consultation' in usual.content.decode()
    results = http.get(reverse("clinical:product_search", args=[consultation.pk]), {"q": "food"}, **HTMX)
    assert "Cat food senior" not in results.content.decode()
    card = http.post(reverse("clinical:charge_add", args=[consultation.pk]), {"product": consult_fee.pk}, **HTMX)
    line = InvoiceLine.objects.get()
    assert (line.product, line.animal, line.appointment) == (consult_fee, consultation.animal, consultation.appointment)
    assert "£54.00" in card.content.decode()  # 45.00 + 20 % tax, shown in the panel
    bad = http.post(
        reverse("clinical:charge_add", args=[consultation.pk]), {"product": consult_fee.pk, "quantity": "x"}
    )
    assert bad.status_code == 302 and InvoiceLine.objects.count() == 1


# --- Signing and addenda ----------------------------------------------------------------------------------------


def test_only_the_consultations_vet_signs_then_only_addenda(noted, vet_user, other_vet):
    other = _as(other_vet)
    other.post(reverse("clinical:sign", args=[noted.pk]))
    noted.refresh_from_db()
    assert not noted.is_signed
    http = _as(vet_user)
    http.post(reverse("clinical:sign", args=[noted.pk]))
    noted.refresh_from_db()
    assert noted.is_signed
    noted.appointment.refresh_from_db()
    assert noted.appointment.status == AppointmentStatus.COMPLETED
    page = http.get(reverse("clinical:consultation", args=[noted.pk])).content.decode()
    assert 'name="complaint"' not in page and "Scratching the left ear" in page
    assert reverse("clinical:vaccination_add", args=[noted.pk]) not in page
    http.post(reverse("clinical:addendum_add", args=[noted.pk]), {"text": "Culture result: Malassezia."})
    page = http.get(reverse("clinical:consultation", args=[noted.pk])).content.decode()
    assert "Culture result: Malassezia." in page and "Victor" in page


def test_signing_an_empty_record_is_refused_with_a_message(consultation, vet_user):
    response = _as(vet_user).post(reverse("clinical:sign", args=[consultation.pk]), follow=True)
    assert "before signing" in response.content.decode()
    consultation.refresh_from_db()
    assert not consultation.is_signed


# --- Attachments --------------------------------------------------------------------------------------------------


def test_upload_thumbnail_and_permission_checked_download(consultation, vet_user, receptionist, nobody):
    http = _as(vet_user)
    url = reverse("clinical:attachment_add", args=[consultation.animal_id])
    response = http.post(
        url, {"file": _png(), "title": "Lateral thorax", "kind": "radiograph", "consultation": consultation.pk}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    page = http.get(reverse("clinical:consultation", args=[consultation.pk])).content.decode()
    assert reverse("clinical:thumbnail", args=[attachment.pk]) in page
    thumb = _as(receptionist).get(reverse("clinical:thumbnail", args=[attachment.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    full = _as(receptionist).get(reverse("clinical:attachment", args=[attachment.pk]))
    assert b"".join(full.streaming_content).startswith(b"\x89PNG")
    assert full["X-Content-Type-Options"] == "nosniff"
    assert _as(nobody).get(reverse("clinical:attachment", args=[attachment.pk])).status_code == 403
    assert HttpClient().get(reverse("clinical:attachment", args=[attachment.pk])).status_code == 302  # to login


def test_upload_refuses_other_types_and_sizes(consultation, vet_user, settings):
    http = _as(vet_user)
    url = reverse("clinical:attachment_add", args=[consultation.animal_id])
    text = io.BytesIO(b"MZ\x90\x00 not a document")
    text.name = "report.pdf"
    refused = http.post(url, {"file": text, "title": "x", "kind": "lab", "consultation": consultation.pk})
    assert refused.status_code == 422 and "Only PDF, JPEG and PNG" in refused.content.decode()
    settings.ATTACHMENT_MAX_BYTES = 100
    big = http.post(url, {"file": _png((300, 300)), "title": "x", "kind": "photo", "consultation": consultation.pk})
    assert big.status_code == 422 and "larger than the limit" in big.content.decode()
    assert not Attachment.objects.exists()


# --- Problems -----------------------------------------------------------------------------------------------------


def test_problem_list_on_the_animal_page(dog, vet_user, receptionist, otitis):
    http = _as(vet_user)
    response = http.post(
        reverse("clinical:problem_add", args=[dog.pk]),
        {
            "diagnosis_id": otitis.pk,
            "condition": "",
            "onset": days_ago(30).isoformat(),
            "status": "chronic",
            "is_alert": "",
        },
    )
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert (problem.condition, problem.status, problem.diagnosis) == ("Otitis externa", "chronic", otitis)
    page = _as(receptionist).get(reverse("animals:detail", args=[dog.pk])).content.decode()
    assert "Otitis externa" in page
    assert reverse("clinical:problem_add", args=[dog.pk]) not in page  # receptionists read the list only
    assert _as(receptionist).get(reverse("clinical:problem_add", args=[dog.pk])).status_code == 403
    http.post(
        reverse("clinical:problem_edit", args=[problem.pk]),
        {"condition": "Otitis externa", "status": "resolved", "resolved_on": "", "onset": days_ago(30).isoformat()},
    )
    problem.refresh_from_db()
    assert problem.status == "resolved" and problem.resolved_on is not None
    future = http.post(
        reverse("clinical:problem_add", args=[dog.pk]),
        {"condition": "Lame", "onset": in_days(3).isoformat(), "status": "active"},
    )
    assert future.status_code == 200 and "future" in future.content.decode()


# --- Unsigned list ------------------------------------------------------------------------------------------------


def test_unsigned_list_for_the_vet_and_the_manager(noted, vet_user, manager, receptionist, other_vet):
    Consultation.objects.filter(pk=noted.pk).update(opened_at=noted.opened_at - dt.timedelta(days=2))
    url = reverse("clinical:unsigned")
    assert noted.animal.name in _as(vet_user).get(url).content.decode()
    assert noted.animal.name not in _as(other_vet).get(url).content.decode()
    assert noted.animal.name in _as(other_vet).get(url + "?all=1").content.decode()
    assert noted.animal.name in _as(manager).get(url).content.decode()
    assert _as(receptionist).get(url).status_code == 403
    day_list = _as(vet_user).get(reverse("appointments:day_list")).content.decode()
    assert "1 consultation unsigned for more than a day" in day_list


def test_appointment_in_consultation_keeps_the_day_list_query_count(
    vet_user, book, monday, django_assert_max_num_queries
):
    """The clinical flags add two queries to the day list whatever the number of rows."""
    from clinical.services import consultation_open
    from tests.appointments.conftest import at

    def count(n: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            _as(vet_user).get(reverse("appointments:day_list") + f"?date={monday.isoformat()}")
        return len(ctx.captured_queries)

    first = book(at(monday, 9), minutes=15)
    consultation_open(appointment=first, by=vet_user)
    few = count(1)
    for hour in (10, 11, 12, 14, 15):
        consultation_open(appointment=book(at(monday, hour), minutes=15), by=vet_user)
    assert count(6) == few
    assert Appointment.objects.count() == 6


def test_a_file_attached_on_the_animal_page(dog, receptionist, nurse):
    http = _as(receptionist)
    page = http.get(reverse("animals:detail", args=[dog.pk])).content.decode()
    assert reverse("clinical:attachment_add", args=[dog.pk]) in page
    response = http.post(
        reverse("clinical:attachment_add", args=[dog.pk]), {"file": _png(), "title": "Consent", "kind": "consent"}
    )
    assert response["Location"] == reverse("animals:detail", args=[dog.pk]) + "#attachments"
    attachment = Attachment.objects.get()
    assert attachment.consultation is None and attachment.uploaded_by == receptionist
    history = _as(nurse).get(reverse("clinical:history", args=[dog.pk])).content.decode()
    assert reverse("clinical:attachment", args=[attachment.pk]) in history
    refused = http.post(reverse("clinical:attachment_add", args=[dog.pk]), {"title": "x", "kind": "lab"}, follow=True)
    assert "Not attached" in refused.content.decode()
