"""/api/v1/data-rights: an owner's data (subject access) as JSON or PDF, erasing an owner, and the retention
dry run. Managers only (exchange.manage_data_rights), checked before anything is looked up."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from clients.models import Client
from exchange.datarights import selectors, services
from vetpms.api_utils import Id, InputSchema, QuerySchema, url_id
from vetpms.permissions import require_perm

router = Router(tags=["data rights"])
PERM = "exchange.manage_data_rights"


def _client(request: HttpRequest, client_id: int) -> Client:
    require_perm(request.user, PERM)
    return get_object_or_404(Client, pk=url_id(client_id))


@router.get(
    "/clients/{int:client_id}/subject-access",
    response=dict[str, Any],
    summary="Everything held about one owner (JSON)",
    description="Contact details, consents, animals (with their clinical history when DATA_RIGHTS_SHARE_CLINICAL), "
    "appointments, invoices, payments, reminders, emails and audit entries about them.",
)
def subject_access(request: HttpRequest, client_id: int):
    client = _client(request, client_id)
    # Through the JSON encoder the download uses, so dates and amounts read the same in both.
    return json.loads(json.dumps(selectors.subject_access(client=client, by=request.user), cls=DjangoJSONEncoder))


@router.get("/clients/{int:client_id}/subject-access/pdf", summary="Everything held about one owner (PDF)")
def subject_access_pdf(request: HttpRequest, client_id: int):
    client = _client(request, client_id)
    from exchange.datarights.pdf import render_subject_access

    content = render_subject_access(selectors.subject_access(client=client, by=request.user))
    response = HttpResponse(content, content_type="application/pdf")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="subject-access-client-{client.pk}-{stamp}.pdf"'
    return response


class EraseIn(InputSchema):
    confirm_name: str = Field(..., max_length=300, description="The owner's name as shown, to confirm.")


class KeptOut(Schema):
    kind: str
    count: int
    until: str | None
    why: str


class ErasureOut(Schema):
    client_id: int
    erased_at: str
    source: str
    kept: list[KeptOut]


@router.post(
    "/clients/{int:client_id}/erase",
    response=ErasureOut,
    summary="Erase an owner's personal data",
    description="Refused (409, code erasure_refused) while the owner owes money or is owed a credit, has an "
    "appointment to come or a draft invoice with charges; 409 (code confirm) unless confirm_name is the owner's "
    "name. Records the law keeps (issued invoices, payments, clinical records) are listed in kept.",
)
def erase(request: HttpRequest, client_id: int, payload: EraseIn):
    client = _client(request, client_id)
    erasure = services.client_erase(client=client, by=request.user, confirm_name=payload.confirm_name)
    return {
        "client_id": client.pk,
        "erased_at": erasure.erased_at.isoformat(),
        "source": erasure.source,
        "kept": erasure.kept,
    }


class RetentionQuery(QuerySchema):
    after: Id | None = Field(None, description="Continue after this client id (the previous page's next).")


class CandidateOut(Schema):
    client_id: int
    name: str
    blocked: str


class RetentionOut(Schema):
    as_of: str
    clients: list[CandidateOut]
    next: int | None
    old_reminder_emails: int
    old_reminder_emails_capped: bool


@router.get("/retention", response=RetentionOut, summary="What the retention task would anonymise today (dry run)")
def retention(request: HttpRequest, query: Query[RetentionQuery]):
    require_perm(request.user, PERM)
    from vetpms.keyset import capped_count

    today = timezone.localdate()
    clients = selectors.retention_clients(today)
    if query.after:
        clients = clients.filter(pk__gt=query.after)
    rows = list(clients[:51])
    page = selectors.retention_candidates(rows[:50], today=today)
    emails, capped = capped_count(selectors.retention_email_log(today))
    return {
        "as_of": today.isoformat(),
        "clients": [c.__dict__ for c in page],
        "next": page[-1].client_id if len(rows) > 50 else None,
        "old_reminder_emails": emails,
        "old_reminder_emails_capped": capped,
    }
