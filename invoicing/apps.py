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

        # Keep the list of open invoices (the receivables report's index) in step with every change.
        from django.db.models.signals import post_delete, post_save

        from invoicing import open_invoices, summaries
        from invoicing.models import Allocation, Claim, Invoice, Payment
        from invoicing.signals import document_finalised

        post_save.connect(open_invoices.on_invoice_saved, sender=Invoice, dispatch_uid="invoicing.open.invoice")
        for model in (Allocation, Claim):
            for signal in (post_save, post_delete):
                signal.connect(
                    open_invoices.on_allocation_changed if model is Allocation else open_invoices.on_claim_changed,
                    sender=model,
                    dispatch_uid=f"invoicing.open.{model.__name__}.{signal is post_save}",
                )

        # Keep each client's balance (the receivables report's "who owes what now") in the same transaction.
        from invoicing import balances

        post_save.connect(balances.on_invoice_saved, sender=Invoice, dispatch_uid="invoicing.balance.invoice")
        for model, receiver in ((Claim, balances.on_claim_changed), (Payment, balances.on_payment_changed)):
            for signal in (post_save, post_delete):
                signal.connect(
                    receiver, sender=model, dispatch_uid=f"invoicing.balance.{model.__name__}.{signal is post_save}"
                )

        # Keep the revenue summaries (the revenue report's and the dashboard's figures) in the same transaction.
        document_finalised.connect(summaries.on_document_finalised, dispatch_uid="invoicing.summaries.document")
        post_save.connect(summaries.on_payment_saved, sender=Payment, dispatch_uid="invoicing.summaries.payment")
