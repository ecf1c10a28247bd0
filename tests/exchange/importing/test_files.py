"""Files as other systems really export them: encodings, separators, quoted newlines, blank lines, duplicate
headers, formulas, over-long cells, xlsx, and 10,000 rows: a clear error per bad row, nothing lost, no crash."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from animals.models import Animal
from clients.models import Client
from exchange.importing import readers, services
from exchange.models import ImportIssue, ImportJob
from vetpms.errors import DomainError

pytestmark = pytest.mark.django_db


def dry_then_apply(manager, files, **mapping):
    job = services.job_create(by=manager, source_system="Legacy", files=files)
    if mapping:
        services.job_set_mapping(job=job, by=manager, files={}, **mapping)
    services.job_start(job=job, by=manager, apply=False, background=False)
    dry = services.job_run(job_id=job.pk)
    services.job_start(job=job, by=manager, apply=True, background=False)
    return dry, services.job_run(job_id=job.pk)


def test_windows_1252_and_utf8_bom_read_the_same_names(manager):
    text = "ID;Surname;Forename\r\n1;Ó Briain;Zoë\r\n2;Gärtner;José\r\n"
    for encoding, content in (("cp1252", text.encode("cp1252")), ("utf-8-sig", text.encode("utf-8-sig"))):
        sniffed = readers.sniff(filename="clients.csv", content=content)
        assert (sniffed.encoding, sniffed.delimiter, sniffed.headers) == (encoding, ";", ["ID", "Surname", "Forename"])
    dry_then_apply(manager, [("clients.csv", text.encode("cp1252"))])
    assert sorted(Client.objects.values_list("last_name", "first_name")) == [("Gärtner", "José"), ("Ó Briain", "Zoë")]


def test_blank_lines_quoted_newlines_and_a_2000_character_name(manager):
    long_name = "A" * 2000
    content = (
        'ID,Surname,Notes\n\n1,Smith,"line one\nline two, with a comma"\n,,\n2,' + long_name + ",x\n\n3,Jones,\n"
    ).encode()
    dry, job = dry_then_apply(manager, [("clients.csv", content)])
    assert (dry.error_count, dry.created_count) == (1, 2)
    assert job.rows_done == 3  # blank lines and a row of empty cells are not rows
    issue = ImportIssue.objects.get(job=job)
    assert (issue.row_number, issue.column, issue.source_id) == (5, "last_name", "2")
    assert "2,000 characters" in issue.message and "at most 100" in issue.message
    assert Client.objects.get(last_name="Smith").notes == "line one\nline two, with a comma"
    assert Client.objects.count() == 2


def test_duplicate_headers_map_once_and_the_second_is_left_for_the_user(manager):
    content = b"ID,Surname,Surname,Email\n1,Smith,Smyth,a@example.com\n"
    job = services.job_create(by=manager, source_system="L", files=[("clients.csv", content)])
    file = job.files.get()
    assert file.column_map == {"0": "source_id", "1": "last_name", "3": "email"}
    assert readers.duplicate_headers(file.headers) == ["Surname"]
    with pytest.raises(DomainError, match="two headers"):
        services.job_set_mapping(
            job=job, by=manager, files={file.pk: {"column_map": {"0": "source_id", "1": "last_name", "2": "last_name"}}}
        )


def test_xlsx_with_a_formula_and_real_dates(manager):
    import datetime as dt

    book = Workbook()
    sheet = book.active
    sheet.append(["Client ID", "Surname"])
    sheet.append(["C1", '=HYPERLINK("http://evil.example","click")'])
    sheet.append(["C2", "Baker"])
    pets = book.create_sheet("ignored")
    pets.append(["never read"])
    buffer = io.BytesIO()
    book.save(buffer)
    animals = Workbook()
    sheet = animals.active
    sheet.append(["ID", "Owner ID", "Name", "Species", "DOB"])
    sheet.append(["A1", "C2", "Rex", "Dog", dt.datetime(2019, 12, 25)])
    second = io.BytesIO()
    animals.save(second)
    _, job = dry_then_apply(manager, [("clients.xlsx", buffer.getvalue()), ("animals.xlsx", second.getvalue())])
    assert job.error_count == 0, list(ImportIssue.objects.values_list("message", flat=True))
    assert Client.objects.filter(last_name='=HYPERLINK("http://evil.example","click")').exists()
    assert str(Animal.objects.get().date_of_birth) == "2019-12-25"


def test_month_first_dates_are_detected_and_can_be_corrected(manager):
    content = b"ID,Owner,Name,Species,DOB\nA1,C1,Rex,Dog,12/25/2019\nA2,C1,Tib,Dog,03/04/2020\n"
    clients = b"ID,Surname\nC1,Smith\n"
    job = services.job_create(
        by=manager, source_system="US", files=[("clients.csv", clients), ("animals.csv", content)]
    )
    assert job.date_order == "mdy"
    _, job = dry_then_apply(manager, [("clients.csv", clients), ("animals.csv", content)])
    assert str(Animal.objects.get(name="Tib").date_of_birth) == "2020-03-04"


def test_ten_thousand_rows_with_some_bad_ones_lose_nothing(manager):
    """The dry run reads every row of a large file and reports exactly the bad ones (the import runs the same
    loop, committing; the smaller tests above check that it matches its dry run)."""
    lines = ["Client No,Surname,Forename,Email"]
    for i in range(10_000):
        email = "broken" if i % 1000 == 7 else f"owner{i}@example.com"
        lines.append(f"{i},Surname{i},Ann,{email}")
    job = services.job_create(by=manager, source_system="Legacy", files=[("clients.csv", "\n".join(lines).encode())])
    services.job_start(job=job, by=manager, apply=False, background=False)
    job = services.job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.CHECKED
    assert (job.rows_done, job.created_count, job.error_count) == (10_000, 9_990, 10)
    assert Client.objects.count() == 0
    rows = sorted(ImportIssue.objects.filter(job=job).values_list("row_number", flat=True))
    assert rows == [i + 2 for i in range(10_000) if i % 1000 == 7]
