"""/api/v1 clinical endpoints: the error contract (409 on a signed record, 422 bad input, 403 per role, 404) and
what each role may read and do."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from clinical.models import Attachment, Consultation
from clinical.services import consultation_save_draft, consultation_sign
from tests.clinical.conftest import in_days

pytestmark = pytest.mark.django_db

ALL = ["receptionist", "vet_user", "nurse", "manager", "nobody"]


def _signed(consultation, vet_user):
    consultation_save_draft(consultation=consultation, by=vet_user, data={"examination": "Secret findings"})
    return consultation_sign(consultation=consultation, by=vet_user)


def test_anonymous_is_401(anonymous, walk_in):
    assert anonymous.get(f"/api/v1/consultations/{walk_in.pk}").status_code == 401


def test_open_from_an_appointment_is_idempotent(api_as, vet_user, appointment):
    api = api_as(vet_user)
    first = api.post("/api/v1/consultations", {"appointment": appointment.pk})
    assert first.status_code == 201, first.content
    second = api.post("/api/v1/consultations", {"appointment": appointment.pk})
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert Consultation.objects.count() == 1


def test_open_needs_something_and_unknown_ids_are_422(api_as, vet_user):
    api = api_as(vet_user)
    assert api.post("/api/v1/consultations", {}).status_code == 422
    response = api.post("/api/v1/consultations", {"animal": 999999})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "animal"]


def test_draft_patch_and_the_confirm_contract(api_as, vet_user, chihuahua):
    api = api_as(vet_user)
    consultation_id = api.post("/api/v1/consultations", {"animal": chihuahua.pk}).json()["id"]
    url = f"/api/v1/consultations/{consultation_id}"
    response = api.patch(url, {"complaint": "Limping", "temperature_c": "38.7"})
    assert response.status_code == 200 and response.json()["complaint"] == "Limping"
    assert response.json()["temperature_c"] == "38.7"
    unusual = api.patch(url, {"weight_kg": "32"})
    assert unusual.status_code == 409 and unusual.json()["code"] == "confirm_required"
    assert unusual.json()["field"] == "weight_kg"
    assert api.patch(url, {"weight_kg": "32", "confirm": True}).json()["weight_kg"] == "32.000"
    impossible = api.patch(url, {"heart_rate": 0, "confirm": True})
    assert impossible.status_code == 422
    assert api.patch(url, {"body_condition_score": 12}).status_code == 422
    assert api.patch(url, {"not_a_field": "x"}).status_code == 422


def test_a_signed_consultation_is_409_everywhere(api_as, vet_user, walk_in, otitis):
    _signed(walk_in, vet_user)
    api = api_as(vet_user)
    url = f"/api/v1/consultations/{walk_in.pk}"
    for response in (
        api.patch(url, {"plan": "rewrite"}),
        api.http.put(
            url + "/diagnoses",
            data={"diagnoses": [{"diagnosis": otitis.pk}]},
            content_type="application/json",
            headers=api.headers,
        ),
        api.post(url + "/sign"),
    ):
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "signed"
    addendum = api.post(url + "/addenda", {"text": "Owner phoned: better."})
    assert addendum.status_code == 201 and addendum.json()["author"] == str(vet_user)
    detail = api.get(url).json()
    assert detail["status"] == "signed" and [a["text"] for a in detail["addenda"]] == ["Owner phoned: better."]


def test_another_vet_cannot_sign_and_a_nurse_has_no_sign_permission(api_as, vet_user, other_vet, nurse, walk_in):
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"examination": "Fine"})
    assert api_as(other_vet).post(f"/api/v1/consultations/{walk_in.pk}/sign").status_code == 403
    assert api_as(nurse).post(f"/api/v1/consultations/{walk_in.pk}/sign").status_code == 403
    assert api_as(vet_user).post(f"/api/v1/consultations/{walk_in.pk}/sign").status_code == 200


@pytest.mark.parametrize("role", ALL)
def test_who_reads_the_notes(api_for, role, walk_in, vet_user, settings):
    _signed(walk_in, vet_user)
    response = api_for(role).get(f"/api/v1/consultations/{walk_in.pk}")
    if role == "nobody":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    body = response.json()
    if role == "receptionist":
        assert body["notes_visible"] is False and body["examination"] is None
    else:
        assert body["notes_visible"] is True and body["examination"] == "Secret findings"


def test_the_practice_may_let_receptionists_read_notes(api_as, receptionist, walk_in, vet_user, settings):
    _signed(walk_in, vet_user)
    settings.CLINICAL_NOTES_FOR_RECEPTION = True
    assert api_as(receptionist).get(f"/api/v1/consultations/{walk_in.pk}").json()["examination"] == "Secret findings"


@pytest.mark.parametrize(
    ("role", "status"), [("receptionist", 403), ("vet_user", 201), ("nurse", 201), ("manager", 403), ("nobody", 403)]
)
def test_who_opens_consultations(api_for, role, status, dog, vet_user):
    response = api_for(role).post("/api/v1/consultations", {"animal": dog.pk, "vet": vet_user.vet.pk})
    assert response.status_code == status, response.content


def test_unknown_consultation_is_404(api_as, vet_user):
    assert api_as(vet_user).get("/api/v1/consultations/987654").status_code == 404
    assert api_as(vet_user).get("/api/v1/consultations/99999999999999999999").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [("receptionist", 403), ("vet_user", 201), ("nurse", 403), ("manager", 403)]
)
def test_only_vets_prescribe(api_for, role, status, dog, amoxicillin):
    body = {"animal": dog.pk, "product": amoxicillin.pk, "dose": "1 ml", "frequency": "daily", "quantity": "10"}
    response = api_for(role).post("/api/v1/prescriptions", body)
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["invoice_line_id"] is not None and response.json()["quantity"] == "10"


def test_repeats_run_out_with_a_409(api_as, vet_user, nurse, dog, amoxicillin):
    body = {"animal": dog.pk, "product": amoxicillin.pk, "dose": "1 ml", "frequency": "daily", "quantity": "10"}
    original = api_as(vet_user).post("/api/v1/prescriptions", {**body, "repeats": 1}).json()
    url = f"/api/v1/prescriptions/{original['id']}/repeats"
    first = api_as(nurse).post(url, {})
    assert first.status_code == 201 and first.json()["repeat_of_id"] == original["id"]
    again = api_as(nurse).post(url, {})
    assert again.status_code == 409 and again.json()["code"] == "no_repeats_left"


def test_vaccination_expired_batch_is_409_and_next_due_defaults(api_as, nurse, vet_user, dog, rabies, rabies_type):
    api = api_as(nurse)
    body = {"animal": dog.pk, "product": rabies.pk, "batch": "RB1", "supervising_vet": vet_user.vet.pk}
    expired = api.post("/api/v1/vaccinations", {**body, "batch_expiry": in_days(-1).isoformat()})
    assert expired.status_code == 409 and expired.json()["field"] == "batch_expiry"
    ok = api.post("/api/v1/vaccinations", {**body, "batch_expiry": in_days(60).isoformat()})
    assert ok.status_code == 201, ok.content
    assert ok.json()["next_due_on"] is not None and ok.json()["given_by"] == str(nurse)


@pytest.mark.parametrize(("role", "status"), [("receptionist", 403), ("nurse", 403), ("manager", 201)])
def test_the_diagnosis_list_is_kept_by_managers(api_for, role, status):
    response = api_for(role).post("/api/v1/diagnoses", {"name": "Pyometra", "code": "P1", "code_system": "VeNom"})
    assert response.status_code == status


def test_diagnosis_code_needs_its_system(api_as, manager):
    assert api_as(manager).post("/api/v1/diagnoses", {"name": "X", "code": "1"}).status_code == 422


def test_problems(api_as, vet_user, receptionist, dog, otitis, walk_in):
    response = api_as(vet_user).post(
        f"/api/v1/animals/{dog.pk}/problems",
        {"diagnosis": otitis.pk, "status": "chronic", "is_alert": True, "consultations": [walk_in.pk]},
    )
    assert response.status_code == 201, response.content
    problem = response.json()
    assert problem["condition"] == "Otitis externa" and problem["consultation_ids"] == [walk_in.pk]
    assert api_as(receptionist).get(f"/api/v1/animals/{dog.pk}/problems").json()[0]["is_alert"] is True
    assert api_as(receptionist).patch(f"/api/v1/problems/{problem['id']}", {"status": "resolved"}).status_code == 403
    resolved = api_as(vet_user).patch(f"/api/v1/problems/{problem['id']}", {"status": "resolved"}).json()
    assert resolved["status"] == "resolved" and resolved["resolved_on"] is not None


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _upload(http, headers, animal, data: bytes, name: str, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return http.post(
        f"/api/v1/animals/{animal.pk}/attachments",
        {"file": SimpleUploadedFile(name, data), "title": "Radiograph", **fields},
        headers=headers,
    )


def test_attachments_upload_sniff_serve_and_roles(api_as, vet_user, receptionist, nobody, dog, settings):
    vet_api = api_as(vet_user)
    image = _upload(vet_api.http, vet_api.headers, dog, _png(), "xray.png", kind="radiograph")
    assert image.status_code == 201, image.content
    body = image.json()
    assert body["content_type"] == "image/png" and body["has_thumbnail"] is True
    refused = _upload(vet_api.http, vet_api.headers, dog, b"MZ\x90\x00 an exe renamed", "lab.pdf")
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "file"]
    settings.ATTACHMENT_MAX_BYTES = 100
    too_big = _upload(vet_api.http, vet_api.headers, dog, b"%PDF-1.4 " + b"x" * 200, "lab.pdf")
    assert too_big.status_code == 422 and "larger" in too_big.json()["detail"][0]["msg"]
    download = api_as(receptionist).get(f"/api/v1/attachments/{body['id']}/file")
    assert download.status_code == 200 and b"".join(download.streaming_content) == _png()
    assert download["Cache-Control"] == "private, no-store"
    thumb = api_as(receptionist).get(f"/api/v1/attachments/{body['id']}/thumbnail")
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as small:
        assert max(small.size) <= 320
    assert api_as(nobody).get(f"/api/v1/attachments/{body['id']}/file").status_code == 403
    assert Attachment.objects.count() == 1


def test_history_pages_and_hides_notes_from_reception(api_as, vet_user, receptionist, walk_in, otitis):
    from clinical.services import consultation_set_diagnoses

    consultation_save_draft(
        consultation=walk_in, by=vet_user, data={"complaint": "Head shaking", "weight_kg": Decimal("30")}
    )
    consultation_set_diagnoses(consultation=walk_in, by=vet_user, diagnoses=[(otitis, "confirmed")])
    url = f"/api/v1/animals/{walk_in.animal_id}/history"
    page = api_as(vet_user).get(url, {"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    everything = api_as(vet_user).get(url).json()["items"]
    kinds = [item["kind"] for item in everything]
    assert "consultation" in kinds and "weight" in kinds
    consultation_entry = next(i for i in everything if i["kind"] == "consultation")
    assert consultation_entry["diagnoses"] == ["Otitis externa"] and "Head shaking" in consultation_entry["detail"]
    reception = api_as(receptionist).get(url).json()["items"]
    entry = next(i for i in reception if i["kind"] == "consultation")
    assert entry["diagnoses"] == ["Otitis externa"] and entry["detail"] == ""
    assert api_as(vet_user).get(url, {"cursor": "garbage"}).status_code == 422
    assert api_as(vet_user).get(url, {"kinds": ["nonsense"]}).status_code == 422


def test_problem_notes_are_clinical_text(api_as, vet_user, receptionist, dog):
    api_as(vet_user).post(f"/api/v1/animals/{dog.pk}/problems", {"condition": "Arthritis", "notes": "Meloxicam works"})
    assert api_as(receptionist).get(f"/api/v1/animals/{dog.pk}/problems").json()[0]["notes"] is None
    assert api_as(vet_user).get(f"/api/v1/animals/{dog.pk}/problems").json()[0]["notes"] == "Meloxicam works"


def test_weights_through_the_api(api_as, receptionist, vet_user, chihuahua, walk_in):
    api = api_as(receptionist)
    url = f"/api/v1/animals/{chihuahua.pk}/weights"
    unusual = api.post(url, {"kg": "32"})
    assert unusual.status_code == 409 and unusual.json()["code"] == "confirm_required"
    created = api.post(url, {"kg": "32", "confirm": True})
    assert created.status_code == 201
    vet_api = api_as(vet_user)
    weight_url = f"{url}/{created.json()['id']}"
    assert vet_api.http.delete(weight_url, headers=vet_api.headers).status_code == 422  # no reason
    assert api.http.delete(weight_url + "?reason=typo", headers=api.headers).status_code == 403  # not reception
    assert vet_api.http.delete(weight_url + "?reason=typo", headers=vet_api.headers).status_code == 204
    consultation_save_draft(consultation=walk_in, by=vet_user, data={"weight_kg": Decimal("30")})
    walk_in.refresh_from_db()
    in_consultation = f"/api/v1/animals/{walk_in.animal_id}/weights/{walk_in.weight_id}?reason=typo"
    refused = vet_api.http.delete(in_consultation, headers=vet_api.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "weight_in_consultation"


def test_lists_page_by_cursor(api_as, vet_user, dog, amoxicillin, walk_in):
    from clinical.models import Diagnosis
    from clinical.services import prescription_dispense

    for n in range(3):
        prescription_dispense(
            animal=dog, product=amoxicillin, by=vet_user, dose=f"{n} ml", frequency="daily", quantity=Decimal(1)
        )
    Diagnosis.objects.bulk_create([Diagnosis(name=f"Condition {n}") for n in range(3)])
    api = api_as(vet_user)
    for url in (f"/api/v1/animals/{dog.pk}/prescriptions", "/api/v1/diagnoses", "/api/v1/consultations"):
        first = api.get(url, {"limit": 2}).json()
        seen = [item["id"] for item in first["items"]]
        cursor = first["next"]
        while cursor:
            page = api.get(url, {"limit": 2, "cursor": cursor}).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next"]
        assert len(seen) == len(set(seen)) == first["count"], url
