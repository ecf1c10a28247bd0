"""Hooks for apps above clinical (DESIGN.md section 1: a lower app never imports a higher one).

Both signals are sent inside the service's transaction; a receiver that raises rolls the whole write back.

* ``vaccination_recorded(sender=Vaccination, vaccination, by)``: a vaccination was recorded. The reminders app
  listens: the vaccine's reminder type (the one invoicing the same product renews) gets the animal's pending
  reminder completed and the next one created, due on ``vaccination.next_due_on``; when the invoice line of the same
  visit already renewed it, the vaccination is linked to that reminder instead, so there is never a second one.
* ``consultation_signed(sender=Consultation, consultation, by)``: a consultation became a permanent record.

``next_due_rules`` answers the other direction: the default next due date of a vaccine (its reminder type's
interval lives in the reminders app). A rule is ``rule(product, animal, given_on) -> date | None``; the reminders
app registers one in its ``ready()``; the first rule with an answer wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

vaccination_recorded = Signal()
consultation_signed = Signal()

NextDueRule = Callable[[Any, Any, dt.date], dt.date | None]
next_due_rules: list[NextDueRule] = []


def register_next_due_rule(rule: NextDueRule) -> None:
    if rule not in next_due_rules:
        next_due_rules.append(rule)


def default_next_due(*, product: Any, animal: Any, given_on: dt.date) -> dt.date | None:
    """The next due date of ``product`` given to ``animal`` on ``given_on``, from the registered rules."""
    for rule in next_due_rules:
        due = rule(product, animal, given_on)
        if due is not None:
            return due
    return None
