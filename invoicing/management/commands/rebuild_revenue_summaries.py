from django.core.management.base import BaseCommand
from django.db import transaction

from invoicing import summaries


class Command(BaseCommand):
    help = (
        "Rebuild the revenue summaries (the revenue report's and the dashboard's figures per day and month) from the "
        "issued documents and the payments. The services keep them; run this after loading data by other means."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = summaries.rebuild()
        days, months, payments = counts["days"], counts["months"], counts["payment days"]
        self.stdout.write(f"{days:,} day rows, {months:,} month rows, {payments:,} payment day rows.")
