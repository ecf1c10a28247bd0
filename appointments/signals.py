"""Hooks for higher apps (invoicing charges a completed consultation, reminders create recalls).

``appointment_status_changed`` is sent inside the transition's transaction with ``appointment``, ``from_status``,
``to_status`` and ``by``.
"""

from django.dispatch import Signal

appointment_status_changed = Signal()
