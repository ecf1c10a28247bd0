from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"

    def ready(self) -> None:
        from vetpms.views import AUDITED_MODELS

        AUDITED_MODELS.setdefault("invoice", ("invoicing", "Invoice", "invoicing:detail"))

        # The vet's day list shows an owner's unpaid balance (appointments cannot import this app).
        from appointments.flags import register
        from invoicing.flags import owes_flags

        register(owes_flags)
