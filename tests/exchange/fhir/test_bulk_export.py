"""Bulk Data $export end to end: kick-off, the task (run synchronously here), polling, the manifest, downloading
the NDJSON with the same token, every line a valid R4 resource, counts equal to the database; _type, _since,
cancelling, expiry and who may download."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from animals.models import Weight
from appointments.models import WorkingHours
from clinical.models import Attachment, Consultation, ConsultationDiagnosis, Prescription, Problem, Vaccination
from exchange.fhir import bulk
from exchange.fhir.registry import registry
from exchange.models.fhir_export import ExportJob, export_storage
from reminders.models import Reminder
from tests.exchange.fhir.clinical_fixtures import *  # noqa: F403 - the fixtures
from tests.exchange.fhir.clinical_fixtures import fhir_valid
from tests.factories import UserFactory, WeightFactory, make_token
from vetpms.models import Role, Vet

pytestmark = pytest.mark.django_db

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def token(manager):
    return {"Authorization": f"Bearer {make_token(manager, 'warehouse')[1]}"}


def kick_off(client, headers, query: str = "", path: str = "/fhir/R4/$export"):
    response = client.get(path + query, headers={**ASYNC, **headers})
    assert response.status_code == 202, response.content
    location = response["Content-Location"]
    job = ExportJob.objects.get(pk=location.rstrip("/").rsplit("/", 1)[1])
    return location, job


def run(job: ExportJob) -> str:
    return bulk.run_export(str(job.pk))


def download(client, headers, manifest) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in manifest["output"]:
        response = client.get(item["url"], headers=headers)
        assert response.status_code == 200 and response["Content-Type"] == "application/fhir+ndjson"
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert len(lines) == item["count"]
        for line in lines:
            resource = json.loads(line)
            fhir_valid(resource)
            assert resource["resourceType"] == item["type"]
            found.setdefault(item["type"], []).append(resource)
    return found


def expected_counts() -> dict[str, int]:
    vitals = sum(
        Consultation.objects.filter(**{f"{field}__isnull": False}).count()
        for field in ("temperature_c", "heart_rate", "respiratory_rate")
    )
    return {
        "Encounter": Consultation.objects.count(),
        "Observation": Weight.objects.count() + vitals,
        "Condition": Problem.objects.count() + ConsultationDiagnosis.objects.count(),
        "Immunization": Vaccination.objects.count(),
        "ImmunizationRecommendation": Reminder.objects.count(),
        "MedicationRequest": Prescription.objects.filter(repeat_of__isnull=True).count(),
        "MedicationDispense": Prescription.objects.count(),
        "DocumentReference": Attachment.objects.count(),
    }


def test_export_end_to_end(client, record, token, manager):
    WeightFactory(animal=record.animal, kg="30.900", measured_on=timezone.localdate() - dt.timedelta(days=90))
    location, job = kick_off(client, token)
    # Queued: the status URL says so with a progress header.
    waiting = client.get(location, headers=token)
    assert waiting.status_code == 202 and waiting["X-Progress"]
    assert run(job) == ExportJob.Status.COMPLETED
    response = client.get(location, headers=token)
    assert response.status_code == 200
    manifest = response.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"].endswith("/fhir/R4/$export")
    job.refresh_from_db()
    assert manifest["transactionTime"] == job.transaction_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = download(client, token, manifest)
    counts = {kind: len(resources) for kind, resources in found.items()}
    wanted = {kind: n for kind, n in expected_counts().items() if n}
    for kind in wanted:  # the framework's types (Patient, ...) are exported too once registered
        assert counts[kind] == wanted[kind], kind
    assert counts["PractitionerRole"] == Vet.objects.count()
    assert counts["Observation"] == 5  # two weights and three vitals
    # The manager may read notes: the export carries the complaint.
    (encounter,) = found["Encounter"]
    assert encounter["reasonCode"] == [{"text": "Shaking head for two days"}]
    assert job.bytes_written == sum(
        export_storage().size(f"{job.folder}/{item['url'].rsplit('/', 1)[1]}") for item in manifest["output"]
    )


def test_the_task_is_queued_after_the_commit(client, record, token, django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True):
        _, job = kick_off(client, token)
    job.refresh_from_db()
    assert job.task_id and OrmQ.objects.count() == 1


def test_type_and_since_narrow_the_export(client, record, token):
    location, job = kick_off(client, token, "?_type=Observation,Immunization")
    assert job.types == ["Observation", "Immunization"]
    run(job)
    manifest = client.get(location, headers=token).json()
    assert {item["type"] for item in manifest["output"]} == {"Observation", "Immunization"}

    since = timezone.now()
    # Everything so far is older than _since; one weight is added after it.
    new = WeightFactory(animal=record.animal, kg="29.000")
    Weight.objects.filter(pk=new.pk).update(created_at=since + dt.timedelta(seconds=5))
    location, job = kick_off(client, token, "?_since=" + since.isoformat().replace("+00:00", "Z"))
    run(job)
    found = download(client, token, client.get(location, headers=token).json())
    # Types that know when their resources changed export only the new weight; a type without a last-updated time
    # (Organization, Coverage, the computed Slot) cannot tell, so it is exported whole rather than missing changes.
    dated = {name for name, rt in registry.items() if "_lastUpdated" in rt.all_search_params()}
    assert {kind: [r["id"] for r in resources] for kind, resources in found.items() if kind in dated} == {
        "Observation": [f"wt-{new.pk}"]
    }


@pytest.mark.parametrize(
    "query, status",
    [("?_type=Bogus", 400), ("?_since=yesterday", 400), ("?_outputFormat=text/csv", 400), ("?_type=Observation", 202)],
)
def test_bad_parameters_are_400_operation_outcomes(client, token, query, status):
    response = client.get("/fhir/R4/$export" + query, headers={**ASYNC, **token})
    assert response.status_code == status
    if status == 400:
        assert response.json()["resourceType"] == "OperationOutcome"


def test_kick_off_needs_respond_async(client, token):
    response = client.get("/fhir/R4/$export", headers=token)
    assert response.status_code == 400 and "respond-async" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("role", ["receptionist", "vet", "nurse", "nobody"])
def test_only_managers_export(client, users, nurse, role):
    user = nurse if role == "nurse" else users[role]
    headers = {"Authorization": f"Bearer {make_token(user)[1]}"}
    response = client.get("/fhir/R4/$export", headers={**ASYNC, **headers})
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"
    assert not ExportJob.objects.exists()


def test_anonymous_and_bad_tokens_are_401(client):
    assert client.get("/fhir/R4/$export", headers=ASYNC).status_code == 401
    bad = client.get("/fhir/R4/$export", headers={**ASYNC, "Authorization": "Bearer vpms_nope"})
    assert bad.status_code == 401 and bad["WWW-Authenticate"] == "Bearer"


def test_only_the_same_user_and_token_may_poll_and_download(client, record, token, manager):
    location, job = kick_off(client, token)
    run(job)
    manifest = client.get(location, headers=token).json()
    url = manifest["output"][0]["url"]
    other_manager = UserFactory(username="omar", role=Role.MANAGER)
    strangers = [
        {"Authorization": f"Bearer {make_token(other_manager)[1]}"},  # another manager
        {"Authorization": f"Bearer {make_token(manager, 'second')[1]}"},  # the same user, another token
        {},  # nobody
    ]
    for headers in strangers:
        assert client.get(location, headers=headers).status_code in (401, 404)
        assert client.get(url, headers=headers).status_code in (401, 404)
        assert client.delete(location, headers=headers).status_code in (401, 404)
    assert client.get(url, headers=token).status_code == 200


def test_a_session_export_is_the_users(client, record, manager, login):
    browser = login(manager)
    location, job = kick_off(browser, {})
    assert job.token is None
    run(job)
    assert browser.get(location).status_code == 200
    assert login(UserFactory(username="omar", role=Role.MANAGER)).get(location).status_code == 404


def test_files_expire_and_the_cleanup_deletes_them(client, record, token, settings):
    location, job = kick_off(client, token)
    run(job)
    job.refresh_from_db()
    assert job.expires_at - job.finished_at == dt.timedelta(hours=settings.FHIR_EXPORT_HOURS)
    url = client.get(location, headers=token).json()["output"][0]["url"]
    paths = [item["path"] for item in job.output]
    assert all(export_storage().exists(p) for p in paths)
    assert bulk.cleanup_expired() == 0  # not yet
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(location, headers=token).status_code == 404
    assert client.get(url, headers=token).status_code == 404
    assert bulk.cleanup_expired() == 1
    assert not any(export_storage().exists(p) for p in paths)
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.EXPIRED


def test_delete_cancels_a_queued_export_and_removes_a_finished_one(client, record, token):
    location, job = kick_off(client, token)
    assert client.delete(location, headers=token).status_code == 202
    assert run(job) == "not queued"
    assert client.get(location, headers=token).status_code == 404

    location, job = kick_off(client, token)
    run(job)
    job.refresh_from_db()
    paths = [item["path"] for item in job.output]
    assert client.delete(location, headers=token).status_code == 202
    assert not any(export_storage().exists(p) for p in paths)


def test_a_cancel_while_running_stops_at_the_next_chunk(client, record, token, settings, monkeypatch):
    settings.FHIR_EXPORT_CHUNK = 1
    settings.FHIR_EXPORT_LINES_PER_FILE = 1  # the first chunk is a stored file before the cancel
    location, job = kick_off(client, token, "?_type=Observation")
    real = bulk.export_types

    def cancelling_types():
        types = real()
        observation = types["Observation"]

        def chunks(user, since, size):
            for index, chunk in enumerate(observation.chunks(user, since, size)):
                if index == 1:  # the owner cancels while the task is in the middle of the type
                    client.delete(location, headers=token)
                yield chunk

        types["Observation"] = bulk.ExportType("Observation", observation.may_read, chunks)
        return types

    monkeypatch.setattr(bulk, "export_types", cancelling_types)
    assert run(job) == ExportJob.Status.CANCELLED
    storage = export_storage()
    left = storage.listdir(job.folder)[1] if storage.exists(job.folder) else []
    assert left == []  # the file stored before the cancel is deleted again


def test_large_types_roll_over_into_several_files(client, record, token, settings):
    settings.FHIR_EXPORT_LINES_PER_FILE = 2
    settings.FHIR_EXPORT_CHUNK = 3
    location, job = kick_off(client, token, "?_type=Observation")
    run(job)
    manifest = client.get(location, headers=token).json()
    assert [(i["type"], i["count"]) for i in manifest["output"]] == [("Observation", 2), ("Observation", 2)]
    ids = [r["id"] for r in download(client, token, manifest)["Observation"]]
    assert len(set(ids)) == 4


def test_slots_export_as_the_free_time_of_the_coming_weeks(client, record, token, settings):
    """Slot is computed, not stored: the export writes the free slots of the next 31 days, paged through the same
    keyset search as a client's (chunks of 7 here), so none is lost or repeated between chunks."""
    settings.FHIR_EXPORT_CHUNK = 7
    vet = record.consultation.vet
    weekday = (timezone.localdate() + dt.timedelta(days=2)).weekday()
    WorkingHours.objects.create(vet=vet, weekday=weekday, start_time=dt.time(9), end_time=dt.time(10))
    location, job = kick_off(client, token, "?_type=Slot")
    run(job)
    found = download(client, token, client.get(location, headers=token).json())["Slot"]
    mine = [s for s in found if s["schedule"]["reference"] == f"Schedule/{vet.pk}"]
    # In 2 to 30 days from today there are five days of that weekday, each 09:00-10:00 in four 15-minute slots.
    assert len(mine) == 20 and len({s["id"] for s in mine}) == 20
    assert {s["status"] for s in found} == {"free"}
    assert [s["start"] for s in mine] == sorted(s["start"] for s in mine)
    # Slot is not patient data: the patient-level export does not offer it.
    response = client.get("/fhir/R4/Patient/$export?_type=Slot", headers={**ASYNC, **token})
    assert response.status_code == 400


def test_patient_level_export(client, record, token):
    location, job = kick_off(client, token, "?_type=Immunization", path="/fhir/R4/Patient/$export")
    assert job.level == ExportJob.Level.PATIENT
    run(job)
    found = download(client, token, client.get(location, headers=token).json())
    assert [r["id"] for r in found["Immunization"]] == [str(record.vaccination.pk)]


def test_a_failing_export_reports_an_operation_outcome(client, record, token, monkeypatch):
    location, job = kick_off(client, token, "?_type=Encounter")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("exchange.fhir.clinical.encounter", broken)
    assert run(job) == ExportJob.Status.FAILED
    response = client.get(location, headers=token)
    assert response.status_code == 500 and response.json()["issue"][0]["code"] == "exception"
