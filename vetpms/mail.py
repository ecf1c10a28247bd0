"""Who emails to owners come from: the practice (``PRACTICE_NAME`` <``PRACTICE_EMAIL``>), not the software.
``DEFAULT_FROM_EMAIL`` stays the sender of server errors and the domain of Message-IDs."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings


def practice_sender() -> str:
    """The From of every email to an owner (reminders, booking confirmations, invoices)."""
    practice = settings.PRACTICE
    address = practice.get("email") or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return formataddr((practice["name"], address))
