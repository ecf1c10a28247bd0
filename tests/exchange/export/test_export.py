"""The export zip: who may download it, its columns (exactly the import spec), formula neutralising, streaming,
and the round trip through the importer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from animals.models import Animal
from appointments.services import appointment_book
from clients.models import Client
from clinical.services import vaccination_record
from exchange.exporting import rows, zipstream
from exchange.importing import services as importing
from exchange.importing.columns import ENTITIES
from invoicing.models import Invoice, Product, TaxCategory
from invoicing.selectors import client_balance
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise, payment_record
from reminders.models import Reminder
from reminders.services import reminder_cancel, reminder_create, vaccine_reminder_type
from tests.appointments.conftest import at, consult, monday, vet  # noqa: F401 - shared fixtures
from tests.exchange.practice import rabies_type, wipe_practice, worming  # noqa: F401 - shared fixtures
from tests.factories import AnimalFactory, ClientFactory, UserFactory, species
from tests.invoicing.conftest import rabies, standard  # noqa: F401 - shared fixtures
from vetpms.models import AuditEntry, Role
from vetpms.money import quantize_money

pytestmark = pytest.mark.django_db

PAGE = reverse("exchange:export")
DOWNLOAD = reverse("exchange:export_download")
API = "/api/v1/export/zip"


def body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def read_zip(data: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
            for name in archive.namelist()
        }


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.VET, Role.NURSE, None])
def test_only_managers_may_export(role, login, bearer):
    user = UserFactory(username=f"u-{role or 'none'}", role=role)
    http = login(user)
    assert http.get(PAGE).status_code == 403
    assert http.get(DOWNLOAD).status_code == 403
    assert http.get(API, headers=bearer(user)).status_code == 403
    if role:
        assert PAGE.encode() not in http.get(reverse("clients:list")).content
    assert not AuditEntry.objects.filter(action="export.zip").exists()


def test_anonymous_is_sent_to_log_in_or_refused(client):
    for url in (PAGE, DOWNLOAD):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client.get(API).status_code == 401


def test_a_manager_downloads_one_zip_with_a_csv_per_entity_in_the_spec_columns(as_manager, manager, bearer, client):
    page = as_manager.get(PAGE)
    assert page.status_code == 200 and DOWNLOAD.encode() in page.content
    assert PAGE.encode() in as_manager.get(reverse("clients:list")).content  # Set-up > Export all data
    owner = ClientFactory(first_name="Ann", last_name="Archer", email="ann@example.com", mobile_phone="+447700900123")
    AnimalFactory(name="Rex", owner=owner, species=species("Dog"))
    response = as_manager.get(DOWNLOAD)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="vetpms-export-')
    files = read_zip(body(response))
    assert list(files) == [entity.filename for entity in ENTITIES.values()]
    for entity in ENTITIES.values():
        assert files[entity.filename][0] == entity.column_names
    clients_csv = [dict(zip(files["clients.csv"][0], row, strict=True)) for row in files["clients.csv"][1:]]
    assert [(c["source_id"], c["last_name"], c["mobile_phone"]) for c in clients_csv] == [
        (str(owner.pk), "Archer", "+447700900123")
    ]
    animal = dict(zip(files["animals.csv"][0], files["animals.csv"][1], strict=True))
    assert (animal["owner_source_id"], animal["name"], animal["species"]) == (str(owner.pk), "Rex", "Dog")
    assert AuditEntry.objects.filter(action="export.zip", actor=manager).count() == 1
    # The API gives the same file to a manager's token.
    api = client.get(API, headers=bearer(manager))
    assert api.status_code == 200 and read_zip(body(api)) == files


def test_formulas_are_neutralised_but_phones_and_amounts_are_not(as_manager, manager):
    owner = ClientFactory(last_name='=HYPERLINK("http://x.example")', first_name="@SUM(A1)", home_phone="+441632960001")
    owner.notes = "-2+3"
    owner.save()
    product = Product.objects.create(
        code="=CMD",
        name="+Fee",
        category="other",
        unit_price=Decimal("12.50"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    invoice = invoice_draft_for(client=owner, by=manager)
    invoice_add_line(invoice=invoice, by=manager, product=product, quantity=Decimal(1), animal=None)
    invoice_finalise(invoice=invoice, by=manager)
    files = read_zip(body(as_manager.get(DOWNLOAD)))
    client_row = dict(zip(files["clients.csv"][0], files["clients.csv"][1], strict=True))
    assert client_row["last_name"] == '\'=HYPERLINK("http://x.example")'
    assert client_row["first_name"] == "'@SUM(A1)"
    assert client_row["notes"] == "'-2+3"
    assert client_row["home_phone"] == "+441632960001"
    product_row = dict(zip(files["products.csv"][0], files["products.csv"][1], strict=True))
    assert (product_row["code"], product_row["name"], product_row["unit_price"]) == ("'=CMD", "'+Fee", "12.50")
    balance_row = dict(zip(files["opening_balances.csv"][0], files["opening_balances.csv"][1], strict=True))
    assert balance_row["client_source_id"] == str(owner.pk)
    assert balance_row["balance"] == str(quantize_money(client_balance(client=owner).balance)) == "15.00"


def test_the_zip_streams_in_bounded_pieces(monkeypatch):
    monkeypatch.setattr(rows, "CHUNK", 40)
    monkeypatch.setattr(zipstream, "FLUSH_BYTES", 4096)
    for n in range(300):
        ClientFactory(last_name=f"Streamer{n:03d}", notes="x" * 200)
    pieces = list(zipstream.export_zip())
    assert len(pieces) > 5
    # Nothing is held back: no piece is much bigger than the flush size (a compressed block can overshoot it).
    assert max(len(p) for p in pieces) < 4096 * 4
    files = read_zip(b"".join(pieces))
    assert len(files["clients.csv"]) == 301


def _import(manager, files: list[tuple[str, bytes]]):
    job = importing.job_create(by=manager, source_system="VetPMS", files=files)
    importing.job_start(job=job, by=manager, apply=False, background=False)
    dry = importing.job_run(job_id=job.pk)
    assert dry is not None and dry.error_count == 0, list(dry.issues.values_list("row_number", "message"))
    assert dry.skipped_count == 0
    importing.job_start(job=job, by=manager, apply=True, background=False)
    done = importing.job_run(job_id=job.pk)
    assert done is not None and done.error_count == 0, list(done.issues.values_list("row_number", "message"))
    return dry, done


def _counts(files: dict[str, list[list[str]]]) -> dict[str, int]:
    return {name: len(rows) - 1 for name, rows in files.items()}


def _practice(manager, vet, consult, monday, rabies, worming):  # noqa: F811
    """A small practice with a record of every kind the export writes, made through the pages' services."""
    today = timezone.localdate()
    owners = [
        ClientFactory(first_name=f"Owner{n}", last_name=f"Family{n}", email=f"owner{n}@example.com") for n in range(5)
    ]
    # Text the export marks against spreadsheet formulas ("'-Family0") comes back as it was.
    owners[0].last_name = "-Family0"
    owners[0].save(update_fields=["last_name"])
    pets = []
    for n, owner in enumerate(owners):
        for k in range(n % 3 + 1):
            pets.append(AnimalFactory(name=f"Pet{n}-{k}", owner=owner, species=species("Cat" if k else "Dog")))
    fee = Product.objects.create(
        code="CONS", name="Consultation", category="consultation", unit_price=Decimal("45.00"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )  # fmt: skip
    for pet in pets[:3]:  # two doses each: the first dose's reminder completed by the second, one pending
        for ago in (400, 30):
            vaccination_record(
                animal=pet, product=rabies, batch=f"B{ago}", batch_expiry=today + dt.timedelta(days=100),
                by=vet.user, given_on=today - dt.timedelta(days=ago),
            )  # fmt: skip
    reminder_create(animal=pets[3], reminder_type=worming, due_on=today + dt.timedelta(days=20), by=manager)
    gone = reminder_create(animal=pets[4], reminder_type=worming, due_on=today + dt.timedelta(days=5), by=manager)
    reminder_cancel(reminder=gone, by=manager, note="moved away")
    appointment_book(animal=pets[0], vet=vet, type=consult, start=at(monday, 10), by=manager)
    appointment_book(animal=pets[1], vet=vet, type=consult, start=at(monday, 11), minutes=30, by=manager)
    for owner in owners[:2]:  # 54.00 owed each (45.00 + 20 % VAT); the second paid 20.00 of it
        invoice = invoice_draft_for(client=owner, by=manager)
        invoice_add_line(invoice=invoice, by=manager, product=fee, quantity=Decimal(1), animal=None)
        invoice_finalise(invoice=invoice, by=manager)
    payment_record(client=owners[1], amount=Decimal("20.00"), method="card", by=manager)
    payment_record(client=owners[2], amount=Decimal("100.00"), method="cash", by=manager)  # 100.00 in credit


@pytest.fixture
def practice(manager, vet, consult, monday, rabies, rabies_type, worming):  # noqa: F811
    _practice(manager, vet, consult, monday, rabies, worming)


def test_an_export_imports_back_into_an_empty_vetpms_with_equal_counts_and_balances(manager, practice):
    fields = ("first_name", "last_name", "email", "mobile_phone", "home_phone", "postcode", "reminder_consent")
    before = {tuple(getattr(c, f) for f in fields) for c in Client.objects.all()}
    pets_before = {(a.name, a.owner.email, a.species.name, a.sex, a.date_of_birth) for a in Animal.objects.all()}
    balances = {c.email: client_balance(client=c).balance for c in Client.objects.all()}
    assert sorted(balances.values()) == [Decimal("-100.00"), *[Decimal("0.00")] * 2, Decimal("34.00"), Decimal("54.00")]
    exported = b"".join(zipstream.export_zip())
    counts = _counts(read_zip(exported))
    assert counts == {
        "clients.csv": 5,
        "animals.csv": 9,
        "vaccinations.csv": 6,
        "reminders.csv": 8,  # per vaccinated pet one completed and one pending; worming pending and cancelled
        "appointments.csv": 2,
        "opening_balances.csv": 3,
        "products.csv": 2,
    }
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        files = [(name, archive.read(name)) for name in archive.namelist()]

    wipe_practice()  # an empty VetPMS: its set-up (staff, vets, types) stays; the export carries none
    assert not Client.objects.exists() and not Product.objects.exists() and not Invoice.objects.exists()

    dry, done = _import(manager, files)
    # The rabies vaccine renews its reminder type again (products.csv says so), so each imported dose renews the
    # pet's reminder as on the page, and the reminders file then finds those six (three completed by the second
    # dose, three pending) instead of creating them; the dry run, whose rows are each rolled back, cannot know.
    assert vaccine_reminder_type(Product.objects.get(code="VAC-RAB")).name == "Rabies vaccination"
    assert vaccine_reminder_type(Product.objects.get(code="CONS")) is None
    assert dry.created_count == sum(counts.values())
    assert (done.created_count, done.unchanged_count + done.updated_count) == (sum(counts.values()) - 6, 6)
    assert Reminder.objects.count() == counts["reminders.csv"]
    assert _counts(read_zip(b"".join(zipstream.export_zip()))) == counts
    assert {tuple(getattr(c, f) for f in fields) for c in Client.objects.all()} == before
    assert {(a.name, a.owner.email, a.species.name, a.sex, a.date_of_birth) for a in Animal.objects.all()} == (
        pets_before
    )
    assert {c.email: client_balance(client=c).balance for c in Client.objects.all()} == balances
    assert Reminder.objects.filter(status="pending").count() == 4

    # The same files again: everything is found, nothing is created twice, the balances stay.
    _dry, again = _import(manager, files)
    assert again.created_count == 0 and again.unchanged_count == sum(counts.values())
    assert _counts(read_zip(b"".join(zipstream.export_zip()))) == counts
    assert {c.email: client_balance(client=c).balance for c in Client.objects.all()} == balances
