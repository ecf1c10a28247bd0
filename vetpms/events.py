"""Domain events: the one registry through which a service tells the rest of the system what it changed.

A service that changes something another part of VetPMS (or a system outside it) may care about calls
``publish`` inside its own transaction, after the change is written::

    events.publish("appointment.booked", appointment)
    events.publish("client.updated", client, changed=set(changes))

Subscribers register once, in their app's ``AppConfig.ready()``, with ``subscribe(handler)``; each is called
synchronously with the ``Event``, inside the publishing transaction, so whatever it writes commits or rolls back
with the change itself. That is the point, and also the rule: **a subscriber does no slow work and no network
I/O**. It writes a row (an outbox) and, if it must, queues a django-q2 task with ``transaction.on_commit``; the task
does the rest after commit. A subscriber that raises makes the service fail: a subscriber's own failure must not
be swallowed silently, since its row would then be lost for a committed change.

Only the names in ``EVENT_TYPES`` can be published (a typo is a programming error, raised at once); the catalogue
is what the webhooks' settings page and API offer, and what the README lists.

Lower apps import this kernel module (it imports no app), so publishing never breaks the direction of
dependencies (DESIGN.md section 1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

# The catalogue: event name -> what it means. Names are "<thing>.<what happened>", past tense.
EVENT_TYPES: dict[str, str] = {
    "client.created": "A client (owner) was added.",
    "client.updated": "A client's details, consent or active state changed (data.changed names the fields).",
    "animal.created": "An animal (patient) was registered.",
    "animal.updated": "An animal's details or active state changed (data.changed names the fields).",
    "animal.deceased": "An animal was recorded as deceased.",
    "animal.transferred": "An animal moved to a new owner.",
    "appointment.booked": "An appointment was booked.",
    "appointment.rescheduled": "An appointment moved to another time or vet.",
    "appointment.cancelled": "An appointment was cancelled.",
    "appointment.status_changed": "An appointment moved along its status flow (or a move was undone).",
    "consultation.signed": "A consultation was signed: it is now a permanent record.",
    "vaccination.recorded": "A vaccination was recorded.",
    "invoice.finalised": "An invoice was finalised (numbered and frozen).",
    "credit_note.issued": "A credit note was issued against an invoice.",
    "payment.received": "A client's payment was recorded.",
    "claim.status_changed": "An insurance claim was submitted, decided or settled.",
    "reminder.renewed": (
        "A vaccination or an invoiced product renewed an animal's reminder: the next one was created (or, for a "
        "dose recorded both in the clinical record and on the bill, its due date set by the record)."
    ),
    "reminder.sent": "A reminder email to an owner was accepted by the mail server.",
}


@dataclass(frozen=True)
class Event:
    """What happened: ``name`` (from EVENT_TYPES), the model instance it happened to, the names of the fields
    that changed (empty when the event itself says it, e.g. a creation), and when."""

    name: str
    obj: Any
    changed: frozenset[str] = field(default_factory=frozenset)
    at: dt.datetime = field(default_factory=timezone.now)


Subscriber = Callable[[Event], None]
_subscribers: list[Subscriber] = []


def subscribe(handler: Subscriber) -> Subscriber:
    """Register ``handler`` for every event (it filters by ``event.name`` itself). Idempotent: ready() may run
    twice in some test set-ups. Returns the handler, so it can be used as a decorator."""
    if handler not in _subscribers:
        _subscribers.append(handler)
    return handler


def unsubscribe(handler: Subscriber) -> None:
    if handler in _subscribers:
        _subscribers.remove(handler)


def publish(name: str, obj: Any, *, changed: Iterable[str] = (), using: str | None = None) -> Event:
    """Tell every subscriber that ``name`` happened to ``obj``. Must be called inside the service's transaction
    (RuntimeError otherwise: an outbox row written outside it could outlive a rolled-back change)."""
    if name not in EVENT_TYPES:
        raise ValueError(f"Unknown domain event {name!r}; add it to vetpms.events.EVENT_TYPES.")
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError(f"publish({name!r}) must run inside the service's transaction.")
    event = Event(name=name, obj=obj, changed=frozenset(changed))
    for handler in list(_subscribers):
        handler(event)
    return event
