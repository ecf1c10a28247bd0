"""The daily backup's django-q2 schedule, written by every ``migrate`` (a post_migrate hook in exchange.apps), never
by hand: "Backup (daily)" runs ``exchange.backup.tasks.daily_backup`` at ``BACKUP_TIME`` in the practice's zone
and keeps ``BACKUP_KEEP_DAYS`` days of backups. Running it again changes nothing."""

from __future__ import annotations

import datetime as dt

from vetpms.schedules import ensure_daily, setting_time

NAME = "Backup (daily)"
FUNC = "exchange.backup.tasks.daily_backup"


def ensure_schedule(*, now: dt.datetime | None = None):
    return ensure_daily(name=NAME, func=FUNC, at=setting_time("BACKUP_TIME"), now=now)
