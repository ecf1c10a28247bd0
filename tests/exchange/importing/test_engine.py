"""Files that look like real exports, through the dry run and the import: the same services as the pages."""

from __future__ import annotations

import pytest

from animals.models import Animal, Species
from clients.models import Client
from exchange.importing import services
from exchange.models import ImportedRecord, ImportIssue, ImportJob
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db

CLIENTS_CSV = (
    "Client No;Title;Forename;Surname;E-Mail;Mobile;Post Code\r\n"
    "C1;Mrs;Ann;Smith;ann@example.com;07911 123456;AB1 2CD\r\n"
    "\r\n"
    'C2;Mr;Bob;"Jones\nJunior";bob@example.com;07811 223344;AB1 3CD\r\n'
    "C3;;Carl;Brown;ann@example.com;;ZZ9 9ZZ\r\n"
    "C4;Sir;Dee;Green;;;\r\n"
)
ANIMALS_CSV = (
    "Pet ID,Owner ID,Pet Name,Species,Breed,Sex,DOB,Chip No\n"
    "A1,C1,Rex,Dog,Labrador,MN,25/12/2019,985 141 000 123 456\n"
    "A2,C2,Tibbles,Cat,,FS,01/02/2020,\n"
    "A3,C1,Spot,Dog,,XX,01/02/2020,\n"
    "A4,C9,Ghost,Dog,,M,,\n"
    "A5,C2,Copy,Dog,,M,,985141000123456\n"
)


def make_job(manager, files=None, **kw):
    files = files or [("clients.csv", CLIENTS_CSV.encode("cp1252")), ("animals.csv", ANIMALS_CSV.encode())]
    return services.job_create(by=manager, source_system="OldVet", files=files, **kw)


def run(job, manager, apply=False):
    services.job_start(job=job, by=manager, apply=apply, background=False)
    return services.job_run(job_id=job.pk)


def test_mapping_is_proposed_from_odd_headers(manager):
    job = make_job(manager)
    clients, animals = job.files.order_by("position")
    assert clients.entity == "clients" and clients.delimiter == ";" and clients.encoding == "utf-8"
    assert clients.column_map == {
        "0": "source_id",
        "1": "title",
        "2": "first_name",
        "3": "last_name",
        "4": "email",
        "5": "mobile_phone",
        "6": "postcode",
    }
    assert animals.entity == "animals" and animals.column_map["7"] == "microchip"
    assert job.date_order == "dmy"
    assert clients.rows_total == 4 and animals.rows_total == 5


def test_dry_run_writes_nothing_and_reports_every_bad_row(manager):
    job = make_job(manager)
    before = (Client.objects.count(), Animal.objects.count(), Species.objects.count())
    job = run(job, manager)
    assert job.status == ImportJob.Status.CHECKED
    assert (Client.objects.count(), Animal.objects.count(), Species.objects.count()) == before
    assert not ImportedRecord.objects.exists()
    issues = {(i.file.filename, i.row_number, i.kind): i for i in ImportIssue.objects.filter(job=job)}
    # C3 shares Ann's email: reported, not merged; C4's title is not one VetPMS has.
    assert issues[("clients.csv", 5, "duplicate")].message == "Same email as row 2 of clients.csv."
    assert issues[("clients.csv", 6, "error")].column == "title"
    assert issues[("animals.csv", 4, "error")].column == "sex"
    assert "C9" in issues[("animals.csv", 5, "error")].message
    assert issues[("animals.csv", 6, "error")].column == "microchip"
    assert job.created_count == 4  # C1, C2, A1, A2
    assert job.error_count == 4 and job.skipped_count == 1
    assert job.rows_done == 9


def test_import_after_the_dry_run_matches_it_and_a_second_import_updates(manager):
    job = make_job(manager)
    with pytest.raises(DomainError):
        services.job_start(job=job, by=manager, apply=True, background=False)
    job = run(job, manager)
    dry = (job.created_count, job.error_count)
    job = run(job, manager, apply=True)
    assert job.status == ImportJob.Status.APPLIED
    assert (job.created_count, job.error_count) == (dry[0], 4)
    rex = Animal.objects.get(microchip="985141000123456")
    assert (rex.owner.last_name, rex.sex, rex.neuter_status, str(rex.date_of_birth)) == (
        "Smith",
        "male",
        "neutered",
        "2019-12-25",
    )
    assert rex.species.name == "Dog" and rex.breed.name == "Labrador"
    assert Client.objects.get(last_name="Jones\nJunior").mobile_phone.startswith("+44")
    assert rex.search_text and "985141000123456" in rex.search_text

    # The same files again: no duplicates, everything unchanged; a changed cell updates.
    counts = (Client.objects.count(), Animal.objects.count())
    again = make_job(manager)
    run(again, manager)
    again.refresh_from_db()
    again = run(again, manager, apply=True)
    assert (Client.objects.count(), Animal.objects.count()) == counts
    assert again.created_count == 0 and again.unchanged_count == 4
    changed = CLIENTS_CSV.replace("ann@example.com;07911", "ann.smith@example.com;07911")
    third = make_job(manager, files=[("clients.csv", changed.encode())])
    run(third, manager)
    third.refresh_from_db()
    third = run(third, manager, apply=True)
    assert third.updated_count == 1
    assert Client.objects.get(last_name="Smith").email == "ann.smith@example.com"


def test_changing_the_mapping_needs_a_new_dry_run(manager):
    job = make_job(manager)
    run(job, manager)
    job.refresh_from_db()
    clients = job.files.get(entity="clients")
    services.job_set_mapping(job=job, by=manager, files={clients.pk: {"value_map": {"title": {"Sir": "Dr"}}}})
    job.refresh_from_db()
    with pytest.raises(DomainError):
        services.job_start(job=job, by=manager, apply=True, background=False)
    job = run(job, manager)
    assert not ImportIssue.objects.filter(job=job, column="title").exists()


def test_a_file_without_its_required_columns_cannot_run(manager):
    job = services.job_create(by=manager, source_system="S", files=[("clients.csv", b"Acct No,Surname\n1,Smith\n")])
    with pytest.raises(DomainError, match="Id in the source system"):
        services.job_start(job=job, by=manager, apply=False, background=False)


def test_importing_an_old_file_again_never_refills_an_erased_owner(manager):
    from exchange.datarights.services import client_erase

    files = [("clients.csv", CLIENTS_CSV.encode("cp1252")), ("animals.csv", ANIMALS_CSV.encode())]
    first = make_job(manager, files)
    run(first, manager)
    run(first, manager, apply=True)
    ann = Client.objects.get(pk=ImportedRecord.objects.get(entity="clients", source_id="C1").object_id)
    client_erase(client=ann, by=manager, confirm_name=ann.display_name)
    erased = Client.objects.get(pk=ann.pk)
    assert "Smith" not in erased.display_name

    again = make_job(manager, files)
    run(again, manager)
    again = run(again, manager, apply=True)
    erased.refresh_from_db()
    assert "Smith" not in erased.display_name and erased.email != "ann@example.com"  # nothing filled back in
    messages = list(again.issues.values_list("source_id", "message"))
    for source_id in ("C1", "A1"):  # the owner's row and her pet's row say why
        assert any(sid == source_id and "erased" in message for sid, message in messages), (source_id, messages)
