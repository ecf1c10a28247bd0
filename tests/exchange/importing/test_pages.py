"""The import pages: manager only, upload limits, mapping and value mapping by form, the dry-run report and its CSV."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from animals.models import Animal
from exchange.importing import services
from exchange.models import ImportJob
from tests.appointments.conftest import consult, monday, vet  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.django_db

CLIENTS = 'ID,Surname,Forename,Email\n1,Smith,Ann,ann@example.com\n2,=HYPERLINK("http://x"),Bob,bob@example.com\n'
ANIMALS = "AnimalID,OwnerID,Name,Species,Sex,Chip\n10,1,Rex,Canine,MN,985141000123456\n11,2,Tom,Cat,Q,\n"


def upload(http, *files, system="OldVet"):
    return http.post(
        reverse("exchange:import_list"),
        {"source_system": system, "files": [SimpleUploadedFile(n, c.encode()) for n, c in files]},
    )


@pytest.mark.parametrize("role", ["receptionist", "vet", "nobody"])
def test_only_managers_see_the_import_pages(users, role):
    from django.test import Client

    http = Client()
    http.force_login(users[role])
    assert http.get(reverse("exchange:import_list")).status_code == HTTPStatus.FORBIDDEN
    assert upload(http, ("clients.csv", CLIENTS)).status_code == HTTPStatus.FORBIDDEN
    assert not ImportJob.objects.exists()


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("exchange:import_list"))
    assert response.status_code == HTTPStatus.FOUND and "login" in response["Location"]


def test_a_file_over_the_limit_is_refused_with_a_message(as_manager):
    with override_settings(IMPORT_MAX_FILE_BYTES=100):
        response = upload(as_manager, ("clients.csv", CLIENTS * 10))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("clients.pdf", "x", "only .csv and .xlsx"),
        ("clients.csv", "\n\n", "is empty"),
        ("b.xlsx", "not a zip", "not a readable"),
    ],
)
def test_unreadable_uploads_get_a_clear_error(as_manager, name, content, message):
    response = upload(as_manager, (name, content))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()


def test_map_values_dry_run_report_and_import_through_the_pages(as_manager, manager):
    response = upload(as_manager, ("clients.csv", CLIENTS), ("animals.csv", ANIMALS))
    job = ImportJob.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    page = as_manager.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    assert "Canine" in page and "MN" in page  # the value mapping lists what the file holds
    animals = job.files.get(entity="animals")
    clients = job.files.get(entity="clients")
    form = {"date_order": "dmy", "duplicates": "skip", "action": "dry_run"}
    form[f"f{clients.pk}-entity"] = "clients"
    form |= {f"f{clients.pk}-col-{i}": c for i, c in clients.column_map.items()}
    form[f"f{animals.pk}-entity"] = "animals"
    form |= {f"f{animals.pk}-col-{i}": c for i, c in animals.column_map.items()}
    form |= {f"f{animals.pk}-src-species-1": "Canine", f"f{animals.pk}-val-species-1": "Dog"}
    form |= {f"f{animals.pk}-src-sex-1": "MN", f"f{animals.pk}-val-sex-1": "male neutered"}
    response = as_manager.post(reverse("exchange:import_mapping", args=[job.pk]), form)
    assert response.status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    services.job_run(job_id=job.pk)  # what the django-q2 task does
    page = as_manager.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    assert "Dry run finished" in page and "not a sex code" in page
    assert Animal.objects.count() == 0

    report = as_manager.get(reverse("exchange:import_issues_csv", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["file", "row", "column", "source id", "kind", "message"]
    assert rows[1][:5] == ["animals.csv", "3", "sex", "11", "Error"]

    assert as_manager.post(reverse("exchange:import_apply", args=[job.pk])).status_code == HTTPStatus.FOUND
    services.job_run(job_id=job.pk)
    rex = Animal.objects.get(microchip="985141000123456")
    assert (rex.species.name, rex.sex, rex.neuter_status) == ("Dog", "male", "neutered")
    # The formula arrived as text, exactly as typed.
    assert Animal.objects.count() == 1
    from clients.models import Client

    assert Client.objects.filter(last_name='=HYPERLINK("http://x")').exists()


def test_the_error_report_neutralises_formulas(manager):
    from exchange.importing.views import issues_csv

    bad = 'ID,Surname,Title\n=1+2,"=HYPERLINK(""http://evil"")",@SUM\n'
    job = services.job_create(by=manager, source_system="X", files=[("clients.csv", bad.encode())])
    services.job_start(job=job, by=manager, apply=False, background=False)
    services.job_run(job_id=job.pk)
    rows = list(csv.reader(io.StringIO(issues_csv(job).decode("utf-8-sig"))))
    assert rows[1][3] == "'=1+2"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_progress_polling_reloads_the_page_when_the_run_ends(as_manager, manager):
    job = services.job_create(by=manager, source_system="S", files=[("clients.csv", CLIENTS.encode())])
    services.job_start(job=job, by=manager, apply=False, background=False)
    url = reverse("exchange:import_detail", args=[job.pk]) + "?part=progress"
    busy = as_manager.get(url, headers={"HX-Request": "true"})
    assert "every 2s" in busy.content.decode() and "HX-Refresh" not in busy
    services.job_run(job_id=job.pk)
    done = as_manager.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true" and "Dry run finished" in done.content.decode()


def test_the_set_up_menu_offers_the_import_to_managers_only(as_manager, as_receptionist):
    link = reverse("exchange:import_list")
    assert link in as_manager.get(reverse("home")).content.decode()
    assert link not in as_receptionist.get(reverse("home")).content.decode()


def test_a_vet_named_otherwise_in_the_old_system_is_mapped_on_the_page(as_manager, manager, vet, consult, monday):  # noqa: F811
    """Every entity is offered on the page; a name column (the vet) lists the practice's vets to map to, and the
    dry run and the import go through the booking service with that mapping."""
    start = f"{monday:%d/%m/%Y} 10:00"
    upload(
        as_manager,
        ("clients.csv", CLIENTS),
        ("animals.csv", ANIMALS.replace("Canine", "Dog")),
        ("diary.csv", f"Appt ID,Pet ID,Clinician,Type,Start\nB1,10,DR V,Consultation,{start}\n"),
    )
    job = ImportJob.objects.get()
    diary = job.files.get(filename="diary.csv")
    assert diary.entity == "appointments"
    page = as_manager.get(reverse("exchange:import_detail", args=[job.pk])).content.decode()
    for label in ("Future appointments", "Opening balances", "Vaccination history", "Reminders due"):
        assert label in page
    assert "DR V" in page and "Victor Vet" in page  # the file's name and the practice's vet to map it to
    form = {"date_order": "dmy", "duplicates": "skip", "action": "dry_run"}
    for file in job.files.all():
        form[f"f{file.pk}-entity"] = file.entity
        form |= {f"f{file.pk}-col-{i}": c for i, c in file.column_map.items()}
    form |= {f"f{diary.pk}-src-vet-1": "DR V", f"f{diary.pk}-val-vet-1": "Victor Vet"}
    as_manager.post(reverse("exchange:import_mapping", args=[job.pk]), form)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and job.created_count == 4  # 2 clients, Rex, the booking
    assert as_manager.post(reverse("exchange:import_apply", args=[job.pk])).status_code == HTTPStatus.FOUND
    services.job_run(job_id=job.pk)
    from appointments.models import Appointment

    booking = Appointment.objects.get()
    assert (booking.vet, booking.animal.name, booking.booked_by) == (vet, "Rex", manager)
