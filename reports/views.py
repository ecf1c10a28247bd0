"""The report pages: the list of reports, one page per report (filters, notes, chart, tables), its CSV and PDF, and
the manager's dashboard (their home page, registered in apps.py).

Views stay thin. The filter form (reports.forms.ReportFilterForm) validates the query string into ReportParams
and limits a vet to their own figures; the report's builder (reports.base.REPORTS) computes one ReportResult; the
page, the CSV and the PDF all render that same object. Filters travel in the query string (GET), so a report is
bookmarkable and its download links carry exactly the filters on screen.

Who sees what: ``reports.view_reports`` (managers: every figure) or ``reports.view_own_figures`` (vets: their
own); anyone else gets the friendly 403, and an anonymous visitor the sign-in page (LoginRequiredMiddleware).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django_tables2 import RequestConfig

from reports.base import REPORTS, ReportResult, ReportSpec
from reports.charts import svg_chart
from reports.exports import report_csv, tables_of
from reports.formats import EMPTY, day_text, display, filename, money_text, period_text
from reports.pdf import render_report
from reports.tables import MINUS, report_table
from vetpms.errors import DomainError
from vetpms.models import Vet
from vetpms.permissions import MESSAGES, permission_required

PERMS = ("reports.view_reports", "reports.view_own_figures")
# The form's fields behind each filter a report asks for (ReportSpec.filters).
FILTER_FIELDS = {
    "period": ("start", "end"),
    "as_of": ("end",),
    "day": ("end",),
    "grain": ("grain",),
    "vet": ("vet",),
    "category": ("category",),
    "payor": ("payor",),
    "top_n": ("top_n",),
}


def _require_reports(user) -> None:
    if not (user.is_authenticated and any(user.has_perm(p) for p in PERMS)):
        raise PermissionDenied(MESSAGES["view"])


def _for_vets(spec: ReportSpec) -> bool:
    return getattr(spec, "for_vets", True)


def _visible_specs(user) -> list[ReportSpec]:
    """Every report for a manager; for a vet, the reports that can be limited to their own figures."""
    if user.has_perm("reports.view_reports"):
        return list(REPORTS.values())
    return [spec for spec in REPORTS.values() if _for_vets(spec)]


def _spec(name: str, user) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise Http404("No such report.")
    if not user.has_perm("reports.view_reports") and not _for_vets(spec):
        raise PermissionDenied("This report shows the whole practice's figures; your role sees only your own.")
    return spec


def shown_fields(form, spec: ReportSpec) -> list:
    """The bound fields of the filters ``spec`` uses, in the form's order, plus any other field with an error (a
    bad value in the query string must be seen to be corrected)."""
    wanted = {name for f in spec.filters for name in FILTER_FIELDS.get(f, (f,))}
    return [b for b in form.visible_fields() if b.name in wanted or b.errors]


def _filter_form(request: HttpRequest, spec: ReportSpec):
    from reports.forms import ReportFilterForm  # written beside the builders (reports data); imported when used

    return ReportFilterForm(request.GET, user=request.user, period_kind=getattr(spec, "period_kind", "range"))


def _text(value) -> str:
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, dt.date):
        return display(value, "date")
    return str(value)


def describe_filters(form, spec: ReportSpec) -> list[tuple[str, str]]:
    """The chosen filters of ``spec`` in words, for the PDF's header: ("Vet", "Dr Ng, Dr Shah"). Dates are left
    out (the period line says them); choices print their labels, records their names."""
    described = []
    for bound in shown_fields(form, spec):
        value = form.cleaned_data.get(bound.name)
        if value in (None, "", [], ()) or isinstance(value, dt.date) or bound.name == "grain":
            continue
        choices = {str(k): v for k, v in getattr(bound.field, "choices", []) if not isinstance(v, list | tuple)}
        values: Iterable = value if isinstance(value, list | tuple | set) or hasattr(value, "model") else [value]
        texts = [str(choices.get(str(v), _text(v))) for v in values]
        if texts:
            described.append((str(bound.label), ", ".join(texts)))
    return described


def _show_what_was_computed(form, params) -> None:
    """Make the form show the filters the figures are for: the default period when none was given, the period
    as capped, the grain as coarsened (the notes say why), the default number of top products. Only what the
    form displays changes; the download links keep the query string as typed, which gives the same figures."""
    data = form.data.copy()
    data["start"], data["end"], data["grain"] = params.start.isoformat(), params.end.isoformat(), params.grain
    if not data.get("top_n"):
        data["top_n"] = str(params.top_n)
    form.data = data


def _compute(request: HttpRequest, name: str) -> tuple[ReportSpec, object, ReportResult | None]:
    """The spec, the bound form and the result (None when the filters are not valid: the form says why)."""
    _require_reports(request.user)
    spec = _spec(name, request.user)
    form = _filter_form(request, spec)
    if not form.is_valid():
        return spec, form, None
    try:
        params = form.params()
        result = spec.build(params)
    except (DomainError, ValidationError) as exc:
        form.add_error(None, exc.message if isinstance(exc, DomainError) else exc)
        return spec, form, None
    _show_what_was_computed(form, params)
    return spec, form, result


def index(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    specs = _visible_specs(request.user)
    own_only = not request.user.has_perm("reports.view_reports")
    return render(request, "reports/index.html", {"specs": specs, "own_only": own_only, "nav": "reports"})


SCREEN_ROWS = 50  # rows a table shows per page on screen; its totals, the CSV and the PDF cover every row


def _paged(request: HttpRequest, table):
    """Long tables (the receivables' 500 clients) are paged on screen, each by its own parameter (t1-page)."""
    RequestConfig(request, paginate={"per_page": SCREEN_ROWS}).configure(table)
    return table


def report(request: HttpRequest, name: str) -> HttpResponse:
    spec, form, result = _compute(request, name)
    context: dict = {"spec": spec, "form": form, "fields": shown_fields(form, spec), "result": result, "nav": "reports"}
    if result is not None:
        query = request.GET.urlencode()
        suffix = f"?{query}" if query else ""
        context.update(
            period=period_text(result.params),
            svg=svg_chart(result.chart),
            tables=[
                (table.title, table.notes, _paged(request, report_table(table, prefix=f"t{i}-")))
                if is_section
                else ("", [], _paged(request, report_table(table, prefix=f"t{i}-")))
                for i, (table, is_section) in enumerate(tables_of(result))
            ],
            csv_url=reverse("reports:csv", args=[spec.name]) + suffix,
            pdf_url=reverse("reports:pdf", args=[spec.name]) + suffix,
        )
    return render(request, "reports/report.html", context)


def _download(request: HttpRequest, name: str, extension: str) -> HttpResponse:
    spec, form, result = _compute(request, name)
    if result is None:
        # Bad filters: the page, with the form's errors, rather than a broken file.
        context = {"spec": spec, "form": form, "fields": shown_fields(form, spec), "result": None, "nav": "reports"}
        return render(request, "reports/report.html", context, status=400)
    if extension == "csv":
        response = HttpResponse(report_csv(result), content_type="text/csv; charset=utf-8")
    else:
        filters = describe_filters(form, spec)
        if result.params.only_vet_id is not None:
            vet = Vet.objects.filter(pk=result.params.only_vet_id).first()
            filters.append(("Figures of", str(vet) if vet else "you only"))
        body = render_report(result, filters=filters)
        response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename(spec.name, result.params, extension))
    return response


def report_csv_view(request: HttpRequest, name: str) -> HttpResponse:
    return _download(request, name, "csv")


def report_pdf_view(request: HttpRequest, name: str) -> HttpResponse:
    return _download(request, name, "pdf")


# --- The manager's dashboard ----------------------------------------------------------------------------------


@dataclass
class Card:
    """One figure on the dashboard: what it is, its value as text, a line of context, and the report behind it."""

    key: str
    label: str
    value: str
    detail: str = ""
    url: str | None = None
    trend: str = ""  # "up" / "down" / "" (for the badge's colour class only)


PLACEHOLDERS = [
    ("revenue", "Revenue this month"),
    ("appointments", "Appointments today"),
    ("overdue", "Overdue receivables"),
    ("reminders", "Reminders sent this week"),
]


def _figure(figures, name: str, default=None):
    if isinstance(figures, Mapping):
        return figures.get(name, default)
    return getattr(figures, name, default)


def _report_url(name: str, start: dt.date, end: dt.date, **extra: str) -> str | None:
    """The report's page for a period, or None while that report is not registered."""
    if name not in REPORTS:
        return None
    query = {"start": start.isoformat(), "end": end.isoformat(), **extra}
    return f"{reverse('reports:report', args=[name])}?{urlencode(query)}"


def dashboard_cards(figures, today: dt.date) -> list[Card]:
    """The four cards from ``reports.builders.dashboard.dashboard_figures``: revenue this month against the same month a
    year before, today's appointments, overdue receivables, reminders sent this week."""
    if figures is None:
        return [Card(key, label, EMPTY, "Not available yet") for key, label in PLACEHOLDERS]
    month_start = today.replace(day=1)
    week_start = today - dt.timedelta(days=today.weekday())
    this_month = _figure(figures, "revenue_this_month") or Decimal("0")
    last_year = _figure(figures, "revenue_same_month_last_year") or Decimal("0")
    change = ""
    trend = ""
    if last_year:
        percent = ((this_month - last_year) * 100 / abs(last_year)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        change = f" ({'+' if percent > 0 else ''}{percent}%)"
        trend = "up" if percent > 0 else "down" if percent < 0 else ""
    last_year_month = month_start.replace(year=month_start.year - 1)
    return [
        Card(
            "revenue",
            f"Revenue in {today:%B %Y}",
            money_text(this_month, MINUS),
            f"{money_text(last_year, MINUS)} in {last_year_month:%B %Y}{change}",
            _report_url("revenue", month_start, today),
            trend,
        ),
        Card(
            "appointments",
            "Appointments today",
            f"{_figure(figures, 'appointments_today', 0):,}",
            day_text(today),
            _report_url("appointments", today, today, grain="day"),
        ),
        Card(
            "overdue",
            "Overdue receivables",
            money_text(_figure(figures, "overdue_receivables") or Decimal("0"), MINUS),
            "Owed by clients and insurers past their due date",
            _report_url("receivables", today, today),
        ),
        Card(
            "reminders",
            "Reminders sent this week",
            f"{_figure(figures, 'reminders_sent_this_week', 0):,}",
            f"Since {day_text(week_start)}",
            _report_url("reminders", week_start, today, grain="day"),
        ),
    ]


def _dashboard_figures(user):
    """The figures (reports.builders.dashboard); the tests put their own in place of this."""
    from reports.builders.dashboard import dashboard_figures

    return dashboard_figures(user)


def _dashboard_response(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cards = dashboard_cards(_dashboard_figures(request.user), today)
    return render(request, "reports/dashboard.html", {"cards": cards, "today": today, "nav": "home"})


@permission_required("reports.view_reports")
def dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard_response(request)


def manager_home(request: HttpRequest) -> HttpResponse | None:
    """A manager's home page is the dashboard (registered in vetpms.views.HOME_PAGES by apps.py)."""
    if not request.user.has_perm("reports.view_reports"):
        return None
    return _dashboard_response(request)
