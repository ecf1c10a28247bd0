"""Forms of the webhook pages: the checks that matter (the URL's address, the event names) are the service's."""

from __future__ import annotations

from django import forms

from exchange.webhooks.services import MAX_OVERLAP_HOURS
from vetpms.events import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL", max_length=2000, help_text="Where the messages are POSTed; public https:// addresses only."
    )
    description = forms.CharField(max_length=300, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(name, f"{name}: {text}") for name, text in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    enabled = forms.BooleanField(required=False, initial=True)


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        label="Old secret keeps signing for (hours)",
        min_value=0,
        max_value=MAX_OVERLAP_HOURS,
        initial=24,
        help_text="Both secrets sign meanwhile, so the receiver can switch at its own pace. 0 replaces it at once.",
    )


class LogFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All"), ("pending", "Pending"), ("sending", "Sending"), ("succeeded", "Succeeded"),
                 ("failed", "Failed")],
    )  # fmt: skip
