"""seed_demo: deterministic with --seed, one login per role, idempotent, resettable.

A demo build takes a minute or more (most of it charging the visits through the invoicing services), so the tests
that only look at the demo share one: ``demo`` builds it once for this module inside a transaction that is rolled
back when the module is done, and each test runs in a savepoint within it (pytest-django's usual per-test
transaction), so what a test changes (a reset, a rebuilt part, the revenue summaries) is undone before the next.
Tests that need other options (``--skip``) build their own.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Case, Count, F, Sum, When
from django.utils import timezone

from animals.models import Animal, Weight
from appointments.models import Appointment, AppointmentEvent, AppointmentType, BookException, WorkingHours
from clients.models import Client
from invoicing import calc, summaries
from invoicing.models import (
    Allocation,
    Claim,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentDay,
    Payor,
    Product,
    RevenueDay,
    RevenueMonth,
)
from invoicing.selectors import client_balance, client_outstanding
from reminders.models import (
    PLACEHOLDERS,
    ProductReminder,
    Reminder,
    ReminderDelivery,
    ReminderNotice,
    ReminderRun,
    ReminderType,
    template_placeholders,
)
from reminders.seeding import REMINDER_TYPES
from tests.reference_data import ensure_reference_data
from vetpms.management.seeding.common import DEMO_STAFF
from vetpms.models import AuditEntry, Role, User, Vet
from vetpms.timeutils import local_day_bounds, to_local

OVERLAPPING_PAIRS_SQL = """
    SELECT a.id, b.id FROM appointments_appointment a
    JOIN appointments_appointment b ON a.vet_id = b.vet_id AND a.id < b.id
     AND a.start < b."end" AND b.start < a."end"
    WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _invoicing() -> list:
    """The issued documents and their lines, in number order (what the seed decided, not when it ran)."""
    return list(
        InvoiceLine.objects.exclude(invoice__status="draft")
        .order_by("invoice__series", "invoice__number", "position", "id")
        .values_list("invoice__series", "invoice__number", "invoice__client__last_name", "description", "gross")
    )


def _names() -> tuple[list, list, list]:
    clients = list(Client.objects.order_by("id").values_list("last_name", "first_name", "organisation", "home_phone"))
    animals = list(Animal.objects.order_by("id").values_list("name", "species__name", "microchip", "owner__last_name"))
    # The book's structure (not the statuses of today, which depend on the time of day it was built).
    book = sorted(
        Appointment.objects.values_list("vet__user__username", "start", "end", "type__name", "animal__name", "reason")
    )
    return clients, animals, book


def _reminders() -> list:
    return list(
        Reminder.objects.order_by("animal__name", "type__name", "due_on", "status").values_list(
            "animal__name", "type__name", "due_on", "status", "source"
        )
    )


@dataclass(frozen=True)
class Demo:
    seed: int
    built_at: dt.datetime  # the instant the clock stood at while it was built
    output: str  # what the command printed


def _stop_clock(at: dt.datetime):
    """``timezone.now()`` (and so ``timezone.localdate()``) answers ``at`` until the patch ends."""
    return mock.patch("django.utils.timezone.now", return_value=at)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[Demo]:
    """The whole demo (``seed_demo --seed 2026``, what ``make demo`` builds), once for the module, rolled back after.

    The part of today already gone depends on the time of day the demo is built (which of today's visits are
    completed and charged), so it is built with the clock stopped at one instant: building it again at that
    instant gives the same data (the determinism test), whatever the machine's load. The tests look at it with
    the clock still stopped there (``stopped_clock``).
    """
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_reference_data()  # the migrations' rows, whatever ran before this module
        built_at = timezone.now()
        with _stop_clock(built_at):
            output = _seed("--seed", "2026")
        yield Demo(seed=2026, built_at=built_at, output=output)
        transaction.set_rollback(True)  # nothing of it outlives the module


@pytest.fixture(autouse=True)
def stopped_clock(request) -> Iterator[dt.datetime]:
    """Every test of this module runs with the clock stopped: at the instant the shared demo was built for the
    tests that look at it, else at the test's start. Their "today" is then the demo's ``today`` (the seeding's
    ``SeedContext.today``, ``timezone.localdate()`` when it ran), even if the run crosses midnight in the
    practice's time zone between building the demo and checking it; and "now" is where the demo's visits were
    split into done and still to come."""
    at = request.getfixturevalue("demo").built_at if "demo" in request.fixturenames else timezone.now()
    with _stop_clock(at):
        yield at


@pytest.mark.django_db
def test_seed_demo_is_deterministic_with_a_seed(demo):
    first, invoices, reminders = _names(), _invoicing(), _reminders()
    assert ReminderNotice.objects.exists()
    # Built again at the instant the first build saw (the clock is stopped there: minutes pass between them).
    _seed("--seed", str(demo.seed), "--reset")  # empties the outbox too
    assert _names() == first
    assert _invoicing() == invoices and invoices
    assert _reminders() == reminders and reminders
    _seed("--seed", "12", "--reset", "--skip", "invoicing")
    assert _names() != first
    assert not Invoice.objects.exists() and not Product.objects.exists()


@pytest.mark.django_db
def test_seed_demo_creates_each_role_and_a_believable_practice(demo):
    output = demo.output
    for username, (_first, _last, role, password) in DEMO_STAFF.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert user.has_role(role)
        assert f"{username}" in output and password in output
    assert {r for _f, _l, r, _p in DEMO_STAFF.values()} == set(Role.values)
    assert Vet.objects.filter(user__username__in=["vet", "vet2"]).count() == 2
    assert Client.objects.count() == 60 + 3  # and the three clients imported from the previous system
    assert Animal.objects.count() == 90 + 4  # and their four pets
    assert Animal.objects.filter(deceased_on__isnull=False).exists()
    assert Animal.objects.filter(is_active=False).exists()
    assert Animal.objects.filter(ownerships__ended_at__isnull=False).exists()  # a transferred animal
    assert Animal.objects.filter(alerts__icontains="bites").exists()
    assert Animal.objects.filter(alerts__icontains="penicillin").exists()
    assert Client.objects.filter(is_active=False).exists()
    assert AuditEntry.objects.filter(action="transfer").exists()  # written through the services
    for client in Client.objects.all():
        client.full_clean()  # valid phone numbers, emails and names
        assert client.email == "" or client.email.endswith(("example.com", "example.org"))


@pytest.mark.django_db
def test_seed_demo_leaves_existing_data_alone_without_reset(demo):
    before = _names()
    output = _seed("--seed", "6")
    assert "already loaded" in output
    assert _names() == before


@pytest.mark.django_db
def test_seed_demo_books_the_vets_today_without_overlaps(demo):
    vets = list(Vet.objects.filter(user__username__in=["vet", "vet2"]))
    start, end = local_day_bounds(timezone.localdate())
    for vet in vets:
        assert Appointment.objects.filter(vet=vet, start__gte=start, start__lt=end).exists(), vet
        assert WorkingHours.objects.filter(vet=vet, weekday=0).count() == 2  # morning and afternoon
    assert WorkingHours.objects.filter(weekday=5).count() == 1  # one vet works Saturday mornings
    assert BookException.objects.filter(kind="leave", date__gt=timezone.localdate()).count() == 5
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_PAIRS_SQL)
        assert cursor.fetchall() == []

    types = {t.name: t for t in AppointmentType.objects.all()}
    assert {n: t.default_minutes for n, t in types.items()} == {
        "Consultation": 15,
        "Vaccination": 15,
        "Dental": 60,
        "Surgery admit": 30,
        "Post-op check": 10,
        "Nurse clinic": 20,
    }
    assert len({t.colour for t in types.values()}) == len(types)
    assert types["Dental"].recall_text == "Dental recheck in 6 months"

    now = timezone.now()
    past = Appointment.objects.filter(end__lt=now - timezone.timedelta(hours=1))
    assert {"completed", "no_show", "cancelled"} <= set(past.values_list("status", flat=True))
    assert not past.filter(status__in=["booked", "confirmed"]).filter(start__lt=now - timezone.timedelta(days=1))
    future = Appointment.objects.filter(start__gt=now)
    # a pet may already have arrived for an appointment that starts in the next few minutes
    assert set(future.filter(start__gt=now + timezone.timedelta(minutes=10)).values_list("status", flat=True)) <= {
        "booked",
        "confirmed",
        "cancelled",
    }
    assert future.filter(start__gt=now + timezone.timedelta(days=12)).exists()  # two weeks ahead
    # booked through the service (what starts within the next minutes may have been written as history)
    booked = {int(pk) for pk in AuditEntry.objects.filter(action="book").values_list("object_id", flat=True)}
    assert set(future.filter(start__gt=now + timezone.timedelta(minutes=10)).values_list("pk", flat=True)) <= booked
    for appointment in Appointment.objects.select_related("animal").prefetch_related("events"):
        events = list(appointment.events.all())
        assert events[0].to_status == "booked" and events[-1].to_status == appointment.status
        assert appointment.client_id == appointment.animal.owner_id
        assert to_local(appointment.start).date() == to_local(appointment.end).date()
    assert AppointmentEvent.objects.filter(to_status="cancelled", note="").count() == 0


def _sums(qs, key: str, value) -> dict:
    return {row[key]: row["s"] for row in qs.values(key).annotate(s=Sum(value)).values(key, "s")}


@pytest.mark.django_db
def test_seed_demo_invoicing_obeys_the_money_rules(demo):
    assert "seed_charges" in demo.output
    today = timezone.localdate()

    # The catalogue: every category, units, more than one tax category.
    products = Product.objects.all()
    assert products.count() >= 30
    assert set(products.values_list("category", flat=True)) == set(Product.Category.values)
    assert {"ml", "tablet", "each", "day"} <= set(products.values_list("unit", flat=True))
    assert products.values("tax_category").distinct().count() >= 2

    issued = Invoice.objects.exclude(status="draft")
    # Most completed past appointments are charged; each line comes from its appointment.
    completed = Appointment.objects.filter(status="completed").count()
    charged = Appointment.objects.filter(status="completed", invoice_lines__isnull=False).distinct().count()
    assert charged >= completed * 0.7
    for line in InvoiceLine.objects.filter(appointment__isnull=False).select_related("appointment"):
        assert line.animal_id == line.appointment.animal_id and line.vet_id == line.appointment.vet_id
        assert line.service_date == to_local(line.appointment.start).date()

    # Every issued document's totals are the sums of its lines, every line computed by invoicing.calc.
    for invoice in issued.prefetch_related("lines"):
        lines = list(invoice.lines.all())
        assert lines, invoice
        totals = calc.document_totals(lines)
        assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (totals.net, totals.tax, totals.gross)
        assert invoice.client_name and invoice.client_address
        for line in lines:
            if invoice.kind == "invoice":
                amounts = calc.line_amounts(
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    tax_rate=line.tax_rate,
                    discount_percent=line.discount_percent,
                    discount_amount=line.discount_amount,
                )
                assert (line.net, line.tax, line.gross) == (amounts.net, amounts.tax, amounts.gross)

    # Numbers 1..N without gaps per series, the counter at N, dated in number order.
    series = set(issued.values_list("series", flat=True))
    assert any(s.startswith("INV-") for s in series) and any(s.startswith("CN-") for s in series)
    for name in series:
        rows = list(issued.filter(series=name).order_by("number").values_list("number", "issue_date"))
        assert [n for n, _ in rows] == list(range(1, len(rows) + 1)), name
        assert [d for _, d in rows] == sorted(d for _, d in rows), name
        assert DocumentCounter.objects.get(series=name).last_number == len(rows)

    # The client balance of every client equals an independent sum of raw aggregates.
    docs = _sums(issued, "client_id", "gross_total")
    share = Case(When(amount_accepted__isnull=False, then=F("amount_accepted")), default=F("amount_claimed"))
    sharing = Claim.objects.filter(direct_settlement=True).exclude(status__in=["draft", "declined"])
    insurer = _sums(sharing, "invoice__client_id", share)
    paid = _sums(Payment.objects.filter(kind="payment"), "client_id", "amount")
    refunded = _sums(Payment.objects.filter(kind="refund"), "client_id", "amount")
    zero = Decimal("0.00")
    for client in Client.objects.all():
        pk = client.pk
        expected = docs.get(pk, zero) - insurer.get(pk, zero) - paid.get(pk, zero) + refunded.get(pk, zero)
        assert client_balance(client=client).balance == expected, client
    # Allocations never exceed a payment, and no invoice is paid beyond what is owed on it.
    for payment in Payment.objects.annotate(allocated=Sum("allocations__amount")):
        assert (payment.allocated or zero) <= payment.amount
    for invoice in issued.filter(kind="invoice", status="finalised"):
        assert client_outstanding(invoice) >= 0, invoice

    # The states a demo should show.
    assert issued.filter(kind="credit_note").count() >= 2  # a partial credit note and the void's
    assert issued.filter(status="void").count() == 1
    assert Invoice.objects.filter(status="draft").exists()
    assert {"card", "cash"} <= set(Payment.objects.values_list("method", flat=True))
    finalised = issued.filter(kind="invoice", status="finalised")
    paid_share = Allocation.objects.filter(payment__client__isnull=False).values("invoice").distinct().count()
    assert paid_share >= finalised.count() * 0.6
    unpaid = [i for i in finalised if client_outstanding(i) > 0]
    assert any(i.due_date < today for i in unpaid), "an overdue invoice"
    assert any(i.due_date >= today for i in unpaid), "an invoice outstanding, not yet due"
    assert set(Payor.objects.values_list("name", flat=True)) == {"Petsure Insurance", "Animal Friends Cover"}
    assert {"draft", "submitted", "accepted", "settled"} <= set(Claim.objects.values_list("status", flat=True))
    assert Payment.objects.filter(payor__isnull=False, method="insurance").exists()
    assert AuditEntry.objects.filter(action="finalise").count() == issued.count()  # through the services

    # The revenue summaries the services kept are what a rebuild from the documents and payments makes.
    kept = [list(model.objects.order_by("pk").values()) for model in (RevenueDay, RevenueMonth, PaymentDay)]
    summaries.rebuild()
    rebuilt = [list(model.objects.order_by("pk").values()) for model in (RevenueDay, RevenueMonth, PaymentDay)]
    without_ids = [sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k != "id")) for r in rows) for rows in kept]
    assert without_ids == [
        sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k != "id")) for r in rows) for rows in rebuilt
    ]
    assert all(kept)


# --- Reminders --------------------------------------------------------------------------------------------------


def _local_day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else to_local(value).date()


def _assert_reminders_obey_the_rules() -> list[Reminder]:
    """Types valid, one pending reminder per animal and type, none for retired animals; returns the reminders."""
    types = list(ReminderType.objects.prefetch_related("species"))
    assert {t.name for t in types} == set(REMINDER_TYPES)
    for reminder_type in types:
        reminder_type.full_clean()  # templates with known placeholders only, stages within a year, interval >= 1
        for text in (reminder_type.subject, reminder_type.body_text, reminder_type.body_html):
            assert template_placeholders(text) <= set(PLACEHOLDERS), reminder_type
        assert "{items}" in reminder_type.body_text and "{items}" in reminder_type.body_html
        assert reminder_type.stages == sorted(reminder_type.stages)
        assert sorted(s.name for s in reminder_type.species.all()) == sorted(REMINDER_TYPES[reminder_type.name].species)
    dental = ReminderType.objects.get(name="Dental recheck")
    assert dental.appointment_type is not None and dental.appointment_type.name == "Dental"

    duplicates = Reminder.objects.filter(status="pending").values("animal", "type").annotate(n=Count("id"))
    assert not duplicates.filter(n__gt=1).exists()
    reminders = list(Reminder.objects.select_related("animal__owner", "animal__species", "type"))
    for reminder in reminders:
        assert reminder.type.applies_to(reminder.animal), reminder
        if reminder.status == "pending":
            animal = reminder.animal
            assert animal.is_active and animal.deceased_on is None and animal.owner.is_active, reminder
            assert reminder.closed_at is None
        else:
            assert reminder.closed_at is not None, reminder
        if reminder.status == "cancelled":
            assert reminder.note, reminder
    assert {"pending", "completed", "cancelled"} <= {r.status for r in reminders}
    return reminders


def _assert_outbox_consistent(*, since: dt.date) -> None:
    """Every notice is a stage of its reminder that fell between ``since`` and yesterday while the reminder was
    open, sent to its animal's owner in that day's run; one delivery per owner and day; the runs' counts add up."""
    today = timezone.localdate()
    notices = list(ReminderNotice.objects.select_related("reminder__type", "reminder__animal__owner", "delivery__run"))
    assert notices
    for notice in notices:
        reminder, delivery = notice.reminder, notice.delivery
        owner = reminder.animal.owner
        assert notice.stage in reminder.type.stages
        assert notice.send_on == reminder.due_on + dt.timedelta(days=notice.stage)
        assert since <= notice.send_on < today
        closed = _local_day(reminder.closed_at)
        assert closed is None or notice.send_on < closed, notice
        assert delivery.client_id == owner.pk and delivery.run.for_date == notice.send_on
        if owner.reminder_consent and owner.email:
            assert delivery.channel == "email" and delivery.to_email == owner.email
            assert notice.status == delivery.status and notice.status in ("sent", "failed")
            assert (notice.sent_at is not None) == (notice.status == "sent")
            assert notice.sent_at == delivery.sent_at
        else:
            assert delivery.channel == "none" and delivery.status == notice.status == "no_channel"
            assert notice.sent_at is None and delivery.reason
    assert not ReminderDelivery.objects.filter(notices__isnull=True).exists()
    per_day = ReminderDelivery.objects.values("client", "run").annotate(n=Count("id"))
    assert not per_day.filter(n__gt=1).exists()
    assert ReminderRun.objects.count() == (today - since).days  # one run a day, up to yesterday
    assert ReminderRun.objects.filter(for_date=today).count() == 0
    for run in ReminderRun.objects.annotate(
        planned=Count("deliveries__notices"),
    ):
        deliveries = run.deliveries.all()
        assert run.notices_planned == run.planned
        assert run.emails_sent == deliveries.filter(status="sent").count()
        assert run.emails_failed == deliveries.filter(status="failed").count()
        assert run.no_channel == deliveries.filter(status="no_channel").count()
        assert run.status == "finished" and run.started_at <= run.finished_at
    assert ReminderDelivery.objects.filter(status="sent").exists()
    assert ReminderDelivery.objects.filter(status="no_channel").exists()


@pytest.mark.django_db
def test_seed_demo_reminders_are_due_overdue_done_and_ready_for_todays_run(demo):
    today = timezone.localdate()
    reminders = _assert_reminders_obey_the_rules()
    links = dict(ProductReminder.objects.values_list("product__code", "reminder_type__name"))
    assert links == {"VAC-RAB": "Rabies vaccination", "VAC-DHPP": "DHPP booster", "VAC-FELV": "FeLV"}
    pending = [r for r in reminders if r.status == "pending"]
    assert any(today <= r.due_on <= today + dt.timedelta(days=14) for r in pending), "due in the coming fortnight"
    assert any(r.due_on < today for r in pending), "overdue"
    # Written through the services: an audit entry per reminder created and closed.
    assert AuditEntry.objects.filter(action="reminder created").count() == len(reminders)
    closed = [r for r in reminders if r.status != "pending"]
    assert AuditEntry.objects.filter(action__in=["reminder completed", "reminder cancelled"]).count() == len(closed)

    # Finalising the demo's vaccinations completed the imported reminders and renewed them (the invoicing hook).
    renewed = [r for r in reminders if r.source == "invoice"]
    assert renewed
    for reminder in renewed:
        line = reminder.source_line
        assert line is not None and line.animal_id == reminder.animal_id
        assert reminder.due_on == reminder.type.next_due(line.service_date)
    done_by_invoice = [r for r in reminders if r.completed_by_line_id]
    assert done_by_invoice
    for reminder in done_by_invoice:
        assert reminder.status == "completed"
        assert _local_day(reminder.closed_at) == reminder.completed_by_line.service_date  # when it was given
    assert any(r.status == "completed" and not r.completed_by_line_id for r in reminders)  # by hand
    recalls = [r for r in reminders if r.source == "recall"]
    assert recalls
    for reminder in recalls:
        assert reminder.source_appointment.type.name == "Dental" and reminder.type.name == "Dental recheck"
        assert reminder.due_on == reminder.type.next_due(to_local(reminder.source_appointment.start).date())

    # Today's run has notices to email and owners to phone.
    sent_today = {
        bool(r.animal.owner.reminder_consent and r.animal.owner.email)
        for r in pending
        if any(r.due_on + dt.timedelta(days=stage) == today for stage in r.type.stages)
    }
    assert sent_today == {True, False}
    _assert_outbox_consistent(since=today - dt.timedelta(days=28))


@pytest.mark.django_db
def test_practice_scale_reminders_on_loaded_data():
    """``--only reminders`` runs the practice-scale reminder load (bulk, ten years, with the sent history) on the
    data already there: here the demo's, loaded without reminders (after a reset: run after a test that asked for
    the module's demo, this one finds that demo still loaded)."""
    _seed("--seed", "8", "--reset", "--skip", "invoicing", "--skip", "reminders")
    assert not ReminderType.objects.exists() and not Reminder.objects.exists()
    output = _seed("--scale", "practice", "--only", "reminders")
    assert "seed_reminders" in output
    today = timezone.localdate()
    reminders = _assert_reminders_obey_the_rules()
    assert len(reminders) > 200
    assert {r.source for r in reminders} >= {"import", "invoice", "manual"}
    delays = [(_local_day(r.closed_at) - r.due_on).days for r in reminders if r.status == "completed"]
    assert all(-14 <= d <= 180 for d in delays)
    assert sum(0 <= d <= 90 for d in delays) >= 0.6 * len(delays)  # most done within 0-90 days of due
    for reminder in reminders:
        if reminder.source == "recall":
            appointment = reminder.source_appointment
            assert appointment.type.name == "Dental" and appointment.animal_id == reminder.animal_id
            assert reminder.due_on == reminder.type.next_due(to_local(appointment.start).date())
    first_day = today.replace(year=today.year - 10, day=min(today.day, 28))
    _assert_outbox_consistent(since=first_day)
    assert ReminderDelivery.objects.filter(followed_up_at__isnull=False).exists()

    # Again: emptied and rebuilt the same.
    before = _reminders()
    _seed("--scale", "practice", "--only", "reminders")
    assert _reminders() == before


@pytest.mark.django_db
def test_seed_demo_clinical_record_and_its_practice_scale_load(demo):
    """The demo's clinical record: a signed consultation per completed appointment (one left unsigned), the
    vaccines those visits were charged for with batches and the reminders they renewed, a few medicines, a
    radiograph and a lab report, problems; plausible weights and visit reasons. Then the practice-scale load of
    the record (``--only clinical``, bulk SQL) on the same appointments."""
    from animals.plausibility import check_vital
    from clinical.models import Attachment, Consultation, Prescription, Problem, Vaccination
    from clinical.seeding import BOOSTER_COMPONENTS, TAKE_HOME_EVERY

    today = timezone.localdate()
    completed = Appointment.objects.filter(status="completed", end__lte=timezone.now())
    consultations = Consultation.objects.filter(appointment__isnull=False)
    assert consultations.count() == completed.count() > 100
    drafts = list(Consultation.objects.filter(status="draft"))
    assert len(drafts) == 1 and drafts[0].opened_at < timezone.now() - dt.timedelta(days=1)
    for c in consultations.select_related("appointment"):
        assert c.opened_at == c.appointment.start + dt.timedelta(minutes=1)
        assert c.signed_at is None or c.signed_at > c.appointment.end
        assert c.complaint == c.appointment.reason and c.examination
    vaccinations = list(Vaccination.objects.select_related("invoice_line", "consultation"))
    assert vaccinations and all(v.invoice_line and v.invoice_line.product_id == v.product_id for v in vaccinations)
    assert all(v.batch_expiry > v.given_on and v.batch for v in vaccinations)
    renewed = Reminder.objects.filter(completed_by_vaccination__isnull=False).count()
    renewed += Reminder.objects.filter(source_vaccination__isnull=False).count()
    assert renewed >= len(vaccinations) // 2  # the reminders the visits' invoices renewed know their vaccination
    assert 1 <= Prescription.objects.count() <= 15
    assert set(Attachment.objects.values_list("content_type", flat=True)) == {"image/png", "application/pdf"}
    assert Attachment.objects.get(kind="radiograph").thumbnail
    problems = list(Problem.objects.select_related("animal"))
    assert len(problems) >= 3 and any(p.is_alert for p in problems)
    assert all(p.animal.date_of_birth <= today - dt.timedelta(days=365 * 6) for p in problems)
    # Plausible animals: every weight fits the species and breed; first vaccinations and puppy parties are for
    # the young, boosters for adults.
    for weight in Weight.objects.select_related("animal__species", "animal__breed"):
        animal = weight.animal
        check_vital(
            quantity="weight_kg", value=weight.kg, species=animal.species.name,
            breed=animal.breed.name if animal.breed else "",
        )  # fmt: skip
    for appointment in Appointment.objects.select_related("animal__species"):
        born = appointment.animal.date_of_birth
        age = (to_local(appointment.start).date() - born).days if born else None
        if appointment.reason in ("First vaccination", "Second puppy vaccination", "Puppy party"):
            assert age is not None and age < 180, (appointment.reason, age)
        if appointment.reason in ("Annual booster", "Booster"):
            assert age is None or age >= 180
        if appointment.reason in ("Second puppy vaccination", "Puppy party", "Kennel cough"):
            assert appointment.animal.species.name == "Dog"

    output = _seed("--scale", "practice", "--only", "clinical")
    assert "seed_practice_clinical" in output
    assert Consultation.objects.count() == completed.count()
    assert not Consultation.objects.filter(status="draft", opened_at__lt=timezone.now() - dt.timedelta(days=2))
    vaccine_lines = InvoiceLine.objects.filter(appointment__isnull=False, product__category="vaccine")
    assert Vaccination.objects.filter(invoice_line__isnull=False).count() == vaccine_lines.count()
    # Each booster's other components are vaccinations of their own, in the booster's price (no line of their own),
    # except one the visit charged on its own line (a kennel cough dose): that one is recorded from its line.
    charged_at: dict[int, set[str]] = {}
    for appointment_id, code in vaccine_lines.filter(quantity__gt=0).values_list("appointment_id", "product__code"):
        charged_at.setdefault(appointment_id, set()).add(code)
    components = sum(
        sum(part[0] not in charged_at[line.appointment_id] for part in BOOSTER_COMPONENTS[line.product.code])
        for line in vaccine_lines.filter(product__code__in=BOOSTER_COMPONENTS, quantity__gt=0).select_related("product")
    )
    assert components and Vaccination.objects.filter(invoice_line__isnull=True).count() == components
    assert Vaccination.objects.filter(invoice_line__isnull=True, product__code="VAC-KC").exists()
    medicine_lines = InvoiceLine.objects.filter(appointment__isnull=False, product__category="medication")
    take_home = [pk for pk in medicine_lines.values_list("pk", flat=True) if pk % TAKE_HOME_EVERY == 0]
    assert 0 < Prescription.objects.count() == len(take_home) < medicine_lines.count()
    assert Consultation.objects.filter(diagnosis_links__isnull=False).distinct().count() > completed.count() // 2
    assert Reminder.objects.exists()  # emptied with the record (they point at vaccinations) and rebuilt


# --- Interoperability: the import, the webhooks, the partner's token --------------------------------------------


@pytest.mark.django_db
def test_seed_demo_shows_an_import_two_webhooks_and_a_partner_fhir_token(demo, client):
    """Made through their services: one finished import with its report, two endpoints with sealed secrets, a
    read-only FHIR token whose secret the build printed once."""
    from exchange import seeding
    from exchange.models import ImportedRecord, ImportIssue, ImportJob, WebhookDelivery, WebhookEndpoint
    from vetpms.models import ApiToken
    from vetpms.scopes import Scopes

    # The import: dry run, then applied; its report is the counts and the two refused rows.
    job = ImportJob.objects.get()
    assert (job.source_system, job.status, job.mode) == (seeding.SOURCE_SYSTEM, "applied", "apply")
    assert job.checked_version == job.mapping_version and job.finished_at is not None
    assert (job.rows_done, job.created_count, job.error_count, job.skipped_count) == (9, 7, 2, 0)
    issues = {(i.file.filename, i.row_number, i.kind, i.column) for i in ImportIssue.objects.filter(job=job)}
    assert ("clients.csv", 5, "error", "title") in issues  # "Sir" is not a title VetPMS has
    assert {(f, n, k) for f, n, k, _c in issues} == {("clients.csv", 5, "error"), ("animals.csv", 6, "error")}
    assert ImportedRecord.objects.filter(job=job).count() == 7
    whitfield = Client.objects.get(last_name="Whitfield", first_name="Hannah")
    assert sorted(whitfield.animals.values_list("name", flat=True)) == ["Biscuit", "Mittens"]
    assert not Client.objects.filter(last_name="Tate").exists()
    assert AuditEntry.objects.filter(action="import", object_id=str(job.pk)).exists()

    # The webhooks: the secret stored only sealed (and readable by the app), one paused, nothing queued.
    endpoints = list(WebhookEndpoint.objects.order_by("pk"))
    assert [e.description for e in endpoints] == list(seeding.WEBHOOKS)
    assert [e.enabled for e in endpoints] == [True, False]
    for endpoint, (_path, event_types, _enabled) in zip(endpoints, seeding.WEBHOOKS.values(), strict=True):
        assert endpoint.event_types == sorted(event_types)
        assert endpoint.secret.startswith("whsec_") and "whsec_" not in endpoint.secret_encrypted
        assert AuditEntry.objects.filter(action="create", object_id=str(endpoint.pk)).exists()
    assert len({e.secret for e in endpoints}) == 2
    assert not WebhookDelivery.objects.exists()

    # The partner's token: only its hash is stored; FHIR reads of its types pass, other types, writes and the
    # REST API are refused.
    token = ApiToken.objects.get(name=seeding.PARTNER_APP)
    secret = next(w for w in demo.output.split() if w.startswith(ApiToken.PREFIX))
    assert token.key_hash == ApiToken.hash_secret(secret) and secret not in token.key_hash
    assert token.user.username == "vet" and token.created_by.username == "manager"
    scopes = Scopes.parse(token.scopes)
    assert scopes.allows("Patient", "read") and scopes.allows("Immunization", "read")
    assert not scopes.allows("Patient", "write") and not scopes.allows_all("read")
    auth = {"Authorization": f"Bearer {secret}"}
    biscuit = Animal.objects.get(owner=whitfield, name="Biscuit")
    patients = client.get("/fhir/R4/Patient", {"identifier": biscuit.microchip}, headers=auth)
    assert patients.status_code == 200, patients.content
    assert [e["resource"]["id"] for e in patients.json()["entry"]] == [str(biscuit.pk)]
    assert client.get("/fhir/R4/Invoice", headers=auth).status_code == 403
    assert client.get("/api/v1/clients", headers=auth).status_code == 403
