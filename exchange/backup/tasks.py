"""django-q2 entry point of the daily backup."""

from __future__ import annotations

import logging

from django.conf import settings

from exchange.backup import core

logger = logging.getLogger(__name__)


def daily_backup(**kwargs) -> str:
    """Write today's backup, then delete those older than BACKUP_KEEP_DAYS (only after the new one is complete, so
    a failing backup never costs an old one)."""
    path = core.create_backup()
    removed = core.prune_backups(keep_days=settings.BACKUP_KEEP_DAYS)
    logger.info("backup written to %s; %d old backup(s) deleted", path, len(removed))
    return str(path)
