from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"

    def ready(self) -> None:
        from vetpms.views import AUDITED_MODELS

        AUDITED_MODELS.setdefault("invoice", ("invoicing", "Invoice", "invoicing:detail"))
