"""manage.py backup / restore: what a backup holds, what a restore refuses, retention and the daily schedule."""

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from clients.models import Client
from exchange.backup import core, schedule, tasks
from tests.factories import ClientFactory
from vetpms.timeutils import to_local

pytestmark = pytest.mark.django_db


def rewrite_sums(backup: Path) -> None:
    """Re-seal a backup after a test edited its manifest (as a careless hand would not)."""
    manifest = json.loads((backup / core.MANIFEST).read_text())
    sums = dict(manifest["files"], **{core.MANIFEST: core.sha256_file(backup / core.MANIFEST)})
    (backup / core.SUMS).write_text("".join(f"{d}  {rel}\n" for rel, d in sorted(sums.items())))


def test_the_backup_holds_database_manifest_and_checksums(tmp_path):
    backup = core.create_backup(into=tmp_path)
    assert core.NAME_RE.match(backup.name)
    manifest = core.verify_backup(backup)
    db_file = {"postgresql": core.PG_FILE, "sqlite": core.SQLITE_FILE}[connection.vendor]
    assert manifest["database_file"] == db_file and (backup / db_file).stat().st_size > 0
    assert manifest["vetpms_version"] == core.vetpms_version()
    assert "clients.Client" in manifest["counts"] and "auth.Group" in manifest["counts"]
    assert manifest["counts"]["auth.Group"] > 0  # the role groups, committed by the migrations
    assert not list(tmp_path.glob(".*partial"))


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    backup = core.create_backup(into=tmp_path)
    ClientFactory(last_name="Keep")
    with pytest.raises(CommandError, match="is not empty: restore only into an empty database"):
        call_command("restore", str(backup))
    assert Client.objects.filter(last_name="Keep").exists()


def test_a_damaged_or_incomplete_backup_is_refused(tmp_path):
    backup = core.create_backup(into=tmp_path)
    db_file = backup / core.verify_backup(backup)["database_file"]
    data = bytearray(db_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    db_file.write_bytes(bytes(data))
    with pytest.raises(core.BackupError, match="does not match its checksum"):
        core.verify_backup(backup)
    db_file.unlink()
    with pytest.raises(CommandError, match="incomplete"):
        call_command("restore", str(backup))
    other = core.create_backup(into=tmp_path)
    (other / "notes.txt").write_text("added by hand")
    with pytest.raises(core.BackupError, match=r"checksums do not cover: notes\.txt"):
        core.verify_backup(other)
    with pytest.raises(core.BackupError, match="not a backup directory"):
        core.verify_backup(tmp_path / "nothing-here")


def test_migrations_must_be_known_to_the_code(tmp_path):
    backup = core.create_backup(into=tmp_path)
    manifest = json.loads((backup / core.MANIFEST).read_text())
    older = dict(manifest, migrations=[m for m in manifest["migrations"] if m != "reminders.0001_initial"])
    assert core.migration_plan(older) == ["reminders.0001_initial"]  # restore, then migrate
    manifest["migrations"].append("clients.9999_from_the_future")
    (backup / core.MANIFEST).write_text(json.dumps(manifest))
    rewrite_sums(backup)
    with pytest.raises(CommandError, match=r"migrations this code does not have \(clients.9999_from_the_future\)"):
        call_command("restore", str(backup))


def test_a_backup_of_the_other_database_kind_is_refused(tmp_path):
    backup = core.create_backup(into=tmp_path)
    manifest = json.loads((backup / core.MANIFEST).read_text())
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    (backup / core.MANIFEST).write_text(json.dumps(dict(manifest, database_vendor=other)))
    rewrite_sums(backup)
    with pytest.raises(core.BackupError, match=f"This is a {other} backup"):
        core.restore_backup(backup)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_pg_dump_gets_the_password_from_the_environment_never_the_command_line(tmp_path, monkeypatch):
    calls = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        calls.append((args, kwargs.get("env") or {}))
        return real_run(args, **kwargs)

    monkeypatch.setattr(core.subprocess, "run", spy)
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "pw-not-on-the-command-line")
    core.create_backup(into=tmp_path)
    dump = [(args, env) for args, env in calls if Path(args[0]).name == "pg_dump" and "--version" not in args]
    assert dump, calls
    args, env = dump[0]
    assert not any("pw-not-on-the-command-line" in arg for arg in args)
    assert env["PGPASSWORD"] == "pw-not-on-the-command-line"
    assert any(arg.startswith("--snapshot=") for arg in args)


def fake_backup(parent: Path, created: dt.datetime) -> Path:
    path = parent / ("vetpms-" + created.strftime("%Y%m%dT%H%M%SZ"))
    path.mkdir(parents=True)
    (path / core.MANIFEST).write_text(json.dumps({"created_at": created.isoformat().replace("+00:00", "Z")}))
    return path


def test_retention_deletes_backups_older_than_the_setting_but_never_the_newest(tmp_path):
    now = dt.datetime(2027, 1, 20, 3, 0, tzinfo=dt.UTC)
    old = [fake_backup(tmp_path, now - dt.timedelta(days=d)) for d in (30, 15)]
    recent = [fake_backup(tmp_path, now - dt.timedelta(days=d)) for d in (13, 1)]
    stranger = tmp_path / "my-own-folder"
    stranger.mkdir()
    killed = tmp_path / ".vetpms-20270101T023000Z.partial"  # a backup whose process was killed
    killed.mkdir()
    two_days_ago = (now - dt.timedelta(days=2)).timestamp()
    os.utime(killed, (two_days_ago, two_days_ago))
    running = tmp_path / ".vetpms-20270120T025900Z.partial"  # one being written right now
    running.mkdir()
    os.utime(running, (now.timestamp(), now.timestamp()))
    assert core.prune_backups(keep_days=0, parent=tmp_path, now=now) == []
    assert sorted(core.prune_backups(keep_days=14, parent=tmp_path, now=now)) == old
    assert core.list_backups(tmp_path) == recent and stranger.exists()
    assert not killed.exists() and running.exists()
    # Even when every backup is old, the newest stays.
    assert core.prune_backups(keep_days=1, parent=tmp_path, now=now + dt.timedelta(days=60)) == [recent[0]]
    assert core.list_backups(tmp_path) == [recent[1]]


def test_migrate_writes_the_daily_backup_schedule_at_the_set_time(settings):
    daily = Schedule.objects.get(name=schedule.NAME)  # post_migrate wrote it when the test database was built
    assert daily.func == "exchange.backup.tasks.daily_backup" and daily.schedule_type == Schedule.DAILY
    settings.BACKUP_TIME = "03:15"
    schedule.ensure_schedule()
    schedule.ensure_schedule()
    daily = Schedule.objects.get(name=schedule.NAME)
    local = to_local(daily.next_run)
    assert (local.hour, local.minute) == (3, 15) and daily.next_run > timezone.now()
    assert Schedule.objects.filter(name=schedule.NAME).count() == 1


def test_the_daily_task_writes_a_backup_and_prunes_old_ones(settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path)
    settings.BACKUP_KEEP_DAYS = 7
    stale = fake_backup(tmp_path, timezone.now() - dt.timedelta(days=8))
    written = Path(tasks.daily_backup())
    assert written.parent == tmp_path and core.verify_backup(written)
    assert not stale.exists()
    assert core.list_backups(tmp_path) == [written]
