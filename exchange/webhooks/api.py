"""/api/v1/webhook-endpoints: managers register receivers, rotate their secrets, read the delivery log and
replay a message. Every endpoint needs exchange.*_webhookendpoint (managers), checked before any lookup.

* ``GET ""`` (paged), ``POST ""`` (201, with the secret: the only time it is shown), ``GET/PATCH/DELETE {id}``;
* ``POST {id}/rotate-secret`` ``{"overlap_hours": 24}``: a new secret (shown once); the old one signs too until
  the overlap ends;
* ``GET {id}/deliveries`` (newest first, paged by key, ``?status=``), ``GET {id}/deliveries/{delivery_id}`` with its
  attempts, ``POST {id}/deliveries/{delivery_id}/replay`` (201; 409 while the message is still on its way);
* ``GET event-types``: the events one can subscribe to.

A URL that resolves to a private address, an unknown event type or an empty list is a 422 naming the field.
"""

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from exchange.models import WebhookDelivery, WebhookEndpoint
from exchange.webhooks import selectors, services
from exchange.webhooks.schemas import (
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecretOut,
    EventTypeOut,
    RotateIn,
    WebhookDeliveryDetailOut,
    WebhookDeliveryFilters,
    WebhookDeliveryOut,
)
from vetpms.api_utils import Page, url_id
from vetpms.events import EVENT_TYPES
from vetpms.permissions import require_perm

router = Router(tags=["webhooks"])
P = "exchange."


def _endpoint(pk: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(pk=url_id(pk))


@router.get("/event-types", response=list[EventTypeOut], summary="Events an endpoint can subscribe to")
def event_types(request: HttpRequest):
    require_perm(request.user, P + "view_webhookendpoint")
    return [{"name": name, "description": text} for name, text in EVENT_TYPES.items()]


@router.get("", response=list[EndpointOut], summary="Webhook endpoints (managers)")
@paginate(Page)
def list_endpoints(request: HttpRequest):
    require_perm(request.user, P + "view_webhookendpoint")
    return selectors.endpoint_list()


@router.post("", response={201: EndpointWithSecretOut}, summary="Register a webhook endpoint (managers)")
def create_endpoint(request: HttpRequest, payload: EndpointIn):
    require_perm(request.user, P + "add_webhookendpoint")
    endpoint, _secret = services.endpoint_create(by=request.user, **payload.model_dump())
    return Status(201, endpoint)


@router.get("/{int:endpoint_id}", response=EndpointOut, summary="One webhook endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: int):
    require_perm(request.user, P + "view_webhookendpoint")
    return _endpoint(endpoint_id)


@router.patch("/{int:endpoint_id}", response=EndpointOut, summary="Change an endpoint (url, events, enabled)")
def patch_endpoint(request: HttpRequest, endpoint_id: int, payload: EndpointPatch):
    require_perm(request.user, P + "change_webhookendpoint")
    endpoint = _endpoint(endpoint_id)
    return services.endpoint_update(endpoint=endpoint, by=request.user, data=payload.model_dump(exclude_unset=True))


@router.delete("/{int:endpoint_id}", response={204: None}, summary="Delete an endpoint and its delivery log")
def delete_endpoint(request: HttpRequest, endpoint_id: int):
    require_perm(request.user, P + "delete_webhookendpoint")
    services.endpoint_delete(endpoint=_endpoint(endpoint_id), by=request.user)
    return Status(204, None)


@router.post(
    "/{int:endpoint_id}/rotate-secret",
    response=EndpointWithSecretOut,
    summary="A new secret (shown once); the old one keeps signing during the overlap",
)
def rotate_secret(request: HttpRequest, endpoint_id: int, payload: RotateIn):
    require_perm(request.user, P + "change_webhookendpoint")
    endpoint, _secret = services.endpoint_rotate_secret(
        endpoint=_endpoint(endpoint_id), by=request.user, overlap_hours=payload.overlap_hours
    )
    return endpoint  # its secret is the new one: the only answer that carries it


@router.get("/{int:endpoint_id}/deliveries", response=list[WebhookDeliveryOut], summary="The endpoint's delivery log")
@paginate(Page)
def list_deliveries(request: HttpRequest, endpoint_id: int, filters: Query[WebhookDeliveryFilters]):
    require_perm(request.user, P + "view_webhookendpoint")
    return selectors.delivery_log(endpoint=_endpoint(endpoint_id), status=filters.status)


def _delivery(endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    return WebhookDelivery.objects.get(pk=url_id(delivery_id), endpoint_id=url_id(endpoint_id))


@router.get(
    "/{int:endpoint_id}/deliveries/{int:delivery_id}",
    response=WebhookDeliveryDetailOut,
    summary="One message, with attempts",
)
def get_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int):
    require_perm(request.user, P + "view_webhookendpoint")
    return _delivery(endpoint_id, delivery_id)


@router.post(
    "/{int:endpoint_id}/deliveries/{int:delivery_id}/replay",
    response={201: WebhookDeliveryOut},
    summary="Send a message again (same body and webhook-id)",
)
def replay_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int):
    require_perm(request.user, P + "change_webhookendpoint")
    replay = services.delivery_replay(delivery=_delivery(endpoint_id, delivery_id), by=request.user)
    return Status(201, replay)
