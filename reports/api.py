"""/api/v1/reports: every report as JSON, with the same filters as its page (reports.forms.ReportFilterForm).

* ``GET /api/v1/reports`` lists the reports the caller may see (a vet: those of their own figures).
* ``GET /api/v1/reports/{name}?start=&end=&grain=&vet=&vet=&category=&payor=&top_n=`` answers the report:
  ``{name, title, params, columns, rows, totals, chart, notes, sections}``. Repeat ``vet``, ``category`` and
  ``payor`` for several. Money is a string with two decimals ("1234.50"), exact; percentages are strings
  ("12.5"); counts are integers; dates ISO 8601; an empty figure is null.

Errors: anonymous 401; without ``reports.view_reports`` or ``reports.view_own_figures`` 403 (checked before the
name is looked up); a vet asking for a practice-wide report 403; unknown report 404; bad filters 422 with the
form's messages, ``{"detail": [{"loc": ["query", "end"], "msg": "...", "type": "value_error"}]}``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from ninja import Router

from reports.base import REPORTS, Chart, ReportResult, ReportSpec
from reports.forms import ReportFilterForm
from vetpms.money import quantize_money
from vetpms.permissions import MESSAGES

router = Router(tags=["reports"])
PERMS = ("reports.view_reports", "reports.view_own_figures")


def _require_reports(user) -> bool:
    """True when the user sees every report, False when only their own figures; 403 otherwise."""
    if user.has_perm("reports.view_reports"):
        return True
    if user.has_perm("reports.view_own_figures"):
        return False
    raise PermissionDenied(MESSAGES["view"])


def _visible(spec: ReportSpec, every: bool) -> bool:
    return every or spec.for_vets


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "money" and isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(quantize_money(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, int | str | float | bool):
        return value
    return str(value)


def _chart(chart: Chart | None) -> dict | None:
    if chart is None:
        return None
    return {
        "kind": chart.kind,
        "title": chart.title,
        "x_label": chart.x_label,
        "y_label": chart.y_label,
        "categories": chart.categories,
        "series": [{"name": name, "values": [_value(v, "number") for v in values]} for name, values in chart.series],
        "text": chart.text_alternative(),
    }


def result_json(result: ReportResult, *, top: bool = True) -> dict[str, Any]:
    kinds = {c.key: c.kind for c in result.columns}
    body: dict[str, Any] = {
        "name": result.name,
        "title": result.title,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in result.columns],
        "rows": [{c.key: _value(row.get(c.key), c.kind) for c in result.columns} for row in result.rows],
        "totals": None
        if result.totals is None
        else {k: _value(v, kinds.get(k, "text")) for k, v in result.totals.items() if k in kinds},
        "notes": list(result.notes),
    }
    if top:
        p = result.params
        body["params"] = {
            "start": p.start.isoformat(),
            "end": p.end.isoformat(),
            "grain": p.grain,
            "vet": list(p.vet_ids),
            "category": list(p.categories),
            "payor": list(p.payor_ids),
            "top_n": p.top_n,
            "only_vet": p.only_vet_id,
        }
        body["chart"] = _chart(result.chart)
        body["sections"] = [result_json(s, top=False) for s in result.sections]
    return body


@router.get("", summary="The reports you may see")
def list_reports(request: HttpRequest):
    every = _require_reports(request.user)
    return {
        "items": [
            {"name": s.name, "title": s.title, "description": s.description, "filters": list(s.filters)}
            for s in REPORTS.values()
            if _visible(s, every)
        ]
    }


@router.get("/{name}", summary="One report, filtered like its page")
def get_report(request: HttpRequest, name: str):
    every = _require_reports(request.user)
    spec = REPORTS.get(name)
    if spec is None:
        raise Http404
    if not _visible(spec, every):
        raise PermissionDenied("This report holds the practice's figures; your role sees only your own.")
    form = ReportFilterForm(request.GET, user=request.user, period_kind=spec.period_kind)
    if not form.is_valid():
        errors = [
            {
                "loc": ["query", field if field != "__all__" else "non_field_errors"],
                "msg": str(msg),
                "type": "value_error",
            }
            for field, messages in form.errors.items()
            for msg in messages
        ]
        return JsonResponse({"detail": errors}, status=422)
    return result_json(spec.build(form.params()))
