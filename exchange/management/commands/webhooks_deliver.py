"""Deliver due webhook messages now, in this process (the same code as the django-q2 task)."""

from django.core.management.base import BaseCommand

from exchange.webhooks import delivery


class Command(BaseCommand):
    help = "Send the webhook messages that are due (retries included) and report what happened."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=None, help="Stop claiming after this long.")
        parser.add_argument("--batch-size", type=int, default=None, help="Messages claimed at once.")

    def handle(self, *args, **options):
        result = delivery.deliver_due(seconds=options["seconds"], batch_size=options["batch_size"])
        self.stdout.write(
            f"succeeded {result.succeeded}, retrying {result.retrying}, failed {result.failed}, "
            f"claims of stopped workers released {result.released}"
        )
