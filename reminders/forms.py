"""Forms of the reminder pages. They parse what was typed; the rules (placeholders, intervals, stages, one pending
reminder per type) are checked by the services and the model, whose errors land beside the right field."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q

from animals.models import Species
from appointments.models import AppointmentType
from invoicing.models import Product
from reminders.models import MAX_STAGE_DAYS, ReminderType
from vetpms.forms import BootstrapMixin, DateInput

_STAGE = re.compile(r"^[+-]?\d{1,6}$")


class StagesField(forms.CharField):
    """Notice stages typed as "-14, 0, 30" (days from the due date), kept as a list of whole numbers."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text.strip():
            return []
        stages = []
        for part in re.split(r"[,\s;]+", text.strip()):
            if not part:
                continue
            if not _STAGE.match(part):
                raise forms.ValidationError(
                    f"“{part[:20]}” is not a whole number of days. Type the stages like -14, 0, 30."
                )
            stages.append(int(part))
        return stages

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError("Give at least one stage, e.g. 0 for the due date.", code="required")
        too_far = [s for s in value if abs(s) > MAX_STAGE_DAYS]
        if too_far:
            raise forms.ValidationError(
                f"A stage is at most {MAX_STAGE_DAYS} days before or after the due date ({too_far[0]:+d} is not)."
            )
        if len(set(value)) != len(value):
            raise forms.ValidationError("Each stage can be given only once.")


class ReminderTypeForm(BootstrapMixin, forms.Form):
    name = forms.CharField(max_length=100)
    species = forms.ModelMultipleChoiceField(
        queryset=Species.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every species.",
    )
    interval = forms.IntegerField(
        min_value=1,
        max_value=1000,
        error_messages={"min_value": "The interval must be at least 1 (a reminder cannot be due again at once)."},
    )
    interval_unit = forms.ChoiceField(choices=ReminderType.Unit.choices, label="Unit")
    stages = StagesField(
        max_length=200,
        label="Notice stages",
        help_text=f"Days from the due date on which owners are emailed, e.g. -14, 0, 30 (at most ±{MAX_STAGE_DAYS}).",
    )
    subject = forms.CharField(max_length=200, label="Email subject")
    body_text = forms.CharField(label="Email text", widget=forms.Textarea(attrs={"rows": 8}))
    body_html = forms.CharField(
        label="Email HTML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace"}),
        help_text="Optional. Empty: the text, with its paragraphs kept.",
    )
    is_active = forms.BooleanField(label="In use", required=False)
    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.order_by("name"),
        required=False,
        label="Recall of appointment type",
        empty_label="None",
        help_text="Completing an appointment of this type creates this reminder.",
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        required=False,
        label="Products that renew it",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Invoicing one of these completes the pet's reminder and creates the next.",
    )

    FIELDS = (
        "name",
        "interval",
        "interval_unit",
        "stages",
        "subject",
        "body_text",
        "body_html",
        "is_active",
        "appointment_type",
    )

    def __init__(self, *args, reminder_type: ReminderType | None = None, **kwargs):
        if reminder_type is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(reminder_type, name) for name in self.FIELDS} | {
                "species": list(reminder_type.species.all()),
                "products": [link.product_id for link in reminder_type.products.all()],
            }
        super().__init__(*args, **kwargs)
        # A product renews one type: offer the ones free, and this type's own.
        free = Q(reminder_link__isnull=True)
        if reminder_type is not None and reminder_type.pk:
            free |= Q(reminder_link__reminder_type=reminder_type)
        self.fields["products"].queryset = Product.objects.filter(free).filter(is_active=True).order_by("name")
        taken = ReminderType.objects.exclude(appointment_type__isnull=True)
        if reminder_type is not None and reminder_type.pk:
            taken = taken.exclude(pk=reminder_type.pk)
        self.fields["appointment_type"].queryset = AppointmentType.objects.exclude(
            pk__in=taken.values("appointment_type_id")
        ).order_by("name")

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class ReminderAddForm(BootstrapMixin, forms.Form):
    type = forms.TypedChoiceField(label="Reminder", choices=())
    due_on = forms.DateField(label="Due on", widget=DateInput)

    def __init__(self, *args, types=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The types already read (addable_types): no second query to render or check the choice.
        self.types = {str(t.pk): t for t in types}
        self.fields["type"].choices = [(str(t.pk), t.name) for t in types]
        self.fields["type"].coerce = self.types.get


class CompleteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="Note", max_length=300, required=False)


class CancelForm(BootstrapMixin, forms.Form):
    note = forms.CharField(
        label="Why is it cancelled?",
        max_length=300,
        error_messages={"required": "Say why the reminder is cancelled."},
    )


class MoveForm(BootstrapMixin, forms.Form):
    due_on = forms.DateField(label="New due date", widget=DateInput)


class FollowUpForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label="What was said", max_length=300, required=False)
