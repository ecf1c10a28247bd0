"""Reads of webhook endpoints and their delivery logs (paged by key: vetpms.keyset)."""

from __future__ import annotations

from django.db.models import QuerySet

from exchange.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def delivery_log(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """Newest first; each row with its attempts' count (a field, no join)."""
    rows = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")


def attempts_of(delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery).order_by("-id")
