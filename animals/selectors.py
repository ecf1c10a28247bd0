"""Reads of animals, and the global search over pets and owners."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Mod, RowNumber

from animals.models import Animal, Breed, Ownership, Species, Weight
from clients.models import Client
from clients.selectors import parse_search_query as _parse
from clients.selectors import search_condition
from vetpms import fts

PHONE_COLUMNS = ("mobile_phone", "home_phone", "work_phone")


def animal_list(
    *,
    include_inactive: bool = True,
    owner_id: int | None = None,
    species_id: int | None = None,
    active: bool | None = None,
    deceased: bool | None = None,
    query: str = "",
) -> QuerySet[Animal]:
    """Animals with owner, species and breed joined; the optional filters narrow it (``query`` matches the way
    the global search does)."""
    qs = Animal.objects.select_related("owner", "species", "breed")
    if not include_inactive:
        qs = qs.filter(is_active=True, deceased_on__isnull=True)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if species_id is not None:
        qs = qs.filter(species_id=species_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    if deceased is not None:
        qs = qs.filter(deceased_on__isnull=not deceased)
    if query.strip():
        condition = search_condition(query)
        qs = qs.filter(condition) if condition is not None else qs.none()
    return qs.order_by("name", "id")


def animal_detail(*, pk: int) -> Animal:
    """One animal with owner, species, breed, weights (newest first) and ownership history. Raises DoesNotExist."""
    return (
        Animal.objects.select_related("owner", "species", "breed")
        .prefetch_related(
            Prefetch("weights", queryset=Weight.objects.order_by("-measured_on", "-id")),
            Prefetch("ownerships", queryset=Ownership.objects.select_related("client").order_by("-started_at")),
        )
        .get(pk=pk)
    )


def animal_page(*, pk: int) -> Animal:
    """One animal for its page: owner, species and breed joined, ownership history prefetched; its weights are read
    by ``weight_overview``. Raises DoesNotExist."""
    return (
        Animal.objects.select_related("owner", "species", "breed")
        .prefetch_related(
            Prefetch("ownerships", queryset=Ownership.objects.select_related("client").order_by("-started_at"))
        )
        .get(pk=pk)
    )


class WeightRow(NamedTuple):
    pk: int
    measured_on: dt.date
    kg: Decimal
    created_at: dt.datetime


@dataclass
class WeightOverview:
    """What the animal page shows of the weights: the ``latest`` (newest first), a ``series`` for the chart (oldest
    first; every weight, or an even sample of them that keeps the first and the last), how many there are and the
    lightest and heaviest of all of them."""

    latest: list[WeightRow]
    series: list[WeightRow]
    count: int = 0
    lightest: Decimal | None = None
    heaviest: Decimal | None = None


def weight_overview(*, animal_id: int, latest: int = 10, points: int = 60) -> WeightOverview:
    """The animal's ``latest`` weights and a chart series of at most about ``points`` weights, with the count and
    the extremes of all of them, in one query whatever the number of weights: the database numbers the weights
    newest first and keeps the newest ``latest``, the oldest, and every k-th (k = count / ``points``, rounded up)."""
    newest_first = [F("measured_on").desc(), F("id").desc()]
    total = Window(Count("id"))
    step = ExpressionWrapper((total + (points - 1)) / points, output_field=IntegerField())
    ranked = (
        Weight.objects.filter(animal_id=animal_id)
        .annotate(
            newest=Window(RowNumber(), order_by=newest_first),
            total=total,
            lightest=Window(Min("kg")),
            heaviest=Window(Max("kg")),
        )
        .annotate(sample=Mod(F("newest") - 1, step))
    )
    rows = list(
        ranked.filter(Q(newest__lte=latest) | Q(newest=F("total")) | Q(sample=0))
        .order_by("-measured_on", "-id")
        .values_list("id", "measured_on", "kg", "created_at", "newest", "total", "lightest", "heaviest", "sample")
    )
    if not rows:
        return WeightOverview(latest=[], series=[])
    weights = [(WeightRow(*row[:4]), row[4], row[8]) for row in rows]
    count = rows[0][5]
    return WeightOverview(
        latest=[w for w, newest, _ in weights if newest <= latest],
        series=[w for w, newest, sample in reversed(weights) if sample == 0 or newest == count],
        count=count,
        lightest=rows[0][6],
        heaviest=rows[0][7],
    )


def species_with_breeds(*, active_only: bool = False) -> QuerySet[Species]:
    breeds = Breed.objects.order_by("name")
    species = Species.objects.order_by("name")
    if active_only:
        breeds = breeds.filter(is_active=True)
        species = species.filter(is_active=True)
    return species.prefetch_related(Prefetch("breeds", queryset=breeds))


# --- Global search --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "animal" or "client"
    score: int
    client: Client
    animal: Animal | None = None

    @property
    def label(self) -> str:
        return self.animal.name if self.animal else self.client.display_name


def _after_prefix(prefix: str) -> str | None:
    """The smallest string after every string that starts with ``prefix`` ("sm" -> "sn"), for a range an index
    answers; None when there is none (the last character is the largest there is)."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else None


@dataclass
class _Tiers:
    """The tiers of one table's search as SQL: each a condition and the order its index reads it in."""

    table: str  # e.g. 'animals_animal a JOIN clients_client c ON c.id = a.owner_id'
    pk: str  # the id column, e.g. 'a.id'
    where: list[str]  # conditions every row must meet (the words of the query)
    params: list
    tiers: list[tuple[str, list, str, bool]]  # (condition, its parameters, ORDER BY or '', implies the first word)
    # The words after the first: a name that starts with the first word has it at the start of a word of its
    # search text (the search text is the folded names), so a prefix tier asks only for these. Left to the
    # first word's trigram match, the planner would intersect it with the name range (a bitmap of every name
    # with those letters) instead of reading the range in order. None when the query is a phone number.
    rest: tuple[list[str], list] | None = None
    filters: list[str] = field(default_factory=list)  # parameterless conditions (living, active)

    def add(self, condition: str, params: list, order: str = "", implies_first_word: bool = False) -> None:
        self.tiers.append((condition, params, order, implies_first_word))

    def starts_with(self, column: str, prefix: str, extra: str = "") -> None:
        """A tier of the rows whose lower-case ``column`` starts with ``prefix`` (already folded to lower case),
        as a range on ``lower(column)``: the form the expression indexes on ``Lower(...)`` answer on both
        databases (a LIKE 'sm%' is used by neither SQLite's expression index nor a non-C collation's index)."""
        after = _after_prefix(prefix)
        condition, params = f"LOWER({column}) >= %s", [prefix]
        if after is not None:
            condition, params = f"{condition} AND LOWER({column}) < %s", [prefix, after]
        if extra:
            condition = f"{condition} AND {extra}"
        self.add(condition, params, f"LOWER({column}), {self.pk}", implies_first_word=True)

    def sql(self, limit: int) -> tuple[str, list]:
        """SQL selecting the ids of at most ``limit`` matching rows, tier by tier.

        A tier takes the rows of its condition that no earlier tier took, at most ``limit``, in its index order;
        the last tier (the substring match, in no order) only fills up. The tiers are one UNION ALL under one
        LIMIT, which both databases read lazily: once the exact and prefix tiers give ``limit`` rows the later
        ones never run, so a two-letter query reads ``limit`` rows off an index instead of matching, scoring and
        sorting every name that has those two letters. Hand-written (the table names from the models, every
        value a parameter) because compiling five ORM querysets per search cost more than running them."""
        parts: list[str] = []
        params: list = []
        taken: list[tuple[str, list]] = []
        for n, (condition, tier_params, order, implied) in enumerate(self.tiers):
            words, word_params = self.rest if (implied and self.rest is not None) else (self.where, self.params)
            where = [*words, *self.filters, f"({condition})", *(f"NOT ({c})" for c, _p in taken)]
            ordering = f" ORDER BY {order}" if order else ""
            select = f"SELECT {self.pk} AS id FROM {self.table} WHERE {' AND '.join(where) or '1 = 1'}"  # noqa: S608
            parts.append(f"SELECT * FROM ({select}{ordering} LIMIT {int(limit)}) tier{n}")  # noqa: S608
            params += [*word_params, *tier_params, *(p for _c, ps in taken for p in ps)]
            taken.append((condition, tier_params))
        return f"SELECT id FROM ({' UNION ALL '.join(parts)}) tiers LIMIT {int(limit)}", params  # noqa: S608


def _words_sql(alias: str, table: str, query: str) -> tuple[list[str], list, tuple[list[str], list] | None] | None:
    """The global search's condition (clients.selectors.search_condition: every word at the start of a word of
    the search text, or the phone number the query spells) as SQL on the search text of ``alias`` (a row of
    ``table``), and the same without the first word (None for a phone number); None when there is nothing to
    search for. Each word is a substring match that an index answers (vetpms.fts)."""
    tokens, phone_forms, _ = _parse(query)
    if not tokens and not phone_forms:
        return None

    def contains(text: str) -> tuple[str, str]:
        return fts.contains_sql(connection, table=table, alias=alias, needle=text)

    words = []
    for token in tokens:
        needle = token if (token.isdigit() or "@" in token or "." in token) else " " + token
        words.append(contains(needle))
    phones = [contains(form) for form in phone_forms]
    if not tokens:
        return [" OR ".join(sql for sql, _ in phones)], [p for _, p in phones], None
    if not phones:
        return (
            [sql for sql, _ in words],
            [p for _, p in words],
            ([sql for sql, _ in words[1:]], [p for _, p in words[1:]]),
        )
    word_sql = f"({' AND '.join(sql for sql, _ in words)}) OR {' OR '.join(sql for sql, _ in phones)}"
    return [f"({word_sql})"], [p for _, p in words] + [p for _, p in phones], None


def _starts(value: str, prefix: str) -> bool:
    return value.casefold().startswith(prefix)


def _equal(value: str, other: str) -> bool:
    return value.casefold() == other


def _animal_score(animal: Animal, *, full: str, first: str, chip: str, phones: set[str]) -> int:
    """How well a pet matches (the ranking the search has always used): a chip 120, its name exactly 100 or at
    the start 85, the owner's surname 80 or at the start 65, organisation 70, first name 55, a phone 100, other
    words 40; a deceased or inactive pet 50 less."""
    owner = animal.owner
    if chip and animal.microchip == chip:
        score = 120
    elif full and _equal(animal.name, full):
        score = 100
    elif first and _starts(animal.name, first):
        score = 85
    elif first and _equal(owner.last_name, first):
        score = 80
    elif first and _starts(owner.organisation, first):
        score = 70
    elif first and _starts(owner.last_name, first):
        score = 65
    elif first and _starts(owner.first_name, first):
        score = 55
    elif phones & {owner.mobile_phone, owner.home_phone, owner.work_phone}:
        score = 100
    else:
        score = 40
    return score if (animal.deceased_on is None and animal.is_active) else score - 50


def _client_score(client: Client, *, full: str, first: str, phones: set[str]) -> int:
    """How well an owner matches: surname or email exactly 100, organisation exactly 95, the surname as the first
    word 90 or at its start 75, organisation 70, first name 60, a phone 100, other words 40; inactive 50 less."""
    if full and (_equal(client.last_name, full) or _equal(client.email, full)):
        score = 100
    elif full and _equal(client.organisation, full):
        score = 95
    elif first and _equal(client.last_name, first):
        score = 90
    elif first and _starts(client.last_name, first):
        score = 75
    elif first and _starts(client.organisation, first):
        score = 70
    elif first and _starts(client.first_name, first):
        score = 60
    elif phones & {client.mobile_phone, client.home_phone, client.work_phone}:
        score = 100
    else:
        score = 40
    return score if client.is_active else score - 50


def search(*, query: str, limit: int = 20, include_inactive: bool = True) -> list[SearchHit]:
    """Pets and owners matching every word of ``query``, best matches first. Two queries whatever the size.

    A tiered search (issue 14): exact matches (microchip, phone, email) and prefix matches of the names (living
    pets' names, then the owners' surname, organisation and first name, then the other pets' names: each a range
    on an expression index) come first, each tier read in its index's order; the substring match over the search
    text only fills up to ``limit``. Only the rows a page shows are read and scored, so "sm" costs what "smith"
    costs.
    """
    animal_words = _words_sql("a", Animal._meta.db_table, query)
    if animal_words is None:
        return []
    client_words = _words_sql("c", Client._meta.db_table, query)
    assert client_words is not None
    tokens, phone_forms, query_digits = _parse(query)
    first, full = (tokens[0], " ".join(tokens)) if tokens else ("", "")
    chip = query_digits if len(query_digits) == 15 else ""
    phones = {"+" + f for f in phone_forms}
    q = connection.ops.quote_name
    animal_table, client_table = q(Animal._meta.db_table), q(Client._meta.db_table)
    living = "(a.deceased_on IS NULL AND a.is_active)"

    # --- Pets
    pets = _Tiers(
        table=f"{animal_table} a JOIN {client_table} c ON c.id = a.owner_id",
        pk="a.id",
        where=animal_words[0],
        params=animal_words[1],
        tiers=[],
        rest=animal_words[2],
    )
    if not include_inactive:
        pets.filters = [living, "c.is_active"]
    if chip:
        pets.add("a.microchip = %s", [chip], "a.id")
    if tokens:
        pets.starts_with("a.name", first, extra=living)
        for column in ("c.last_name", "c.organisation", "c.first_name"):
            pets.starts_with(column, first)
        pets.starts_with("a.name", first)
    pets.add("1 = 1", [])
    sql, params = pets.sql(limit)
    animals = (
        Animal.objects.filter(pk__in=RawSQL(sql, params))  # noqa: S611
        .select_related("owner", "species", "breed")
        .order_by("name", "id")
    )
    hits = [
        SearchHit("animal", _animal_score(a, full=full, first=first, chip=chip, phones=phones), a.owner, a)
        for a in animals
    ]

    # --- Owners
    owners = _Tiers(
        table=f"{client_table} c",
        pk="c.id",
        where=client_words[0],
        params=client_words[1],
        tiers=[],
        rest=client_words[2],
    )
    if not include_inactive:
        owners.filters = ["c.is_active"]
    if phones:
        phone_sql = " OR ".join(f"c.{f} IN ({', '.join(['%s'] * len(phones))})" for f in PHONE_COLUMNS)
        owners.add(phone_sql, [p for _f in PHONE_COLUMNS for p in sorted(phones)], "c.id")
    if tokens:
        owners.add("LOWER(c.email) = %s", [full], "c.id")
        for column in ("c.last_name", "c.organisation", "c.first_name"):
            owners.starts_with(column, first)
    # The substring tier scores 40 at best (an owner's row then ranks 39): when the pets already fill the page
    # with hits that rank higher, none of its rows could be shown, so it is not run at all.
    if not (len(hits) >= limit and min(h.score for h in hits) >= 40):
        owners.add("1 = 1", [])
    clients: list[Client] = []
    if owners.tiers:
        sql, params = owners.sql(limit)
        clients = list(Client.objects.filter(pk__in=RawSQL(sql, params)).order_by("last_name", "first_name", "id"))  # noqa: S611

    # An owner is listed with the pets; the owner's own row follows their best pet unless it ranks higher.
    hits += [SearchHit("client", _client_score(c, full=full, first=first, phones=phones) - 1, c) for c in clients]
    hits.sort(
        key=lambda h: (-h.score, h.kind != "animal", h.label.casefold(), h.animal.pk if h.animal else h.client.pk)
    )
    return hits[:limit]
