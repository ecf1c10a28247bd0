"""The clinical record's django-q2 schedule, written by every ``migrate`` (a post_migrate hook in clinical.apps):
"Attachment orphan sweep (daily)" runs ``clinical.tasks.sweep_attachment_orphans`` once a day. Running it again
changes nothing."""

from __future__ import annotations

from django.utils import timezone

SWEEP_NAME = "Attachment orphan sweep (daily)"


def ensure_schedule():
    from django_q.models import Schedule

    wanted = {"func": "clinical.tasks.sweep_attachment_orphans", "schedule_type": Schedule.DAILY, "repeats": -1}
    schedule, created = Schedule.objects.get_or_create(name=SWEEP_NAME, defaults={**wanted, "next_run": timezone.now()})
    if not created and any(getattr(schedule, key) != value for key, value in wanted.items()):
        for key, value in wanted.items():
            setattr(schedule, key, value)
        schedule.save()
    return schedule
