"""The report pages (filled in by the reports work)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render


def index(request):
    if not (request.user.has_perm("reports.view_reports") or request.user.has_perm("reports.view_own_figures")):
        raise PermissionDenied
    return render(request, "reports/index.html", {"nav": "reports"})
