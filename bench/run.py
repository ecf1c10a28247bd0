"""Server-side speed of the pages and endpoints that must stay fast at practice scale.

    python -m bench                       # against postgres://postgres@127.0.0.1:5432/vetpms_bench
    DATABASE_URL=postgres://... python -m bench --reseed

The database is ``--database-url``, else ``BENCH_DATABASE_URL``, else ``DATABASE_URL`` when it names a PostgreSQL
database, else the default above. A database holding other data (fewer clients than practice scale) is never
wiped unless ``--reseed`` says so.

Creates the database if needed, migrates it, loads ``seed_demo --scale practice`` (60k clients, 90k animals,
10 vets with ten years of appointments) unless it is already there, then measures in-process with Django's test
client: wall time around each request (middleware, view, queries, template: everything but the network) and the
SQL queries it ran. Prints the tables and writes them to bench/results/latest.md; the query plans of the
appointment books go to docs/explain/appointments.md.

Targets (issue 2): global search <= 50 ms p95; client list and client detail <= 10 queries whatever the page size.
Targets (issue 3, bench/appointments.py): vet day list <= 30 ms p95 and <= 8 queries; free-slot search for a day
<= 30 ms p95; the 10-vet day grid <= 100 ms p95; booking throughput and its ratio to a bare INSERT.
Targets (issue 4, bench/invoicing.py): finalise <= 50 ms p95; the PDF of a 20-line invoice <= 100 ms p95; a
client's balance with 300 documents <= 20 ms p95; the invoice list page <= 10 queries whatever the page size.
Targets (issue 14, bench/pages.py): every daily page and API list p95 <= 50 ms as each role, deep pages as page 1,
with the ratio to a framework floor measured in the same run (``--only pages``, ``make bench``).
Targets (issue 10, bench/clinical.py): the consultation page and the history of a 600-entry patient <= 30 ms p95
with a constant number of queries; signing <= 20 ms p95; the history PDF of 100 entries <= 200 ms p95.

    python -m bench --only invoicing      # measure one part; the other sections of latest.md are kept
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/vetpms_bench"
RESULTS = ROOT / "bench" / "results" / "latest.md"
EXPLAIN = ROOT / "docs" / "explain" / "appointments.md"
EXPLAIN_INVOICING = ROOT / "docs" / "explain" / "invoicing.md"
EXPLAIN_REPORTS = ROOT / "docs" / "explain" / "reports.md"
PARTS = ("search", "appointments", "invoicing", "reports", "pages", "clinical", "fhir")
SEARCH_TARGET_MS = 50.0
QUERY_TARGET = 10


# --- setup ----------------------------------------------------------------------------------------------------


def configure_environment(database_url: str) -> None:
    """Production-like settings (DEBUG off), minus HTTPS redirects, which the in-process client cannot follow."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DEBUG"] = "0"
    os.environ.pop("VETPMS_TESTING", None)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["SECURE_COOKIES"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "vetpms.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def ensure_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def default_database_url() -> str:
    for name in ("BENCH_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return DEFAULT_URL


def load_data(*, reseed: bool) -> float | None:
    """Migrate and load practice-scale data unless it is there; returns the seeding time if it seeded."""
    from django.core.management import call_command

    from appointments.models import Appointment
    from clients.models import Client
    from invoicing.models import Invoice
    from vetpms.models import User

    call_command("migrate", verbosity=0)
    loaded = Client.objects.count() >= 60_000 and Appointment.objects.count() >= 500_000
    if not reseed and loaded and User.objects.filter(username="manager").exists():
        print(f"practice-scale data already loaded ({Client.objects.count():,} clients)")
        if Invoice.objects.count() >= 400_000:
            from clinical.models import Consultation

            if Consultation.objects.count() >= 400_000:
                return None
            started = time.perf_counter()  # loaded before the clinical record existed: add it
            call_command("seed_demo", scale="practice", only="clinical")
            return time.perf_counter() - started
        started = time.perf_counter()  # loaded before invoicing existed: add it to what is there
        call_command("seed_demo", scale="practice", only="invoicing")
        return time.perf_counter() - started
    if not reseed and Client.objects.exists():
        raise SystemExit(
            f"This database holds {Client.objects.count():,} clients, not practice-scale data: give --reseed to "
            "replace everything in it, or point --database-url at another database."
        )
    started = time.perf_counter()
    call_command("seed_demo", scale="practice", reset=True)
    return time.perf_counter() - started


# --- measuring ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    times_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    note: str = ""
    target: str = ""
    ok: bool | None = None

    def add(self, ms: float, queries: int) -> None:
        self.times_ms.append(ms)
        self.queries.append(queries)

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else float("nan")

    @property
    def p95(self) -> float:
        if not self.times_ms:
            return float("nan")
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def query_range(self) -> str:
        if not self.queries:
            return "-"
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def measure(result: Result, fn: Callable[[], object]) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log keeps 9,000 queries; a full one would make every capture look empty
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - started) * 1000
    result.add(elapsed, len(captured.captured_queries))


def get_ok(http, url: str, **headers) -> Callable[[], object]:
    def call():
        response = http.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response

    return call


def url_or_none(name: str, *args) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def path_exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(urlsplit(path).path)
    except Resolver404:
        return False
    return True


# --- the queries ----------------------------------------------------------------------------------------------


def build_queries(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs drawn from the data, in the proportions a front desk types them."""
    from animals.models import Animal
    from clients.models import Client

    clients = list(
        Client.objects.exclude(last_name="")
        .order_by("?")
        .values("first_name", "last_name", "email", "home_phone")[: count * 2]
    )
    animals = list(
        Animal.objects.exclude(microchip="").order_by("?").values("name", "microchip", "owner__last_name")[:count]
    )
    rng.shuffle(clients)
    rng.shuffle(animals)

    def phone_formats(e164: str) -> list[str]:
        national = "0" + e164[3:]
        spaced = f"{national[:4]} {national[4:7]} {national[7:]}"
        return [spaced, national, "+44 " + spaced[1:], e164, national[-7:]]

    shares = {
        "surname prefix": 0.2,
        "full surname": 0.15,
        "pet name": 0.15,
        "pet + surname": 0.1,
        "first + surname": 0.05,
        "phone": 0.2,
        "microchip": 0.1,
        "email": 0.05,
    }
    queries: list[tuple[str, str]] = []
    for kind, share in shares.items():
        for i in range(max(1, round(count * share))):
            client = clients[(len(queries) + i) % len(clients)]
            animal = animals[(len(queries) + i) % len(animals)]
            if kind == "surname prefix":
                q = client["last_name"][:3].lower()
            elif kind == "full surname":
                q = client["last_name"]
            elif kind == "pet name":
                q = animal["name"].lower()
            elif kind == "pet + surname":
                q = f"{animal['name']} {animal['owner__last_name']}"
            elif kind == "first + surname":
                q = f"{client['first_name']} {client['last_name']}"
            elif kind == "phone":
                q = phone_formats(client["home_phone"])[i % 5]
            elif kind == "microchip":
                chip = animal["microchip"]
                q = chip if i % 4 else f"{chip[:3]} {chip[3:9]} {chip[9:]}"
            else:
                q = client["email"] or client["last_name"]
            queries.append((kind, q))
    return queries[:count]


def like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def raw_search_sql(query: str, limit: int = 20) -> list[tuple[str, list]]:
    """The same search written by hand: identical LIKE filters, joins, ranking and limits, no ORM.

    Mirrors animals.selectors.search (which splits the query the same way) so the ratio shows what the ORM
    layer and the Python around it cost on top of the SQL.
    """
    from animals.selectors import _parse

    tokens, phone_forms, query_digits = _parse(query)
    params: list = []
    if tokens:
        parts = []
        for token in tokens:
            anywhere = token.isdigit() or "@" in token or "." in token
            parts.append("search_text LIKE %s")
            params.append(f"%{like(token)}%" if anywhere else f"% {like(token)}%")
        where = "(" + " AND ".join(parts) + ")"
        if phone_forms:
            where = f"({where} OR " + " OR ".join("search_text LIKE %s" for _ in phone_forms) + ")"
            params += [f"%{like(f)}%" for f in phone_forms]
    else:
        where = "(" + " OR ".join("search_text LIKE %s" for _ in phone_forms) + ")"
        params += [f"%{like(f)}%" for f in phone_forms]

    first = tokens[0] if tokens else ""
    whole = " ".join(tokens)
    exact_phones = ["+" + f for f in phone_forms]  # no phone forms: no phone WHENs (as Django drops `__in=[]`)
    phone_list = ", ".join(["%s"] * len(exact_phones))

    a_cases, a_params = [], []
    if len(query_digits) == 15:
        a_cases.append("WHEN a.microchip = %s THEN 120")
        a_params.append(query_digits)
    if tokens:
        a_cases += [
            "WHEN UPPER(a.name) = UPPER(%s) THEN 100",
            "WHEN UPPER(a.name) LIKE UPPER(%s) THEN 85",
            "WHEN UPPER(c.last_name) = UPPER(%s) THEN 80",
            "WHEN UPPER(c.organisation) LIKE UPPER(%s) THEN 70",
            "WHEN UPPER(c.last_name) LIKE UPPER(%s) THEN 65",
            "WHEN UPPER(c.first_name) LIKE UPPER(%s) THEN 55",
        ]
        a_params += [whole, like(first) + "%", first, like(first) + "%", like(first) + "%", like(first) + "%"]
    for column in ("mobile_phone", "home_phone", "work_phone") if phone_forms else ():
        a_cases.append(f"WHEN c.{column} IN ({phone_list}) THEN 100")
        a_params += exact_phones
    animals_sql = (
        "SELECT a.id, a.name, a.microchip, a.deceased_on, a.is_active, a.date_of_birth, c.id, c.title, "
        "c.first_name, c.last_name, c.organisation, c.home_phone, c.mobile_phone, s.name, b.name, "
        f"(CASE {' '.join(a_cases)} ELSE 40 END) "
        "+ (CASE WHEN a.deceased_on IS NULL AND a.is_active THEN 0 ELSE -50 END) AS score "
        "FROM animals_animal a JOIN clients_client c ON c.id = a.owner_id "
        "JOIN animals_species s ON s.id = a.species_id LEFT JOIN animals_breed b ON b.id = a.breed_id "
        f"WHERE {where.replace('search_text', 'a.search_text')} ORDER BY score DESC, a.name, a.id LIMIT {limit}"
    )

    c_cases, c_params = [], []
    if tokens:
        c_cases += [
            "WHEN UPPER(last_name) = UPPER(%s) THEN 100",
            "WHEN UPPER(email) = UPPER(%s) THEN 100",
            "WHEN UPPER(organisation) = UPPER(%s) THEN 95",
            "WHEN UPPER(last_name) = UPPER(%s) THEN 90",
            "WHEN UPPER(last_name) LIKE UPPER(%s) THEN 75",
            "WHEN UPPER(organisation) LIKE UPPER(%s) THEN 70",
            "WHEN UPPER(first_name) LIKE UPPER(%s) THEN 60",
        ]
        c_params += [whole, whole, whole, first, like(first) + "%", like(first) + "%", like(first) + "%"]
    for column in ("mobile_phone", "home_phone", "work_phone") if phone_forms else ():
        c_cases.append(f"WHEN {column} IN ({phone_list}) THEN 100")
        c_params += exact_phones
    clients_sql = (
        "SELECT *, GREATEST(CASE " + " ".join(c_cases) + " ELSE 40 END, 0) "
        "+ (CASE WHEN is_active THEN 0 ELSE -50 END) AS score "
        f"FROM clients_client WHERE {where} ORDER BY score DESC, last_name, first_name, id LIMIT {limit}"
    )
    return [(animals_sql, a_params + params), (clients_sql, c_params + params)]


def run_raw(statements: list[tuple[str, list]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)
            cursor.fetchall()


# --- the benchmark --------------------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> tuple[list[Result], dict[str, str]]:
    """Issue 2: the global search, client list and detail pages."""
    from django.db import connection
    from django.test import Client as HttpClient

    from animals.models import Animal, Ownership, Species, Weight
    from animals.selectors import search
    from clients.models import Client
    from vetpms.models import User

    rng = random.Random(args.seed)
    queries = build_queries(args.queries, rng)
    manager = User.objects.get(username="manager")
    reception = User.objects.get(username="reception")
    as_reception, as_manager = HttpClient(), HttpClient()
    as_reception.force_login(reception)
    as_manager.force_login(manager)
    results: list[Result] = []

    # Warm caches (connection, ContentTypes, templates, the database's buffers) before timing anything.
    for _kind, q in queries[:20]:
        search(query=q)
        run_raw(raw_search_sql(q))

    selector = Result("search selector (animals.selectors.search)", target=f"p95 <= {SEARCH_TARGET_MS:.0f} ms")
    raw = Result("  same search as hand-written SQL", note="2 statements: pets+owners, owners")
    per_kind: dict[str, Result] = {}
    for kind, q in queries:
        measure(selector, lambda q=q: search(query=q))
        measure(raw, lambda q=q: run_raw(raw_search_sql(q)))
        per_kind.setdefault(kind, Result(f"  search: {kind}"))
        per_kind[kind].times_ms.append(selector.times_ms[-1])
        per_kind[kind].queries.append(selector.queries[-1])
    selector.ok = selector.p95 <= SEARCH_TARGET_MS
    selector.note = f"{len(queries)} queries; ORM / raw SQL p50 = {selector.p50 / raw.p50:.2f}x"
    results += [selector, raw, *per_kind.values()]

    search_page = url_or_none("search")
    if search_page:
        page = Result("GET /search/?q= (full results page)", target=f"p95 <= {SEARCH_TARGET_MS:.0f} ms")
        dropdown = Result("GET /search/?q= (htmx dropdown)", target=f"p95 <= {SEARCH_TARGET_MS:.0f} ms")
        for _kind, q in queries:
            measure(page, get_ok(as_reception, f"{search_page}?q={q}"))
            measure(dropdown, get_ok(as_reception, f"{search_page}?q={q}", HX_Request="true"))
        page.ok, dropdown.ok = page.p95 <= SEARCH_TARGET_MS, dropdown.p95 <= SEARCH_TARGET_MS
        results += [page, dropdown]
    else:
        results.append(Result("GET /search/", note="skipped: no URL named 'search' yet"))

    if path_exists("/api/v1/search"):
        api = Result("GET /api/v1/search?q=", target=f"p95 <= {SEARCH_TARGET_MS:.0f} ms")
        for _kind, q in queries:
            measure(api, get_ok(as_reception, f"/api/v1/search?q={q}"))
        api.ok = api.p95 <= SEARCH_TARGET_MS
        results.append(api)
    else:
        results.append(Result("GET /api/v1/search", note="skipped: endpoint not there yet"))

    client_list = url_or_none("clients:list")
    if client_list:
        pages = max(1, Client.objects.count() // 100)
        for size in (25, 100):
            listing = Result(f"GET /clients/?per_page={size}", target=f"<= {QUERY_TARGET} queries")
            for i in range(args.repeat):
                page_no = 1 if i == 0 else rng.randint(1, pages)
                sort = ["", "&sort=last_name", "&sort=-created_at"][i % 3]
                measure(listing, get_ok(as_reception, f"{client_list}?per_page={size}&page={page_no}{sort}"))
            listing.ok = max(listing.queries) <= QUERY_TARGET
            results.append(listing)
        filters = f"status=active&reminder_consent=true&species={Species.objects.get(name='Dog').pk}"
        filtered = Result("GET /clients/?per_page=100 + filters", target=f"<= {QUERY_TARGET} queries")
        for _ in range(args.repeat):
            measure(filtered, get_ok(as_reception, f"{client_list}?per_page=100&{filters}"))
        filtered.ok = max(filtered.queries) <= QUERY_TARGET
        results.append(filtered)
    else:
        results.append(Result("GET /clients/", note="skipped: no URL named 'clients:list' yet"))

    with_pets = Client.objects.filter(animals__isnull=False).distinct().order_by("?")
    sample_clients = list(with_pets.values_list("pk", flat=True)[: args.repeat])
    if url_or_none("clients:detail", 1):
        detail = Result("GET /clients/<id>/", target=f"<= {QUERY_TARGET} queries")
        for pk in sample_clients:
            measure(detail, get_ok(as_reception, url_or_none("clients:detail", pk)))
        detail.ok = max(detail.queries) <= QUERY_TARGET
        results.append(detail)
    else:
        results.append(Result("GET /clients/<id>/", note="skipped: no URL named 'clients:detail' yet"))

    if url_or_none("animals:detail", 1):
        animal_detail = Result("GET /animals/<id>/", note="not a target; for reference")
        animal_ids = Animal.objects.order_by("?").values_list("pk", flat=True)[: args.repeat]
        for pk in animal_ids:
            measure(animal_detail, get_ok(as_manager, url_or_none("animals:detail", pk)))
        results.append(animal_detail)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        plan_query = raw_search_sql("smi")[1]
        cursor.execute("EXPLAIN " + plan_query[0], plan_query[1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    facts = {
        "dataset": (
            f"{Client.objects.count():,} clients, {Animal.objects.count():,} animals, "
            f"{Ownership.objects.count():,} ownerships, {Weight.objects.count():,} weights"
        ),
        "database": f"PostgreSQL {pg_version}",
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}",
        "trigram index used": "yes" if "client_search_trgm" in plan else "no (see plan)",
        "load average at the end (1/5/15 min)": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    return results, facts


def table(results: list[Result]) -> str:
    lines = [
        "| measured | n | p50 ms | p95 ms | SQL queries | target | ok | note |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        ok = "" if r.ok is None else ("yes" if r.ok else "**NO**")
        n = len(r.times_ms)
        p50 = f"{r.p50:.1f}" if n else "-"
        p95 = f"{r.p95:.1f}" if n else "-"
        lines.append(f"| {r.name} | {n} | {p50} | {p95} | {r.query_range} | {r.target} | {ok} | {r.note} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_database_url())
    parser.add_argument("--queries", type=int, default=200, help="search queries to time (default 200)")
    parser.add_argument("--repeat", type=int, default=40, help="requests per list/detail page (default 40)")
    parser.add_argument("--appointment-samples", type=int, default=100, help="days per appointment measure")
    parser.add_argument("--bookings", type=int, default=400, help="bookings in the throughput test (default 400)")
    parser.add_argument("--threads", type=int, default=8, help="threads in the throughput test (default 8)")
    parser.add_argument("--finalise", type=int, default=101, help="drafts finalised in the invoicing bench")
    parser.add_argument("--pdf-runs", type=int, default=50, help="renders of the 20-line invoice (default 50)")
    parser.add_argument("--sign", type=int, default=60, help="consultations signed in the clinical bench")
    parser.add_argument("--only", choices=PARTS, action="append", help="measure only this part (repeatable)")
    parser.add_argument("--page-samples", type=int, default=50, help="requests per page and run (default 50)")
    parser.add_argument("--page-runs", type=int, default=3, help="runs of the page bench (default 3)")
    parser.add_argument("--profile", action="store_true", help="also profile each page (bench/results/profiles.md)")
    parser.add_argument(
        "--page",
        action="append",
        help="with --only pages: only the pages whose name holds this text, beside the floor (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="reload the practice-scale data first")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    configure_environment(args.database_url)
    ensure_database(args.database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client as HttpClient
    from django.test.utils import override_settings, setup_test_environment

    from vetpms.models import User

    setup_test_environment()  # lets the test client in ('testserver'), keeps e-mail in memory
    seeded = load_data(reseed=args.reseed)
    parts = set(args.only or PARTS)
    results: list[Result] = []
    books: list[Result] = []
    billing: list[Result] = []
    facts: dict[str, str] = {}
    reporting: list[Result] = []
    daily: list[Result] = []
    clinical: list[Result] = []
    fhir: list[Result] = []
    explain = explain_invoicing = explain_reports = ""
    # The manifest storage wants `collectstatic` first; page timings do not depend on how static URLs are made.
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            "attachments": settings.STORAGES["attachments"],
        }
    ):
        if "search" in parts:
            results, facts = bench(args)
        if "appointments" in parts:
            from bench.appointments import bench_appointments

            as_reception = HttpClient()
            as_reception.force_login(User.objects.get(username="reception"))
            books, book_facts, explain = bench_appointments(args, random.Random(args.seed), as_reception)
            facts |= book_facts
        if "invoicing" in parts:
            from bench.invoicing import bench_invoicing

            billing, billing_facts, explain_invoicing = bench_invoicing(args, random.Random(args.seed))
        if "reports" in parts:
            from bench.reports import bench_reports

            reporting, reporting_facts, explain_reports = bench_reports(args)
        if "pages" in parts:
            from bench.pages import bench_pages

            daily, daily_facts, _profiles = bench_pages(args)
        if "clinical" in parts:
            from bench.clinical import bench_clinical

            clinical, clinical_facts = bench_clinical(args)
        if "fhir" in parts:
            from bench.fhir import bench_fhir

            fhir, fhir_facts = bench_fhir(args)
    if seeded is not None:
        facts["practice-scale seeding"] = f"{seeded:.0f} s (seed_demo --scale practice, bulk inserts)"
    facts["date"] = time.strftime("%Y-%m-%d")

    header = "\n".join(f"- {key}: {value}" for key, value in facts.items())
    sections = {}
    if "search" in parts:
        sections["Issue 2"] = f"## Issue 2: search and client pages\n\n{table(results)}"
    if "appointments" in parts:
        sections["Issue 3"] = (
            "## Issue 3: appointment books\n\n"
            "Day lists and grids on random days of the ten years and the eight weeks ahead; free slots on days ahead.\n"
            "Throughput: threads on their own connections, each booking its share of distinct free 15-minute slots a\n"
            "year ahead, then the same rows as one bare INSERT each (autocommit), in the same run; all deleted after.\n"
            "Query plans: [docs/explain/appointments.md](../../docs/explain/appointments.md).\n\n"
            f"{table(books)}"
        )
    if "invoicing" in parts:
        billing_header = "\n".join(f"- {key}: {value}" for key, value in billing_facts.items())
        sections["Issue 4"] = (
            "## Issue 4: invoicing\n\n"
            "Finalise: fresh drafts of 5 lines (made through the services, not timed) finalised one by one by\n"
            "the receptionist, each committed. PDF: an issued 20-line invoice read with its prefetches and rendered.\n"
            "Balance: a client given 300 issued documents over ten years for the run. Pages as the receptionist.\n"
            "Everything the run made is deleted afterwards, the invoice counter put back (numbering stays gapless).\n"
            "Query plans: [docs/explain/invoicing.md](../../docs/explain/invoicing.md).\n\n"
            f"{billing_header}\n- date: {time.strftime('%Y-%m-%d')}\n\n{table(billing)}"
        )
    if "reports" in parts:
        reporting_header = "\n".join(f"- {key}: {value}" for key, value in reporting_facts.items())
        sections["Issue 6"] = (
            "## Issue 6: reports\n\n"
            "Report builders called directly (what a page, CSV, PDF or API request computes), p50/p95 over the runs;\n"
            "each revenue case alternates with the same figures in hand-written SQL. Pages as the manager.\n"
            "Query plans: [docs/explain/reports.md](../../docs/explain/reports.md).\n\n"
            f"{reporting_header}\n- date: {time.strftime('%Y-%m-%d')}\n\n{table(reporting)}"
        )
    if "pages" in parts:
        daily_header = "\n".join(f"- {key}: {value}" for key, value in daily_facts.items())
        sections["Issue 14"] = (
            "## Issue 14: the daily pages and the API lists\n\n"
            "Django's test client as each role, DEBUG off; per page the p50/p95 of all runs together, then each\n"
            "run's, and the worst ratio of a run's p95 to the framework floor's p95 in the same run. Deep pages\n"
            "follow a cursor tens of thousands of rows in. Profiles: `--profile` writes bench/results/profiles.md.\n\n"
            f"{daily_header}\n- date: {time.strftime('%Y-%m-%d')}\n\n{table(daily)}"
        )
    if "clinical" in parts:
        clinical_header = "\n".join(f"- {key}: {value}" for key, value in clinical_facts.items())
        sections["Issue 10"] = (
            "## Issue 10: the clinical record\n\n"
            "Pages as a vet: random signed consultations of the ten years (and one of the old patient's), the history\n"
            "of a patient with 600 entries (page, its next page by key, the animal page and its history card's\n"
            "entries, which load after it) beside a puppy's. Signing:\n"
            "drafts opened and written through the services (not timed), each signed and committed. The history PDF\n"
            "of the period holding the old patient's latest 100 entries.\n\n"
            f"{clinical_header}\n- date: {time.strftime('%Y-%m-%d')}\n\n{table(clinical)}"
        )
    if "fhir" in parts:
        fhir_header = "\n".join(f"- {key}: {value}" for key, value in fhir_facts.items())
        sections["Issue 11"] = (
            "## Issue 11: the FHIR R4 server\n\n"
            "Django's test client with a read-only bearer token of the receptionist; random chipped animals.\n\n"
            f"{fhir_header}\n- date: {time.strftime('%Y-%m-%d')}\n\n{table(fhir)}"
        )
    intro = (
        "# VetPMS benchmark: latest run\n\n"
        "Made by `make bench` (`python -m bench`): server time in-process with Django's test client, DEBUG off,\n"
        "against PostgreSQL loaded with `seed_demo --scale practice`. Times are wall-clock milliseconds per request\n"
        "or call; p50/p95 over n runs.\n\n"
        f"{header}\n\n"
    )
    if parts != set(PARTS) and args.out.exists():
        # A partial run: keep the other sections (and the header facts of the run that measured them).
        previous = args.out.read_text(encoding="utf-8").split("\n## ")
        if "search" not in parts:
            intro = previous[0].rstrip("\n") + "\n\n"
        for chunk in previous[1:]:
            key = chunk.split(":", 1)[0]
            sections.setdefault(key, "## " + chunk.rstrip("\n") + "\n")
    order = sorted(sections, key=lambda key: int(key.split()[-1]) if key.split()[-1].isdigit() else 0)
    report = intro + "\n".join(sections[key] for key in order)
    print("\n" + report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(f"written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if explain:
        EXPLAIN.parent.mkdir(parents=True, exist_ok=True)
        EXPLAIN.write_text(explain, encoding="utf-8")
    if explain_invoicing:
        EXPLAIN_INVOICING.parent.mkdir(parents=True, exist_ok=True)
        EXPLAIN_INVOICING.write_text(explain_invoicing, encoding="utf-8")
    if explain_reports:
        EXPLAIN_REPORTS.parent.mkdir(parents=True, exist_ok=True)
        EXPLAIN_REPORTS.write_text(explain_reports, encoding="utf-8")
    results = results + books + billing + reporting + daily + clinical + fhir
    failed = [r.name for r in results if r.ok is False]
    if failed:
        print("targets missed: " + "; ".join(failed))
    return 1 if failed else 0
