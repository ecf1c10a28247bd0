from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchange.backup import core


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database and the uploaded files (while the practice works) into a new "
        "directory under BACKUP_DIR, with a manifest and SHA-256 checksums. --verify checks an existing backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="write under this folder instead of BACKUP_DIR")
        parser.add_argument(
            "--prune", action="store_true", help="afterwards delete backups older than BACKUP_KEEP_DAYS days"
        )
        parser.add_argument("--verify", metavar="BACKUP", help="only check this backup's checksums and manifest")

    def handle(self, *args, dir=None, prune=False, verify=None, **options):
        try:
            if verify:
                manifest = core.verify_backup(Path(verify))
                self.stdout.write(
                    f"{verify}: checksums match; {manifest['database_vendor']} backup of VetPMS "
                    f"{manifest['vetpms_version']} made {manifest['created_at']}, "
                    f"{sum(manifest['counts'].values())} rows, {len(manifest['files']) - 1} uploaded files."
                )
                return
            path = core.create_backup(into=Path(dir) if dir else None)
            removed = core.prune_backups(keep_days=settings.BACKUP_KEEP_DAYS, parent=path.parent) if prune else []
        except core.BackupError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(str(path))
        for old in removed:
            self.stdout.write(f"deleted {old}")
