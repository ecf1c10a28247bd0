"""Filters of the client list (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.apps import apps

from clients.models import Client
from clients.selectors import search_condition  # the lists filter by name as the global search does
from vetpms.filters import ModelChoiceFilter
from vetpms.forms import BootstrapMixin, DateInput


class FilterForm(BootstrapMixin, forms.Form):
    pass


class DateRangeInputs(django_filters.widgets.DateRangeWidget):
    """Two browser date pickers (from, to) instead of two text boxes."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets = [DateInput(attrs={"aria-label": "Created from"}), DateInput(attrs={"aria-label": "Created to"})]


def _species_queryset(request):
    # The species list lives in animals, an app above clients; read it through the registry (no import upwards).
    return apps.get_model("animals", "Species").objects.order_by("name")


class ClientFilter(django_filters.FilterSet):
    STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive"), ("all", "All")]

    q = django_filters.CharFilter(method="filter_q", label="Name, phone, email…", max_length=100)
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label="Status", empty_label=None
    )
    reminder_consent = django_filters.BooleanFilter(
        label="Reminder consent",
        widget=forms.Select(choices=[("", "Any"), ("true", "Consents"), ("false", "No consent")]),
    )
    species = ModelChoiceFilter(
        queryset=_species_queryset, method="filter_species", label="Has pets of", empty_label="Any species"
    )
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Created between",
        widget=DateRangeInputs(),
    )

    class Meta:
        model = Client
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = "active"
        super().__init__(data, *args, **kwargs)

    def filter_q(self, queryset, name, value):
        condition = search_condition(value or "")
        return queryset.filter(condition) if condition is not None else queryset

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(is_active=True)
        if value == "inactive":
            return queryset.filter(is_active=False)
        return queryset

    def filter_species(self, queryset, name, value):
        # A subquery, not a join: a join would multiply the rows behind the animal_count annotation.
        owners = apps.get_model("animals", "Animal").objects.filter(species=value).values("owner_id")
        return queryset.filter(pk__in=owners)
