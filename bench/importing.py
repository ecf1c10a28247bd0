"""Issue 12: importing a practice from another system (60,000 clients and 90,000 animals at full size).

    python -m bench.importing                          # a tenth of the size, PostgreSQL and SQLite
    python -m bench.importing --scale 1                # the full 60,000 + 90,000
    python -m bench.importing --only sqlite

Writes a clients CSV (semicolon separated, Windows-1252, day-first dates, odd headers as another system exports
them) and an animals CSV (sex codes such as MN and FE, microchips for most) into a temporary folder, then for each
database: an empty database (PostgreSQL ``vetpms_bench_import`` or ``--pg-db``, dropped and created again; SQLite
a new file), ``migrate``, a manager, and ``manage.py import_data --apply --measure`` in its own process, which runs
the dry run and then the import through the same services as the page. Reported per run: wall time, rows per
second and the process's peak resident memory (ru_maxrss of the import process). Results go to
bench/results/importing.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import ROOT

RESULTS = ROOT / "bench" / "results" / "importing.md"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "vetpms_bench_import"
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Müller"]
FIRST = ["Ann", "Bob", "Carys", "Dev", "Ella", "Finn", "Grace", "Hari", "Iona", "Jack", "Zoë"]
SPECIES = [("Dog", "Labrador"), ("Dog", ""), ("Cat", "Domestic Shorthair"), ("Cat", ""), ("Rabbit", "")]
SEX = ["M", "F", "MN", "FS", "ME", "FE", "U"]


def postcode(i: int) -> str:
    """A postcode of its own for each of the first 189,280 clients: a shared surname and postcode is a possible
    duplicate, which the import skips (eleven surnames over thirty postcodes made half a tenth-size run skips)."""
    return f"LS{1 + i % 28} {i // 28 % 10}{chr(65 + i // 280 % 26)}{chr(65 + i // 7280 % 26)}"


def write_files(folder: Path, clients: int, animals: int, seed: int = 12) -> tuple[Path, Path]:
    rng = random.Random(seed)
    cpath, apath = folder / "Owners.csv", folder / "Patients.csv"
    with cpath.open("w", encoding="cp1252", errors="replace", newline="") as out:
        out.write("Client No;Title;Forename;Surname;E-Mail;Mobile No;Address 1;Town;Post Code;Send Reminders\r\n")
        for i in range(clients):
            surname = rng.choice(SURNAMES)
            out.write(
                f"K{i};Mrs;{rng.choice(FIRST)};{surname};owner{i}@example.com;07{rng.randint(700, 999)} "
                f"{i % 1_000_000:06d};{i} High Street;Leeds;{postcode(i)};{'Y' if i % 3 else 'N'}\r\n"
            )
    with apath.open("w", encoding="utf-8", newline="") as out:
        out.write("Patient ID,Owner ID,Pet Name,Species,Breed,Sex,DOB,Microchip\n")
        for i in range(animals):
            species, breed = rng.choice(SPECIES)
            chip = f"985{i:012d}" if i % 5 else ""
            out.write(
                f"P{i},K{i % clients},Pet {i},{species},{breed},{rng.choice(SEX)},"
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2008, 2025)},{chip}\n"
            )
    return cpath, apath


def _env(database: str, value: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH", "VETPMS_TESTING")}
    env.update(
        DEBUG="0", SECRET_KEY="bench-import-" + "x" * 40, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="vetpms.settings"
    )
    env["DATABASE_URL" if database == "postgresql" else "SQLITE_PATH"] = value
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fresh_database(database: str, folder: Path, pg_db: str = PG_DB) -> dict[str, str]:
    if database == "postgresql":
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(pg_db)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_db)))
        env = _env(database, PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_db)
    else:
        env = _env(database, str(folder / "bench_import.sqlite3"))
    _manage(env, "migrate", "--verbosity", "0")
    _manage(
        env,
        "shell",
        "-c",
        "from tests.factories import UserFactory; from vetpms.models import Role; "
        "UserFactory(username='bench-manager', role=Role.MANAGER)",
    )
    return env


def run(
    database: str, files: tuple[Path, Path], folder: Path, pg_db: str = PG_DB
) -> list[tuple[str, float, float, float, float, str]]:
    env = fresh_database(database, folder, pg_db)
    started = time.perf_counter()
    out = _manage(
        env,
        "import_data",
        *map(str, files),
        "--source",
        "OldVet",
        "--as",
        "bench-manager",
        "--apply",
        "--allow-errors",
        "--measure",
    )
    total = time.perf_counter() - started
    rows = []
    for label in ("dry run", "import"):
        m = re.search(rf"^{label}: ([\d.]+) s, (\d+) rows/s, peak RSS (\d+) MiB, ([\d.]+) s of", out, re.M)
        counts = re.search(rf"^{label}: (\d+) rows; (.*)$", out, re.M)
        if m and counts:
            seconds, rate, rss, cpu = (float(g) for g in m.groups())
            rows.append((label, seconds, rate, rss, cpu, counts.group(2)))
    print(out)
    print(f"{database}: {total:.0f} s in all")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 60,000 clients and 90,000 animals")
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--pg-db", default=PG_DB, help="The PostgreSQL database to drop, create and import into.")
    opts = parser.parse_args(argv)
    clients, animals = int(60_000 * opts.scale), int(90_000 * opts.scale)
    load = os.getloadavg()
    lines = [
        f"# Import bench ({clients:,} clients, {animals:,} animals)",
        "",
        f"Made by `python -m bench.importing --scale {opts.scale}`; load average at the start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores. Each run is "
        "`manage.py import_data --apply`: a dry run of both files, then the import, every row through the services. "
        "CPU is the import process's own CPU time (on a busy machine the wall time is longer; on PostgreSQL the "
        "server's work is not in it).",
        "",
        "| database | run | time (s) | rows/s | CPU (s) | rows per CPU second | peak RSS (MiB) | outcome |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_files(folder, clients, animals)
        for database in ("postgresql", "sqlite"):
            if opts.only and database != opts.only:
                continue
            for label, seconds, rate, rss, cpu, outcome in run(database, files, folder, opts.pg_db):
                per_cpu = rate * seconds / cpu if cpu else 0
                lines.append(
                    f"| {database} | {label} | {seconds:.0f} | {rate:.0f} | {cpu:.0f} | {per_cpu:.0f} | {rss:.0f} "
                    f"| {outcome} |"
                )
    load = os.getloadavg()
    lines.append("")
    lines.append(f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.")
    opts.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
