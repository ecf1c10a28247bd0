"""``manage.py seed_demo``: a believable demo practice, or practice-scale data for benchmarks.

    manage.py seed_demo                      # demo practice; does nothing if it is already there
    manage.py seed_demo --reset --seed 7     # wipe clients/animals/audit and the demo staff, build again
    manage.py seed_demo --scale practice     # 60k clients, 90k animals, 10 vets with ten years of appointments
                                             # (about 600k), invoices (about 500k, 2M lines) and reminders (about
                                             # 300k, with their sent notices; DESIGN.md section 5), bulk inserts
    manage.py seed_demo --scale practice --skip invoicing     # the same without invoicing
    manage.py seed_demo --scale practice --only invoicing     # (re)build only the invoicing data on what is there
                                                              # (and the reminders, which point at it)
    manage.py seed_demo --scale practice --only reminders     # (re)build only the reminders and their sent history
    manage.py seed_demo --scale practice --only clinical      # (re)build only the clinical record (500k
                                                              # consultations, their vaccinations, prescriptions)

The same --seed always gives the same names, pets and relative dates. Each app seeds its own records
(``<app>/seeding.py``); this command composes their steps in dependency order, with the kernel's context, staff
and helpers (vetpms/management/seeding/).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import override_settings

from animals import seeding as animals
from appointments import seeding as appointments
from clients import seeding as clients
from clinical import seeding as clinical
from exchange import seeding as exchange
from invoicing import seeding as invoicing
from reminders import seeding as reminders
from vetpms.management.seeding.common import (
    DEMO_STAFF,
    PRACTICE_VETS,
    SeedContext,
    Step,
    analyse,
    run_steps,
    seed_staff,
    seed_vets,
)


def invoicing_models() -> list:
    """The invoicing tables, dependants first (the tax categories and rates are reference data and stay)."""
    from invoicing.models import (
        Allocation,
        Claim,
        ClaimLine,
        ClientBalance,
        DocumentCounter,
        Invoice,
        InvoiceLine,
        OpenInvoice,
        Payment,
        PaymentDay,
        Payor,
        Policy,
        Product,
        RevenueDay,
        RevenueMonth,
    )

    # Reminders point at invoice lines and products, so they go with them (and their types, which the demo makes).
    return [
        *reminder_models(),
        OpenInvoice,
        ClientBalance,
        RevenueDay,
        RevenueMonth,
        PaymentDay,
        Allocation,
        ClaimLine,
        Claim,
        Payment,
        Policy,
        Payor,
        InvoiceLine,
        Invoice,
        DocumentCounter,
        Product,
    ]


def reminder_models() -> list:
    """The reminder tables, dependants first: the outbox (notices, deliveries, runs), reminders, types."""
    from reminders.models import (
        ProductReminder,
        Reminder,
        ReminderDelivery,
        ReminderNotice,
        ReminderRun,
        ReminderType,
    )

    outbox = [ReminderNotice, ReminderDelivery, ReminderRun]
    return [*outbox, Reminder, ProductReminder, ReminderType.species.through, ReminderType]


def empty_tables(models: list) -> None:
    """Delete every row of ``models`` (dependants first) without Django's cascade collector.

    Issued invoices and their lines refuse DELETE on PostgreSQL (triggers of invoicing migration 0002, which
    fire per row); TRUNCATE fires no row triggers, so the invoicing tables are emptied with one TRUNCATE.
    """
    from clinical.models import Consultation
    from invoicing.models import Invoice
    from reminders.models import Reminder

    frozen = []
    if connection.vendor == "postgresql" and Invoice in models:
        frozen = [*clinical_models(), *invoicing_models()]
    elif connection.vendor == "postgresql" and Reminder in models and Consultation not in models:
        frozen = reminder_models()  # --only reminders: TRUNCATE is also the fast way to empty 300k rows
    elif connection.vendor == "postgresql" and Consultation in models:
        frozen = [*reminder_models(), *clinical_models()]  # --only clinical: signed records refuse DELETE
    if frozen:
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in frozen)
        with connection.cursor() as cursor:
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: rows inserted earlier in this transaction
            # (a test's, say) leave checks pending, and PostgreSQL refuses to TRUNCATE a table with pending
            # trigger events. Running the checks now empties that queue.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        models = [m for m in models if m not in frozen]
    for model in models:
        model.objects.all()._raw_delete(model.objects.db)


def clinical_models() -> list:
    """The clinical record's tables, dependants first (signed records refuse DELETE on PostgreSQL: they go with
    the invoicing tables' TRUNCATE, since their rows point at invoice lines)."""
    from clinical.models import (
        Addendum,
        Attachment,
        Consultation,
        ConsultationDiagnosis,
        Diagnosis,
        Prescription,
        Problem,
        ProductSpecies,
        QuickText,
        Vaccination,
    )

    return [
        Problem.consultations.through,
        Problem,
        Attachment,
        Addendum,
        ConsultationDiagnosis,
        Vaccination,
        Prescription,
        Consultation,
        QuickText,
        Diagnosis,
        ProductSpecies,
    ]


def exchange_models() -> list:
    """The imports and webhooks, dependants first (an import's job is the demo manager's: it goes before the staff)."""
    from exchange.models import (
        ImportedRecord,
        ImportFile,
        ImportIssue,
        ImportJob,
        SavedMapping,
        WebhookAttempt,
        WebhookDelivery,
        WebhookEndpoint,
    )

    webhooks = [WebhookAttempt, WebhookDelivery, WebhookEndpoint]
    return [ImportIssue, ImportedRecord, ImportFile, ImportJob, SavedMapping, *webhooks]


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
    return [
        *exchange_models(),
        *clinical_models(),
        *invoicing_models(),
        AuditEntry,
        ApiToken,
        *books,
        Weight,
        Ownership,
        Animal,
        Client,
    ]


def demo_steps() -> list[Step]:
    """The demo's steps in dependency order. The reminders imported from the previous system come before the
    charges (finalising a vaccine completes and renews them), and the vaccines are linked to their reminder types
    as soon as the catalogue exists; the clinical record comes after the charges (the vaccines it records are the
    ones the visits were charged for) and before the reminders' activity and sent history (so the history is
    written from the reminders as the vaccinations left them)."""
    return [
        seed_staff,
        *clients.DEMO_STEPS,
        *animals.DEMO_STEPS,
        *appointments.DEMO_STEPS,
        reminders.seed_reminder_types,
        reminders.seed_imported_reminders,
        invoicing.seed_catalogue,
        reminders.seed_reminder_products,
        *invoicing.DEMO_STEPS[1:],  # after the catalogue (its first step): charges, corrections, claims, payments
        *clinical.DEMO_STEPS,
        reminders.seed_reminder_activity,
        reminders.seed_reminder_history,
        *exchange.DEMO_STEPS,  # last: the endpoints subscribe once the rest is built (no deliveries queued)
    ]


def practice_steps() -> list[Step]:
    """The practice scale's steps in dependency order, the planner statistics refreshed last."""
    return [
        seed_staff,
        seed_vets,
        *clients.PRACTICE_STEPS,
        *animals.PRACTICE_STEPS,
        *appointments.PRACTICE_STEPS,
        *invoicing.PRACTICE_STEPS,
        *reminders.PRACTICE_STEPS,
        *clinical.PRACTICE_STEPS,
        analyse,
    ]


def _parts(scale: str, skip: list[str]) -> set:
    """The steps of ``scale`` (demo or practice) that ``--skip`` leaves out (the demo's link from the vaccines to
    their reminder types goes with the catalogue)."""
    groups = {
        "demo": {
            "invoicing": [*invoicing.DEMO_STEPS, reminders.seed_reminder_products],
            "reminders": reminders.DEMO_STEPS,
            "clinical": clinical.DEMO_STEPS,
        },
        "practice": {
            "invoicing": invoicing.PRACTICE_STEPS,
            "reminders": reminders.PRACTICE_STEPS,
            "clinical": clinical.PRACTICE_STEPS,
        },
    }[scale]
    return {step for part in skip for step in groups[part]}


class Command(BaseCommand):
    help = "Load a demo practice (or practice-scale data with --scale practice)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same data).")
        parser.add_argument("--scale", choices=["demo", "practice"], default="demo")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete all clients, animals, audit entries, imports, webhooks, API tokens and the demo staff first.",
        )
        parser.add_argument(
            "--skip",
            choices=["invoicing", "reminders", "clinical"],
            action="append",
            default=[],
            help="Leave out a part (invoicing: no catalogue, charges, payments or claims; reminders: no reminder "
            "types, reminders or sent history; clinical: no consultations, vaccinations, prescriptions, files or "
            "problems).",
        )
        parser.add_argument(
            "--only",
            choices=["invoicing", "reminders", "clinical"],
            help="Practice scale: empty and rebuild only this part, on the clients and appointments already loaded "
            "(invoicing empties the reminders and the clinical record too, which point at it, and rebuilds them "
            "after it).",
        )

    def handle(self, *args, seed: int, scale: str, reset: bool, skip: list, only: str | None, **options) -> None:
        from clients.models import Client

        if only:
            if scale != "practice":
                raise CommandError("--only works with --scale practice.")
            self.only_part(seed, only)
            return
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
            left_out = _parts("demo", skip)
            with no_email, transaction.atomic():
                run_steps(ctx, [s for s in demo_steps() if s not in left_out])
        else:
            left_out = _parts("practice", skip)
            run_steps(ctx, [s for s in practice_steps() if s not in left_out])
        summary = ", ".join(f"{n:,} {what}" for what, n in ctx.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s: {summary}."))
        self.print_logins()

    def only_part(self, seed: int, part: str) -> None:
        from appointments.models import Appointment

        if not Appointment.objects.exists():
            raise CommandError("No appointments loaded: run seed_demo --scale practice first.")
        started = time.perf_counter()
        # Reminders point at invoice lines and at vaccinations given: they are emptied and rebuilt with either.
        emptied = {
            "invoicing": invoicing_models(),
            "reminders": reminder_models(),
            "clinical": [*reminder_models(), *clinical_models()],
        }[part]
        with transaction.atomic():
            empty_tables(emptied)
        self.stdout.write(f"{part.capitalize()} data emptied in {time.perf_counter() - started:.1f} s.")
        ctx = SeedContext.create(seed=seed, out=self.stdout)
        steps = reminders.PRACTICE_STEPS
        if part == "clinical":
            steps = [*clinical.PRACTICE_STEPS, *steps]
        if part == "invoicing":
            # Emptying the invoicing tables empties the clinical record too (its rows point at invoice lines).
            steps = [*invoicing.PRACTICE_STEPS, *steps, *clinical.PRACTICE_STEPS]
        run_steps(ctx, [seed_staff, *steps, analyse])
        summary = ", ".join(f"{n:,} {what}" for what, n in ctx.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f} s: {summary}."))

    def reset(self) -> None:
        from vetpms.models import User, Vet

        started = time.perf_counter()
        with transaction.atomic():
            # A raw DELETE per table (a TRUNCATE for the invoicing ones): the dependants are already emptied, so
            # Django's cascade collector (which would load 90,000 animals into memory first) has nothing to do.
            empty_tables(reset_models())
            staff = [*DEMO_STAFF, *PRACTICE_VETS]
            Vet.objects.filter(user__username__in=staff).delete()
            User.objects.filter(username__in=staff).delete()
        self.stdout.write(f"Reset in {time.perf_counter() - started:.1f} s.")

    def print_logins(self) -> None:
        self.stdout.write("Demo logins (username / password):")
        for username, (_first, _last, role, password) in DEMO_STAFF.items():
            self.stdout.write(f"  {role:<13} {username:<10} {password}")
