"""Reads of animals, and the global search over pets and owners."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

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


def search(*, query: str, limit: int = 20, include_inactive: bool = True) -> list[SearchHit]:
    """Pets and owners matching every word of ``query``, best matches first. Two queries whatever the size."""
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

    animal_whens: list[When] = []
    if len(query_digits) == 15:
        animal_whens.append(When(microchip=query_digits, then=Value(120)))
    if tokens:
        animal_whens += [
            When(name__iexact=" ".join(tokens), then=Value(100)),
            When(name__istartswith=first, then=Value(85)),
            When(owner__last_name__iexact=first, then=Value(80)),
            When(owner__organisation__istartswith=first, then=Value(70)),
            When(owner__last_name__istartswith=first, then=Value(65)),
            When(owner__first_name__istartswith=first, then=Value(55)),
        ]
    animal_whens += phone_rank("owner__")
    living = Case(
        When(Q(deceased_on__isnull=True, is_active=True), then=Value(0)),
        default=Value(-50),
        output_field=IntegerField(),
    )
    animals = (
        Animal.objects.filter(condition)
        .annotate(score=Case(*animal_whens, default=Value(40), output_field=IntegerField()) + living)
        .select_related("owner", "species", "breed")
        .order_by("-score", "name", "id")
    )

    client_whens: list[When] = []
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
    client_whens += phone_rank("")
    clients = (
        Client.objects.filter(condition)
        .annotate(
            score=Greatest(Case(*client_whens, default=Value(40), output_field=IntegerField()), Value(0))
            + Case(When(is_active=True, then=Value(0)), default=Value(-50), output_field=IntegerField())
        )
        .order_by("-score", "last_name", "first_name", "id")
    )
    if not include_inactive:
        animals = animals.filter(is_active=True, deceased_on__isnull=True, owner__is_active=True)
        clients = clients.filter(is_active=True)

    hits = [SearchHit("animal", a.score, a.owner, a) for a in animals[:limit]]
    # An owner is listed with the pets; the owner's own row follows their best pet unless it ranks higher.
    hits += [SearchHit("client", c.score - 1, c) for c in clients[:limit]]
    hits.sort(key=lambda h: (-h.score, h.kind != "animal", h.label.casefold()))
    return hits[:limit]
