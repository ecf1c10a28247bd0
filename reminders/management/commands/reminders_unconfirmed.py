from django.core.management.base import BaseCommand, CommandError

from reminders import sending
from reminders.models import ReminderDelivery
from vetpms.errors import DomainError


class Command(BaseCommand):
    help = (
        "List the reminder emails that are possibly sent (their worker stopped while the mail server was answering), "
        "and settle one after checking the mail server's log for its Message-ID: --sent ID if it was delivered, "
        "--resend ID if not (it goes again, with the same Message-ID)."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--sent", type=int, metavar="ID", help="the email was delivered: mark it sent")
        group.add_argument("--resend", type=int, metavar="ID", help="the email was not delivered: send it again")

    def handle(self, *args, sent=None, resend=None, **options):
        pk = sent or resend
        if pk is None:
            unsure = ReminderDelivery.objects.filter(status=ReminderDelivery.Status.UNCONFIRMED).order_by("id")
            for delivery in unsure.select_related("client"):
                self.stdout.write(f"{delivery.pk}\t{delivery.to_email}\t{delivery.message_id}\t{delivery.subject}")
            self.stdout.write(f"{unsure.count()} possibly sent")
            return
        delivery = ReminderDelivery.objects.filter(pk=pk).first()
        if delivery is None:
            raise CommandError(f"No reminder email {pk}.")
        try:
            delivery = sending.unconfirmed_resolve(delivery=delivery, was_sent=sent is not None)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{delivery.pk}: {delivery.get_status_display()}")
