from django.core.management.base import BaseCommand

from reminders.schedule import ensure_schedules
from vetpms.timeutils import to_local


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules of the reminder job (migrate does this too)."

    def handle(self, *args, **options):
        for schedule in ensure_schedules():
            when = to_local(schedule.next_run).strftime("%Y-%m-%d %H:%M %Z") if schedule.next_run else "-"
            self.stdout.write(f"{schedule.name}: {schedule.func}, next run {when}")
