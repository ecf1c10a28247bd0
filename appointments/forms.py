"""Forms of the appointment pages. Views pass cleaned data to appointments.services, which own every rule.

A free slot is posted as one button value, ``"<vet id>|<UTC start in ISO 8601>"``: the instant, not a wall-clock
time, so the repeated hour of the autumn change is never ambiguous.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import AppointmentType, BookException, Weekday
from appointments.selectors import active_vets, appointment_types
from appointments.services import MAX_MINUTES
from vetpms.forms import BootstrapMixin, DateInput
from vetpms.models import Vet
from vetpms.timeutils import local_datetime


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class TypeSelect(forms.Select):
    """Each option carries its default duration (data-minutes): app.js copies it into the duration field."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-minutes"] = str(instance.default_minutes)
        return option


def parse_slot(value: str) -> tuple[int, dt.datetime]:
    """``"12|2026-03-02T09:00:00+00:00"`` -> (12, aware instant); ValidationError for anything else."""
    vet_part, _, start_part = (value or "").partition("|")
    try:
        vet_id = int(vet_part)
        start = dt.datetime.fromisoformat(start_part)
    except ValueError:
        raise ValidationError("That slot could not be read; choose one of the free slots.", code="bad_slot") from None
    if timezone.is_naive(start) or not 0 < vet_id < 2**31:
        raise ValidationError("That slot could not be read; choose one of the free slots.", code="bad_slot")
    return vet_id, start.astimezone(dt.UTC)


def resolve_start(form: forms.Form, cleaned: dict) -> dict:
    """Put the chosen vet and instant in ``cleaned["slot_vet"]`` and ``cleaned["start"]``: from the clicked slot, or
    with the override from the vet, date and typed time (a wall-clock time that does not exist is refused)."""
    if form.errors:
        return cleaned
    if cleaned.get("override_hours"):
        if not cleaned.get("vet"):
            form.add_error("vet", "Choose the vet to book outside working hours.")
        elif not cleaned.get("at_time"):
            form.add_error("at_time", "Give the time.")
        else:
            try:
                cleaned["start"] = local_datetime(cleaned["date"], cleaned["at_time"])
            except ValidationError as exc:
                form.add_error("at_time", exc)
            cleaned["slot_vet"] = cleaned["vet"]
        return cleaned
    if not cleaned.get("slot"):
        raise ValidationError("Choose one of the free slots.", code="no_slot")
    vet_id, start = parse_slot(cleaned["slot"])
    vet = Vet.objects.bookable().filter(pk=vet_id).first()
    if vet is None:
        raise ValidationError("That vet is not taking appointments; choose another slot.", code="bad_slot")
    cleaned["slot_vet"], cleaned["start"] = vet, start
    return cleaned


class SlotQueryForm(BootstrapMixin, forms.Form):
    """What the free slots depend on: a duration, a vet (or any vet) and a day."""

    minutes = forms.IntegerField(label="Minutes", min_value=5, max_value=MAX_MINUTES)
    vet = forms.ModelChoiceField(queryset=Vet.objects.none(), required=False, empty_label="Any vet")
    date = forms.DateField(widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vet"].queryset = active_vets()
        self.fields["minutes"].widget.attrs.update({"step": "5", "inputmode": "numeric"})
        self.fields["date"].widget.attrs["min"] = timezone.localdate().isoformat()

    def vets(self) -> list[Vet]:
        chosen = self.cleaned_data.get("vet")
        return [chosen] if chosen else list(self.fields["vet"].queryset)


class BookingForm(SlotQueryForm):
    """The booking page. A slot button posts ``slot``; the override button posts ``at_time`` instead."""

    type = forms.ModelChoiceField(queryset=AppointmentType.objects.none(), label="Appointment type", widget=TypeSelect)

    reason = forms.CharField(max_length=200, required=False, help_text="What the owner said, e.g. 'limping'.")
    notes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    request_key = forms.UUIDField(widget=forms.HiddenInput)
    slot = forms.CharField(required=False, widget=forms.HiddenInput)
    override_hours = forms.BooleanField(required=False, label="Book outside working hours")
    at_time = forms.TimeField(required=False, label="Time", widget=TimeInput())
    notify_owner = forms.BooleanField(required=False, initial=True, label="Email the owner a confirmation")

    field_order = ["type", "minutes", "vet", "date", "reason", "notes"]

    def __init__(self, *args, can_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = appointment_types()
        self.fields["type"].empty_label = None
        self.fields["type"].widget.attrs["data-minutes-target"] = self["minutes"].auto_id
        if not can_override:
            del self.fields["override_hours"]
            del self.fields["at_time"]

    def clean(self):
        return resolve_start(self, super().clean())


class RescheduleForm(SlotQueryForm):
    minutes = forms.IntegerField(min_value=5, max_value=MAX_MINUTES, widget=forms.HiddenInput)
    slot = forms.CharField(required=False, widget=forms.HiddenInput)
    override_hours = forms.BooleanField(required=False, label="Move outside working hours")
    at_time = forms.TimeField(required=False, label="Time", widget=TimeInput())
    notify_owner = forms.BooleanField(required=False, initial=True, label="Email the owner the new time")

    def __init__(self, *args, can_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override_hours"]
            del self.fields["at_time"]

    def clean(self):
        return resolve_start(self, super().clean())


class CancelForm(forms.Form):
    note = forms.CharField(max_length=200, label="Why is it cancelled?")


# --- Book set-up (managers) ------------------------------------------------------------------------------------


class WorkingHoursForm(BootstrapMixin, forms.Form):
    """A weekly grid: up to two sessions per weekday (``d0_s1_start``, ``d0_s1_end``, ``d0_s2_start``, ...)."""

    SESSIONS = (1, 2)

    def __init__(self, *args, hours=(), **kwargs):
        super().__init__(*args, **kwargs)
        initial: dict[tuple[int, int], tuple[dt.time, dt.time]] = {}
        seen: dict[int, int] = {}
        for row in sorted(hours, key=lambda h: (h.weekday, h.start_time)):
            n = seen[row.weekday] = seen.get(row.weekday, 0) + 1
            if n <= len(self.SESSIONS):
                initial[(row.weekday, n)] = (row.start_time, row.end_time)
        for day in Weekday:
            for n in self.SESSIONS:
                start, end = initial.get((day.value, n), (None, None))
                for edge, value in (("start", start), ("end", end)):
                    name = f"d{day.value}_s{n}_{edge}"
                    self.fields[name] = forms.TimeField(
                        required=False, initial=value, widget=TimeInput(), label=f"{day.label} session {n} {edge}"
                    )
                    self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def rows(self):
        """[(weekday label, [(start field, end field), ...]), ...] for the template."""
        return [
            (day.label, [(self[f"d{day.value}_s{n}_start"], self[f"d{day.value}_s{n}_end"]) for n in self.SESSIONS])
            for day in Weekday
        ]

    def clean(self):
        cleaned = super().clean()
        sessions = []
        for day in Weekday:
            for n in self.SESSIONS:
                start = cleaned.get(f"d{day.value}_s{n}_start")
                end = cleaned.get(f"d{day.value}_s{n}_end")
                if start is None and end is None:
                    continue
                if start is None or end is None:
                    self.add_error(f"d{day.value}_s{n}_start", f"{day.label}: give both a start and an end.")
                elif end <= start:
                    self.add_error(f"d{day.value}_s{n}_end", f"{day.label}: the end must be after the start.")
                else:
                    sessions.append((day.value, start, end))
        cleaned["sessions"] = sessions
        return cleaned


class BookExceptionForm(BootstrapMixin, forms.ModelForm):
    until = forms.DateField(
        required=False, label="Last day", widget=DateInput(), help_text="For several days; empty for one day."
    )

    class Meta:
        model = BookException
        fields = ["date", "until", "kind", "start_time", "end_time", "note"]
        widgets = {"date": DateInput(), "start_time": TimeInput(), "end_time": TimeInput()}
        labels = {"date": "First day"}
        help_texts = {"start_time": "Leave both times empty for whole days of leave."}

    def validate_unique(self):
        """One row per day is made by the service, which checks each."""


class ClosureForm(BootstrapMixin, forms.Form):
    """The practice closed: leave in every vet's book, for one day or a range, all day or between two times."""

    date = forms.DateField(label="First day", widget=DateInput())
    until = forms.DateField(
        required=False, label="Last day", widget=DateInput(), help_text="For several days; empty for one day."
    )
    start_time = forms.TimeField(required=False, widget=TimeInput(), help_text="Leave both times empty for whole days.")
    end_time = forms.TimeField(required=False, widget=TimeInput())
    note = forms.CharField(max_length=200, required=False, help_text="e.g. 'Bank holiday'.")


class AppointmentTypeForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = AppointmentType
        fields = ["name", "default_minutes", "colour", "recall_name", "recall_interval", "recall_unit", "is_active"]
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}
        labels = {"is_active": "In use (offered when booking)", "recall_interval": "Recall after"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colour"].widget.attrs["class"] = "form-control form-control-color"

    def validate_unique(self):
        """The service's full_clean checks the unique name."""
