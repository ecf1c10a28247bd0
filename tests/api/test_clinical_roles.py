"""Every clinical endpoint, per role: who is refused (403, before any lookup) and who gets through.

The table is written out from the issue (nurses draft and record but neither sign nor prescribe; receptionists
read and attach but write no clinical notes; managers read and keep the diagnosis list), not derived from
vetpms/roles.py, so a wrong grant in the matrix fails here."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from animals.services import weight_record
from clinical.models import Diagnosis
from clinical.services import attachment_add, prescription_dispense, problem_save, vaccination_record
from tests.clinical.conftest import in_days

pytestmark = pytest.mark.django_db

R, V, N, M = "receptionist", "vet_user", "nurse", "manager"
EVERYONE = {R, V, N, M}

# (method, path, body, roles allowed). {c} consultation, {a} animal, {d} diagnosis, {p} problem,
# {v} vaccination, {rx} prescription, {f} attachment, {w} weight.
ENDPOINTS = [
    ("get", "/consultations", None, EVERYONE),
    ("post", "/consultations", {"animal": "{a}", "vet": "{vet}"}, {V, N}),
    ("get", "/consultations/{c}", None, EVERYONE),
    ("patch", "/consultations/{c}", {"history": "Vomiting since Monday"}, {V, N}),
    ("put", "/consultations/{c}/diagnoses", {"diagnoses": [{"diagnosis": "{d}"}]}, {V, N}),
    ("post", "/consultations/{c}/sign", None, {V}),
    ("get", "/consultations/{c}/addenda", None, EVERYONE),
    ("post", "/consultations/{c}/addenda", {"text": "Later note"}, {V, N}),
    ("get", "/consultations/{c}/charges", None, EVERYONE),
    ("post", "/consultations/{c}/charges", {"product": "{fee}"}, EVERYONE),
    ("get", "/consultations/{c}/products", None, EVERYONE),
    ("get", "/consultations/{c}/quick-texts", None, {V, N, M}),
    ("get", "/diagnoses", None, EVERYONE),
    ("post", "/diagnoses", {"name": "Pancreatitis"}, {M}),
    ("patch", "/diagnoses/{d}", {"is_active": False}, {M}),
    ("get", "/animals/{a}/problems", None, EVERYONE),
    ("post", "/animals/{a}/problems", {"condition": "Arthritis"}, {V}),
    ("get", "/problems/{p}", None, EVERYONE),
    ("patch", "/problems/{p}", {"is_alert": True}, {V}),
    ("post", "/vaccinations", "vaccination", {V, N}),
    ("get", "/vaccinations/{v}", None, EVERYONE),
    ("get", "/animals/{a}/vaccinations", None, EVERYONE),
    ("post", "/prescriptions", "prescription", {V}),
    ("get", "/prescriptions/{rx}", None, EVERYONE),
    ("post", "/prescriptions/{rx}/repeats", {}, {V, N}),
    ("get", "/animals/{a}/prescriptions", None, EVERYONE),
    ("upload", "/animals/{a}/attachments", None, {R, V, N}),
    ("get", "/animals/{a}/attachments", None, EVERYONE),
    ("get", "/attachments/{f}", None, EVERYONE),
    ("get", "/attachments/{f}/file", None, EVERYONE),
    ("get", "/attachments/{f}/thumbnail", None, EVERYONE),
    ("get", "/animals/{a}/history", None, EVERYONE),
    ("delete", "/animals/{a}/weights/{w}?reason=typing+error", None, {V, N, M}),
]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 128, 0)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def ids(walk_in, vet_user, rabies, amoxicillin, consult_fee, manager):
    animal = walk_in.animal
    diagnosis = Diagnosis.objects.create(name="Otitis media")
    problem = problem_save(by=vet_user, animal=animal, data={"condition": "Obesity"})
    vaccination = vaccination_record(animal=animal, product=rabies, batch="B1", batch_expiry=in_days(30), by=vet_user)
    prescription = prescription_dispense(
        animal=animal, product=amoxicillin, by=vet_user, dose="1 ml", frequency="daily", quantity=Decimal(5),
        repeats=3,
    )  # fmt: skip
    attachment = attachment_add(animal=animal, by=vet_user, upload=SimpleUploadedFile("p.png", _png()), title="Photo")
    weight = weight_record(animal=animal, kg=Decimal("30"), by=vet_user)
    return {
        "c": walk_in.pk, "a": animal.pk, "d": diagnosis.pk, "p": problem.pk, "v": vaccination.pk,
        "rx": prescription.pk, "f": attachment.pk, "w": weight.pk, "vet": vet_user.vet.pk, "fee": consult_fee.pk,
        "rabies": rabies.pk, "amox": amoxicillin.pk,
    }  # fmt: skip


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _body(body, ids):
    if body == "vaccination":
        return {
            "animal": ids["a"], "product": ids["rabies"], "batch": "B2", "batch_expiry": in_days(30).isoformat(),
            "supervising_vet": ids["vet"],
        }  # fmt: skip
    if body == "prescription":
        return {"animal": ids["a"], "product": ids["amox"], "dose": "1 ml", "frequency": "daily", "quantity": "5"}
    return _fill(body, ids)


def _call(api, method, path, body, ids):
    url = "/api/v1" + path.format(**ids)
    if method == "upload":
        return api.http.post(url, {"file": SimpleUploadedFile("x.png", _png()), "title": "X"}, headers=api.headers)
    if method in ("get", "delete"):
        return getattr(api.http, method)(url, headers=api.headers)
    if method == "put":
        import json

        return api.http.put(url, json.dumps(_body(body, ids)), content_type="application/json", headers=api.headers)
    return getattr(api, method)(url, _body(body, ids) if body is not None else None)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS])
@pytest.mark.parametrize("role", [R, V, N, M, "nobody"])
def test_each_endpoint_per_role(api_for, ids, role, method, path, body, allowed):
    response = _call(api_for(role), method, path, body, ids)
    if role in allowed:
        assert response.status_code < 400 or response.status_code == 409, (role, response.content)
    else:
        assert response.status_code == 403, (role, response.status_code, response.content)
        assert "detail" in response.json()


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{e[0]} {e[1]}" for e in ENDPOINTS])
def test_each_endpoint_needs_authentication(anonymous, ids, method, path, body, allowed):
    assert _call(anonymous, method, path, body, ids).status_code == 401
