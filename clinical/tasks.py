"""django-q2 entry points of the clinical record."""

from __future__ import annotations

from clinical.services import attachment_orphans_sweep


def sweep_attachment_orphans() -> int:
    """The daily sweep of attachment files no row names (see ``attachment_orphans_sweep``); returns how many went."""
    return len(attachment_orphans_sweep())
