"""Every write to webhook endpoints and deliveries: keyword-only, one transaction each, audited.

The secret is returned (and so shown) only by ``endpoint_create`` and ``endpoint_rotate_secret``; no page or API
answer shows it again, and the database holds it only encrypted (exchange.webhooks.secret_box). A rotation keeps
the old secret signing beside the new one for ``overlap_hours`` (every message then carries two signatures), so
the receiver can change its copy without losing a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from exchange.models import WebhookDelivery, WebhookEndpoint
from exchange.webhooks import net, signing
from vetpms import audit
from vetpms.errors import DomainError
from vetpms.events import EVENT_TYPES
from vetpms.models import User

MAX_OVERLAP_HOURS = 7 * 24
AUDITED = ["url", "description", "event_types", "enabled"]


def check_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise ValidationError({"url": "A URL is at most 2,000 characters."})
    try:
        net.resolve(url)
    except net.UnsafeUrl as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


def check_event_types(types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(types or []))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError({"event_types": f"Unknown event type(s): {', '.join(map(str, unknown))}."})
    if not chosen:
        raise ValidationError({"event_types": "Choose at least one event type."})
    return sorted(chosen)


@transaction.atomic
def endpoint_create(
    *, by: User, url: str, event_types: Iterable[str], description: str = "", enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the only time the secret is handed out)."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    checks: list[tuple[str, Callable[[Any], object], Any]] = [
        ("url", check_url, url),
        ("event_types", check_event_types, event_types),
    ]
    for name, check, value in checks:
        try:
            checked[name] = check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    secret = signing.generate_secret()
    endpoint = WebhookEndpoint(
        url=checked["url"],
        event_types=checked["event_types"],
        description=(description or "").strip()[:300],
        enabled=enabled,
        created_by=by,
    )
    endpoint.secret = secret  # stored encrypted (exchange.webhooks.secret_box)
    endpoint.save()
    audit.record(actor=by, obj=endpoint, action="create", changes=audit.diff({}, audit.snapshot(endpoint, AUDITED)))
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, by: User, data: dict[str, Any]) -> WebhookEndpoint:
    """Change url, description, event_types or enabled. Re-enabling clears why it was disabled."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = audit.snapshot(endpoint, AUDITED)
    if "url" in data:
        endpoint.url = check_url(data["url"])
    if "event_types" in data:
        endpoint.event_types = check_event_types(data["event_types"])
    if "description" in data:
        endpoint.description = (data["description"] or "").strip()[:300]
    if "enabled" in data:
        endpoint.enabled = bool(data["enabled"])
        if endpoint.enabled:
            endpoint.disabled_reason = ""
    endpoint.save()
    changes = audit.diff(before, audit.snapshot(endpoint, AUDITED))
    if changes:
        audit.record(actor=by, obj=endpoint, action="update", changes=changes)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, by: User, overlap_hours: int = 24
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one keeps signing beside it for ``overlap_hours`` (0: replaced at once)."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise ValidationError({"overlap_hours": f"The overlap is 0 to {MAX_OVERLAP_HOURS} hours."})
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if overlap_hours:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted  # moved as it is stored, still encrypted
        endpoint.previous_secret_expires_at = timezone.now() + dt.timedelta(hours=overlap_hours)
    else:
        endpoint.previous_secret_encrypted, endpoint.previous_secret_expires_at = "", None
    secret = signing.generate_secret()
    endpoint.secret = secret
    endpoint.save(
        update_fields=["secret_encrypted", "previous_secret_encrypted", "previous_secret_expires_at", "updated_at"]
    )
    audit.record(
        actor=by, obj=endpoint, action="rotate secret", note=f"the previous secret signs for {overlap_hours} h more"
    )
    return endpoint, secret


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, by: User) -> None:
    """Delete an endpoint with its delivery log (disable it instead to keep the log)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    audit.record(actor=by, obj=endpoint, action="delete", changes={"url": [endpoint.url, None]})
    endpoint.delete()


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, by: User) -> WebhookDelivery:
    """Send a message again, after whatever is still open for the same object. A message still waiting is not
    queued twice.

    A replay is the same message, not a new event: the same body and the same ``webhook-id`` (the Standard
    Webhooks specification keeps the id when a message is sent again, so receivers that drop repeats by it stay
    idempotent), signed when it goes out: a fresh ``webhook-timestamp`` and the secrets valid then. It is for a
    message a receiver never got or failed to process (given up, or lost on its side); a receiver that already
    recorded the id and must take it again has to forget the id first (README, Webhooks)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)
    if delivery.status in WebhookDelivery.OPEN:
        raise DomainError("This message has not been delivered or given up yet; it is still on its way.", code="open")
    now = timezone.now()
    replay = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_type=delivery.event_type,
        object_key=delivery.object_key,
        msg_id=delivery.msg_id,
        payload=delivery.payload,
        next_attempt_at=now,
        created_at=now,
        replay_of=delivery,
    )
    audit.record(actor=by, obj=delivery.endpoint, action="replay", note=f"{delivery.event_type} {delivery.msg_id}")
    from exchange.webhooks.outbox import queue_delivery

    transaction.on_commit(queue_delivery)
    return replay
