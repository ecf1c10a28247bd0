"""A small report registered by the presentation tests, so the pages, exports and charts can be tested on figures
the test chose, independently of the real report builders (reports.builders).

``sample_spec`` registers it under the name "sample" for the test's duration and removes it afterwards; nothing
registered by anyone else is touched.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms

from reports.base import REPORTS, Chart, Column, ReportParams, ReportResult, ReportSpec
from vetpms.forms import BootstrapMixin
from vetpms.models import Vet

D = Decimal
NAME = "sample"
TITLE = "Sample takings by vet"
COLUMNS = [
    Column("vet", "Vet"),
    Column("net", "Net", "money"),
    Column("gross", "Gross", "money"),
    Column("invoices", "Invoices", "int"),
    Column("share", "Share", "percent"),
]
# Names a spreadsheet would run as formulas, a non-ASCII name, and genuine negative figures (a credit).
ROWS = [
    {"vet": "Zoë Ångström", "net": D("12345.50"), "gross": D("14814.60"), "invoices": 120, "share": D("60.5")},
    {"vet": "=HYPERLINK(\"http://x\",\"y\")", "net": D("-150.00"), "gross": D("-180.00"), "invoices": -2,
     "share": D("-0.7")},
    {"vet": "@SUM(A1)", "net": D("8210.05"), "gross": D("9852.06"), "invoices": 75, "share": D("40.2")},
]  # fmt: skip
TOTALS = {"net": D("20405.55"), "gross": D("24486.66"), "invoices": 193, "share": D("100")}
SECTION_COLUMNS = [Column("category", "Category"), Column("net", "Net", "money")]
SECTION_ROWS = [{"category": "Vaccines", "net": D("1000.10")}, {"category": "-Discounts", "net": D("-99.99")}]
SECTION_TOTALS = {"net": D("900.11")}
NOTE = "The period was shortened to 20 years."

calls: list[ReportParams] = []


def build(params: ReportParams) -> ReportResult:
    calls.append(params)
    chart = Chart(
        kind="bar",
        title="Net by vet, this period and a year before",
        x_label="Vet",
        y_label="Net (£)",
        categories=[r["vet"] for r in ROWS],
        series=[("This period", [r["net"] for r in ROWS]), ("A year before", [D("10000.00"), D("0.00"), D("7000")])],
    )
    section = ReportResult(
        name=NAME, title="By category", params=params, columns=SECTION_COLUMNS, rows=SECTION_ROWS,
        totals=SECTION_TOTALS,
    )  # fmt: skip
    return ReportResult(
        name=NAME,
        title=TITLE,
        params=params,
        columns=COLUMNS,
        rows=[dict(r) for r in ROWS],
        totals=dict(TOTALS),
        chart=chart,
        notes=[NOTE],
        sections=[section],
    )


def sample_result(params: ReportParams) -> ReportResult:
    return build(params)


@pytest.fixture
def sample_spec():
    """The sample report, registered as "sample" while the test runs."""
    assert NAME not in REPORTS, "a report called 'sample' is registered by someone else"
    spec = ReportSpec(name=NAME, title=TITLE, description="Figures chosen by the test.", build=build,
                      filters=("period", "grain", "vet"))  # fmt: skip
    REPORTS[NAME] = spec
    calls.clear()
    yield spec
    REPORTS.pop(NAME, None)


class StandInFilterForm(BootstrapMixin, forms.Form):
    """A filter form with the contract of reports.forms.ReportFilterForm (``Form(data, user=...)``, ``.params()``,
    errors as a normal Django form), so the pages can be tested on their own. A user without
    ``reports.view_reports`` sees only their own figures."""

    start = forms.DateField(label="From")
    end = forms.DateField(label="To")
    grain = forms.ChoiceField(label="By", choices=[("month", "Month"), ("quarter", "Quarter")], initial="month")
    vet = forms.ModelChoiceField(label="Vet", queryset=Vet.objects.order_by("display_name"), required=False)

    def __init__(self, data=None, *, user, **kwargs):
        data = data.copy() if data is not None else {}
        for name in ("start", "end", "grain"):
            data.setdefault(name, DEFAULTS[name])
        super().__init__(data, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            raise forms.ValidationError("The period ends before it starts.")
        return cleaned

    def params(self) -> ReportParams:
        data = self.cleaned_data
        own = None if self.user.has_perm("reports.view_reports") else self.user.vet.pk
        vet_ids = (data["vet"].pk,) if data.get("vet") else ()
        return ReportParams(data["start"], data["end"], data["grain"], vet_ids=vet_ids, only_vet_id=own)


DEFAULTS = {"start": "2025-07-01", "end": "2025-09-30", "grain": "month"}


@pytest.fixture
def stand_in_form(monkeypatch):
    """The pages use StandInFilterForm instead of the real form."""
    from reports import views

    monkeypatch.setattr(views, "_filter_form", lambda request, spec: StandInFilterForm(request.GET, user=request.user))
    return StandInFilterForm
