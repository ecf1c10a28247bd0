"""Reminders for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py): the practice's
reminder types with their emails, and the daily notice job's sent history (``outbox_history``).

Demo scale, through the reminder services: the five types (and which vaccines renew them, linked once the
catalogue exists, before the charges), reminders imported from the previous system, the Dental recalls and a few
closed by hand, then four weeks of the job's runs, deliveries and notices. Practice scale: about 300,000 reminders
over ten years and their sent history, written with COPY.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from appointments.seeding import HISTORY_DAYS, practice_first_day
from invoicing.seeding import services_clock
from vetpms.management.seeding.common import SeedContext, Step, insert_rows, reserve_ids

SIGN_OFF_TEXT = "Warm wishes,\nThe team at {practice_name}\n{practice_phone}"
SIGN_OFF_HTML = "<p>Warm wishes,<br>The team at {practice_name}<br>{practice_phone}</p>"


@dataclass(frozen=True)
class ReminderTypeSpec:
    """A reminder type of the demo practice: what it is for, how often, when owners hear, and its email."""

    species: tuple[str, ...]  # empty: every species
    interval: int
    unit: str
    stages: tuple[int, ...]
    products: tuple[str, ...]  # catalogue codes that renew it when invoiced
    appointment_type: str  # the appointment type whose completion recalls it ("" for none)
    subject: str
    opening: str  # the paragraph before the list of items (text; the HTML part uses the same words)
    closing: str  # the paragraph after it

    def body_text(self) -> str:
        return f"Dear {{owner_first_name}},\n\n{self.opening}\n\n{{items}}\n\n{self.closing}\n\n{SIGN_OFF_TEXT}"

    def body_html(self) -> str:
        opening, closing = f"<p>{self.opening}</p>", f"<p>{self.closing}</p>"
        return f"<p>Dear {{owner_first_name}},</p>\n{opening}\n{{items}}\n{closing}\n{SIGN_OFF_HTML}"

    def data(self, name: str) -> dict[str, Any]:
        """The fields ``reminder_type_save`` takes (species and products are linked separately)."""
        return {
            "name": name,
            "interval": self.interval,
            "interval_unit": self.unit,
            "stages": list(self.stages),
            "subject": self.subject,
            "body_text": self.body_text(),
            "body_html": self.body_html(),
            "is_active": True,
        }


# Placeholders from reminders.models.PLACEHOLDERS only. An owner with several things due gets one email written
# with the most urgent item's template, so each text reads well whatever else ``{items}`` lists.
REMINDER_TYPES: dict[str, ReminderTypeSpec] = {
    "Rabies vaccination": ReminderTypeSpec(
        species=("Dog", "Cat", "Ferret"),
        interval=12,
        unit="months",
        stages=(-14, 0, 30),
        products=("VAC-RAB",),
        appointment_type="",
        subject="Rabies vaccination due for {pets}",
        opening="A friendly reminder that it is nearly time for a rabies booster. Here is what is coming up:",
        closing="Keeping the booster on time keeps the protection, and any pet passport, valid. "
        "To book a visit, {booking_contact}.",
    ),
    "DHPP booster": ReminderTypeSpec(
        species=("Dog",),
        interval=12,
        unit="months",
        stages=(-14, 0, 30),
        products=("VAC-DHPP",),
        appointment_type="",
        subject="Booster time for {pets}",
        opening="It is time for the yearly booster against distemper, hepatitis, parvovirus and parainfluenza:",
        closing="The visit takes about fifteen minutes and includes a quick health check. To book, {booking_contact}.",
    ),
    "FeLV": ReminderTypeSpec(
        species=("Cat",),
        interval=12,
        unit="months",
        stages=(-14, 0, 30),
        products=("VAC-FELV",),
        appointment_type="",
        subject="FeLV vaccination due for {pets}",
        opening="The feline leukaemia (FeLV) vaccination comes round again soon:",
        closing="Cats who go outdoors are best kept protected without a gap. To book, {booking_contact}.",
    ),
    "Dental recheck": ReminderTypeSpec(
        species=(),
        interval=6,
        unit="months",
        stages=(-7, 0, 14),
        products=(),
        appointment_type="Dental",
        subject="Time for a dental recheck for {pets}",
        opening="At the last dental visit we suggested a quick look at teeth and gums in a few months, "
        "and that time has come:",
        closing="It is a short, gentle appointment that helps us catch problems early. To book, {booking_contact}.",
    ),
    "Annual health check": ReminderTypeSpec(
        species=(),
        interval=12,
        unit="months",
        stages=(-14, 14),
        products=(),
        appointment_type="",
        subject="An annual health check for {pets}",
        opening="It has been about a year, so a nose-to-tail health check is due:",
        closing="It is a good moment to ask us anything about diet, weight or behaviour too. "
        "To book, {booking_contact}.",
    ),
}

CANCEL_NOTES = {
    "lapsed": "No response after three reminders",
    "declined": "Owner declined",
    "deceased": "animal deceased",
    "inactive": "animal inactive",
    "owner": "owner deactivated",
}
FOLLOW_UP_NOTES = ["Rang: booked in", "Rang: will call back to book", "Left a voicemail", "Rang: seen elsewhere"]
FAILED_EMAIL = "550 5.1.1 Recipient address rejected: mailbox unavailable"


@dataclass(frozen=True)
class NoticeSource:
    """A reminder as the outbox history sees it: whose, what, when due, and the days it could be told about."""

    reminder_id: int
    client_id: int
    pet: str
    type_id: int
    due_on: dt.date
    from_day: dt.date  # the reminder existed from this day
    closed_on: dt.date | None  # completed or cancelled that day (no notice on or after it)


@dataclass(frozen=True)
class Addressee:
    """What the history needs of an owner (the attributes ``reminders.sending.channel_for`` reads)."""

    email: str
    reminder_consent: bool
    owner_name: str
    owner_first_name: str


@dataclass
class Outbox:
    runs: list[tuple] = field(default_factory=list)
    deliveries: list[tuple] = field(default_factory=list)
    notices: list[tuple] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


RUN_FIELDS = [
    "id", "trigger", "for_date", "status", "task_id", "created_at", "started_at", "finished_at", "notices_planned",
    "emails_total", "emails_sent", "emails_failed", "emails_deferred", "no_channel", "error",
]  # fmt: skip
DELIVERY_FIELDS = [
    "id", "client", "run", "channel", "status", "reason", "to_email", "subject", "message_id", "attempts",
    "claimed_at", "sent_at", "last_error", "followed_up_at", "followed_up_by", "follow_up_note", "created_at",
    "updated_at",
]  # fmt: skip
NOTICE_FIELDS = ["reminder", "stage", "send_on", "delivery", "status", "skip_reason", "created_at", "sent_at"]


def outbox_history(
    *,
    reminders: list[NoticeSource],
    addressees: dict[int, Addressee],
    types: dict[int, Any],
    first_day: dt.date,
    today: dt.date,
    rng: random.Random,
    reception_id: int,
) -> Outbox:
    """What the daily notice job would have recorded from ``first_day`` to yesterday, as rows to insert.

    One run a day at the send time; each notice whose stage day fell then, while its reminder was still open,
    grouped per owner into one delivery: an email (sent; about one in a hundred refused by the owner's mail
    server, failed), or, for owners without consent or an email address, an entry on the follow-up list (most
    older ones marked as rung). Today's notices are left for the job (``run now`` sends them). Rows are tuples
    in RUN_FIELDS / DELIVERY_FIELDS / NOTICE_FIELDS order, keys reserved from the tables' sequences.
    """
    from django.conf import settings

    from reminders.models import PLACEHOLDER, ReminderDelivery, ReminderRun
    from reminders.sending import channel_for, message_id_for
    from vetpms.timeutils import practice_tz

    tz = practice_tz()
    send_hour, send_minute = (int(part) for part in getattr(settings, "REMINDER_SEND_TIME", "07:00").split(":"))
    due: list[tuple[dt.date, int, int, int]] = []  # (send_on, client, reminder index, stage)
    for index, reminder in enumerate(reminders):
        for stage in types[reminder.type_id].stages:
            send_on = reminder.due_on + dt.timedelta(days=stage)
            if not (first_day <= send_on < today and send_on >= reminder.from_day):
                continue
            if reminder.closed_on is not None and send_on >= reminder.closed_on:
                continue
            due.append((send_on, reminder.client_id, index, stage))
    due.sort()
    days = (today - first_day).days
    outbox = Outbox()
    run_id = reserve_ids(ReminderRun, max(days, 1))
    delivery_id = reserve_ids(ReminderDelivery, max(len(due), 1))  # at most one delivery per notice
    practice = settings.PRACTICE
    position = 0
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        started = dt.datetime.combine(day, dt.time(send_hour, send_minute), tzinfo=tz).astimezone(dt.UTC)
        clock = started + dt.timedelta(seconds=2)
        planned = sent = failed = no_channel = 0
        while position < len(due) and due[position][0] == day:
            client_id = due[position][1]
            group = []
            while position < len(due) and due[position][:2] == (day, client_id):
                group.append(due[position])
                position += 1
            planned += len(group)
            owner = addressees[client_id]
            items = sorted((reminders[i] for _d, _c, i, _s in group), key=lambda r: (r.due_on, types[r.type_id].name))
            pets = list(dict.fromkeys(r.pet for r in items))
            values = {
                "pets": pets[0] if len(pets) == 1 else ", ".join(pets[:-1]) + " and " + pets[-1],
                "owner_name": owner.owner_name,
                "owner_first_name": owner.owner_first_name,
                "first_due_date": f"{items[0].due_on.day} {items[0].due_on:%B %Y}",
                "practice_name": practice["name"],
                "practice_phone": practice["phone"],
            }
            subject = _fill(PLACEHOLDER, types[items[0].type_id].subject, values)
            clock += dt.timedelta(milliseconds=rng.randint(20, 400))
            followed: dt.datetime | None = None
            sent_at: dt.datetime | None
            delivery: tuple
            channel, reason = channel_for(owner)
            if channel == "email":
                attempts, sent_at, error = 1, clock, ""
                if rng.random() < 0.01:  # a permanent rejection: failed at once, not retried
                    status, notice_status, sent_at, error = "failed", "failed", None, FAILED_EMAIL
                    failed += 1
                else:
                    status, notice_status = "sent", "sent"
                    if rng.random() < 0.03:  # a temporary failure first, sent on the retry
                        attempts, sent_at = 2, clock + dt.timedelta(minutes=5)
                    sent += 1
                stamp = message_id_for(delivery_id, clock) if sent_at else ""
                subject = subject if sent_at else ""  # the job records the subject it sent
                delivery = (delivery_id, client_id, run_id, "email", status, "", owner.email, subject, stamp,
                            attempts, clock, sent_at, error, None, None, "", clock, sent_at or clock)  # fmt: skip
            else:
                status = notice_status = "no_channel"
                no_channel += 1
                sent_at = None
                note = ""
                if (today - day).days > 21 and rng.random() < 0.8:
                    followed = clock + dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(1, 6))
                    note = rng.choice(FOLLOW_UP_NOTES)
                rung_by = reception_id if followed else None
                delivery = (delivery_id, client_id, run_id, "none", status, reason, "", "", "", 0, None, None,
                            "", followed, rung_by, note, clock, followed or clock)  # fmt: skip
            outbox.deliveries.append(delivery)
            for _d, _c, index, stage in group:
                outbox.notices.append(
                    (reminders[index].reminder_id, stage, day, delivery_id, notice_status, "", started, sent_at)
                )
            delivery_id += 1
        emails = sent + failed
        outbox.runs.append(
            (run_id, "schedule", day, "finished", "", started, started + dt.timedelta(seconds=1),
             clock + dt.timedelta(seconds=1), planned, emails, sent, failed, 0, no_channel, "")
        )  # fmt: skip
        run_id += 1
    outbox.counts = {"reminder runs": len(outbox.runs), "deliveries": len(outbox.deliveries)}
    outbox.counts["notices"] = len(outbox.notices)
    return outbox


def _fill(pattern: Any, template: str, values: dict[str, str]) -> str:
    """A subject line as the job renders it (the placeholders it can fill from what the history knows)."""
    return pattern.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def write_outbox(outbox: Outbox) -> None:
    from reminders.models import ReminderDelivery, ReminderNotice, ReminderRun

    insert_rows(ReminderRun, RUN_FIELDS, outbox.runs)
    for start in range(0, len(outbox.deliveries), 50_000):
        insert_rows(ReminderDelivery, DELIVERY_FIELDS, outbox.deliveries[start : start + 50_000])
    for start in range(0, len(outbox.notices), 50_000):
        insert_rows(ReminderNotice, NOTICE_FIELDS, outbox.notices[start : start + 50_000])


# --- Demo scale -------------------------------------------------------------------------------------------------------

VACCINE_TYPE = {"Dog": "DHPP booster", "Cat": "FeLV", "Ferret": "Rabies vaccination"}
# Due dates of the reminders brought over from the previous system, from today: (first, last day, weight).
DUE_SPREAD = [(-75, -1, 22), (0, 14, 22), (15, 60, 16), (61, 330, 40)]
HAND_COMPLETED = ["Checked over during another visit", "Given at another practice while on holiday"]
HAND_CANCELLED = [
    "Owner declined: keeps to a three-yearly schedule",
    "Owner asked us to hold off for now",
    "Seen at another practice while away",
]


def seed_reminder_types(ctx: SeedContext) -> None:
    """The five reminder types with their email templates, through ``reminder_type_save`` as the manager. The
    Dental recheck is the Dental appointment type's recall (created through the appointments service if the
    book has no such type)."""
    from animals.models import Species
    from appointments.models import AppointmentType
    from appointments.services import appointment_type_save
    from reminders.services import reminder_type_save

    manager = ctx.staff["manager"]
    species = {s.name: s for s in Species.objects.all()}
    for name, spec in REMINDER_TYPES.items():
        data = spec.data(name)
        if spec.appointment_type:
            linked = (
                ctx.types.get(spec.appointment_type)
                or AppointmentType.objects.filter(name=spec.appointment_type).first()
            )
            if linked is None:
                linked = appointment_type_save(
                    by=manager,
                    data={
                        "name": spec.appointment_type,
                        "default_minutes": 60,
                        "colour": "#8e44ad",
                        "recall_name": name,
                        "recall_interval": spec.interval,
                        "recall_unit": spec.unit,
                        "is_active": True,
                    },
                )
            data["appointment_type"] = linked
        ctx.reminder_types[name] = reminder_type_save(by=manager, data=data, species=[species[s] for s in spec.species])
    ctx.counts["reminder types"] = len(ctx.reminder_types)


def _spread(ctx: SeedContext) -> dt.date:
    low, high, _weight = ctx.rng.choices(DUE_SPREAD, weights=[w for _l, _h, w in DUE_SPREAD])[0]
    return ctx.today + dt.timedelta(days=ctx.rng.randint(low, high))


def seed_imported_reminders(ctx: SeedContext) -> None:
    """What the previous system knew, through ``reminder_create`` (source: import), before the charges: a
    booster due around each vaccination visit of the past weeks (charging the visit completes it and creates the
    next), and for the other pets boosters, rabies for travellers and health checks due from ten weeks ago to
    next year. A few are due exactly when today's run tells their owners (14 days ahead, today, 30 days ago), for
    owners with and without an email channel, so "run now" has something to send and something to phone."""
    from animals.models import Animal
    from appointments.models import Appointment
    from reminders.services import reminder_create
    from vetpms.timeutils import to_local

    vaccinated: dict[int, dt.date] = {}
    visits = Appointment.objects.filter(status="completed", type__name="Vaccination").order_by("start", "pk")
    for animal_id, start in visits.values_list("animal_id", "start"):
        vaccinated.setdefault(animal_id, to_local(start).date())
    pets = Animal.objects.filter(
        pk__in=[a.pk for a in ctx.animals], is_active=True, deceased_on__isnull=True, owner__is_active=True
    ).select_related("species", "owner")
    plans: list[tuple[Any, str, dt.date]] = []
    anchors: list[tuple[bool, dt.date]] = [
        (True, ctx.today + dt.timedelta(days=14)),
        (True, ctx.today),
        (False, ctx.today + dt.timedelta(days=14)),
        (True, ctx.today - dt.timedelta(days=30)),
        (False, ctx.today),
    ]
    for pet in pets.order_by("pk"):
        kind, vaccine = pet.species.name, VACCINE_TYPE.get(pet.species.name)
        if vaccine and pet.pk in vaccinated:
            plans.append((pet, vaccine, vaccinated[pet.pk] - dt.timedelta(days=ctx.rng.randint(-14, 40))))
        elif vaccine and ctx.rng.random() < 0.8:
            emailable = bool(pet.owner.reminder_consent and pet.owner.email)
            anchor = next((a for a in anchors if a[0] == emailable), None)
            if anchor is not None:
                anchors.remove(anchor)
            plans.append((pet, vaccine, anchor[1] if anchor else _spread(ctx)))
        if kind in ("Dog", "Cat") and ctx.rng.random() < 0.12:
            plans.append((pet, "Rabies vaccination", _spread(ctx)))
        if ctx.rng.random() < 0.45:
            plans.append((pet, "Annual health check", _spread(ctx)))
    for pet, name, due in plans:
        reminder_create(
            animal=pet, reminder_type=ctx.reminder_types[name], due_on=due, by=ctx.staff["reception"], source="import"
        )
    ctx.counts["imported reminders"] = len(plans)


def seed_reminder_activity(ctx: SeedContext) -> None:
    """After the charges (whose vaccines completed and renewed reminders through the invoicing hook): the recalls
    of the completed Dental appointments, through the hook's own function (the history was bulk-inserted, so no
    status change fired it), and a few reminders completed and cancelled by hand, dated a few days after due."""
    from appointments.models import Appointment
    from reminders.models import Reminder
    from reminders.services import recall_from_appointment, reminder_cancel, reminder_complete

    dental = Appointment.objects.filter(status="completed", type__reminder_type__isnull=False)
    recalls = 0
    for appointment in dental.select_related("type", "vet__user").order_by("start", "pk"):
        recalls += recall_from_appointment(appointment=appointment, by=appointment.vet.user) is not None
    overdue = list(
        Reminder.objects.filter(status="pending", source="import", due_on__lt=ctx.today - dt.timedelta(days=3))
        .exclude(due_on=ctx.today - dt.timedelta(days=30))  # kept for today's run
        .order_by("due_on", "pk")
    )
    ctx.rng.shuffle(overdue)
    reception = ctx.staff["reception"]
    closing = [(reminder_complete, note) for note in HAND_COMPLETED] + [(reminder_cancel, n) for n in HAND_CANCELLED]
    for reminder, (service, note) in zip(overdue, closing, strict=False):
        day = min(ctx.today, reminder.due_on + dt.timedelta(days=ctx.rng.randint(2, 12)))
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(ctx.rng.randint(9, 16), ctx.rng.randint(0, 59))))
        with services_clock(min(at, timezone.now())):
            service(reminder=reminder, by=reception, note=note)
    ctx.counts["recalls"] = recalls


def seed_reminder_history(ctx: SeedContext) -> None:
    """The daily job's record of the past four weeks (runs, one delivery per owner and day, a notice per
    reminder stage), as it would have written it: the job itself sends only for today and would email the demo
    owners, so the history is inserted. Today's notices are left for the job ("run now" on the reminders page)."""
    from clients.models import Client
    from reminders.models import Reminder
    from vetpms.timeutils import to_local

    sources = [
        NoticeSource(pk, owner, pet, type_id, due, dt.date.min, to_local(closed).date() if closed else None)
        for pk, owner, pet, type_id, due, closed in Reminder.objects.order_by("pk").values_list(
            "pk", "animal__owner_id", "animal__name", "type_id", "due_on", "closed_at"
        )
    ]
    addressees = {
        c.pk: Addressee(c.email, c.reminder_consent, c.display_name, c.first_name or c.display_name)
        for c in Client.objects.all()
    }
    outbox = outbox_history(
        reminders=sources,
        addressees=addressees,
        types={t.pk: t for t in ctx.reminder_types.values()},
        first_day=ctx.today - dt.timedelta(days=HISTORY_DAYS),
        today=ctx.today,
        rng=ctx.rng,
        reception_id=ctx.staff["reception"].pk,
    )
    write_outbox(outbox)
    ctx.counts["reminders"] = Reminder.objects.count()
    ctx.counts.update(outbox.counts)


def seed_reminder_products(ctx: SeedContext) -> None:
    """The vaccines renew their reminder types when invoiced (``reminder_type_save`` with the products, as the
    manager's type editor does). Linked before the charges, so finalising the demo's vaccinations completes and
    renews reminders through the real hook."""
    from reminders.services import reminder_type_save

    links = 0
    for name, spec in REMINDER_TYPES.items():
        if name not in ctx.reminder_types or not spec.products:
            continue  # --skip reminders, or a type no product renews
        products = [ctx.products[code] for code in spec.products]
        reminder_type_save(by=ctx.staff["manager"], data={}, reminder_type=ctx.reminder_types[name], products=products)
        links += len(products)
    ctx.counts["vaccines renewing reminders"] = links


# --- Practice scale ---------------------------------------------------------------------------------------------------

# Which animals are on which reminder: species -> [(type, share of the animals of that species)]; Dental rechecks
# come from the completed dental appointments (their recall), not from a share.
REMINDER_SHARES: dict[str, list[tuple[str, float]]] = {
    "Dog": [("DHPP booster", 0.55), ("Rabies vaccination", 0.08), ("Annual health check", 0.25)],
    "Cat": [("FeLV", 0.45), ("Rabies vaccination", 0.05), ("Annual health check", 0.2)],
    "Ferret": [("Rabies vaccination", 0.8), ("Annual health check", 0.3)],
}
OTHER_SPECIES_SHARES = [("Annual health check", 0.15)]
LAPSE_CHANCE = 0.05  # no response after the notices: cancelled a few months after the due date
DECLINE_CHANCE = 0.015  # the owner declined: cancelled, and that type stops for the animal
RESTART_CHANCE = 0.4  # a lapsed owner comes back later and the reminders start again
# Days from due to done for the completed ones: most within 0-90 days, some early, a few very late.
DELAYS = [((-14, -1), 15), ((0, 30), 50), ((31, 90), 28), ((91, 180), 7)]
REMINDER_FIELDS = [
    "id", "animal", "type", "due_on", "status", "source", "source_appointment", "closed_at", "closed_by", "note",
    "created_at", "updated_at",
]  # fmt: skip


def seed_practice_reminder_types(ctx: SeedContext) -> None:
    """The five reminder types of the demo (validated as the service would), their vaccine products, and the
    Dental appointment type's recall."""
    from animals.models import Species
    from appointments.models import AppointmentType
    from invoicing.models import Product
    from reminders.models import ProductReminder, ReminderType

    species = {s.name: s for s in Species.objects.all()}
    products = {
        p.code: p for p in Product.objects.filter(code__in=[c for t in REMINDER_TYPES.values() for c in t.products])
    }
    links = []
    for name, spec in REMINDER_TYPES.items():
        reminder_type = ReminderType(**spec.data(name))
        if spec.appointment_type:
            reminder_type.appointment_type = (
                AppointmentType.objects.filter(name=spec.appointment_type).first()
                or AppointmentType.objects.create(
                    name=spec.appointment_type, default_minutes=60, recall_name=name, recall_interval=spec.interval,
                    recall_unit=spec.unit,
                )
            )  # fmt: skip
        reminder_type.full_clean()
        reminder_type.save()
        reminder_type.species.set([species[s] for s in spec.species])
        links += [
            ProductReminder(product=products[c], reminder_type=reminder_type) for c in spec.products if c in products
        ]
        ctx.reminder_types[name] = reminder_type
    ProductReminder.objects.bulk_create(links)
    ctx.counts["reminder types"] = len(ctx.reminder_types)


@dataclass
class _Pet:
    pk: int
    owner: int
    name: str
    species: str
    joined: dt.date  # first day the practice could remind about it
    stop: dt.date | None  # died, left or deactivated that day
    stop_note: str


def _pets(ctx: SeedContext) -> list[_Pet]:
    from animals.models import Animal

    first = practice_first_day(ctx)
    pets = []
    rows = Animal.objects.order_by("pk").values_list(
        "pk", "owner_id", "name", "species__name", "date_of_birth", "deceased_on", "is_active", "owner__is_active"
    )
    for pk, owner, name, kind, born, died, active, owner_active in rows.iterator(chunk_size=10_000):
        joined = max(first, (born or first) + dt.timedelta(days=60))
        if joined > ctx.today:
            continue  # too young for reminders yet
        stop, note = None, ""
        if died is not None:
            stop, note = died, CANCEL_NOTES["deceased"]
        elif not active or not owner_active:
            # they left at some point of the ten years: the day they were marked inactive is not recorded
            stop = ctx.today - dt.timedelta(days=ctx.rng.randint(0, 3000))
            note = CANCEL_NOTES["inactive" if owner_active else "owner"]
        if stop is not None and stop < joined:
            stop = joined if joined <= ctx.today else None
            if stop is None:
                continue
        pets.append(_Pet(pk, owner, name, kind, joined, stop, note))
    return pets


class _Chain:
    """Writes one (animal, type) history: each reminder done (or not) and the next one due an interval later."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.next_id = 0  # keys counted from 0, then moved onto the range reserved for them (``place``)
        self.rows: list[tuple] = []
        self.sources: list[NoticeSource] = []
        self.reception = ctx.staff["reception"].pk
        self.tz = practice_tz_cached()
        self.delay_ranges, self.delay_weights = zip(*DELAYS, strict=True)

    def at(self, day: dt.date, hour: int | None = None) -> dt.datetime:
        hour = self.rng.randint(9, 17) if hour is None else hour
        return dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 59)), tzinfo=self.tz).astimezone(dt.UTC)

    def add(
        self,
        pet: _Pet,
        rtype: Any,
        due: dt.date,
        created: dt.date,
        source: str,
        *,
        outcome: str,
        closed: dt.date | None,
        note: str = "",
        appointment: int | None = None,
    ) -> None:
        created_at = self.at(created, 8 if source == "import" else None)
        closed_at = None if closed is None else max(created_at, self.at(closed))
        # An invoiced vaccine completes it without a person (the line itself is not matched at this scale).
        by_hand = outcome == "cancelled" or (outcome == "completed" and source != "invoice")
        self.rows.append(
            (self.next_id, pet.pk, rtype.pk, due, outcome, source, appointment, closed_at,
             self.reception if by_hand else None, note, created_at, closed_at or created_at)
        )  # fmt: skip
        self.sources.append(NoticeSource(self.next_id, pet.owner, pet.name, rtype.pk, due, created, closed))
        self.next_id += 1

    def place(self, first_id: int) -> None:
        """Give the rows the keys ``first_id`` onwards (reserved once their number is known)."""
        self.rows = [(first_id + row[0], *row[1:]) for row in self.rows]
        self.sources = [replace(s, reminder_id=first_id + s.reminder_id) for s in self.sources]

    def outcome(self, due: dt.date) -> tuple[str, dt.date, str]:
        roll = self.rng.random()
        if roll < LAPSE_CHANCE:
            return "lapsed", due + dt.timedelta(days=self.rng.randint(45, 150)), CANCEL_NOTES["lapsed"]
        if roll < LAPSE_CHANCE + DECLINE_CHANCE:
            return "declined", due + dt.timedelta(days=self.rng.randint(-20, 20)), CANCEL_NOTES["declined"]
        low, high = self.rng.choices(self.delay_ranges, weights=self.delay_weights)[0]
        return "completed", due + dt.timedelta(days=self.rng.randint(low, high)), ""

    def close(self, pet: _Pet, rtype, due: dt.date, created: dt.date, source: str, appointment: int | None = None):
        """Add one reminder; returns the day it was closed (None while pending, or when the animal stopped)."""
        today = self.ctx.today
        fate, day, note = self.outcome(due)
        day = max(day, created)
        if pet.stop is not None and day >= pet.stop:
            self.add(pet, rtype, due, created, source, outcome="cancelled", closed=pet.stop, note=pet.stop_note,
                     appointment=appointment)  # fmt: skip
            return None, "stopped"
        if day > today:
            self.add(pet, rtype, due, created, source, outcome="pending", closed=None, appointment=appointment)
            return None, "pending"
        status = "completed" if fate == "completed" else "cancelled"
        self.add(pet, rtype, due, created, source, outcome=status, closed=day, note=note, appointment=appointment)
        return day, fate

    def chain(self, pet: _Pet, rtype, renewing_source: str) -> None:
        first = practice_first_day(self.ctx)
        created = pet.joined
        due = created + dt.timedelta(days=self.rng.randint(0, 365))
        source = "import" if created == first else renewing_source
        while True:
            closed, fate = self.close(pet, rtype, due, created, source)
            if closed is None or fate == "declined":
                return
            if fate == "lapsed":
                if self.rng.random() >= RESTART_CHANCE:
                    return
                created = closed + dt.timedelta(days=self.rng.randint(60, 400))
                if created >= self.ctx.today or (pet.stop is not None and created >= pet.stop):
                    return
                due, source = rtype.next_due(created), renewing_source
                continue
            created, due, source = closed, rtype.next_due(closed), renewing_source


def practice_tz_cached():
    from vetpms.timeutils import practice_tz

    return practice_tz()


def seed_reminders(ctx: SeedContext) -> None:
    """About 300,000 reminders over ten years (DESIGN.md section 5), and the notices the daily job sent.

    Per animal and type a chain: each reminder completed (most within 0-90 days of its due date) or cancelled
    (no response, declined), the next one due an interval after it was done; the open one is pending when it
    reaches today, or cancelled on the day the animal died, left or its owner was deactivated, so an animal never
    has two pending reminders of a type and retired animals have none. Vaccines renew from invoices, health
    checks by hand, dental rechecks are the recalls of the completed Dental appointments. Then ten years of the
    sent history (``outbox_history``). Written with COPY; keys reserved from the sequences.
    """
    from appointments.models import Appointment
    from clients.models import Client
    from reminders.models import Reminder

    started = time.perf_counter()
    if not ctx.reminder_types:
        from reminders.models import ReminderType

        ctx.reminder_types = {t.name: t for t in ReminderType.objects.prefetch_related("species")}
    types = ctx.reminder_types
    renewed = {name: "invoice" if spec.products else "manual" for name, spec in REMINDER_TYPES.items()}
    pets = _pets(ctx)
    writer = _Chain(ctx)
    for pet in pets:
        for name, share in REMINDER_SHARES.get(pet.species, OTHER_SPECIES_SHARES):
            if ctx.rng.random() < share:
                writer.chain(pet, types[name], renewed[name])
    recall = types["Dental recheck"]
    by_pk = {pet.pk: pet for pet in pets}
    dental = Appointment.objects.filter(
        status="completed", type=recall.appointment_type_id, end__lte=timezone.now()
    ).order_by("start", "pk")
    open_until: dict[int, dt.date | None] = {}  # the day each animal's last recall closed (None: still open)
    tz = practice_tz_cached()
    for pk, animal, start in dental.values_list("pk", "animal_id", "start").iterator(chunk_size=10_000):
        patient, day = by_pk.get(animal), start.astimezone(tz).date()
        if patient is None or day < patient.joined or (patient.stop is not None and day >= patient.stop):
            continue
        if animal in open_until and (open_until[animal] is None or open_until[animal] > day):
            continue  # a recheck is still pending: the hook creates none
        closed, _fate = writer.close(patient, recall, recall.next_due(day), day, "recall", appointment=pk)
        open_until[animal] = closed
    writer.place(reserve_ids(Reminder, len(writer.rows)))
    for start in range(0, len(writer.rows), 50_000):
        with transaction.atomic():
            insert_rows(Reminder, REMINDER_FIELDS, writer.rows[start : start + 50_000])
    elapsed = time.perf_counter() - started
    ctx.out.write(f"  reminders: {len(writer.rows):,} rows in {elapsed:.0f} s\n")

    addressees = {
        c.pk: Addressee(c.email, c.reminder_consent, c.display_name, c.first_name or c.display_name)
        for c in Client.objects.only("title", "first_name", "last_name", "organisation", "email", "reminder_consent")
    }
    outbox = outbox_history(
        reminders=writer.sources,
        addressees=addressees,
        types={t.pk: t for t in types.values()},
        first_day=practice_first_day(ctx),
        today=ctx.today,
        rng=ctx.rng,
        reception_id=ctx.staff["reception"].pk,
    )
    with transaction.atomic():
        write_outbox(outbox)
    statuses: dict[str, int] = {}
    for row in writer.rows:
        statuses[row[4]] = statuses.get(row[4], 0) + 1
    ctx.out.write(
        f"  reminder history: {outbox.counts['notices']:,} notices in {outbox.counts['deliveries']:,} deliveries, "
        f"{outbox.counts['reminder runs']:,} runs ({time.perf_counter() - started - elapsed:.0f} s); "
        + ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))
        + "\n"
    )
    ctx.counts["reminders"] = len(writer.rows)
    ctx.counts.update(outbox.counts)


# seed_reminder_products is not among DEMO_STEPS: it needs the catalogue and goes with the invoicing steps.
DEMO_STEPS: list[Step] = [seed_reminder_types, seed_imported_reminders, seed_reminder_activity, seed_reminder_history]
PRACTICE_STEPS: list[Step] = [seed_practice_reminder_types, seed_reminders]
