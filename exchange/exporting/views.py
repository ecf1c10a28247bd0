"""The manager's export page (/exchange/export/) and its download."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from exchange.exporting.zipstream import export_zip
from exchange.importing.columns import ENTITIES
from vetpms import audit
from vetpms.permissions import permission_required

PERM = "exchange.run_bulk_export"


def zip_response(request: HttpRequest) -> StreamingHttpResponse:
    """The streaming zip, recorded in the audit trail as the user's (it holds every owner's personal data)."""
    audit.record(actor=request.user, obj=request.user, action="export.zip", note="downloaded the export zip")  # type: ignore[arg-type]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(export_zip(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="vetpms-export-{stamp}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(PERM)
def export_page(request: HttpRequest) -> HttpResponse:
    return render(request, "exchange/export.html", {"entities": list(ENTITIES.values())})


@require_GET
@permission_required(PERM)
def export_download(request: HttpRequest) -> StreamingHttpResponse:
    return zip_response(request)
