"""The retention task's django-q2 schedule, written by code after every ``migrate`` (exchange.apps), never by
hand: "Data retention (daily)" runs ``exchange.datarights.tasks.retention_run`` at ``RETENTION_RUN_TIME``."""

from __future__ import annotations

import datetime as dt

from vetpms.schedules import ensure_daily, setting_time

NAME = "Data retention (daily)"


def ensure_schedule(*, now: dt.datetime | None = None):
    return ensure_daily(
        name=NAME, func="exchange.datarights.tasks.retention_run", at=setting_time("RETENTION_RUN_TIME"), now=now
    )
