"""The client form: a ModelForm over the fields the client services accept."""

from __future__ import annotations

from django import forms

from clients.models import PHONE_FIELDS, Client
from clients.services import EDITABLE_FIELDS
from vetpms.forms import BootstrapMixin
from vetpms.phones import normalise_phone

FIELD_ORDER = [
    "title",
    "first_name",
    "last_name",
    "organisation",
    "email",
    "mobile_phone",
    "home_phone",
    "work_phone",
    "preferred_channel",
    "address_line1",
    "address_line2",
    "town",
    "county",
    "postcode",
    "country",
    "reminder_consent",
    "notes",
]
assert set(FIELD_ORDER) == EDITABLE_FIELDS  # the form edits exactly what the service accepts


class ClientForm(BootstrapMixin, forms.ModelForm):
    # People type phones with spaces, brackets and a country code ("+44 (0)7700 900 123"), longer than the
    # stored E.164 form: accept up to 40 characters here and normalise in clean_<phone>.
    mobile_phone = forms.CharField(max_length=40, required=False, label="Mobile phone")
    home_phone = forms.CharField(max_length=40, required=False, label="Home phone")
    work_phone = forms.CharField(max_length=40, required=False, label="Work phone")

    class Meta:
        model = Client
        fields = FIELD_ORDER
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PHONE_FIELDS:
            self.fields[name].widget.input_type = "tel"
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")

    def _clean_phone(self, name: str) -> str:
        return normalise_phone(self.cleaned_data.get(name, ""))

    def clean_mobile_phone(self) -> str:
        return self._clean_phone("mobile_phone")

    def clean_home_phone(self) -> str:
        return self._clean_phone("home_phone")

    def clean_work_phone(self) -> str:
        return self._clean_phone("work_phone")

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in FIELD_ORDER}
