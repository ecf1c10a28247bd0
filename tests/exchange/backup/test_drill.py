"""The restore drill: activity, a backup, more activity, a restore into a fresh database (a new PostgreSQL database
or a new SQLite file) by ``manage.py restore`` in its own process; the restored copy has the backup's counts and
files, and the reminder job started on it re-sends nothing that was sent before the backup."""

import hashlib
import json
import secrets
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django_q.models import Schedule

from exchange.backup import core
from invoicing.models import Invoice, Product, TaxCategory
from invoicing.services import invoice_add_line, invoice_draft_for, invoice_finalise
from reminders import sending
from reminders.models import ReminderDelivery, ReminderNotice, ReminderRun, ReminderType
from reminders.services import reminder_create
from tests.factories import AnimalFactory, ClientFactory, UserFactory, species
from tests.reference_data import ensure_reference_data
from tests.reminders.workers import worker_env
from vetpms.models import Role

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def fresh_database(tmp_path):
    """(env overrides, raw counter) of a new, empty database of the test database's kind; dropped afterwards."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        name = f"{db['NAME']}_restore_{secrets.token_hex(4)}"[:63]
        env = core._pg_env(db)
        subprocess.run(["createdb", name], env=env, check=True)  # noqa: S603, S607 - fixed arguments
        try:
            url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
            yield {"DATABASE_URL": url}, lambda: _pg_counts(dict(db, NAME=name))
        finally:
            subprocess.run(["dropdb", "--if-exists", name], env=env, check=True)  # noqa: S603, S607
    else:
        path = tmp_path / "restored.sqlite3"
        yield {"SQLITE_PATH": str(path)}, lambda: core.sqlite_counts(path)[0]


def _pg_counts(db) -> dict[str, int]:
    with core._pg_connect(db) as con, con.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        existing = {row[0] for row in cursor.fetchall()}
        return core.count_rows(cursor, existing, core._quote_pg)


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def charge(client, pet, product, by) -> Invoice:
    invoice = invoice_draft_for(client=client, by=by)
    invoice_add_line(invoice=invoice, by=by, product=product, quantity=Decimal(2), animal=pet)
    return invoice_finalise(invoice=invoice, by=by)


def run_reminders(today):
    run = ReminderRun.objects.create(trigger=ReminderRun.Trigger.MANUAL, for_date=today)
    return sending.execute_run(run_id=run.pk)


def recipients(inbox, start=0) -> list[str]:
    return sorted(str(m["To"]) for m in inbox.messages[start:])


@pytest.mark.django_db(transaction=True)
def test_restore_drill(smtp_server, fresh_database, tmp_path):
    ensure_reference_data()
    manager = UserFactory(username="drill-manager", role=Role.MANAGER)
    today = sending.local_today()
    booster = ReminderType.objects.create(
        name="Booster",
        interval=12,
        interval_unit="months",
        stages=[0],
        subject="{pets}: booster due",
        body_text="Dear {owner_name}, {items}",
    )
    product = Product.objects.create(
        code="DRILL",
        name="Check-up",
        category="consultation",
        unit_price=Decimal("31.25"),
        tax_category=TaxCategory.objects.get(code="standard"),
    )
    dog = species("Dog")

    # Activity before the backup: clients, invoices, a reminder sent, a reminder due but not yet sent, a file.
    ann = ClientFactory(first_name="Ann", last_name="Before", email="ann@example.com", reminder_consent=True)
    ann_dog = AnimalFactory(name="Rex", owner=ann, species=dog)
    charge(ann, ann_dog, product, manager)
    reminder_create(animal=ann_dog, reminder_type=booster, due_on=today, by=manager)
    assert run_reminders(today).emails_sent == 1
    carl = ClientFactory(first_name="Carl", last_name="Pending", email="carl@example.com", reminder_consent=True)
    carl_dog = AnimalFactory(name="Bo", owner=carl, species=dog)
    reminder_create(animal=carl_dog, reminder_type=booster, due_on=today, by=manager)
    scan = storages["attachments"].save(f"drill/{secrets.token_hex(4)}.pdf", ContentFile(b"%PDF-1.4 drill scan"))
    assert recipients(smtp_server) == ["ann@example.com"]

    reminder_schedules = Schedule.objects.filter(func__startswith="reminders.tasks.").count()
    assert reminder_schedules == 2
    backup = core.create_backup(into=tmp_path / "backups")
    manifest = json.loads((backup / "manifest.json").read_text())
    at_backup = core.current_counts()
    assert manifest["counts"] == at_backup
    assert manifest["counts"]["clients.Client"] == 2 and manifest["counts"]["invoicing.Invoice"] == 1
    assert manifest["database_vendor"] == connection.vendor
    assert manifest["created_at"].endswith("Z")
    assert set(manifest["migrations"]) == core.code_migrations()
    assert f"files/attachments/{scan}" in manifest["files"]

    # More activity after the backup: a new client invoiced, Carl's reminder sent, another file.
    dora = ClientFactory(first_name="Dora", last_name="After", email="dora@example.com")
    charge(dora, AnimalFactory(name="Mog", owner=dora, species=species("Cat")), product, manager)
    assert run_reminders(today).emails_sent == 1
    assert recipients(smtp_server) == ["ann@example.com", "carl@example.com"]
    storages["attachments"].save("drill/after.pdf", ContentFile(b"%PDF-1.4 after the backup"))
    assert core.current_counts()["clients.Client"] == 3

    # Restore into a fresh database and an empty attachment folder, as an operator would.
    overrides, restored_counts = fresh_database
    restored_files = tmp_path / "restored-attachments"
    env = worker_env(smtp_server.port, ATTACHMENT_DIR=str(restored_files))
    env.update(overrides)
    if "SQLITE_PATH" in overrides:
        env.pop("DATABASE_URL", None)
    result = manage("restore", str(backup), env=env)
    assert result.returncode == 0, result.stderr
    assert "match the backup's counts" in result.stdout
    assert "Reminder emails are on hold" in result.stdout

    counts = restored_counts()
    # The restore removed the reminder job's schedules (daily and retries) until someone has checked.
    assert counts.pop("django_q.Schedule") == manifest["counts"]["django_q.Schedule"] - reminder_schedules
    expected = dict(manifest["counts"])
    expected.pop("django_q.Schedule")
    assert counts == expected
    assert counts["clients.Client"] == 2  # Dora came after the backup
    for rel, digest in manifest["files"].items():
        if rel.startswith("files/attachments/"):
            restored = restored_files / rel.removeprefix("files/attachments/")
            assert hashlib.sha256(restored.read_bytes()).hexdigest() == digest
    assert not (restored_files / "drill" / "after.pdf").exists()
    verify = manage("backup", "--verify", str(backup), env=env)
    assert verify.returncode == 0 and "checksums match" in verify.stdout

    # The reminder job on the restored copy: Ann's email, sent before the backup, is not sent again. Carl's, sent
    # after it, is not in the restored outbox: a run emails him again (the README says so; hence the hold).
    before = len(smtp_server.messages)
    rerun = manage("reminders_run", "--date", today.isoformat(), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert recipients(smtp_server, before) == ["carl@example.com"]
    # The live database was not touched by any of this.
    assert ReminderNotice.objects.filter(delivery__status=ReminderDelivery.Status.SENT).count() == 2
    assert Schedule.objects.filter(func__startswith="reminders.tasks.").count() == reminder_schedules
