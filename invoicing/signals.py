"""Hooks for apps above invoicing.

``document_finalised`` is sent inside the finalising transaction with ``invoice`` (an invoice or a credit note)
and ``by``. The reminders app listens: a finalised line whose product carries a reminder type completes the
animal's pending reminder of that type and creates the next one. A receiver that raises rolls the whole
finalisation back, number included.
"""

from django.dispatch import Signal

document_finalised = Signal()
