"""The global search on the embedded SQLite default at practice scale (issue 14).

    python -m bench.search_sqlite                      # owners and pets copied from the PostgreSQL bench database
    python -m bench.search_sqlite --from postgres://postgres@127.0.0.1:5432/vetpms_bench --sqlite /tmp/s.sqlite3

Seeding practice scale is written for PostgreSQL (COPY), so this bench migrates a fresh SQLite file and copies
the owners, species, breeds and pets of a database that ``python -m bench`` loaded (60,000 clients, 90,000
animals), then times ``animals.selectors.search`` with the query mix of the PostgreSQL bench (bench.run.
build_queries: surname prefixes, full surnames, pets' names, phones, microchips, emails). Results go to
bench/results/search_sqlite.md. The SQLite file is deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench.run import DEFAULT_URL, ROOT, SEARCH_TARGET_MS, Result, measure, table

RESULTS = ROOT / "bench" / "results" / "search_sqlite.md"
TABLES = ("clients_client", "animals_species", "animals_breed", "animals_animal")


def configure_sqlite(path: Path) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ["SQLITE_PATH"] = str(path)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DEBUG"] = "0"
    os.environ.pop("VETPMS_TESTING", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "vetpms.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def copy_rows(source_url: str, path: Path) -> dict[str, int]:
    """Copy TABLES from PostgreSQL into the migrated SQLite file (the columns both have), replacing its rows."""
    import psycopg

    counts: dict[str, int] = {}
    target = sqlite3.connect(path)
    target.execute("PRAGMA foreign_keys=OFF")
    with psycopg.connect(source_url) as source:
        for name in reversed(TABLES):
            target.execute(f'DELETE FROM "{name}"')
        for name in TABLES:
            sqlite_columns = [row[1] for row in target.execute(f'PRAGMA table_info("{name}")')]
            pg_columns = [
                row[0]
                for row in source.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [name]
                )
            ]
            columns = [c for c in sqlite_columns if c in pg_columns]
            quoted = ", ".join(f'"{c}"' for c in columns)
            insert = f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'
            with source.cursor(name=f"copy_{name}") as cursor:
                cursor.execute(f'SELECT {quoted} FROM "{name}" ORDER BY id')
                total = 0
                while rows := cursor.fetchmany(5000):
                    target.executemany(insert, [[_plain(v) for v in row] for row in rows])
                    total += len(rows)
            counts[name] = total
        target.commit()
    target.execute("ANALYZE")
    target.close()
    return counts


def _plain(value):
    """psycopg values SQLite's driver does not take (Decimal, date and time objects go in as text)."""
    if value is None or isinstance(value, (int, float, str, bytes)):
        return value
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite", default="")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    path = Path(args.sqlite) if args.sqlite else Path(tempfile.mkdtemp()) / "search.sqlite3"
    fresh = not path.exists()
    configure_sqlite(path)
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    if fresh:
        call_command("migrate", verbosity=0)
        counts = copy_rows(args.source, path)
        call_command("migrate", verbosity=0)  # post_migrate hooks see the copied rows (search index rebuilt)
        print(f"copied in {time.perf_counter() - started:.0f} s: {counts}")

    from django.db import connection

    from animals.selectors import search
    from bench.run import build_queries

    rng = random.Random(args.seed)
    queries = build_queries(args.queries, rng)
    for _kind, q in queries[:20]:
        search(query=q)
    overall = Result("search selector on SQLite (animals.selectors.search)", target=f"p95 <= {SEARCH_TARGET_MS:.0f} ms")
    per_kind: dict[str, Result] = {}
    for kind, q in queries:
        measure(overall, lambda q=q: search(query=q))
        per_kind.setdefault(kind, Result(f"  search: {kind}"))
        per_kind[kind].add(overall.times_ms[-1], overall.queries[-1])
    overall.ok = overall.p95 <= SEARCH_TARGET_MS
    dropdown = Result("  the same queries, 8 hits (the dropdown)")
    for _kind, q in queries:
        measure(dropdown, lambda q=q: search(query=q, limit=8))
    results = [overall, dropdown, *per_kind.values()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    text = (
        "# The global search on SQLite at practice scale\n\n"
        f"`python -m bench.search_sqlite`: the owners and pets of the PostgreSQL bench database copied into a\n"
        f"migrated SQLite {version} file; {len(queries)} queries of the PostgreSQL bench's mix, timed in-process\n"
        f"(wall-clock ms, SQL included). Machine load average at the end: {os.getloadavg()[0]:.2f}.\n\n"
        + table(results)
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    if not args.keep and not args.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
