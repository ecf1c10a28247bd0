"""Reads of clients that are more than a ``get``: each with the joins its page needs, so query counts stay flat."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from clients.models import Client


def client_list(*, include_inactive: bool = True) -> QuerySet[Client]:
    """Clients for the list page and the API, with their number of living animals in the same query."""
    qs = Client.objects.annotate(
        animal_count=Count("animals", filter=Q(animals__deceased_on__isnull=True, animals__is_active=True))
    )
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("last_name", "first_name", "organisation", "id")


def client_detail(*, pk: int) -> Client:
    """One client with their animals (species and breed joined), living animals first. Raises DoesNotExist."""
    from animals.models import Animal

    animals = Animal.objects.select_related("species", "breed").order_by("deceased_on", "-is_active", "name")
    return Client.objects.prefetch_related(Prefetch("animals", queryset=animals)).get(pk=pk)
