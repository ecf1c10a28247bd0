"""manage.py import_data: the import from the command line, for a first load too big to upload comfortably.

    manage.py import_data --source "OldVet 7" --as mona clients.csv animals.xlsx            # dry run, report
    manage.py import_data --source "OldVet 7" --as mona clients.csv animals.xlsx --apply    # dry run, then import

Files are mapped as the page would propose (the latest saved mapping of that system and entity, else the loose
header match); --entity FILE=ENTITY overrides a guess. The dry run always runs first; --apply imports only when
the dry run found no errors, unless --allow-errors (the rows with errors are then left out, as on the page).
The run's issues are written as CSV with --report.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exchange.importing import services
from exchange.importing.engine import SUPPORTED
from exchange.importing.views import issues_csv
from exchange.models import ImportJob
from vetpms.errors import DomainError
from vetpms.models import User


class Command(BaseCommand):
    help = (
        "Import clients, animals, vaccinations, reminders, future appointments, opening balances and products from "
        "CSV/xlsx files exported by another practice system (dry run first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--source", required=True, help="The source system's name (keeps re-imports apart).")
        parser.add_argument("--as", dest="username", required=True, help="The user the import acts as (audit).")
        parser.add_argument(
            "--entity",
            action="append",
            default=[],
            help="FILE=ENTITY, e.g. animals.csv=animals (entities: " + ", ".join(SUPPORTED) + ")",
        )
        parser.add_argument("--date-order", choices=["dmy", "mdy", "ymd"])
        parser.add_argument("--create-duplicates", action="store_true", help="Create possible duplicates too.")
        parser.add_argument("--apply", action="store_true", help="Import after a dry run without errors.")
        parser.add_argument("--allow-errors", action="store_true", help="Import even when some rows have errors.")
        parser.add_argument("--report", help="Write the issues of the last run to this CSV file.")
        parser.add_argument("--measure", action="store_true", help="Print time, rows/s and the process's peak memory.")

    def handle(self, *args, **opts):
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {opts['username']!r}.")
        files = []
        for name in opts["files"]:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file.")
            files.append((path.name, path.read_bytes()))
        try:
            job = services.job_create(by=user, source_system=opts["source"], files=files)
            overrides = dict(item.split("=", 1) for item in opts["entity"] if "=" in item)
            changes = {}
            for file in job.files.all():
                if file.filename in overrides:
                    changes[file.pk] = {
                        "entity": overrides[file.filename],
                        "column_map": services._proposal(job.source_system, overrides[file.filename], file.headers)[0],
                    }
            job = services.job_set_mapping(
                job=job,
                by=user,
                files=changes,
                date_order=opts["date_order"],
                duplicates="create" if opts["create_duplicates"] else None,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for file in job.files.all():
            mapped = ", ".join(f"{file.headers[int(i)]}->{c}" for i, c in file.column_map.items())
            self.stdout.write(f"{file.filename}: {file.entity or '(left out)'}, {file.rows_total} rows; {mapped}")
        job = self._run(job, user, apply=False, measure=opts["measure"])
        if opts["apply"]:
            if job.error_count and not opts["allow_errors"]:
                self._report(job, opts["report"])
                raise CommandError(f"The dry run found {job.error_count} rows with errors; fix them or --allow-errors.")
            job = self._run(job, user, apply=True, measure=opts["measure"])
        self._report(job, opts["report"])

    def _run(self, job: ImportJob, user: User, *, apply: bool, measure: bool) -> ImportJob:
        try:
            services.job_start(job=job, by=user, apply=apply, background=False)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        started, cpu = time.perf_counter(), time.process_time()
        services.job_run(job_id=job.pk)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        job.refresh_from_db()
        label = "import" if apply else "dry run"
        self.stdout.write(
            f"{label}: {job.rows_done} rows; created {job.created_count}, updated {job.updated_count}, "
            f"unchanged {job.unchanged_count}, skipped {job.skipped_count}, errors {job.error_count}"
        )
        if measure:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
            rate = job.rows_done / seconds if seconds else 0
            self.stdout.write(
                f"{label}: {seconds:.1f} s, {rate:.0f} rows/s, peak RSS {peak:.0f} MiB, "
                f"{cpu:.1f} s of this process's CPU time"
            )
        return job

    def _report(self, job: ImportJob, path: str | None) -> None:
        if path:
            Path(path).write_bytes(issues_csv(job))
            self.stdout.write(f"Report written to {path}.")
