"""Issue 14: every page a practice uses daily, and the API's lists, as each role, at practice scale.

    python -m bench --only pages                   # 3 runs of 50 requests a page; bench/results/latest.md
    python -m bench --only pages --profile         # and a cProfile summary of each page, bench/results/profiles.md
    python -m bench --only pages --page "day list" --page "week" --out /tmp/pages.md   # some pages, beside the floor

Each run first measures a framework floor: a trivial view behind login (``bench/urls.py``) through the whole
middleware stack, so the pages' figures can be read as a multiple of what Django itself costs on this machine at
this moment. Deep pages follow a cursor taken far into the list (the key of a row tens of thousands in, found
once, untimed), which is what a reader clicking Next that many times would send. Targets (issue 14): every page
p95 <= 50 ms, and no page whose cost grows with the size of the database (deep pages cost what page 1 costs);
beyond it, p95 <= 10x the floor. Nothing is written to the database except sessions.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import pstats
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.run import ROOT, Result, measure

TARGET_MS = 50.0
FLOOR_MULTIPLE = 10.0
PROFILES = Path(__file__).resolve().parent / "results" / "profiles.md"
EXPLAIN_LISTS = Path(__file__).resolve().parent.parent / "docs" / "explain" / "lists.md"
EXPLAINED = (
    "client list, page 1",
    "client list, a deep page (30,000 in)",
    "invoice list, a deep page (250,000 in)",
    "reminders due, page 1",
    "reminders due, a deep page",
    "delivery log, a deep page (300,000 in)",
    "API animals, page 1",
    "API reminders, a deep page",
    "API payments, page 1",
    "API claims, page 1",
)
PLUMBING = ("django_session", "vetpms_user", "auth_permission", "django_content_type", "vetpms_apitoken")


@dataclass
class Page:
    name: str
    role: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    target: bool = True  # reports grow with the period asked for: measured, not held to the 50 ms
    samples: int | None = None  # fewer for pages that take seconds (the dashboard and reports, issue 14's other half)


def deep_cursor(qs, depth: int) -> str | None:
    """The cursor a reader would hold after paging ``depth`` rows into ``qs`` (one OFFSET here, untimed)."""
    from django.db.models import F

    from vetpms.keyset import NEXT, encode_cursor, keys_of

    keys = keys_of(qs)
    names = [f"keyset_{i}" for i in range(len(keys))]
    ordered = qs.annotate(**{n: F(k.path) for n, k in zip(names, keys, strict=True)})
    ordered = ordered.order_by(*(k.order_by() for k in keys)).values_list(*names)
    total = qs.count()
    if total == 0:
        return None
    row = ordered[min(depth, total - 1)]
    return encode_cursor(NEXT, keys, list(row))


def _with(url: str, **params) -> str:
    params = {k: v for k, v in params.items() if v is not None}
    return f"{url}?{urlencode(params)}" if params else url


def build_pages() -> list[Page]:
    from django.http import QueryDict
    from django.urls import reverse
    from django.utils import timezone

    from animals.models import Animal
    from appointments.models import Appointment
    from clients import selectors as client_selectors
    from clients.models import Client
    from invoicing import selectors as invoice_selectors
    from reminders import selectors as reminder_selectors
    from reminders.filters import ReminderFilter
    from reminders.models import Reminder
    from vetpms.models import Vet

    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    vet = Vet.objects.filter(is_active=True).order_by("pk").first()
    busy_day = (
        Appointment.objects.filter(vet=vet, start__date__lte=today)
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )
    day = timezone.localtime(busy_day).date() if busy_day else today
    account_client = (
        Client.objects.filter(invoices__isnull=False).order_by("-pk").values_list("pk", flat=True).first() or 1
    )
    surname = Client.objects.exclude(last_name="").order_by("pk").values_list("last_name", flat=True)[5000]
    pet = Animal.objects.order_by("pk").values_list("name", flat=True)[7000]
    reminders_qs = ReminderFilter(QueryDict(""), queryset=Reminder.objects.none()).qs
    search = reverse("search")
    revenue = reverse("reports:report", args=["revenue"])
    ten_years_ago = month_start.replace(year=month_start.year - 10)
    year_ago = last_month_end.replace(year=last_month_end.year - 1) + dt.timedelta(days=1)
    htmx = {"HX-Request": "true"}
    deep = {
        "clients": deep_cursor(client_selectors.client_list(), 30_000),
        "invoices": deep_cursor(invoice_selectors.invoice_list(), 250_000),
        "reminders": deep_cursor(reminders_qs, 30_000),
        "deliveries": deep_cursor(reminder_selectors.delivery_list(), 300_000),
        "api reminders": deep_cursor(reminder_selectors.reminder_list(), 150_000),
    }
    pages = [
        Page("home: the manager's dashboard", "manager", reverse("home"), samples=10),
        Page("home: the vet's day list", "vet", reverse("home")),
        Page("home: reception", "reception", reverse("home")),
        Page("client list, page 1", "reception", reverse("clients:list")),
        Page(
            "client list, a deep page (30,000 in)", "reception", _with(reverse("clients:list"), cursor=deep["clients"])
        ),
        Page("client list, 100 a page", "reception", _with(reverse("clients:list"), per_page=100)),
        Page("invoice list, page 1", "reception", reverse("invoicing:list")),
        Page(
            "invoice list, a deep page (250,000 in)",
            "reception",
            _with(reverse("invoicing:list"), cursor=deep["invoices"]),
        ),
        Page("reminders due, page 1", "reception", reverse("reminders:list")),
        Page("reminders due, a deep page", "reception", _with(reverse("reminders:list"), cursor=deep["reminders"])),
        Page("delivery log, page 1", "reception", reverse("reminders:delivery_list")),
        Page(
            "delivery log, a deep page (300,000 in)",
            "reception",
            _with(reverse("reminders:delivery_list"), cursor=deep["deliveries"]),
        ),
        Page("search, 2 letters, dropdown", "reception", _with(search, q="sm"), htmx),
        Page("search, 2 letters, page", "reception", _with(search, q="sm")),
        Page("search, 2 letters, API", "reception", _with("/api/v1/search", q="sm")),
        Page("search, a surname, page", "reception", _with(search, q=surname)),
        Page("search, a pet's name, page", "reception", _with(search, q=pet)),
        Page("vet's day list", "vet", _with(reverse("appointments:day_list"), vet=vet.pk, date=day.isoformat())),
        Page("day grid (every vet)", "reception", _with(reverse("appointments:day_grid"), date=day.isoformat())),
        Page("week view", "vet", _with(reverse("appointments:week"), vet=vet.pk, date=day.isoformat())),
        Page("client account", "reception", reverse("invoicing:account", args=[account_client])),
        Page(
            "revenue report, last month",
            "manager",
            _with(revenue, start=last_month_end.replace(day=1).isoformat(), end=last_month_end.isoformat()),
            target=False,
            samples=10,
        ),
        Page(
            "revenue report, a year",
            "manager",
            _with(revenue, start=year_ago.isoformat(), end=last_month_end.isoformat()),
            target=False,
            samples=10,
        ),
        Page(
            "revenue report, ten years",
            "manager",
            _with(revenue, start=ten_years_ago.isoformat(), end=last_month_end.isoformat()),
            target=False,
            samples=10,
        ),
        Page("API clients, page 1", "reception", "/api/v1/clients"),
        Page("API clients, a deep page", "reception", _with("/api/v1/clients", cursor=deep["clients"])),
        Page("API animals, page 1", "reception", "/api/v1/animals"),
        Page("API invoices, page 1", "reception", "/api/v1/invoices"),
        Page("API invoices, a deep page", "reception", _with("/api/v1/invoices", cursor=deep["invoices"])),
        Page("API payments, page 1", "reception", "/api/v1/payments"),
        Page("API appointments, page 1", "reception", "/api/v1/appointments"),
        Page("API reminders, page 1", "reception", "/api/v1/reminders"),
        Page("API reminders, a deep page", "reception", _with("/api/v1/reminders", cursor=deep["api reminders"])),
        Page("API deliveries, page 1", "reception", "/api/v1/reminder-deliveries"),
        Page(
            "API deliveries, a deep page", "reception", _with("/api/v1/reminder-deliveries", cursor=deep["deliveries"])
        ),
        Page("API claims, page 1", "manager", "/api/v1/claims"),
    ]
    return pages


def _call(http, page: Page) -> Callable[[], object]:
    def call():
        response = http.get(page.url, headers=page.headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {page.url} as {page.role} answered {response.status_code}")
        return response

    return call


def _profile(call: Callable[[], object], runs: int = 10) -> str:
    """The functions that took the most time of ``runs`` requests, with their call counts (cProfile)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(14)
    signature_calls = sum(
        n for (file, _line, name), (_cc, n, *_rest) in stats.stats.items() if name == "signature" and "inspect" in file
    )  # type: ignore[attr-defined]
    text = re.sub(r"\S*/(site-packages|python3\.\d+)/", "", out.getvalue()).replace(f"{ROOT}/", "")
    body = text[text.index("ncalls") :] if "ncalls" in text else text
    return (
        f"{stats.total_tt * 1000 / runs:.1f} ms a request under the profiler; "  # type: ignore[attr-defined]
        f"inspect.signature calls a request: {signature_calls / runs:.0f}\n\n```\n{body.rstrip()}\n```\n"
    )


def explain_pages(clients: dict, pages: list[Page]) -> str:
    """The query plans of the long lists' statements (EXPLAIN ANALYZE of what one request ran)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sections = []
    for page in pages:
        if page.name not in EXPLAINED:
            continue
        with CaptureQueriesContext(connection) as captured:
            _call(clients[page.role], page)()
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or any(f'"{table}"' in sql.split(" WHERE ")[0] for table in PLUMBING):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            sections.append(f"### {page.name} (as {page.role})\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n")
    return (
        "# Query plans of the long lists (issue 14)\n\n"
        "Written by `python -m bench --only pages` at practice scale on PostgreSQL: every statement one request of\n"
        "each page ran (sessions and permissions left out), with EXPLAIN (ANALYZE, BUFFERS). Pages are keyset pages\n"
        "(vetpms/keyset.py): each reads its rows off the index of the list's order, starting at the cursor, and\n"
        "counts at most 10,001 rows.\n\n" + "\n".join(sections)
    )


def bench_pages(args) -> tuple[list[Result], dict[str, str], str]:
    from django.test import Client as HttpClient
    from django.test.utils import override_settings

    from vetpms.models import User

    with override_settings(ROOT_URLCONF="bench.urls"):
        pages = build_pages()
        chosen = [text.lower() for text in (getattr(args, "page", None) or [])]
        if chosen:
            pages = [p for p in pages if any(text in p.name.lower() for text in chosen)]
        clients = {}
        for role, username in (("reception", "reception"), ("vet", "vet"), ("manager", "manager")):
            http = HttpClient()
            http.force_login(User.objects.get(username=username))
            clients[role] = http
        floor_page = Page("framework floor: a trivial view behind login", "reception", "/bench-floor/")
        runs = max(1, args.page_runs)
        per_run: list[dict[str, Result]] = []
        for _run in range(runs):
            measured: dict[str, Result] = {}
            for page in [floor_page, *pages]:
                call = _call(clients[page.role], page)
                for _ in range(3):  # warm: templates, caches, the database's buffers
                    call()
                result = Result(page.name)
                for _ in range(min(args.page_samples, page.samples or args.page_samples)):
                    measure(result, call)
                measured[page.name] = result
            per_run.append(measured)
        if not chosen:  # a run of some pages keeps the plans of the whole run
            EXPLAIN_LISTS.parent.mkdir(parents=True, exist_ok=True)
            EXPLAIN_LISTS.write_text(explain_pages(clients, pages), encoding="utf-8")
        profiles = ""
        if args.profile:
            sections = []
            for page in [floor_page, *pages]:
                sections.append(f"## {page.name} (as {page.role})\n\n{_profile(_call(clients[page.role], page))}")
            profiles = (
                "# Where the pages' time goes (cProfile, 10 requests each, by own time)\n\n"
                "Made by `python -m bench --only pages --profile` at practice scale on PostgreSQL.\n\n"
                + "\n".join(sections)
            )

    floors = [run[floor_page.name] for run in per_run]
    results: list[Result] = []
    for page in [floor_page, *pages]:
        samples = [run[page.name] for run in per_run]
        merged = Result(f"{page.name} (as {page.role})")
        for sample in samples:
            for ms, queries in zip(sample.times_ms, sample.queries, strict=True):
                merged.add(ms, queries)
        p50s = " / ".join(f"{s.p50:.1f}" for s in samples)
        p95s = " / ".join(f"{s.p95:.1f}" for s in samples)
        worst = max(s.p95 / f.p95 for s, f in zip(samples, floors, strict=True))
        merged.note = f"runs p50 {p50s}; p95 {p95s}; p95 up to {worst:.1f}x the floor's"
        if page is floor_page:
            merged.target = "the floor"
        elif page.target:
            merged.target = f"p95 <= {TARGET_MS:.0f} ms"
            merged.ok = max(s.p95 for s in samples) <= TARGET_MS
        else:
            merged.target = "grows with the period only"
        results.append(merged)
    floor_p50 = statistics.median(f.p50 for f in floors)
    facts = {
        "pages": f"{len(pages)} pages and API lists, {args.page_samples} requests each per run, {runs} runs",
        "framework floor p50": f"{floor_p50:.1f} ms (median of the runs)",
    }
    if args.profile:
        PROFILES.parent.mkdir(parents=True, exist_ok=True)
        PROFILES.write_text(profiles, encoding="utf-8")
    return results, facts, profiles
