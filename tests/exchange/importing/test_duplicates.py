"""Possible duplicates are reported, never merged, though the import now checks them against keys it reads once
per run (and keeps up to date) instead of asking the database on every row; the same for the species and breeds
and the source ids imported before, which it also keeps for the run."""

from __future__ import annotations

import pytest

from animals.models import Animal, Breed, Species
from clients import services as client_services
from clients.models import Client
from exchange.importing import engine, services
from exchange.models import ImportIssue, ImportJob

pytestmark = pytest.mark.django_db

HEADER = "Client No;Forename;Surname;E-Mail;Mobile;Post Code\r\n"


def make_job(manager, files):
    return services.job_create(by=manager, source_system="OldVet", files=files)


def run(job, manager, apply=False):
    services.job_start(job=job, by=manager, apply=apply, background=False)
    return services.job_run(job_id=job.pk)


def issues(job):
    return {i.row_number: i for i in ImportIssue.objects.filter(job=job)}


@pytest.fixture
def recorded(manager):
    """A client recorded in VetPMS before the import (typed on the page)."""
    return client_services.client_create(
        by=manager,
        first_name="Gwen",
        last_name="Hughes",
        email="Gwen.Hughes@Example.com",
        home_phone="029 2087 4000",
        postcode="CF10 1AA",
    )


ROWS = (
    HEADER
    + "N1;Gwen;Hughes-Jones;gwen.hughes@example.COM;;\r\n"  # same email, another case
    + "N2;Gwyn;Pryce;;+44 29 2087 4000;\r\n"  # same phone as her home phone, typed as a mobile
    + "N3;Eira;HUGHES;;;cf101aa\r\n"  # same surname and postcode, other case and spacing
    + "N4;Tom;Hughes;tom@example.com;07912 345678;CF10 2BB\r\n"  # nothing the same: a new client
    + "N5;Tomos;Evans;TOM@example.com;;\r\n"  # same email as row 5 of this file
    + "N6;Ann;Bell;;07912345678;\r\n"  # same phone as row 5
    + "N7;Dai;hughes;;;CF10  2BB\r\n"  # same surname and postcode as row 5
)


@pytest.mark.parametrize("apply", [False, True])
def test_duplicates_of_recorded_clients_and_of_earlier_rows_are_reported_not_merged(manager, recorded, apply):
    job = make_job(manager, [("clients.csv", ROWS.encode())])
    job = run(job, manager)
    if apply:
        job = run(job, manager, apply=True)
    found = issues(job)
    for row, reason in ((2, "same email"), (3, "same phone"), (4, "same surname and postcode")):
        assert found[row].kind == ImportIssue.Kind.DUPLICATE
        expected = f"Looks like a client already recorded: Gwen Hughes (#{recorded.pk}: {reason})."
        assert found[row].message == expected, row
    assert found[6].message == "Same email as row 5 of clients.csv."
    assert found[7].message == "Same phone as row 5 of clients.csv."
    assert found[8].message == "Same surname+postcode as row 5 of clients.csv."
    assert 5 not in found
    assert (job.created_count, job.skipped_count, job.error_count) == (1, 6, 0)
    assert Client.objects.count() == (2 if apply else 1)
    assert Client.objects.filter(last_name="Hughes").count() == (2 if apply else 1)


def test_a_client_recorded_while_the_import_runs_is_found_at_the_next_refresh(manager, recorded):
    keys = engine.ClientKeys()
    keys.refresh()
    newcomer = Client(last_name="Morgan", email="nia@example.com", mobile_phone="07912 345999")
    newcomer.full_clean()
    assert keys.may_match(Client(last_name="Hughes", postcode="cf10 1aa"))
    assert not keys.may_match(newcomer)
    client_services.client_create(by=manager, last_name="Morgan", email="NIA@example.com")
    keys.refresh()  # only what changed since the last read
    assert keys.may_match(newcomer)


def test_a_key_that_only_looks_alike_is_left_to_the_client_service(manager):
    """The keys match loosely (any white space in a postcode, where the service's look-up removes spaces only);
    a row that hits one goes to the client service, whose own look-up has the last word."""
    client_services.client_create(by=manager, last_name="Hughes", postcode="CF11\t9ZZ")
    job = make_job(manager, [("clients.csv", (HEADER + "N1;Eira;Hughes;;;CF11 9ZZ\r\n").encode())])
    keys = engine.ClientKeys()
    keys.refresh()
    assert keys.may_match(Client(last_name="Hughes", postcode="CF11 9ZZ"))
    job = run(job, manager)
    job = run(job, manager, apply=True)
    assert job.created_count == 1 and job.skipped_count == 0
    assert Client.objects.filter(last_name="Hughes").count() == 2


def test_create_duplicates_mode_creates_them(manager, recorded):
    job = make_job(manager, [("clients.csv", ROWS.encode())])
    services.job_set_mapping(job=job, by=manager, files={}, duplicates=ImportJob.Duplicates.CREATE)
    run(job, manager)
    job = run(job, manager, apply=True)
    assert (job.created_count, job.skipped_count) == (7, 0)


ANIMALS = (
    "Pet ID,Owner ID,Pet Name,Species,Breed,Sex,Chip No\n"
    "A1,N4,Bolt,Axolotl,Leucistic,M,985141000000001\n"
    "A2,N4,Dash,axolotl,LEUCISTIC,F,985141000000002\n"
    "A3,N4,Copy,Axolotl,Leucistic,F,985141000000001\n"  # the microchip of row 2
)


@pytest.mark.parametrize("apply", [False, True])
def test_species_and_breeds_added_once_and_a_second_chip_in_the_file_is_an_error(manager, recorded, apply):
    files = [("clients.csv", ROWS.encode()), ("animals.csv", ANIMALS.encode())]
    job = make_job(manager, files)
    job = run(job, manager)
    if apply:
        job = run(job, manager, apply=True)
    found = {(i.file.filename, i.row_number): i for i in ImportIssue.objects.filter(job=job)}
    warnings = [(i.row_number, i.message) for i in ImportIssue.objects.filter(job=job, kind="warning")]
    assert warnings == [
        (
            2,
            "New species “Axolotl” added to the practice's list. "
            "New breed “Leucistic” (Axolotl) added to the practice's list.",
        ),
    ]
    assert found[("animals.csv", 4)].column == "microchip"
    assert Species.objects.filter(name__iexact="axolotl").count() == (1 if apply else 0)
    assert Breed.objects.filter(name__iexact="leucistic").count() == (1 if apply else 0)
    assert Animal.objects.filter(species__name="Axolotl", breed__name="Leucistic").count() == (2 if apply else 0)
    assert (job.created_count, job.error_count) == (3, 1)  # N4, Bolt and Dash


def test_importing_again_updates_by_source_id(manager, recorded):
    files = [("clients.csv", ROWS.encode()), ("animals.csv", ANIMALS.encode())]
    first = make_job(manager, files)
    run(first, manager)
    run(first, manager, apply=True)
    again = make_job(manager, [("clients.csv", ROWS.replace("Tom;Hughes", "Thomas;Hughes").encode())])
    run(again, manager)
    again = run(again, manager, apply=True)
    assert (again.created_count, again.updated_count, again.skipped_count) == (0, 1, 6)
    assert Client.objects.get(email="tom@example.com").first_name == "Thomas"
