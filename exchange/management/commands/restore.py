from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from exchange.backup import core


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database, which must be empty, and its "
        "uploaded files into the storage. Checks the checksums and the migrations first and the row counts after."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the backup's directory")
        parser.add_argument(
            "--keep-reminder-schedule",
            action="store_true",
            help="leave the reminder job's schedules on (by default they are removed until you check, see README)",
        )

    def handle(self, *args, backup, keep_reminder_schedule=False, **options):
        try:
            result = core.restore_backup(Path(backup), hold_reminders=not keep_reminder_schedule)
        except core.BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Restored {backup} into {connection.settings_dict['NAME']}: {sum(result.counts.values())} rows in "
            f"{len(result.counts)} tables match the backup's counts; {result.files} uploaded files written."
        )
        if result.migrate_needed:
            self.stdout.write(
                f"This VetPMS has {len(result.migrate_needed)} migration(s) the backup predates: run "
                "`manage.py migrate` now."
            )
        if result.reminder_schedules_held:
            self.stdout.write(
                "Reminder emails are on hold: reminders sent after this backup was made are not recorded in it and "
                "would be emailed again. Check what went out since (the old database's delivery log, the mail "
                "server's log), then run `manage.py reminders_schedule` to switch the daily job back on."
            )
