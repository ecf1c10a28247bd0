"""Filters of the reminder list and the delivery log (django-filter). The forms parse and validate what was asked;
the conditions themselves live in reminders.selectors, which the API shares."""

from __future__ import annotations

import django_filters

from animals.models import Species
from clients.filters import DateRangeInputs, FilterForm, search_condition
from clients.models import Client
from reminders import selectors
from reminders.models import Reminder, ReminderDelivery, ReminderType
from vetpms.filters import ModelChoiceFilter
from vetpms.models import Vet


class _Range(DateRangeInputs):
    def __init__(self, label: str, attrs=None):
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = f"{label} from"
        self.widgets[1].attrs["aria-label"] = f"{label} to"


class _RangeForm(FilterForm):
    """A date range whose end is before its start is a form error, not an empty list."""

    def clean(self):
        cleaned = super().clean()
        for name in ("due", "date"):
            value = cleaned.get(name)
            if value and value.start and value.stop and value.stop < value.start:
                self.add_error(name, "The end of the range is before its start.")
        return cleaned


class ReminderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=selectors.STATUS_CHOICES, label="Status", empty_label=None, method="keep"
    )
    type = ModelChoiceFilter(queryset=ReminderType.objects.order_by("name"), empty_label="Any type", method="keep")
    species = ModelChoiceFilter(queryset=Species.objects.order_by("name"), empty_label="Any species", method="keep")
    vet = ModelChoiceFilter(
        queryset=Vet.objects.order_by("display_name"),
        empty_label="Any vet",
        method="keep",
        label="Vet (last seen by)",
    )
    due = django_filters.DateFromToRangeFilter(label="Due", widget=_Range("Due"), method="keep")
    channel = django_filters.ChoiceFilter(
        choices=selectors.CHANNEL_CHOICES, empty_label="Email or none", method="keep", label="Channel"
    )

    class Meta:
        model = Reminder
        fields: list[str] = []
        form = _RangeForm

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = Reminder.Status.PENDING.value
        super().__init__(data, *args, **kwargs)

    def keep(self, queryset, name, value):
        return queryset  # applied together in filter_queryset, by the selector

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        due = data.get("due")
        return selectors.reminder_list(
            status=data.get("status") or None,
            type_id=getattr(data.get("type"), "pk", None),
            species_id=getattr(data.get("species"), "pk", None),
            vet_id=getattr(data.get("vet"), "pk", None),
            due_from=due.start.date() if due and due.start else None,
            due_to=due.stop.date() if due and due.stop else None,
            channel=data.get("channel") or None,
        )


class DeliveryFilter(django_filters.FilterSet):
    client = django_filters.CharFilter(label="Client", max_length=100, method="keep")
    status = django_filters.ChoiceFilter(
        choices=selectors.DELIVERY_STATUS_CHOICES, empty_label="Any status", method="keep"
    )
    channel = django_filters.ChoiceFilter(
        choices=ReminderDelivery.Channel.choices, empty_label="Any channel", method="keep"
    )
    date = django_filters.DateFromToRangeFilter(label="Made", widget=_Range("Made"), method="keep")

    class Meta:
        model = ReminderDelivery
        fields: list[str] = []
        form = _RangeForm

    def __init__(self, data=None, *args, client: Client | None = None, **kwargs):
        self.for_client = client
        super().__init__(data, *args, **kwargs)
        if client is not None:
            del self.filters["client"]
            self.form.fields.pop("client", None)

    def keep(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        date = data.get("date")
        qs = selectors.delivery_list(
            client_id=self.for_client.pk if self.for_client is not None else None,
            status=data.get("status") or None,
            channel=data.get("channel") or None,
            date_from=date.start.date() if date and date.start else None,
            date_to=date.stop.date() if date and date.stop else None,
        )
        condition = search_condition(data.get("client") or "")
        if condition is not None:
            qs = qs.filter(client__in=Client.objects.filter(condition).values("pk"))
        return qs
