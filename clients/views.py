"""Client pages: list (table + filters), detail, create, edit, deactivate and reactivate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clients import selectors, services
from clients.filters import ClientFilter
from clients.forms import ClientForm
from clients.models import Client
from clients.tables import ClientTable
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.permissions import permission_required
from vetpms.tables import paginate_table

PER_PAGE_CHOICES = (25, 50, 100)


def _per_page(request) -> int:
    try:
        wanted = int(request.GET.get("per_page", PER_PAGE_CHOICES[0]))
    except ValueError:
        return PER_PAGE_CHOICES[0]
    return wanted if wanted in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


@permission_required("clients.view_client")
def client_list(request):
    client_filter = ClientFilter(request.GET, queryset=selectors.client_list())
    table = ClientTable(client_filter.qs)
    paginate_table(request, table, per_page=_per_page(request))  # sorted from ?sort=, a page by key (?cursor=)
    return render(
        request,
        "clients/list.html",
        {"filter": client_filter, "table": table, "per_page_choices": PER_PAGE_CHOICES, "nav": "clients"},
    )


@permission_required("clients.view_client")
def client_detail(request, pk: int):
    try:
        client = selectors.client_detail(pk=pk)
    except Client.DoesNotExist:
        raise Http404("No such client.") from None
    animals = list(client.animals.all())
    living = [a for a in animals if not a.is_deceased and a.is_active]
    return render(
        request,
        "clients/detail.html",
        {"client": client, "animals": animals, "living_count": len(living), "nav": "clients"},
    )


@permission_required("clients.add_client")
def client_create(request):
    form = ClientForm(request.POST or None)
    duplicates: list = []
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                by=request.user, confirm_new=request.POST.get("confirm_new") == "1", **form.service_data()
            )
        except services.PossibleDuplicates as exc:
            duplicates = exc.candidates  # shown above the form, with a button to confirm
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Client {client} created.")
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/form.html", {"form": form, "duplicates": duplicates, "nav": "new-client"})


@permission_required("clients.change_client")
def client_update(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    heading = str(client)  # before the form writes the typed values onto the instance
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        try:
            # The form worked on its own copy; the service re-reads the row under a lock and applies the fields.
            client = services.client_update(client=client, by=request.user, data=form.service_data())
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"Changes to {client} saved.")
            return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/form.html",
        {"form": form, "client": client, "heading": heading, "nav": "clients"},
    )


@require_POST
@permission_required("clients.deactivate_client")
def client_deactivate(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    try:
        services.client_deactivate(client=client, by=request.user, reason=request.POST.get("reason", "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{client} is now inactive.")
    return redirect("clients:detail", pk=client.pk)


@require_POST
@permission_required("clients.deactivate_client")
def client_reactivate(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    try:
        services.client_reactivate(client=client, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{client} is active again.")
    return redirect("clients:detail", pk=client.pk)
