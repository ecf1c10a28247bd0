"""The domain-event registry and the webhook outbox: a row in the same transaction as the change."""

import datetime as dt
import json

import pytest
from django.db import transaction
from django.utils import timezone

from animals import services as animal_services
from clients import services as client_services
from exchange.models import WebhookDelivery
from exchange.webhooks import services
from tests.clinical.conftest import rabies_type  # noqa: F401 - a fixture
from tests.factories import species
from tests.invoicing.conftest import rabies, standard  # noqa: F401 - fixtures
from vetpms import events


def make_client(by, **extra):
    data = {"first_name": "Jane", "last_name": "Webhook", "email": "jane.webhook@example.com"} | extra
    return client_services.client_create(by=by, confirm_new=True, **data)


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused(manager):
    client = make_client(manager)
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        events.publish("client.updated", client)


def test_an_unknown_event_name_is_refused(db, manager):
    client = make_client(manager)
    with transaction.atomic(), pytest.raises(ValueError, match="Unknown domain event"):
        events.publish("client.renamed", client)


def test_subscribers_receive_the_event_with_changed_fields(db, manager):
    seen = []
    handler = events.subscribe(seen.append)
    try:
        client = make_client(manager)
        client_services.client_update(client=client, by=manager, data={"town": "Leeds"})
    finally:
        events.unsubscribe(handler)
    assert [(e.name, e.obj.pk) for e in seen] == [("client.created", client.pk), ("client.updated", client.pk)]
    assert seen[1].changed == {"town"}


def test_a_committed_change_leaves_one_row_per_interested_endpoint(db, manager, endpoint_for, receiver):
    wants, _ = endpoint_for(receiver.url(), "client.created", "client.updated")
    other, _ = endpoint_for(receiver.url(), "animal.created")
    off, _ = endpoint_for(receiver.url(), "client.created")
    services.endpoint_update(endpoint=off, by=manager, data={"enabled": False})

    client = make_client(manager)
    rows = list(WebhookDelivery.objects.all())
    assert [(r.endpoint_id, r.event_type, r.status) for r in rows] == [(wants.pk, "client.created", "pending")]
    body = json.loads(rows[0].payload)
    assert body["type"] == "client.created"
    assert body["data"]["id"] == client.pk and body["data"]["object"] == "client"
    assert rows[0].object_key == f"clients.client:{client.pk}"
    assert other.deliveries.count() == 0


def test_a_rolled_back_change_leaves_nothing(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url(), "client.created")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        make_client(manager)
        assert WebhookDelivery.objects.count() == 1  # written inside the transaction...
        raise Boom
    assert WebhookDelivery.objects.count() == 0  # ...and gone with it


def test_payload_carries_related_ids_changed_fields_and_the_fhir_reference(db, manager, endpoint_for, receiver):
    endpoint_for(receiver.url(), "animal.created", "animal.updated")
    owner = make_client(manager)
    animal = animal_services.animal_create(by=manager, owner=owner, name="Rex", species=species("Dog"))
    animal_services.animal_update(animal=animal, by=manager, data={"name": "Rexy", "colour": "black"})
    created, updated = (json.loads(r.payload) for r in WebhookDelivery.objects.order_by("id"))
    assert created["type"] == "animal.created"
    assert created["data"] == {
        "object": "animal",
        "id": animal.pk,
        "client_id": owner.pk,
        "changed": [],
        "fhir_reference": f"Patient/{animal.pk}",
    }
    assert updated["data"]["changed"] == ["colour", "name"]
    assert "Rexy" not in json.dumps(updated)  # names of fields, never their (personal) values


@pytest.mark.usefixtures("rabies_type")
def test_a_vaccination_that_renews_a_reminder_publishes_reminder_renewed(db, manager, vet_user, endpoint_for, receiver):
    from clinical.services import vaccination_record
    from invoicing.models import Product
    from reminders.models import Reminder

    vaccine = Product.objects.get(code="VAC-RAB")  # the rabies vaccine, linked to the rabies_type reminder

    endpoint_for(receiver.url(), "reminder.renewed", "vaccination.recorded")
    owner = make_client(manager)
    animal = animal_services.animal_create(by=manager, owner=owner, name="Rex", species=species("Dog"))
    expiry = timezone.localdate() + dt.timedelta(days=90)
    vaccination_record(animal=animal, product=vaccine, batch="B1", batch_expiry=expiry, by=vet_user)
    reminder = Reminder.objects.get(animal=animal, status=Reminder.Status.PENDING)
    bodies = [json.loads(r.payload) for r in WebhookDelivery.objects.order_by("id")]
    renewed = next(b for b in bodies if b["type"] == "reminder.renewed")
    assert renewed["data"] == {
        "object": "reminder",
        "id": reminder.pk,
        "animal_id": animal.pk,
        "status": "pending",
        "changed": [],
        "fhir_reference": f"ImmunizationRecommendation/{reminder.pk}",
    }
    assert "reminder.renewed" in events.EVENT_TYPES
