import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reminders import sending
from reminders.models import ReminderRun


class Command(BaseCommand):
    help = (
        "Run the reminder job now, in this process (the schedule normally runs it in the django-q2 worker): plan "
        "the notices due for the day, group them per owner and send the emails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the practice-local day to send for (YYYY-MM-DD); default today")
        parser.add_argument("--retries-only", action="store_true", help="only send emails waiting for a retry")

    def handle(self, *args, date=None, retries_only=False, **options):
        try:
            day = dt.date.fromisoformat(date) if date else sending.local_today()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from exc
        trigger = ReminderRun.Trigger.RETRY if retries_only else ReminderRun.Trigger.MANUAL
        run = ReminderRun.objects.create(trigger=trigger, for_date=day, status=ReminderRun.Status.QUEUED)
        run = sending.execute_run(run_id=run.pk)  # the whole run, in this process: no task timeout to stay inside
        self.stdout.write(
            f"run {run.pk} for {run.for_date}: {run.notices_planned} notices planned, {run.emails_sent} emails sent, "
            f"{run.emails_failed} failed, {run.emails_deferred} to retry, {run.no_channel} owners to phone"
        )
        if run.error:
            self.stderr.write(run.error)
