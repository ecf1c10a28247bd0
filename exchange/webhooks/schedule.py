"""The webhook sweep's django-q2 schedule, written by code after every ``migrate`` (exchange.apps), never by
hand: ``exchange.webhooks.tasks.deliver`` every ``WEBHOOK_EVERY_MINUTES``. It sends retries whose time has come,
picks up claims of dead workers, and anything whose after-commit task was lost."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

NAME = "Webhook deliveries"


def ensure_schedule():
    from django_q.models import Schedule

    wanted = dict(
        func="exchange.webhooks.tasks.deliver",
        schedule_type=Schedule.MINUTES,
        minutes=settings.WEBHOOK_EVERY_MINUTES,
        repeats=-1,
    )
    schedule = Schedule.objects.filter(name=NAME).first()
    if schedule is None:
        return Schedule.objects.create(name=NAME, next_run=timezone.now(), **wanted)
    if any(getattr(schedule, k) != v for k, v in wanted.items()):
        for key, value in wanted.items():
            setattr(schedule, key, value)
        schedule.save()
    return schedule
