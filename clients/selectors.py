"""Reads of clients that are more than a ``get``: each with the joins its page needs, so query counts stay flat."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Client
from vetpms.phones import phone_query_digits
from vetpms.text import digits, fold

MAX_TOKENS = 5
MAX_TOKEN_LENGTH = 60


def client_list(
    *,
    include_inactive: bool = True,
    active: bool | None = None,
    consent: bool | None = None,
    species_id: int | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
    query: str = "",
) -> QuerySet[Client]:
    """Clients for the list page and the API, with their number of living animals in the same query.

    The optional filters narrow it: ``species_id`` keeps owners of an animal of that species, the created range
    is in the practice's local days (both ends included), ``query`` matches the way the global search does.
    """
    # A correlated subquery rather than Count() over a join: pages are keyset pages (vetpms.keyset), read off the
    # index of the list's order with no OFFSET, so the database evaluates it for the page's rows only (26 times for
    # a page of 25, however deep: docs/explain/lists.md), and the capped count selects ids alone.
    living = (
        apps.get_model("animals", "Animal")
        .objects.filter(owner=OuterRef("pk"), deceased_on__isnull=True, is_active=True)
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = Client.objects.annotate(animal_count=Coalesce(Subquery(living, output_field=IntegerField()), 0))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if active is not None:
        qs = qs.filter(is_active=active)
    if consent is not None:
        qs = qs.filter(reminder_consent=consent)
    if species_id is not None:
        # A subquery, not a join: a join would multiply the rows behind the animal_count annotation.
        # animals sits above clients, so its model is read through the registry rather than imported.
        animals = apps.get_model("animals", "Animal").objects.filter(species_id=species_id)
        qs = qs.filter(pk__in=animals.values("owner_id"))
    if created_from is not None:
        qs = qs.filter(created_at__gte=_local_midnight(created_from))
    if created_to is not None:
        qs = qs.filter(created_at__lt=_local_midnight(created_to + dt.timedelta(days=1)))
    if query.strip():
        condition = search_condition(query)
        qs = qs.filter(condition) if condition is not None else qs.none()
    return qs.order_by("last_name", "first_name", "organisation", "id")


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def client_detail(*, pk: int) -> Client:
    """One client with their animals (species and breed joined), living animals first. Raises DoesNotExist."""
    from animals.models import Animal

    animals = Animal.objects.select_related("species", "breed").order_by("deceased_on", "-is_active", "name")
    return Client.objects.prefetch_related(Prefetch("animals", queryset=animals)).get(pk=pk)


# --- The search condition shared with the global search (animals.selectors.search) ----------------------------


def parse_search_query(query: str) -> tuple[list[str], list[str], str]:
    """(words, phone digit strings, all digits) of what someone typed in a search box."""
    folded = fold(query)[: MAX_TOKENS * MAX_TOKEN_LENGTH]
    tokens = [t[:MAX_TOKEN_LENGTH] for t in folded.split()][:MAX_TOKENS]
    phone_forms = phone_query_digits(query)
    # A phone typed with spaces ("07700 900123") is several tokens but one number: match the digits as a whole.
    if phone_forms and all(t.strip("+()-").isdigit() for t in tokens):
        tokens = []
    return tokens, phone_forms, digits(query)


def _token_condition(token: str) -> Q:
    """How one query word must appear in a search text.

    Words match at the start of a word (" smi" finds Smith, not Goldsmith); digit strings and e-mail fragments
    match anywhere, so the tail of a phone number or part of an address finds its owner.
    """
    if token.isdigit() or "@" in token or "." in token:
        return Q(search_text__search_contains=token)
    return Q(search_text__search_contains=" " + token)


def search_condition(query: str) -> Q | None:
    """The filter on ``search_text`` that the global search applies: every word of ``query``, or the phone
    number it spells. Clients and animals both carry ``search_text`` (an animal's includes its owner's), so the
    same condition filters either; None when ``query`` has nothing to search for."""
    tokens, phone_forms, _ = parse_search_query(query)
    if not tokens and not phone_forms:
        return None
    phone_condition = Q()
    for form in phone_forms:
        phone_condition |= Q(search_text__search_contains=form)
    if not tokens:
        return phone_condition
    condition = Q()
    for token in tokens:
        condition &= _token_condition(token)
    return condition | phone_condition if phone_forms else condition


def _postcode_key(value: str) -> str:
    return "".join(value.split()).upper()


def possible_duplicates(*, client: Client, limit: int = 10) -> list[tuple[Client, list[str]]]:
    """Clients already recorded that may be the same owner as ``client`` (typed, not yet saved; its phones
    normalised by ``full_clean``): the same phone number in any of the three fields, the same email (any case),
    or the same surname (any case) and postcode (any spacing). Each with the reasons, active ones first.
    Every test reads an index (clients migration 0004), so the check costs the same with 60,000 clients."""
    from django.db.models import Value
    from django.db.models.functions import Lower, Replace, Upper

    phones = {getattr(client, f) for f in ("mobile_phone", "home_phone", "work_phone")} - {""}
    match = Q(pk__in=[])
    for field in ("mobile_phone", "home_phone", "work_phone"):
        if phones:
            match |= Q(**{f"{field}__in": phones})
    email = client.email.strip().lower()
    if email:
        match |= Q(email_lower=email)
    postcode = _postcode_key(client.postcode)
    surname = client.last_name.strip().lower()
    if surname and postcode:
        match |= Q(last_name_lower=surname, postcode_key=postcode)
    candidates = (
        Client.objects.annotate(
            email_lower=Lower("email"),
            last_name_lower=Lower("last_name"),
            postcode_key=Upper(Replace("postcode", Value(" "), Value(""))),
        )
        .filter(match)
        .exclude(pk=client.pk)
        .order_by("-is_active", "last_name", "first_name", "id")[:limit]
    )
    found: list[tuple[Client, list[str]]] = []
    for other in candidates:
        reasons = []
        shared = phones & {other.mobile_phone, other.home_phone, other.work_phone}
        if shared:
            reasons.append("same phone")
        if email and other.email.strip().lower() == email:
            reasons.append("same email")
        if surname and postcode and other.last_name.lower() == surname and _postcode_key(other.postcode) == postcode:
            reasons.append("same surname and postcode")
        found.append((other, reasons))
    return found
