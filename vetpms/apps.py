from django.apps import AppConfig


class VetpmsConfig(AppConfig):
    name = "vetpms"
    verbose_name = "VetPMS"

    def ready(self) -> None:
        from django import forms

        from vetpms import (
            checks,  # noqa: F401 - registers the deployment checks
            lookups,
        )
        from vetpms.params import ascii_ids, ascii_only, validate_day, validate_plain_text
        from vetpms.tables import install_signature_cache

        install_signature_cache()
        # Every date field of every form (and of every django-filter range) accepts only 1900-2999: the one bound
        # for dates (vetpms.params), so a page can never be handed a date its arithmetic overflows on.
        forms.DateField.default_validators = [validate_day]
        # Every text field of every form refuses control characters (BEL, ESC, ...), as the API's schemas do.
        forms.CharField.default_validators = [validate_plain_text]
        # Every number, date and time field (and every django-filter number or date filter, which use them) takes
        # the digits 0-9 only: Python would read full-width and other scripts' digits as numbers.
        for field_class in (
            forms.IntegerField,
            forms.DecimalField,
            forms.FloatField,
            forms.DateField,
            forms.TimeField,
            forms.DateTimeField,
            forms.DurationField,
        ):
            ascii_only(field_class)
        # Every choice of a row by its id (a vet, an animal, a policy, the reports' tick boxes) takes 0-9 only.
        ascii_ids(forms.ModelChoiceField)
        ascii_ids(forms.ModelMultipleChoiceField)
        lookups.register()
