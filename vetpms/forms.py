"""Form plumbing shared by every app's HTML forms, and the staff / API token forms.

Views call a service inside ``if form.is_valid():``; ``apply_service_error`` turns what the service raises (a
``DomainError`` for a broken rule, a ``ValidationError`` from ``full_clean``) into errors beside the right field,
so the page re-renders with everything the user typed.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from vetpms import scopes
from vetpms.errors import DomainError
from vetpms.models import Role, User


class BootstrapMixin:
    """Give every widget its Bootstrap class, and mark fields with errors ``is-invalid``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                css = ""
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        if self.is_bound:
            self.mark_invalid()

    def mark_invalid(self):
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                classes = widget.attrs.get("class", "")
                if "is-invalid" not in classes:
                    widget.attrs["class"] = (classes + " is-invalid").strip()
                widget.attrs["aria-invalid"] = "true"

    def add_error(self, field, error):
        super().add_error(field, error)
        self.mark_invalid()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def apply_service_error(form: forms.BaseForm, exc: Exception, *, default_field: str | None = None) -> None:
    """Put a service's DomainError or ValidationError on ``form``: beside its field when the form has that field."""

    def target(field: str | None) -> str | None:
        if field and field != NON_FIELD_ERRORS and field in form.fields:
            return field
        return default_field if default_field in form.fields else None

    if isinstance(exc, DomainError):
        form.add_error(target(exc.field), exc.message)
    elif isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(target(field), errors)
        else:
            form.add_error(target(None), exc.messages)
    else:  # pragma: no cover - callers pass only the two kinds above
        raise exc


ROLE_CHOICES = [(r.value, r.label) for r in Role]


class StaffCreateForm(BootstrapMixin, forms.Form):
    username = forms.CharField(max_length=150, help_text="What they type to sign in, e.g. 'jsmith'.")
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254, required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    vet_display_name = forms.CharField(
        max_length=100,
        required=False,
        label="Name in the appointment book",
        help_text="Vets only; defaults to their first and last name.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        help_text="At least 10 characters. Leave empty to create the account without a password (set it later).",
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        # The same rule as Django's own username field: letters, digits and @/./+/-/_ only.
        User._meta.get_field("username").run_validators(username)
        return username

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class StaffRoleForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.Select(attrs={"class": "form-select-sm"}))


class ApiTokenForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("last_name", "first_name", "username"),
        help_text="The token acts as this person, with their role.",
    )
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'lab integration'.")
    access = forms.ChoiceField(
        choices=scopes.CHOICES,
        required=False,
        initial=scopes.FULL,
        help_text="Read only: a partner can never change anything, whatever the person's role allows.",
    )
    scopes = forms.CharField(
        label="Or exact scopes",
        max_length=500,
        required=False,
        help_text="Advanced: SMART-style scopes instead of the choice above, e.g. "
        "'system/Patient.read system/Appointment.*' (FHIR only; the REST API needs system/*.read or system/*.*).",
    )

    def chosen_scopes(self) -> str:
        return self.cleaned_data.get("scopes") or self.cleaned_data.get("access") or scopes.FULL


class StaffEditForm(BootstrapMixin, forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254, required=False)


class StaffPasswordForm(BootstrapMixin, forms.Form):
    """A manager sets a new password for someone (who then signs in with it and may change it)."""

    password = forms.CharField(
        label="New password",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not a common password, not like their name.",
    )
