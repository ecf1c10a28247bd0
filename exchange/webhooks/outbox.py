"""The domain-event subscriber (registered in exchange.apps) and the payload it freezes.

Inside the publishing service's transaction it writes one ``WebhookDelivery`` per enabled endpoint that wants the
event, with the exact body to send, and, after commit, queues a delivery task so the message goes within seconds
rather than at the next sweep of the schedule. Nothing here touches the network: a rolled-back change takes its
rows with it, a committed one has them for the workers (even if queuing the task fails: the schedule sweeps).

The payload is small on purpose; a receiver that wants more reads the object through the API or FHIR::

    {"type": "appointment.cancelled", "timestamp": "2027-06-01T09:30:00.123456+00:00",
     "data": {"object": "appointment", "id": 45, "animal_id": 12, "client_id": 7, "vet_id": 2,
              "status": "cancelled", "changed": ["status"], "fhir_reference": "Appointment/45"}}
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import transaction

from exchange.models import WebhookDelivery, WebhookEndpoint
from vetpms.events import Event

logger = logging.getLogger(__name__)

# Model label -> FHIR R4 resource type, where the object has one (DESIGN.md section 8).
FHIR_TYPES = {
    "animals.animal": "Patient",
    "appointments.appointment": "Appointment",
    "clinical.consultation": "Encounter",
    "clinical.vaccination": "Immunization",
    "invoicing.claim": "Claim",
    "reminders.reminder": "ImmunizationRecommendation",
}
# Foreign keys a receiver needs to relate the object (under the name it knows them by).
RELATED_IDS = {
    "owner_id": "client_id",
    "client_id": "client_id",
    "animal_id": "animal_id",
    "vet_id": "vet_id",
    "appointment_id": "appointment_id",
    "consultation_id": "consultation_id",
    "invoice_id": "invoice_id",
    "credits_id": "credits_invoice_id",
    "policy_id": "policy_id",
}


def object_key(obj: Any) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def fhir_reference(obj: Any) -> str | None:
    label = obj._meta.label_lower
    if label == "invoicing.invoice":
        # Credit notes have no FHIR construct of their own (DESIGN.md section 8).
        return f"Invoice/{obj.pk}" if getattr(obj, "kind", "") == "invoice" else None
    kind = FHIR_TYPES.get(label)
    return f"{kind}/{obj.pk}" if kind else None


def event_data(event: Event) -> dict[str, Any]:
    obj = event.obj
    data: dict[str, Any] = {"object": event.name.split(".", 1)[0], "id": obj.pk}
    for attribute, name in RELATED_IDS.items():
        value = getattr(obj, attribute, None)
        if value is not None and name not in data:
            data[name] = value
    status = getattr(obj, "status", None)
    if isinstance(status, str) and status:
        data["status"] = str(status)
    data["changed"] = sorted(event.changed)
    reference = fhir_reference(obj)
    if reference:
        data["fhir_reference"] = reference
    return data


def payload(event: Event) -> str:
    body = {"type": event.name, "timestamp": event.at.isoformat(), "data": event_data(event)}
    return json.dumps(body, separators=(",", ":"), sort_keys=False)


def new_msg_id() -> str:
    return "msg_" + uuid.uuid4().hex


def on_event(event: Event) -> None:
    """The subscriber: runs inside the publishing transaction; one cheap query when no endpoint wants it."""
    endpoints = [
        pk
        for pk, types in WebhookEndpoint.objects.filter(enabled=True).values_list("id", "event_types")
        if event.name in (types or ())
    ]
    if not endpoints:
        return
    body, msg_id, key = payload(event), new_msg_id(), object_key(event.obj)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=pk,
            event_type=event.name,
            object_key=key,
            msg_id=msg_id,
            payload=body,
            next_attempt_at=event.at,
            created_at=event.at,
        )
        for pk in endpoints
    )
    transaction.on_commit(queue_delivery)


def queue_delivery() -> None:
    """After commit: ask a worker to deliver now. A failure here loses nothing (the schedule sweeps the outbox)."""
    try:
        from django_q.tasks import async_task

        async_task("exchange.webhooks.tasks.deliver", task_name="webhook deliveries")
    except Exception:  # the broker being down must not fail a committed change
        logger.warning("could not queue a webhook delivery task; the schedule will deliver", exc_info=True)
