"""The manager's webhook pages under /exchange/webhooks/: the endpoints, a new one (its secret shown once), edit,
rotate the secret (the new one shown once), delete, and each endpoint's delivery log paged by key with its
attempts and a replay button. Thin: forms in, services and selectors, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from exchange.models import WebhookDelivery, WebhookEndpoint
from exchange.webhooks import selectors, services
from exchange.webhooks.forms import EndpointForm, LogFilterForm, RotateForm
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.keyset import InvalidCursor, keyset_page
from vetpms.params import parse_id
from vetpms.permissions import permission_required

P = "exchange."
PER_PAGE = 25


def _page(rows, request):
    try:
        return keyset_page(rows, cursor=request.GET.get("cursor") or None, per_page=PER_PAGE, count=False)
    except InvalidCursor:
        return keyset_page(rows, cursor=None, per_page=PER_PAGE, count=False)


@permission_required(P + "view_webhookendpoint")
def endpoint_list(request):
    page = _page(selectors.endpoint_list(), request)
    return render(request, "exchange/webhooks/list.html", {"page": page, "nav": "webhooks"})


def _secret_page(request, endpoint: WebhookEndpoint, secret: str, *, new: bool):
    return render(
        request,
        "exchange/webhooks/secret.html",
        {"endpoint": endpoint, "secret": secret, "new": new, "nav": "webhooks"},
        status=201 if new else 200,
    )


@permission_required(P + "add_webhookendpoint")
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(by=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="url")
        else:
            return _secret_page(request, endpoint, secret, new=True)
    return render(
        request,
        "exchange/webhooks/form.html",
        {"form": form, "endpoint": None, "nav": "webhooks"},
        status=422 if request.method == "POST" else 200,
    )


@permission_required(P + "change_webhookendpoint")
def endpoint_edit(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {k: getattr(endpoint, k) for k in ("url", "description", "event_types", "enabled")}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, by=request.user, data=form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc, default_field="url")
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("exchange:webhook_detail", pk=endpoint.pk)
    return render(
        request,
        "exchange/webhooks/form.html",
        {"form": form, "endpoint": endpoint, "nav": "webhooks"},
        status=422 if request.method == "POST" else 200,
    )


@permission_required(P + "view_webhookendpoint")
def endpoint_detail(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    filters = LogFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else None
    page = _page(selectors.delivery_log(endpoint=endpoint, status=status or None), request)
    open_id = parse_id(request.GET.get("open"))
    attempts = {}
    if open_id is not None:
        shown = {d.pk: d for d in page.rows}
        if open_id in shown:
            attempts = {open_id: list(selectors.attempts_of(shown[open_id])[:50])}
    return render(
        request,
        "exchange/webhooks/detail.html",
        {
            "endpoint": endpoint,
            "page": page,
            "filters": filters,
            "status": status or "",
            "attempts": attempts,
            "rotate_form": RotateForm(),
            "nav": "webhooks",
        },
    )


@require_POST
@permission_required(P + "change_webhookendpoint")
def endpoint_rotate(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("exchange:webhook_detail", pk=pk)
    endpoint, secret = services.endpoint_rotate_secret(
        endpoint=endpoint, by=request.user, overlap_hours=form.cleaned_data["overlap_hours"]
    )
    return _secret_page(request, endpoint, secret, new=False)


@require_POST
@permission_required(P + "delete_webhookendpoint")
def endpoint_delete(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_delete(endpoint=endpoint, by=request.user)
    messages.success(request, "Endpoint deleted.")
    return redirect("exchange:webhook_list")


@require_POST
@permission_required(P + "change_webhookendpoint")
def delivery_replay(request, pk: int, delivery_pk: int):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint_id=pk)
    try:
        services.delivery_replay(delivery=delivery, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{delivery.event_type} {delivery.msg_id} queued to be sent again.")
    return redirect("exchange:webhook_detail", pk=pk)
