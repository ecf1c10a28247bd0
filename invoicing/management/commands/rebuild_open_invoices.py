from django.core.management.base import BaseCommand
from django.db import transaction

from invoicing import balances, open_invoices


class Command(BaseCommand):
    help = (
        "Rebuild the receivables report's two indexes, the list of open invoices and the clients' balances, from "
        "the documents, claims and payments. The services keep them; run this after loading data by other means."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            count = open_invoices.rebuild()
            clients = balances.rebuild()
        self.stdout.write(f"{count:,} open invoices listed. Clients with a balance: {clients:,}.")
