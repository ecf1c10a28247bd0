"""Writing, checking, restoring and pruning backups (see the package docstring for the layout).

Consistency while the practice works:

- PostgreSQL: a REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot``); the row counts are read
  in that transaction and ``pg_dump --snapshot`` dumps exactly the same snapshot, so the manifest's counts are the
  dump's, however many bookings are written meanwhile.
- SQLite: the online backup API copies the whole database in one step under a read lock (WAL lets writers carry on
  in the log meanwhile), and the counts are read from the copy.
- Files are copied after the database: a row is written after its file (clinical attachments are saved through the
  storage before their row commits), so every file the database names is in the backup; a file uploaded meanwhile
  may be in it without its row, which is harmless.

Connection details go to ``pg_dump``/``pg_restore`` through the environment (PGPASSWORD and friends), never on the
command line, where any user of the machine could read them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from vetpms.errors import DomainError

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
PG_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
FILES_DIR = "files"
# The storages that hold what users uploaded (not static files, which come with the code).
UPLOAD_STORAGES = ("attachments",)
NAME_RE = re.compile(r"^vetpms-\d{8}T\d{6}Z(-\d+)?$")
CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class RestoreResult:
    path: Path
    counts: dict[str, int]
    files: int
    migrate_needed: list[str] = field(default_factory=list)
    reminder_schedules_held: int = 0


# --- Small helpers ----------------------------------------------------------------------------------------------


def vetpms_version() -> str:
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def _tables() -> dict[str, str]:
    """``app_label.Model`` -> table, for every concrete table the code's models own (many-to-many tables included)."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            tables[meta.label] = meta.db_table
    return dict(sorted(tables.items()))


def count_rows(cursor: Any, existing: set[str], quote: Callable[[str], str]) -> dict[str, int]:
    counts = {}
    for label, table in _tables().items():
        if table in existing:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - table names from the models
            counts[label] = int(cursor.fetchone()[0])
    return counts


def _applied(cursor: Any) -> list[str]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


def code_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _quote_pg(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- PostgreSQL -------------------------------------------------------------------------------------------------


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    options = db.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("passfile", "PGPASSFILE")):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _pg_tool(name: str) -> str:
    folder = settings.BACKUP_PG_BIN_DIR
    tool = str(Path(folder) / name) if folder else shutil.which(name)
    if not tool or not Path(tool).exists():
        raise BackupError(f"{name} was not found; install the PostgreSQL client tools or set BACKUP_PG_BIN_DIR.")
    return tool


def _tool_major(tool: str) -> int:
    out = subprocess.run(  # noqa: S603 - the PostgreSQL tool, no shell
        [tool, "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def _check_tool_version(tool: str) -> None:
    """pg_dump refuses a newer server, and an older pg_restore cannot read a newer dump: say so before starting."""
    server = connection.pg_version // 10000  # type: ignore[attr-defined]
    major = _tool_major(tool)
    if major < server:
        raise BackupError(
            f"{Path(tool).name} is version {major} but the server is PostgreSQL {server}: install the version "
            f"{server} client tools and point BACKUP_PG_BIN_DIR at them."
        )


def _pg_connect(db: dict[str, Any]):
    import psycopg

    options = {
        k: v for k, v in (db.get("OPTIONS") or {}).items() if k in {"sslmode", "sslrootcert", "passfile", "options"}
    }
    return psycopg.connect(
        autocommit=True,  # the snapshot's transaction is begun explicitly, with its isolation level
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        **options,
    )


def _pg_dump(target: Path) -> tuple[dict[str, int], list[str]]:
    db = connection.settings_dict
    connection.ensure_connection()
    tool = _pg_tool("pg_dump")
    _check_tool_version(tool)
    with _pg_connect(db) as snap, snap.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]  # type: ignore[index]
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        existing = {row[0] for row in cursor.fetchall()}
        counts = count_rows(cursor, existing, _quote_pg)
        migrations = _applied(cursor)
        # The exporting transaction must stay open while pg_dump imports its snapshot.
        result = subprocess.run(  # noqa: S603 - the PostgreSQL tool, no shell
            [tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
            env=_pg_env(db),
            capture_output=True,
            text=True,
        )
        cursor.execute("ROLLBACK")
    if result.returncode:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return counts, migrations


def _pg_restore(dump: Path) -> None:
    db = connection.settings_dict
    tool = _pg_tool("pg_restore")
    _check_tool_version(tool)
    env = _pg_env(db)
    listing = subprocess.run(  # noqa: S603 - the PostgreSQL tool, no shell
        [tool, "--list", str(dump)], env=env, capture_output=True, text=True
    )
    if listing.returncode:
        raise BackupError(f"pg_restore cannot read {dump.name}: {listing.stderr.strip()}")
    # An extension's comment belongs to its owner (a superuser): restoring it as the practice's own user would fail
    # the whole restore, and the extension itself is created either way.
    kept = [line for line in listing.stdout.splitlines() if " COMMENT - EXTENSION " not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as fh:
        fh.write("\n".join(kept) + "\n")
        list_file = fh.name
    try:
        result = subprocess.run(  # noqa: S603 - the PostgreSQL tool, no shell
            [
                tool,
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--use-list={list_file}",
                f"--dbname={db['NAME']}",
                str(dump),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(list_file)
    if result.returncode:
        raise BackupError(f"pg_restore failed (nothing was restored): {result.stderr.strip()}")


# --- SQLite -----------------------------------------------------------------------------------------------------


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_counts(path: Path) -> tuple[dict[str, int], list[str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = con.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        existing = {row[0] for row in cursor.fetchall()}
        return count_rows(cursor, existing, _quote_sqlite), _applied(cursor)
    finally:
        con.close()


def _sqlite_copy(source: Path | str, target: Path | str) -> None:
    src = sqlite3.connect(str(source), timeout=60)
    dst = sqlite3.connect(str(target))
    try:
        # pages=-1: the whole database in one step, under one read lock: a consistent copy while writers wait in
        # the write-ahead log.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _sqlite_dump(target: Path) -> tuple[dict[str, int], list[str]]:
    _sqlite_copy(connection.settings_dict["NAME"], target)
    return sqlite_counts(target)


# --- Files ------------------------------------------------------------------------------------------------------


def walk_storage(storage: Any, prefix: str = "") -> Iterator[str]:
    try:
        dirs, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{prefix}/{name}" if prefix else name
    for name in sorted(dirs):
        yield from walk_storage(storage, f"{prefix}/{name}" if prefix else name)


def _copy_uploads(root: Path) -> dict[str, str]:
    sums = {}
    for alias in UPLOAD_STORAGES:
        storage = storages[alias]
        for name in walk_storage(storage):
            rel = f"{FILES_DIR}/{alias}/{name}"
            out = root / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with storage.open(name, "rb") as src, open(out, "wb") as dst:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    digest.update(chunk)
                    dst.write(chunk)
            sums[rel] = digest.hexdigest()
    return sums


# --- Backup -----------------------------------------------------------------------------------------------------


def _new_name(parent: Path, now: dt.datetime) -> str:
    base = "vetpms-" + now.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (parent / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def create_backup(*, into: Path | None = None, now: dt.datetime | None = None) -> Path:
    """Write one complete backup under ``into`` (``BACKUP_DIR``) and return its directory. It is written under a
    hidden ``.partial`` name and renamed when complete, so an interrupted backup never looks like a good one."""
    parent = Path(into or backup_dir())
    parent.mkdir(parents=True, exist_ok=True)
    created = (now or timezone.now()).astimezone(dt.UTC)
    name = _new_name(parent, created)
    work = parent / f".{name}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        vendor = connection.vendor
        if vendor == "postgresql":
            db_file = PG_FILE
            counts, migrations = _pg_dump(work / db_file)
        elif vendor == "sqlite":
            db_file = SQLITE_FILE
            counts, migrations = _sqlite_dump(work / db_file)
        else:  # pragma: no cover - VetPMS runs on these two
            raise BackupError(f"Backups of {vendor} databases are not supported.")
        files = {db_file: sha256_file(work / db_file)}
        files.update(_copy_uploads(work))
        manifest = {
            "format": FORMAT,
            "vetpms_version": vetpms_version(),
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "database_vendor": vendor,
            "database_file": db_file,
            "migrations": migrations,
            "counts": counts,
            "storages": list(UPLOAD_STORAGES),
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        sums = dict(files, **{MANIFEST: sha256_file(work / MANIFEST)})
        (work / SUMS).write_text("".join(f"{digest}  {rel}\n" for rel, digest in sorted(sums.items())))
        os.rename(work, parent / name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return parent / name


# --- Checking ---------------------------------------------------------------------------------------------------


def read_sums(path: Path) -> dict[str, str]:
    sums = {}
    for line in (path / SUMS).read_text().splitlines():
        digest, _, rel = line.partition("  ")
        if not rel or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise BackupError(f"{SUMS} has a line that is not a checksum: {line[:80]!r}")
        sums[rel] = digest
    return sums


def verify_backup(path: Path) -> dict[str, Any]:
    """Check every file against SHA256SUMS and the manifest; return the manifest. Raise BackupError naming the
    first problem."""
    path = Path(path)
    if not path.is_dir():
        raise BackupError(f"{path} is not a backup directory.")
    if not (path / SUMS).is_file() or not (path / MANIFEST).is_file():
        raise BackupError(f"{path} has no {SUMS} or {MANIFEST}: not a complete VetPMS backup.")
    sums = read_sums(path)
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {SUMS}
    if missing := sorted(set(sums) - on_disk):
        raise BackupError(f"The backup is incomplete: {', '.join(missing[:5])} missing.")
    if extra := sorted(on_disk - set(sums)):
        raise BackupError(f"The backup holds files its checksums do not cover: {', '.join(extra[:5])}.")
    for rel, digest in sorted(sums.items()):
        if sha256_file(path / rel) != digest:
            raise BackupError(f"{rel} does not match its checksum: the backup is damaged.")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"The backup's format {manifest.get('format')!r} is not one this VetPMS reads.")
    if manifest.get("files") != {rel: d for rel, d in sums.items() if rel != MANIFEST}:
        raise BackupError("The manifest's file list does not match SHA256SUMS.")
    return manifest


def migration_plan(manifest: dict[str, Any]) -> list[str]:
    """The code's migrations the backup lacks (to apply with ``migrate`` after restoring). A backup with migrations
    this code does not have was made by a newer VetPMS: refused."""
    code = code_migrations()
    backup = set(manifest["migrations"])
    if unknown := sorted(backup - code):
        raise BackupError(
            f"The backup was made by VetPMS {manifest['vetpms_version']} with migrations this code does not have "
            f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}): install that version (or a newer "
            "one), restore, then upgrade."
        )
    return sorted(code - backup)


# --- Restore ----------------------------------------------------------------------------------------------------


def database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _file_conflicts(path: Path, manifest: dict[str, Any]) -> list[str]:
    """Uploaded files already in the storage with other content (a restore never overwrites a file)."""
    conflicts = []
    for rel, digest in manifest["files"].items():
        if not rel.startswith(f"{FILES_DIR}/"):
            continue
        _, alias, name = rel.split("/", 2)
        storage = storages[alias]
        if storage.exists(name):
            with storage.open(name, "rb") as fh:
                current = hashlib.sha256()
                for chunk in iter(lambda: fh.read(CHUNK), b""):
                    current.update(chunk)
            if current.hexdigest() != digest:
                conflicts.append(f"{alias}/{name}")
    return conflicts


def _restore_files(path: Path, manifest: dict[str, Any]) -> int:
    written = 0
    for rel in sorted(manifest["files"]):
        if not rel.startswith(f"{FILES_DIR}/"):
            continue
        _, alias, name = rel.split("/", 2)
        storage = storages[alias]
        if storage.exists(name):
            continue  # the same content (checked before the database was touched)
        with open(path / rel, "rb") as fh:
            saved = storage.save(name, File(fh))
        if saved != name:
            raise BackupError(f"The storage saved {name} as {saved}; the database names {name}.")
        written += 1
    return written


def current_counts() -> dict[str, int]:
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        return count_rows(cursor, existing, connection.ops.quote_name)


def hold_reminder_schedules() -> int:
    """Remove the reminder job's schedules from the restored database. Notices sent after the backup was made are
    not in it, so a run would email those owners a second time; the job stays off until someone has checked and
    runs ``manage.py reminders_schedule`` (``migrate`` writes the schedules again too)."""
    from django_q.models import Schedule

    deleted, _ = Schedule.objects.filter(func__startswith="reminders.tasks.").delete()
    return deleted


def restore_backup(path: Path, *, hold_reminders: bool = True) -> RestoreResult:
    """Restore a backup into the configured database, which must be empty, and its files into the storages."""
    path = Path(path)
    manifest = verify_backup(path)
    vendor = connection.vendor
    if manifest["database_vendor"] != vendor:
        raise BackupError(
            f"This is a {manifest['database_vendor']} backup and the configured database is {vendor}: "
            "restore it into a database of the same kind (set DATABASE_URL accordingly)."
        )
    to_migrate = migration_plan(manifest)
    if not database_is_empty():
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty: restore only into an empty database "
            "(create a new one, or drop and recreate this one after making sure nothing in it is needed)."
        )
    if conflicts := _file_conflicts(path, manifest):
        raise BackupError(
            f"{len(conflicts)} uploaded file(s) already exist with other content ({', '.join(conflicts[:3])}): "
            "restore into an empty storage (ATTACHMENT_DIR or bucket)."
        )
    db_file = path / manifest["database_file"]
    if vendor == "postgresql":
        _pg_restore(db_file)
    else:
        target = connection.settings_dict["NAME"]
        connection.close()
        _sqlite_copy(db_file, target)
    connection.close()  # reconnect: the schema changed underneath this connection
    counts = current_counts()
    if counts != manifest["counts"]:
        differ = sorted(k for k in set(counts) | set(manifest["counts"]) if counts.get(k) != manifest["counts"].get(k))
        raise BackupError(f"After restoring, the row counts differ from the backup's for {', '.join(differ[:5])}.")
    files = _restore_files(path, manifest)
    held = hold_reminder_schedules() if hold_reminders else 0
    return RestoreResult(path=path, counts=counts, files=files, migrate_needed=to_migrate, reminder_schedules_held=held)


# --- Retention --------------------------------------------------------------------------------------------------


def list_backups(parent: Path | None = None) -> list[Path]:
    parent = Path(parent or backup_dir())
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and NAME_RE.match(p.name) and (p / MANIFEST).exists())


def _created(path: Path) -> dt.datetime:
    raw = json.loads((path / MANIFEST).read_text(encoding="utf-8"))["created_at"]
    return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))


def prune_backups(*, keep_days: int, parent: Path | None = None, now: dt.datetime | None = None) -> list[Path]:
    """Delete the backups older than ``keep_days`` days, always keeping the newest; 0 keeps everything."""
    now = now or timezone.now()
    folder = Path(parent or backup_dir())
    # A backup whose process was killed (a task timeout, a reboot) leaves its hidden .partial folder behind.
    if folder.is_dir():
        for stale in folder.glob(".vetpms-*.partial"):
            if dt.datetime.fromtimestamp(stale.stat().st_mtime, tz=dt.UTC) < now - dt.timedelta(days=1):
                shutil.rmtree(stale, ignore_errors=True)
    if keep_days <= 0:
        return []
    backups = list_backups(parent)
    cutoff = now - dt.timedelta(days=keep_days)
    removed = []
    for old in backups[:-1]:
        try:
            created = _created(old)
        except (ValueError, KeyError, OSError):
            continue  # not ours to judge: leave it
        if created < cutoff:
            shutil.rmtree(old)
            removed.append(old)
    return removed
