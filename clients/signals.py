"""Hooks for apps above clients (DESIGN.md section 1: lower apps never import higher ones).

``client_changed`` is sent by the client services after commit-worthy changes, inside their transaction, with
``client`` and ``fields`` (the names that changed). animals listens to keep its search text current; reminders
will listen to cancel pending reminders of a deactivated client.
"""

from django.dispatch import Signal

client_changed = Signal()
