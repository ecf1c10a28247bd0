"""Forms of the clinical pages. They parse and check the shape of what was typed; the services
(clinical/services.py) check the rules and their errors come back beside the fields (``apply_service_error``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone

from clinical.models import Attachment, Consultation, Problem, Route
from invoicing.models import Product
from vetpms.forms import BootstrapMixin, DateInput
from vetpms.models import Vet
from vetpms.money import plain_number

MAX_DAY = dt.date(2200, 1, 1)


def _checked_day(value: dt.date | None, field: str) -> dt.date | None:
    if value is not None and not (dt.date(1900, 1, 1) <= value < MAX_DAY):
        raise forms.ValidationError(f"Enter a real {field}.")
    return value


class VitalsForm(BootstrapMixin, forms.Form):
    """The vitals of a consultation; an empty box clears that vital (None to the service)."""

    weight_kg = forms.DecimalField(
        label="Weight (kg)", required=False, min_value=Decimal("0"), max_digits=7, decimal_places=3
    )
    temperature_c = forms.DecimalField(label="Temperature (°C)", required=False, max_digits=4, decimal_places=1)
    heart_rate = forms.IntegerField(label="Heart rate (/min)", required=False, min_value=0, max_value=2000)
    respiratory_rate = forms.IntegerField(label="Resp. rate (/min)", required=False, min_value=0, max_value=2000)
    body_condition_score = forms.IntegerField(label="Body condition (1-9)", required=False, min_value=1, max_value=9)
    pain_score = forms.IntegerField(label="Pain score (0-10)", required=False, min_value=0, max_value=10)
    mucous_membranes = forms.ChoiceField(
        label="Mucous membranes", required=False, choices=[("", "—"), *Consultation.MucousMembranes.choices]
    )
    capillary_refill = forms.ChoiceField(
        label="CRT", required=False, choices=[("", "—"), *Consultation.CapillaryRefill.choices]
    )
    confirm = forms.BooleanField(required=False, label="Yes, these values are right")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("weight_kg", "temperature_c"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})

    @classmethod
    def initial_for(cls, consultation: Consultation) -> dict:
        initial = {
            name: getattr(consultation, name) for name in cls.base_fields if name not in ("weight_kg", "confirm")
        }
        initial["weight_kg"] = plain_number(consultation.weight.kg) if consultation.weight_id else None
        return initial

    def vitals(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "confirm"}


class VaccinationForm(BootstrapMixin, forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.none(), label="Vaccine", empty_label="Choose…")
    manufacturer = forms.CharField(max_length=100, required=False)
    batch = forms.CharField(max_length=60, label="Batch / lot")
    batch_expiry = forms.DateField(label="Batch expiry", widget=DateInput())
    route = forms.ChoiceField(choices=Route.choices, initial=Route.SUBCUTANEOUS)
    site = forms.CharField(max_length=100, required=False, help_text="e.g. scruff, left lateral thorax")
    given_on = forms.DateField(label="Given on", widget=DateInput())
    next_due_on = forms.DateField(
        label="Next due", required=False, widget=DateInput(), help_text="Empty: the vaccine's reminder interval."
    )
    charge = forms.BooleanField(required=False, initial=True, label="Charge to the owner's draft invoice")

    def __init__(self, *args, vaccines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = vaccines if vaccines is not None else Product.objects.none()
        self.fields["given_on"].initial = timezone.localdate()

    def clean_batch_expiry(self):
        return _checked_day(self.cleaned_data.get("batch_expiry"), "expiry date")

    def clean_given_on(self):
        return _checked_day(self.cleaned_data.get("given_on"), "date")

    def clean_next_due_on(self):
        return _checked_day(self.cleaned_data.get("next_due_on"), "date")


class PrescriptionForm(BootstrapMixin, forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True),
        widget=forms.HiddenInput,
        label="Medicine",
        error_messages={
            "required": "Search for the medicine and pick it.",
            "invalid_choice": "Pick the medicine again.",
        },
    )
    strength = forms.CharField(max_length=60, required=False, help_text="e.g. 250 mg")
    dose = forms.CharField(max_length=100, help_text="e.g. 1 tablet")
    route = forms.ChoiceField(choices=Route.choices, initial=Route.ORAL)
    frequency = forms.CharField(max_length=60, help_text="e.g. twice daily")
    duration = forms.CharField(max_length=60, required=False, help_text="e.g. 7 days")
    quantity = forms.DecimalField(min_value=Decimal("0.001"), max_digits=10, decimal_places=3)
    instructions = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Printed on the label."
    )
    repeats = forms.IntegerField(min_value=0, max_value=12, initial=0)
    charge = forms.BooleanField(required=False, initial=True, label="Charge to the owner's draft invoice")

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["strength"] = data["strength"] or ""
        data["duration"] = data["duration"] or ""
        data["instructions"] = data["instructions"] or ""
        return data


class AddendumForm(BootstrapMixin, forms.Form):
    text = forms.CharField(
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Addendum",
        help_text="Signed records are never changed: a correction or later finding goes here, with your name and "
        "the time.",
    )


class AttachmentForm(BootstrapMixin, forms.Form):
    file = forms.FileField(help_text="PDF, JPEG or PNG.")
    title = forms.CharField(max_length=200, required=False, help_text="Empty: the file's name.")
    kind = forms.ChoiceField(choices=Attachment.Kind.choices, initial=Attachment.Kind.OTHER)


class ProblemForm(BootstrapMixin, forms.ModelForm):
    diagnosis_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Problem
        fields = ["condition", "onset", "status", "resolved_on", "is_alert", "notes"]
        widgets = {"onset": DateInput(), "resolved_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].required = False
        self.fields["condition"].help_text = "Empty: the name of the diagnosis chosen below."

    def clean_onset(self):
        return _checked_day(self.cleaned_data.get("onset"), "onset date")

    def clean_resolved_on(self):
        return _checked_day(self.cleaned_data.get("resolved_on"), "date")


class WalkInForm(BootstrapMixin, forms.Form):
    vet = forms.ModelChoiceField(queryset=Vet.objects.bookable(), required=False, empty_label="Me")


class HistoryFilterForm(forms.Form):
    """The history's filters from the query string; anything malformed is dropped (the whole history shows)."""

    kind = forms.MultipleChoiceField(required=False, choices=[])
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds

    def clean_since(self):
        return _checked_day(self.cleaned_data.get("since"), "date")

    def clean_until(self):
        return _checked_day(self.cleaned_data.get("until"), "date")
