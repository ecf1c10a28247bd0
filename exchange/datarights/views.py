"""Pages for owners' data rights (managers): one owner's page (subject access downloads, the erasure with its
confirm step), the list of erasures and the retention dry run."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from clients.models import Client
from exchange.datarights import selectors, services
from exchange.datarights.forms import EraseForm
from exchange.datarights.pdf import render_subject_access
from vetpms.errors import DomainError
from vetpms.forms import apply_service_error
from vetpms.keyset import capped_count
from vetpms.params import parse_id
from vetpms.permissions import permission_required

PERM = "exchange.manage_data_rights"
PAGE = 50


def _client(pk: int) -> Client:
    try:
        return Client.objects.select_related("erasure").get(pk=pk)
    except Client.DoesNotExist:
        raise Http404("No such client.") from None


@login_required
@permission_required(PERM)
def index(request):
    rows = selectors.erasures()
    after = request.GET.get("after", "")
    if (after_pk := parse_id(after)) is not None:
        rows = rows.filter(pk__lt=after_pk)
    page = list(rows.order_by("-pk")[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    return render(
        request,
        "exchange/datarights/index.html",
        {"erasures": page, "next_after": page[-1].pk if more else None, "nav": "setup"},
    )


@login_required
@permission_required(PERM)
def client_page(request, pk: int):
    client = _client(pk)
    erasure = getattr(client, "erasure", None)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and erasure is None and form.is_valid():
        try:
            services.client_erase(client=client, by=request.user, confirm_name=form.cleaned_data["confirm_name"])
        except DomainError as exc:
            apply_service_error(form, exc, default_field="confirm_name")
        else:
            messages.success(request, f"The personal data of client {client.pk} has been erased.")
            return redirect("exchange:datarights_client", pk=client.pk)
    context = {
        "client": client,
        "erasure": erasure,
        "form": form,
        "blockers": selectors.erasure_blockers(client) if erasure is None else [],
        "kept": selectors.kept_records(client) if erasure is None else [],
        "summary": selectors.erasure_summary(client),
        "share_clinical": settings.DATA_RIGHTS_SHARE_CLINICAL,
        "nav": "clients",
    }
    return render(request, "exchange/datarights/client.html", context)


def _download(request, pk: int, kind: str) -> HttpResponse:
    client = _client(pk)
    data = selectors.subject_access(client=client, by=request.user)
    stamp = timezone.localdate().isoformat()
    if kind == "json":
        body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        response = HttpResponse(render_subject_access(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="subject-access-client-{client.pk}-{stamp}.{kind}"'
    return response


@login_required
@permission_required(PERM)
def subject_access_json(request, pk: int):
    return _download(request, pk, "json")


@login_required
@permission_required(PERM)
def subject_access_pdf(request, pk: int):
    return _download(request, pk, "pdf")


@login_required
@permission_required(PERM)
def retention(request):
    """The dry run: the owners the retention task would anonymise today (paged by id) and the old emails."""
    today = timezone.localdate()
    clients = selectors.retention_clients(today)
    after = request.GET.get("after", "")
    if (after_pk := parse_id(after)) is not None:
        clients = clients.filter(pk__gt=after_pk)
    rows = list(clients[: PAGE + 1])
    more = len(rows) > PAGE
    candidates = selectors.retention_candidates(rows[:PAGE], today=today)
    emails, emails_more = capped_count(selectors.retention_email_log(today))
    context = {
        "candidates": candidates,
        "next_after": candidates[-1].client_id if more else None,
        "emails": emails,
        "emails_more": emails_more,
        "cutoffs": selectors.retention_cutoffs(today),
        "settings_rows": [
            ("RETENTION_CLIENT_INACTIVE_YEARS", settings.RETENTION_CLIENT_INACTIVE_YEARS, "owners without activity"),
            (
                "RETENTION_FINANCIAL_YEARS",
                settings.RETENTION_FINANCIAL_YEARS,
                "issued invoices, credit notes, payments",
            ),
            ("RETENTION_CLINICAL_YEARS", settings.RETENTION_CLINICAL_YEARS, "consultations, vaccinations, files"),
            ("RETENTION_MEDICINES_YEARS", settings.RETENTION_MEDICINES_YEARS, "medicines dispensed, controlled drugs"),
            ("RETENTION_EMAIL_LOG_YEARS", settings.RETENTION_EMAIL_LOG_YEARS, "reminder emails' address and subject"),
        ],
        "nav": "setup",
    }
    return render(request, "exchange/datarights/retention.html", context)
