from django.core.management.base import BaseCommand
from django.db import transaction

from invoicing import open_invoices


class Command(BaseCommand):
    help = (
        "Rebuild the list of open invoices (the receivables report's index) from the documents, claims and "
        "payments. The services keep it; run this after loading data by other means."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            count = open_invoices.rebuild()
        self.stdout.write(f"{count:,} open invoices listed.")
