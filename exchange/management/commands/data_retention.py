"""manage.py data_retention: list what the retention schedule would anonymise today (the default, a dry run), or
do it now with --apply."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from exchange.datarights import selectors, services


class Command(BaseCommand):
    help = "List (or with --apply, anonymise) the owners and reminder emails past their retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--apply", action="store_true", help="Anonymise them now (otherwise: a dry run).")
        parser.add_argument("--limit", type=int, default=None, help="At most this many owners and emails.")

    def handle(self, *args, apply: bool = False, limit: int | None = None, **options) -> None:
        plan = services.retention_apply(limit=limit) if apply else selectors.retention_plan(limit=limit)
        verb = "Erased" if apply else "Would erase"
        for candidate in plan.clients:
            # Once erased, a name is not written anywhere again, the console and its logs included.
            name = "" if apply and not candidate.blocked else f" {candidate.name}"
            skipped = f": skipped, {candidate.blocked}" if candidate.blocked else ""
            self.stdout.write(f"  client {candidate.client_id}{name}{skipped}")
        self.stdout.write(
            f"{verb} {len(plan.to_erase)} owners ({len(plan.clients) - len(plan.to_erase)} skipped); "
            f"{'cleared' if apply else 'would clear'} {len(plan.email_log_ids)} old reminder emails."
        )
