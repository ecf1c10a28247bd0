"""Issue 12: backup, restore and the export zip at practice scale.

    python -m bench.backup --database-url postgres://postgres@127.0.0.1:5432/vetpms_bench

Runs ``manage.py backup`` against the database (in its own process, as the schedule's task would), then creates a
scratch database beside it, runs ``manage.py restore`` into it and drops it, and streams the export zip to
/dev/null; prints the wall times, the backup's size, rows and the machine's load, and writes them to
bench/results/backup.md. Nothing else is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "backup.md"


def manage(*args: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed: {result.stderr.strip()}")
    return elapsed, result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("--database-url (a PostgreSQL database loaded with seed_demo --scale practice)")
    work = Path(tempfile.mkdtemp(prefix="vetpms-bench-backup-"))
    env = dict(os.environ, DATABASE_URL=args.database_url, VETPMS_TESTING="1", BACKUP_DIR=str(work / "backups"))
    env["ATTACHMENT_DIR"] = str(work / "attachments-live")
    url = urlsplit(args.database_url)
    scratch = f"{url.path.lstrip('/')}_restore_{secrets.token_hex(3)}"
    lines: list[str] = []

    def report(line: str) -> None:
        print(line)
        lines.append(line)

    try:
        report(f"load before: {_load()}")
        backup_s, path = manage("backup", env=env)
        manifest = json.loads((Path(path) / "manifest.json").read_text())
        size = sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
        rows = sum(manifest["counts"].values())
        report(f"backup: {backup_s:.1f} s, {size / 1e6:.1f} MB, {rows:,} rows")
        verify_s, _ = manage("backup", "--verify", path, env=env)
        report(f"verify: {verify_s:.1f} s")
        subprocess.run(["createdb", scratch], env=_pg_env(url), check=True)  # noqa: S603, S607
        try:
            restore_env = dict(env, DATABASE_URL=urlunsplit(url._replace(path="/" + scratch)))
            restore_env["ATTACHMENT_DIR"] = str(work / "attachments-restored")
            restore_s, out = manage("restore", path, env=restore_env)
            said = out.splitlines()[0]
            report(f"restore: {restore_s:.1f} s ({said.partition(': ')[2] or said})")  # the part without the paths
        finally:
            subprocess.run(["dropdb", "--if-exists", scratch], env=_pg_env(url), check=True)  # noqa: S603, S607
        if not args.skip_export:
            code = (
                "import django,time;django.setup();from exchange.exporting.zipstream import export_zip;"
                "import resource;t=time.perf_counter();n=sum(len(c) for c in export_zip());"
                "print(f'export zip: {time.perf_counter()-t:.1f} s, {n/1e6:.1f} MB, peak RSS "
                "{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB')"
            )
            exported = subprocess.run(  # noqa: S603 - our own code
                [sys.executable, "-c", code],
                cwd=ROOT,
                env=dict(env, DJANGO_SETTINGS_MODULE="vetpms.settings"),
                check=True,
                capture_output=True,
                text=True,
            )
            report(exported.stdout.strip())
        report(f"load after: {_load()}")
        big = sorted((table, count) for table, count in manifest["counts"].items() if count >= 10_000)
        counts = ", ".join(f"{table} {count:,}" for table, count in big)
        RESULTS.write_text(
            "# Backup, restore and export at practice scale\n\n"
            "Made by `python -m bench.backup --database-url <a practice-scale PostgreSQL database>`.\n\n"
            + "".join(f"- {line}\n" for line in lines)
            + f"\nTables of 10,000 rows or more in the backup: {counts}.\n"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _pg_env(url) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PGHOST=url.hostname or "", PGPORT=str(url.port or 5432), PGUSER=url.username or "")
    if url.password:
        env["PGPASSWORD"] = url.password
    return env


if __name__ == "__main__":
    main()
