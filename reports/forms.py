"""The one filter form of every report, for the pages and the API alike: ``ReportFilterForm(request.GET,
user=request.user)``, then ``form.params()`` -> ReportParams.

Rules (issue 6, "bad input"):

- No period given: this month so far (the first of the month to today, practice-local dates).
- A period that ends before it starts is a form error.
- A period longer than 20 years is capped to the 20 years that end on ``end``, with a note the report shows.
- A vet, category or payor that does not exist is a form error naming it ("Unknown vet: 99.").
- A user with ``reports.view_reports`` (managers) may ask for any vet. A user with only
  ``reports.view_own_figures`` (a vet) gets ``only_vet_id`` = their own Vet and every figure is limited to it;
  asking for another vet's figures is a form error (422 from the API), not a silent switch, so nobody reads
  their own figures believing they are someone else's.

Choices are loaded lazily: the API never renders the select boxes, so validating costs one query per filter
actually given (the ids are checked with one ``IN`` query each), and nothing when a filter is left empty.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from invoicing.models import Payor, Product
from reports.base import Grain, PeriodKind, ReportParams
from vetpms.forms import BootstrapMixin, DateInput
from vetpms.models import Vet
from vetpms.params import parse_id
from vetpms.text import plural

MAX_YEARS = 20
MAX_TOP_N = 100
GRAINS = [("day", "Day"), ("week", "Week"), ("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]
# The most buckets a report draws; a finer grain over a longer period moves to the next coarser one (with a note).
MAX_BUCKETS = 1000
APPROX_DAYS = {"day": 1, "week": 7, "month": 30.4, "quarter": 91.3, "year": 365.25}


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def this_month() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today.replace(day=1), today


class CheckList(forms.CheckboxSelectMultiple):
    """A multiple choice as a list of tick boxes: no Ctrl-click, and every name shown whole (a select box cut
    them at its width); the page scrolls a long list (reports/report.html, .check-list)."""

    def __init__(self, attrs=None, choices=()) -> None:
        super().__init__({"class": "form-check-input", **(attrs or {})}, choices)


class IdsField(forms.MultipleChoiceField):
    """Several ids of one model, checked against the table in one query. An id that names nothing is an error
    that says which one ("Unknown vet: 99."); the choices for the select box are read only when it is drawn."""

    def __init__(self, *, noun: str, queryset_factory, **kwargs) -> None:
        self.noun = noun
        self.queryset_factory = queryset_factory
        kwargs.setdefault("widget", CheckList)
        super().__init__(choices=self._choices, required=False, **kwargs)

    def _choices(self) -> list[tuple[str, str]]:
        return [(str(obj.pk), str(obj)) for obj in self.queryset_factory()]

    def to_python(self, value) -> list[str]:
        values = super().to_python(value)
        return [v.strip() for v in values if v.strip()]

    def validate(self, value: list[str]) -> None:
        if not value:
            return
        not_numbers = [v for v in value if parse_id(v) is None]
        ids = {int(v) for v in value if parse_id(v) is not None}
        known = set(self.queryset_factory().filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        unknown = not_numbers + sorted(str(i) for i in ids - known)
        if unknown:
            raise forms.ValidationError(
                f"Unknown {plural(self.noun, len(unknown))}: {', '.join(unknown)}.", code="unknown"
            )

    def clean(self, value) -> list[int]:  # type: ignore[override]
        return sorted({int(v) for v in super().clean(value)})


class ReportFilterForm(BootstrapMixin, forms.Form):
    start = forms.DateField(label="From", required=False, widget=DateInput)
    end = forms.DateField(label="To", required=False, widget=DateInput)
    grain = forms.ChoiceField(label="By", choices=GRAINS, required=False, initial="month")
    vet = IdsField(label="Vet", noun="vet", queryset_factory=lambda: Vet.objects.order_by("display_name"))
    category = forms.MultipleChoiceField(
        label="Category",
        choices=Product.Category.choices,
        required=False,
        widget=CheckList,
        error_messages={"invalid_choice": "Unknown category: %(value)s."},
    )
    payor = IdsField(label="Payor", noun="payor", queryset_factory=lambda: Payor.objects.order_by("name"))
    top_n = forms.IntegerField(label="Top products", min_value=1, max_value=MAX_TOP_N, required=False, initial=10)

    def __init__(self, data=None, *, user, period_kind: PeriodKind = "range", **kwargs) -> None:
        # An empty query string is a valid request for the default report: bind it, so the page shows figures
        # at once instead of an empty form.
        super().__init__(data if data is not None else {}, **kwargs)
        self.user = user
        self.period_kind = period_kind
        if period_kind != "range":  # one day: the "To" date is the day (receivables: the balances at its end)
            self.fields["end"].label = "As of" if period_kind == "as_of" else "Day"
        self.notes: list[str] = []
        self._own_vet: Vet | None = None
        self.own_only = not user.has_perm("reports.view_reports")
        if self.own_only:
            self._own_vet = Vet.objects.filter(user_id=user.pk).first()
            # Their own vet is the only choice offered; any other id is refused in clean() with a message.
            own = self._own_vet
            self.fields["vet"].choices = [(str(own.pk), str(own))] if own else []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        default_start, default_end = this_month()
        start = cleaned.get("start")
        end = cleaned.get("end")
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        if self.period_kind != "range":
            day = end or start or default_end
            cleaned["start"], cleaned["end"], cleaned["grain"] = day, day, "day"
            if self.own_only:
                self._clean_own(cleaned)
            return cleaned
        if start is None and end is None:
            start, end = default_start, default_end
        elif end is None:
            end = max(start, default_end)
        elif start is None:
            start = end.replace(day=1)
        if end < start:
            self.add_error("end", f"The period ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y}).")
            return cleaned
        earliest = years_before(end, MAX_YEARS) + dt.timedelta(days=1)
        if start < earliest:
            self.notes.append(
                f"The period was shortened to the {MAX_YEARS} years ending {end:%d %b %Y}: from {earliest:%d %b %Y} "
                f"instead of {start:%d %b %Y}."
            )
            start = earliest
        grain = cleaned.get("grain") or "month"
        order = [g for g, _ in GRAINS]
        while (end - start).days / APPROX_DAYS[grain] > MAX_BUCKETS and grain != "year":
            coarser = order[order.index(grain) + 1]
            self.notes.append(f"Shown by {coarser} instead of by {grain}: too many {plural(grain)} for one page.")
            grain = coarser
        cleaned["start"], cleaned["end"], cleaned["grain"] = start, end, grain
        if self.own_only:
            self._clean_own(cleaned)
        return cleaned

    def _clean_own(self, cleaned: dict[str, Any]) -> None:
        own = self._own_vet
        if own is None:
            if self.user.has_perm("reports.view_own_figures"):
                self.add_error(None, "Your account is not linked to a vet, so there are no figures of your own.")
            else:
                self.add_error(None, "Your role does not allow you to see reports.")
            return
        others = [v for v in cleaned.get("vet") or [] if v != own.pk]
        if others:
            self.add_error("vet", "You can see only your own figures.")

    def params(self) -> ReportParams:
        """The validated filter. Call after ``is_valid()``."""
        data = self.cleaned_data
        grain: Grain = data["grain"]
        return ReportParams(
            start=data["start"],
            end=data["end"],
            grain=grain,
            vet_ids=tuple(data.get("vet") or ()),
            categories=tuple(sorted(data.get("category") or ())),
            payor_ids=tuple(data.get("payor") or ()),
            top_n=data.get("top_n") or 10,
            only_vet_id=self._own_vet.pk if self.own_only and self._own_vet else None,
            period_kind=self.period_kind,
            notes=tuple(self.notes),
        )
