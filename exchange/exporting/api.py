"""``GET /api/v1/export/zip``: the export zip for integrations (managers' tokens)."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router

from exchange.exporting.views import PERM, zip_response
from vetpms.permissions import require_perm

router = Router(tags=["export"])


@router.get(
    "/zip",
    response={200: None},
    summary="Everything as one zip of CSV files",
    description=(
        "One CSV per entity (clients, animals, vaccinations, reminders, future appointments, opening balances, "
        "products) with the columns the import reads, streamed as application/zip. Managers only."
    ),
)
def export_zip_endpoint(request: HttpRequest) -> StreamingHttpResponse:
    require_perm(request.user, PERM)
    return zip_response(request)
