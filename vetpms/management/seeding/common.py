"""The seeding kernel: the context passed from step to step, running the steps, the staff, and the bulk-insert
helpers the practice-scale steps share. Each app's own steps live next to its code (``<app>/seeding.py``); the
``seed_demo`` command composes them. Nothing here imports an app.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol
from unittest import mock

from django.db import transaction
from django.utils import timezone

# username -> (first name, last name, role, password). The passwords are for the local demo only; they are
# printed by `make demo` and written in the README.
DEMO_STAFF: dict[str, tuple[str, str, str, str]] = {
    "reception": ("Rita", "Reeves", "Receptionist", "demo-reception-2026"),
    "vet": ("Victoria", "Hale", "Vet", "demo-vet-2026"),
    "vet2": ("Tomasz", "Nowak", "Vet", "demo-vet2-2026"),
    "nurse": ("Nadia", "Okafor", "Nurse", "demo-nurse-2026"),
    "manager": ("Maggie", "Pearson", "Manager", "demo-manager-2026"),
}


class Out(Protocol):
    """Where the steps report progress: the command's stdout (or a StringIO in tests)."""

    def write(self, text: str, /) -> object: ...


@dataclass
class SeedContext:
    """Handed to every step: the random source, the fixed 'today', and what earlier steps made."""

    rng: random.Random
    today: dt.date
    out: Out
    staff: dict[str, Any] = field(default_factory=dict)
    clients: list[Any] = field(default_factory=list)
    animals: list[Any] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    vets: list[Any] = field(default_factory=list)  # the appointment books, in column order
    types: dict[str, Any] = field(default_factory=dict)  # appointment types by name
    planned: list[Any] = field(default_factory=list)  # appointments still to book (demo scale)
    products: dict[str, Any] = field(default_factory=dict)  # the catalogue by code
    invoices: list[Any] = field(default_factory=list)  # issued invoices, oldest first (demo scale)
    reminder_types: dict[str, Any] = field(default_factory=dict)  # by name

    @classmethod
    def create(cls, *, seed: int, out: Out) -> SeedContext:
        # Every date is an offset from today, so a demo looks current whenever it is built, while the names
        # and the offsets depend only on the seed.
        return cls(rng=random.Random(seed), today=timezone.localdate(), out=out)

    def days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)


Step = Callable[[SeedContext], None]


@contextmanager
def timed(ctx: SeedContext, label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    ctx.out.write(f"  {label:<28} {time.perf_counter() - started:7.2f} s\n")


class _StoppedClock:
    """``django.utils.timezone`` as a services module sees it, stopped at ``at``."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def localdate(self, *args: Any, **kwargs: Any) -> dt.date:
        from vetpms.timeutils import to_local

        return to_local(self.at).date()


@contextmanager
def services_at(at: dt.datetime, modules: Iterable[ModuleType]) -> Iterator[None]:
    """Run the services of ``modules`` as if it were ``at``: each sees its ``timezone`` stopped there (they date
    and number what they write "now"), and nothing else is moved. The demo writes its past through them."""
    clock = _StoppedClock(at)
    with ExitStack() as stack:
        for module in modules:
            stack.enter_context(mock.patch.object(module, "timezone", clock))
        yield


def run_steps(ctx: SeedContext, steps: list[Step]) -> None:
    for step in steps:
        with timed(ctx, step.__name__):
            step(ctx)


def seed_staff(ctx: SeedContext) -> None:
    """One login per role (two vets, so the appointment book has two columns), created through the service."""
    from vetpms.models import User
    from vetpms.services import staff_create

    for username, (first, last, role, password) in DEMO_STAFF.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = staff_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                role=role,
                password=password,
                by=None,
                vet_display_name=f"{first} {last} MRCVS" if role == "Vet" else "",
            )
        ctx.staff[username] = user


# Extra vets at practice scale (ten in all with the two demo vets); no password, not demo logins.
PRACTICE_VETS: dict[str, tuple[str, str]] = {
    "vet3": ("Amara", "Okafor"),
    "vet4": ("Ewan", "MacLeod"),
    "vet5": ("Priya", "Shah"),
    "vet6": ("Sean", "Gallagher"),
    "vet7": ("Ingrid", "Larsen"),
    "vet8": ("Daniel", "Price"),
    "vet9": ("Fatima", "Haddad"),
    "vet10": ("Owen", "Llewellyn"),
}

VET_COLOURS = ["#2f6fdb", "#2e9d5b", "#8e44ad", "#d64541", "#e6a117", "#17a2a2", "#6c757d", "#c2185b", "#5d4037"]


def seed_vets(ctx: SeedContext) -> None:
    """Ten appointment books: the two demo vets and eight more (no password: they are not demo logins)."""
    from vetpms.models import User, Vet
    from vetpms.services import staff_create

    for username, (first, last) in PRACTICE_VETS.items():
        if not User.objects.filter(username=username).exists():
            staff_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                role="Vet",
                password=None,
                by=None,
                vet_display_name=f"{first} {last} MRCVS",
            )
    usernames = ["vet", "vet2", *PRACTICE_VETS]
    vets = {v.user.username: v for v in Vet.objects.select_related("user").filter(user__username__in=usernames)}
    ctx.vets = [vets[name] for name in usernames]
    for vet, hex_colour in zip(ctx.vets[2:], VET_COLOURS, strict=False):
        vet.colour = hex_colour
        vet.save(update_fields=["colour"])
    ctx.counts["vets"] = len(ctx.vets)


def reserve_ids(model, count: int) -> int:
    """The first of ``count`` consecutive primary keys nobody else will get (rows are then written with COPY,
    which cannot return the keys it made)."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            return cursor.fetchone()[0] - count + 1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (a model's table name)
        return cursor.fetchone()[0] + 1


# Internal types whose values SQLite stores as Django would save them without the field preparing them first
# (integers, text, booleans, and decimals, which the backend adapts to text). Every other column (datetimes, made
# naive UTC; dates; JSON) goes through the field's own preparation.
STORED_AS_GIVEN = frozenset(
    {
        "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
        "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "CharField", "TextField",
        "BooleanField", "DecimalField",
    }
)  # fmt: skip


def _stored_as_given(field: Any) -> bool:
    target = field.target_field if field.is_relation else field  # a foreign key stores its target's value
    return target.get_internal_type() in STORED_AS_GIVEN


def insert_rows(model: Any, fields: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``fields`` order, written as given: no auto_now, no signals): one COPY on
    PostgreSQL; elsewhere one executemany, each value the SQLite driver would not store as Django does (a
    datetime, say) prepared by its field first, as a save would (SQLite keeps datetimes as naive UTC text). The
    one bulk writer of every practice-scale step."""
    from django.db import connection

    if not rows:
        return
    model_fields = [model._meta.get_field(name) for name in fields]
    # A column the step does not list gets its field's default, as a save would give it: a field added to a model
    # later (with a default) then never reaches COPY as NULL.
    listed = {f.column for f in model_fields}
    defaulted = [f for f in model._meta.concrete_fields if f.column not in listed and f.has_default()]
    if defaulted:
        model_fields += defaulted
        fields = [*fields, *(f.name for f in defaulted)]
        if any(callable(f.default) for f in defaulted):  # a token or a time: one of its own per row
            rows = [(*row, *(f.get_default() for f in defaulted)) for row in rows]
        else:
            defaults = tuple(f.get_default() for f in defaulted)
            rows = [(*row, *defaults) for row in rows]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        prepare = [(i, f.get_db_prep_save) for i, f in enumerate(model_fields) if not _stored_as_given(f)]

        def prepared(row: tuple) -> list:
            values = list(row)
            for i, prep in prepare:
                values[i] = prep(values[i], connection)
            return values

        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (a model's table and columns)
        cursor.executemany(sql, [prepared(row) for row in rows] if prepare else rows)


BATCH = 2_000


def bulk(model, rows: list) -> list:
    """Insert in batches, each in its own transaction (fast on SQLite, bounded memory on PostgreSQL)."""
    created = []
    for start in range(0, len(rows), BATCH):
        with transaction.atomic():
            created.extend(model.objects.bulk_create(rows[start : start + BATCH]))
    return created


def analyse_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def analyse(ctx: SeedContext) -> None:
    """Fresh planner statistics, so the first search after a bulk load uses the trigram indexes."""
    analyse_tables()
