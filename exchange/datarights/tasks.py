"""django-q2 entry point of the retention schedule (exchange.datarights.schedule writes the schedule)."""

from __future__ import annotations

import logging

from exchange.datarights import services

logger = logging.getLogger(__name__)

# Owners erased per task: each is its own transaction, and a task stays well inside Q_TIMEOUT; the rest are
# picked up by the next part, queued at once.
BATCH = 300


def retention_run(**kwargs) -> int:
    """Anonymise what has passed its retention period today; returns how many owners were erased."""
    done = services.retention_apply(limit=BATCH)
    erased = len(done.to_erase)
    logger.info("retention: %s owners erased, %s reminder emails cleared", erased, len(done.email_log_ids))
    if len(done.clients) >= BATCH or len(done.email_log_ids) >= BATCH:
        from django_q.tasks import async_task

        async_task("exchange.datarights.tasks.retention_run")
    return erased
