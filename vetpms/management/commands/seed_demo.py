"""``manage.py seed_demo``: a believable demo practice, or practice-scale data for benchmarks.

    manage.py seed_demo                      # demo practice; does nothing if it is already there
    manage.py seed_demo --reset --seed 7     # wipe clients/animals/audit and the demo staff, build again
    manage.py seed_demo --scale practice     # 60k clients, 90k animals, 10 vets with ten years of appointments
                                             # (about 600k; DESIGN.md section 5), bulk inserts

The same --seed always gives the same names, pets and relative dates. See vetpms/management/seeding/.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test.utils import override_settings

from vetpms.management.seeding import demo, practice
from vetpms.management.seeding.common import DEMO_STAFF, PRACTICE_VETS, SeedContext, run_steps


def reset_models() -> list:
    """Models emptied by --reset, dependants first. Later issues put their own models at the front."""
    from animals.models import Animal, Ownership, Weight
    from appointments.models import (
        Appointment,
        AppointmentEvent,
        AppointmentType,
        BookException,
        CalendarFeed,
        WorkingHours,
    )
    from clients.models import Client
    from vetpms.models import ApiToken, AuditEntry

    books = [AppointmentEvent, Appointment, CalendarFeed, BookException, WorkingHours, AppointmentType]
    return [AuditEntry, ApiToken, *books, Weight, Ownership, Animal, Client]


class Command(BaseCommand):
    help = "Load a demo practice (or practice-scale data with --scale practice)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same data).")
        parser.add_argument("--scale", choices=["demo", "practice"], default="demo")
        parser.add_argument(
            "--reset", action="store_true", help="Delete all clients, animals, audit entries and the demo staff first."
        )

    def handle(self, *args, seed: int, scale: str, reset: bool, **options) -> None:
        from clients.models import Client

        if reset:
            self.reset()
        elif Client.objects.exists():
            self.stdout.write("Demo data is already loaded (use --reset to build it again).")
            self.print_logins()
            return

        started = time.perf_counter()
        self.stdout.write(f"Seeding {scale} scale on {connection.vendor} with --seed {seed}:")
        ctx = SeedContext.create(seed=seed, out=self.stdout)
        if scale == "demo":
            # The demo books a few hundred appointments through the service; their confirmation emails (sent when
            # the transaction commits) would only flood the console.
            no_email = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
            with no_email, transaction.atomic():
                run_steps(ctx, demo.STEPS)
        else:
            run_steps(ctx, practice.STEPS)
        summary = ", ".join(f"{n:,} {what}" for what, n in ctx.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s: {summary}."))
        self.print_logins()

    def reset(self) -> None:
        from vetpms.models import User, Vet

        started = time.perf_counter()
        with transaction.atomic():
            for model in reset_models():
                # A raw DELETE per table: the dependants are already emptied, so Django's cascade collector
                # (which would load 90,000 animals into memory first) has nothing to do.
                model.objects.all()._raw_delete(model.objects.db)
            staff = [*DEMO_STAFF, *PRACTICE_VETS]
            Vet.objects.filter(user__username__in=staff).delete()
            User.objects.filter(username__in=staff).delete()
        self.stdout.write(f"Reset in {time.perf_counter() - started:.1f} s.")

    def print_logins(self) -> None:
        self.stdout.write("Demo logins (username / password):")
        for username, (_first, _last, role, password) in DEMO_STAFF.items():
            self.stdout.write(f"  {role:<13} {username:<10} {password}")
