"""Reads of animals, and the global search over pets and owners."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest, Lower

from animals.models import Animal, Breed, Ownership, Species, Weight
from clients.models import Client
from clients.selectors import parse_search_query as _parse
from clients.selectors import search_condition


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


def _starts_with(field: str, prefix: str) -> Q:
    """``lower(field)`` starts with ``prefix`` (already folded to lower case), as a range on the lower-case value:
    the form the expression indexes on ``Lower(...)`` answer on both databases (a LIKE 'sm%' is not used by an
    expression index on SQLite, nor by a non-C collation's index on PostgreSQL)."""
    after = _after_prefix(prefix)
    condition = Q(**{f"{field}_key__gte": prefix})
    return condition & Q(**{f"{field}_key__lt": after}) if after else condition


def _tiered_ids(base: QuerySet, tiers: list[tuple[Q, tuple]], limit: int) -> tuple[str, tuple]:
    """SQL selecting the ids of at most ``limit`` rows of ``base``, tier by tier.

    Each tier is a condition and the order its index reads it in. A tier takes the rows of its condition that no
    earlier tier took, at most ``limit``, in its index order; the last tier (the substring match, ordered by
    nothing) only fills up. The tiers are one UNION ALL under one LIMIT, which both databases read lazily: once
    the exact and prefix tiers give ``limit`` rows the later ones are never run, so a two-letter query reads
    ``limit`` rows off an index instead of matching, scoring and sorting every name that has those two letters.
    """
    parts, params = [], []
    taken = Q()
    for n, (condition, order) in enumerate(tiers):
        part = base.filter(condition & ~taken) if n else base.filter(condition)
        part = part.order_by(*order) if order else part.order_by()
        sql, part_params = part.values("pk")[:limit].query.get_compiler(using=base.db).as_sql()
        parts.append(f"SELECT * FROM ({sql}) tier{n}")  # noqa: S608 - SQL the ORM compiled, values as parameters
        params.extend(part_params)
        taken |= condition
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) tiers LIMIT {int(limit)}", tuple(params)  # noqa: S608


def search(*, query: str, limit: int = 20, include_inactive: bool = True) -> list[SearchHit]:
    """Pets and owners matching every word of ``query``, best matches first. Two queries whatever the size.

    A tiered search (issue 14): exact matches (microchip, phone, email) and prefix matches of the names (pet,
    surname, organisation, first name: each a range on an expression index) come first, each tier read in its
    index's order; the substring match over the search text only fills up to ``limit``. Only the rows a page
    shows are read and scored, so "sm" costs what "smith" costs.
    """
    condition = search_condition(query)
    if condition is None:
        return []
    tokens, phone_forms, query_digits = _parse(query)

    first = tokens[0] if tokens else ""
    phone_exact = ["+" + f for f in phone_forms]

    def phone_rank(prefix: str) -> list[When]:
        whens = []
        for field in ("mobile_phone", "home_phone", "work_phone"):
            whens.append(When(**{f"{prefix}{field}__in": phone_exact}, then=Value(100)))
        return whens

    def phone_match(prefix: str) -> Q:
        match = Q()
        for field in ("mobile_phone", "home_phone", "work_phone"):
            match |= Q(**{f"{prefix}{field}__in": phone_exact})
        return match

    # --- Pets
    animal_whens: list[When] = []
    animal_tiers: list[tuple[Q, tuple]] = []
    if len(query_digits) == 15:
        animal_whens.append(When(microchip=query_digits, then=Value(120)))
        animal_tiers.append((Q(microchip=query_digits), ("id",)))
    if tokens:
        animal_whens += [
            When(name__iexact=" ".join(tokens), then=Value(100)),
            When(name__istartswith=first, then=Value(85)),
            When(owner__last_name__iexact=first, then=Value(80)),
            When(owner__organisation__istartswith=first, then=Value(70)),
            When(owner__last_name__istartswith=first, then=Value(65)),
            When(owner__first_name__istartswith=first, then=Value(55)),
        ]
        animal_tiers += [
            (_starts_with("name", first), ("name_key", "id")),
            (_starts_with("owner_last_name", first), ("owner_last_name_key", "id")),
            (_starts_with("owner_organisation", first), ("owner_organisation_key", "id")),
            (_starts_with("owner_first_name", first), ("owner_first_name_key", "id")),
        ]
    animal_whens += phone_rank("owner__")
    animal_tiers.append((condition, ()))
    living = Case(
        When(Q(deceased_on__isnull=True, is_active=True), then=Value(0)),
        default=Value(-50),
        output_field=IntegerField(),
    )
    animal_base = Animal.objects.filter(condition).alias(
        name_key=Lower("name"),
        owner_last_name_key=Lower("owner__last_name"),
        owner_organisation_key=Lower("owner__organisation"),
        owner_first_name_key=Lower("owner__first_name"),
    )
    if not include_inactive:
        animal_base = animal_base.filter(is_active=True, deceased_on__isnull=True, owner__is_active=True)
    animals = (
        Animal.objects.filter(pk__in=RawSQL(*_tiered_ids(animal_base, animal_tiers, limit)))  # noqa: S611
        .annotate(score=Case(*animal_whens, default=Value(40), output_field=IntegerField()) + living)
        .select_related("owner", "species", "breed")
        .order_by("-score", "name", "id")
    )
    hits = [SearchHit("animal", a.score, a.owner, a) for a in animals]

    # --- Owners
    client_whens: list[When] = []
    client_tiers: list[tuple[Q, tuple]] = []
    exact = phone_match("") if phone_exact else Q()
    if tokens:
        client_whens += [
            When(last_name__iexact=" ".join(tokens), then=Value(100)),
            When(email__iexact=" ".join(tokens), then=Value(100)),
            When(organisation__iexact=" ".join(tokens), then=Value(95)),
            When(last_name__iexact=first, then=Value(90)),
            When(last_name__istartswith=first, then=Value(75)),
            When(organisation__istartswith=first, then=Value(70)),
            When(first_name__istartswith=first, then=Value(60)),
        ]
        exact |= Q(email_key=" ".join(tokens))
    client_whens += phone_rank("")
    if exact:
        client_tiers.append((exact, ("id",)))
    if tokens:
        client_tiers += [
            (_starts_with("last_name", first), ("last_name_key", "id")),
            (_starts_with("organisation", first), ("organisation_key", "id")),
            (_starts_with("first_name", first), ("first_name_key", "id")),
        ]
    # The substring tier scores 40 at best (an owner's row then ranks 39): when the pets already fill the page
    # with hits that rank higher, none of its rows could be shown, so it is not run at all.
    if not (len(hits) >= limit and min(h.score for h in hits) >= 40):
        client_tiers.append((condition, ()))
    client_base = Client.objects.filter(condition).alias(
        last_name_key=Lower("last_name"),
        organisation_key=Lower("organisation"),
        first_name_key=Lower("first_name"),
        email_key=Lower("email"),
    )
    if not include_inactive:
        client_base = client_base.filter(is_active=True)
    clients = (
        Client.objects.filter(pk__in=RawSQL(*_tiered_ids(client_base, client_tiers, limit)))  # noqa: S611
        .annotate(
            score=Greatest(Case(*client_whens, default=Value(40), output_field=IntegerField()), Value(0))
            + Case(When(is_active=True, then=Value(0)), default=Value(-50), output_field=IntegerField())
        )
        .order_by("-score", "last_name", "first_name", "id")
    )

    # An owner is listed with the pets; the owner's own row follows their best pet unless it ranks higher.
    hits += [SearchHit("client", c.score - 1, c) for c in clients]
    hits.sort(key=lambda h: (-h.score, h.kind != "animal", h.label.casefold()))
    return hits[:limit]
