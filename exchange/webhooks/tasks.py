"""django-q2 entry points (exchange.webhooks.schedule sets the sweep; each committed event also queues one)."""

from __future__ import annotations

from exchange.webhooks import delivery


def deliver(**kwargs) -> int:
    """Send what is due for up to WEBHOOK_TASK_SECONDS; returns how many attempts were made."""
    return delivery.deliver_due().attempted
