"""Filters of the invoice list and the catalogue (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from clients.filters import DateRangeInputs, FilterForm, search_condition
from clients.models import Client
from invoicing.models import Claim, Invoice, InvoiceLine, Payor, Product
from vetpms.filters import ModelChoiceFilter
from vetpms.models import Vet


class IssuedRange(DateRangeInputs):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = "Issued from"
        self.widgets[1].attrs["aria-label"] = "Issued to"


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices, empty_label="Any status")
    kind = django_filters.ChoiceFilter(choices=Invoice.Kind.choices, empty_label="Invoices and credit notes")
    issued = django_filters.DateFromToRangeFilter(field_name="issue_date", label="Issued", widget=IssuedRange())
    client = django_filters.CharFilter(method="filter_client", label="Client", max_length=100)
    vet = ModelChoiceFilter(queryset=Vet.objects.order_by("display_name"), method="filter_vet", empty_label="Any vet")
    payor = ModelChoiceFilter(queryset=Payor.objects.order_by("name"), method="filter_payor", empty_label="Any payor")

    class Meta:
        model = Invoice
        fields: list[str] = []
        form = FilterForm

    def filter_client(self, queryset, name, value):
        condition = search_condition(value or "")
        if condition is None:
            return queryset
        return queryset.filter(client__in=Client.objects.filter(condition).values("pk"))

    def filter_vet(self, queryset, name, value):
        # A subquery, not a join: an invoice with three lines by the vet must stay one row.
        return queryset.filter(pk__in=InvoiceLine.objects.filter(vet=value).values("invoice_id"))

    def filter_payor(self, queryset, name, value):
        return queryset.filter(pk__in=Claim.objects.filter(policy__payor=value).values("invoice_id"))


class ProductFilter(django_filters.FilterSet):
    STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive"), ("all", "All")]

    q = django_filters.CharFilter(method="filter_q", label="Name or code", max_length=100)
    category = django_filters.ChoiceFilter(choices=Product.Category.choices, empty_label="Any category")
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label="Status", empty_label=None
    )

    class Meta:
        model = Product
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = "active"
        super().__init__(data, *args, **kwargs)

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__istartswith=value))

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(is_active=True)
        if value == "inactive":
            return queryset.filter(is_active=False)
        return queryset
