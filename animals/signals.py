"""Hooks for apps above animals.

``animal_retired`` is sent inside the service's transaction when an animal is marked deceased or deactivated,
with ``animal``, ``by`` and ``reason``. The reminders app listens and cancels the animal's pending reminders.
"""

from django.dispatch import Signal

animal_retired = Signal()
