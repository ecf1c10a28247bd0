"""The clinical record's django-q2 schedule, written by every ``migrate`` (a post_migrate hook in clinical.apps):
"Attachment orphan sweep (daily)" runs ``clinical.tasks.sweep_attachment_orphans`` at 03:15 local time. Running it again
changes nothing."""

from __future__ import annotations

import datetime as dt

from vetpms.schedules import ensure_daily

SWEEP_NAME = "Attachment orphan sweep (daily)"
SWEEP_AT = dt.time(3, 15)  # a quiet hour, local time


def ensure_schedule():
    return ensure_daily(name=SWEEP_NAME, func="clinical.tasks.sweep_attachment_orphans", at=SWEEP_AT)
