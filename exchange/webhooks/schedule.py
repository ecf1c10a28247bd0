"""The webhook sweep's django-q2 schedule, written by code after every ``migrate`` (exchange.apps), never by
hand: ``exchange.webhooks.tasks.deliver`` every ``WEBHOOK_EVERY_MINUTES``. It sends retries whose time has come,
picks up claims of dead workers, and anything whose after-commit task was lost."""

from __future__ import annotations

from django.conf import settings

from vetpms.schedules import ensure_every

NAME = "Webhook deliveries"


def ensure_schedule():
    return ensure_every(name=NAME, func="exchange.webhooks.tasks.deliver", minutes=settings.WEBHOOK_EVERY_MINUTES)
