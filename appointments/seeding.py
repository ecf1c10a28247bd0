"""Appointment books for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py): the
appointment types, the vets' weeks and leave, and the appointments with reasons that fit each animal.

Demo scale: types, hours and leave through the managers' services; four past weeks bulk-inserted with their
status events (``appointment_book`` refuses the past); today and the next two weeks booked through
``appointment_book``. Practice scale: ten years and eight weeks ahead for ten vets (about 600,000 appointments),
bulk-inserted.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from vetpms.management.seeding.common import SeedContext, Step, bulk

# name -> (minutes, colour, recall name, recall interval, recall unit, share of bookings)
APPOINTMENT_TYPES: dict[str, tuple[int, str, str, int | None, str, float]] = {
    "Consultation": (15, "#2f6fdb", "", None, "", 0.55),
    "Vaccination": (15, "#2e9d5b", "", None, "", 0.18),
    "Dental": (60, "#8e44ad", "Dental recheck", 6, "months", 0.03),
    "Surgery admit": (30, "#d64541", "", None, "", 0.05),
    "Post-op check": (10, "#e6a117", "", None, "", 0.08),
    "Nurse clinic": (20, "#17a2a2", "", None, "", 0.11),
}

REASONS: dict[str, list[str]] = {
    "Consultation": [
        "Limping on the left hind",
        "Itchy ears",
        "Vomiting since yesterday",
        "Off food",
        "Lump on the chest",
        "Skin rash",
        "Coughing",
        "Diarrhoea",
        "Sore eye",
        "Drinking a lot",
        "Second opinion",
        "Weight loss",
    ],
    "Vaccination": ["Annual booster", "First vaccination", "Second puppy vaccination", "Kennel cough", "Booster"],
    "Dental": ["Scale and polish", "Broken tooth", "Dental under GA", "Bad breath, tartar"],
    "Surgery admit": ["Neutering", "Lump removal", "Spay", "Castration", "Dental extractions"],
    "Post-op check": ["Wound check", "Stitches out", "Post-op check", "Bandage change"],
    "Nurse clinic": ["Weight clinic", "Nail clip", "Flea and worm advice", "Anal glands", "Puppy party", "Bloods"],
}

YOUNG_ONLY = {"First vaccination", "Second puppy vaccination", "Puppy party"}
ADULT_ONLY = {"Annual booster", "Booster", "Weight clinic", "Dental extractions"}
DOGS_ONLY = {"Second puppy vaccination", "Puppy party", "Kennel cough"}
YOUNG_DAYS = 180


def reason_for(rng: random.Random, type_name: str, *, species: str, sex: str, age_in_days: int | None) -> str:
    """A reason for a visit of ``type_name`` that fits the animal: first vaccinations and puppy parties for the
    young, boosters for adults, kennel cough for dogs, a spay for a female and a castration for a male."""
    young = age_in_days is not None and age_in_days < YOUNG_DAYS

    def fits(reason: str) -> bool:
        if reason in DOGS_ONLY and species != "Dog":
            return False
        if reason in YOUNG_ONLY:
            return young
        if reason in ADULT_ONLY:
            return not young
        if reason == "Spay":
            return sex == "female"
        if reason == "Castration":
            return sex == "male"
        return True

    options = REASONS[type_name]
    return rng.choice([r for r in options if fits(r)] or options)


CANCEL_REASONS = [
    "Owner rang to cancel",
    "Pet is better",
    "Owner unwell",
    "Rebooked for another day",
    "Car broke down",
]

# A vet's regular week: mornings and afternoons Monday to Friday; one vet also works Saturday mornings.
WEEKDAY_SESSIONS = [(dt.time(8, 30), dt.time(12, 30)), (dt.time(13, 30), dt.time(18, 0))]
SATURDAY_SESSION = (dt.time(9, 0), dt.time(12, 30))


def week_sessions(*, saturday: bool) -> list[tuple[int, dt.time, dt.time]]:
    """(weekday, start, end) rows of a vet's regular week, as ``working_hours_set`` takes them."""
    rows = [(day, start, end) for day in range(5) for start, end in WEEKDAY_SESSIONS]
    if saturday:
        rows.append((5, *SATURDAY_SESSION))
    return rows


def type_deck(rng: random.Random) -> Callable[[], str]:
    """A function drawing appointment type names in the practice's mix."""
    type_names = list(APPOINTMENT_TYPES)
    weights = [APPOINTMENT_TYPES[name][5] for name in type_names]
    return lambda: rng.choices(type_names, weights=weights)[0]


@contextmanager
def historic_timestamps() -> Iterator[None]:
    """Let bulk inserts of past appointments carry their own created/updated times and event times.

    ``auto_now``/``auto_now_add`` would stamp every row with the moment of seeding; a history booked weeks ago
    should say so. Switched off for the block only (the seeder is a command, not a web process).
    """
    from appointments.models import Appointment, AppointmentEvent

    fields = [
        Appointment._meta.get_field("created_at"),
        Appointment._meta.get_field("updated_at"),
        AppointmentEvent._meta.get_field("at"),
    ]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# --- Demo scale -------------------------------------------------------------------------------------------------------

HISTORY_DAYS = 28  # four past weeks, bulk-inserted with their status events
FUTURE_DAYS = 14  # today and the next two weeks, booked through appointment_book
# Walking through each session, the next stretch is an appointment with this chance, else a 15-minute gap:
# about 60% of the working hours end up booked (the seeder prints what it got).
DEMO_BOOKED_CHANCE = 0.63
GAP = dt.timedelta(minutes=15)


def seed_book_setup(ctx: SeedContext) -> None:
    """Appointment types, both vets' working hours, a week of leave, through the managers' services."""
    from appointments.models import BookException
    from appointments.services import appointment_type_save, book_exception_add, working_hours_set

    manager = ctx.staff["manager"]
    for name, (minutes, hex_colour, recall, interval, unit, _share) in APPOINTMENT_TYPES.items():
        data = {
            "name": name,
            "default_minutes": minutes,
            "colour": hex_colour,
            "recall_name": recall,
            "recall_interval": interval,
            "recall_unit": unit,
            "is_active": True,
        }
        ctx.types[name] = appointment_type_save(by=manager, data=data)
    ctx.vets = [ctx.staff["vet"].vet, ctx.staff["vet2"].vet]
    for n, vet in enumerate(ctx.vets):
        working_hours_set(vet=vet, sessions=week_sessions(saturday=n == 0), by=manager)

    # The second vet's annual leave: Monday to Friday of the week after next, so the booked fortnight shows it.
    leave_monday = ctx.today + dt.timedelta(days=14 - ctx.today.weekday())
    for offset in range(5):
        book_exception_add(
            vet=ctx.vets[1],
            by=manager,
            date=leave_monday + dt.timedelta(days=offset),
            kind=BookException.Kind.LEAVE,
            note="Annual leave",
        )
    # Built on a weekend, the demo would open on an empty book: a weekend clinic for whoever is not working today.
    if ctx.today.weekday() >= 5:
        for n, vet in enumerate(ctx.vets):
            if not (n == 0 and ctx.today.weekday() == 5):
                book_exception_add(
                    vet=vet,
                    by=manager,
                    date=ctx.today,
                    kind=BookException.Kind.EXTRA,
                    start_time=dt.time(9),
                    end_time=dt.time(13),
                    note="Weekend clinic",
                )
    ctx.counts["appointment types"] = len(ctx.types)


@dataclass
class Planned:
    """One appointment of the demo book, with every random draw made up front: the book depends on the seed and
    the date only, whatever the time of day it is built (which decides only what is history and what is booked)."""

    vet: Any
    type_name: str
    start: dt.datetime
    end: dt.datetime
    animal: Any
    reason: str
    fate: float  # past: completed / no-show / cancelled; future: confirmed / cancelled
    roll: float  # a second draw: confirmed the day before (past), where in the lead time a cancellation fell
    lead_days: int  # how long before the start it was booked


def _plan(ctx: SeedContext, days: list[dt.date]) -> list[Planned]:
    from animals.models import Animal
    from appointments.selectors import sessions_for

    bookable = list(
        Animal.objects.filter(
            pk__in=[a.pk for a in ctx.animals], is_active=True, deceased_on__isnull=True, owner__is_active=True
        )
        .select_related("owner", "species")
        .order_by("pk")
    )
    next_type = type_deck(ctx.rng)
    plan: list[Planned] = []
    for day in days:
        patients = bookable[:]  # nobody comes twice on one day
        ctx.rng.shuffle(patients)
        sessions = sessions_for(vets=ctx.vets, day=day)
        for vet in ctx.vets:
            for session_start, session_end in sessions[vet.pk]:
                at = session_start
                while patients:
                    name = next_type()
                    end = at + dt.timedelta(minutes=APPOINTMENT_TYPES[name][0])
                    if end > session_end:
                        break
                    if ctx.rng.random() >= DEMO_BOOKED_CHANCE:
                        at += GAP
                        continue
                    patient = patients.pop()
                    born = patient.date_of_birth
                    plan.append(
                        Planned(
                            vet=vet,
                            type_name=name,
                            start=at,
                            end=end,
                            animal=patient,
                            reason=reason_for(
                                ctx.rng,
                                name,
                                species=patient.species.name,
                                sex=patient.sex,
                                age_in_days=(day - born).days if born else None,
                            ),
                            fate=ctx.rng.random(),
                            roll=ctx.rng.random(),
                            lead_days=ctx.rng.randint(1, 21),
                        )
                    )
                    at = end
    return plan


def _history_events(p: Planned, *, now: dt.datetime, staff: dict[str, Any]) -> list[tuple[dt.datetime, Any, str]]:
    """The status moves of a past appointment as (at, by, to status), those after ``now`` left out."""
    reception, vet_user = staff["reception"], p.vet.user
    created = p.start - dt.timedelta(days=p.lead_days, minutes=int(p.roll * 480))
    events = [(created, reception, "booked")]
    if p.fate >= 0.92:  # cancelled (8%), somewhere between the booking and the day
        events.append((created + (p.start - created) * (0.3 + 0.6 * p.roll), reception, "cancelled"))
    else:
        if p.roll < 0.6 and p.lead_days >= 2:
            events.append((p.start - dt.timedelta(days=1), reception, "confirmed"))
        if p.fate >= 0.88:  # no-show (4%)
            events.append((p.start + dt.timedelta(minutes=30), reception, "no_show"))
        else:  # completed (88%)
            events += [
                (p.start - dt.timedelta(minutes=5), reception, "arrived"),
                (p.start, vet_user, "in_consultation"),
                (p.end, vet_user, "completed"),
            ]
    return [e for e in events if e[0] <= now]


def seed_appointment_history(ctx: SeedContext) -> None:
    """The past four weeks and the part of today already gone, with their status events.

    ``appointment_book`` refuses the past, so these rows are bulk-inserted together with their AppointmentEvent rows
    (booked, confirmed, arrived, in consultation, completed / no-show / cancelled), each with the time it happened,
    so the appointment pages and the status history agree. No audit entries are written for them. Everything from
    now on is left in ``ctx.planned`` for ``seed_appointment_book``.
    """
    from appointments.models import Appointment, AppointmentEvent

    days = [ctx.today + dt.timedelta(days=d) for d in range(-HISTORY_DAYS, FUTURE_DAYS + 1)]
    plan = _plan(ctx, days)
    now = timezone.now()
    cutoff = now + dt.timedelta(minutes=2)  # leaves the service time to book what starts very soon
    ctx.planned = [p for p in plan if p.start >= cutoff]
    past = [p for p in plan if p.start < cutoff]

    appointments, chains = [], []
    for p in past:
        chain = _history_events(p, now=now, staff=ctx.staff)
        status = chain[-1][2]
        appointments.append(
            Appointment(
                animal=p.animal,
                client_id=p.animal.owner_id,  # the owner at booking time
                vet=p.vet,
                type=ctx.types[p.type_name],
                start=p.start,
                end=p.end,
                reason=p.reason,
                status=status,
                cancel_reason=CANCEL_REASONS[int(p.roll * len(CANCEL_REASONS))] if status == "cancelled" else "",
                booked_by=ctx.staff["reception"],
                created_at=chain[0][0],
                updated_at=chain[-1][0],
            )
        )
        chains.append(chain)
    with historic_timestamps():
        Appointment.objects.bulk_create(appointments)
        events = []
        for appointment, chain in zip(appointments, chains, strict=True):
            previous = ""
            for at, by, to in chain:
                note = appointment.cancel_reason if to == "cancelled" else ""
                events.append(
                    AppointmentEvent(
                        appointment=appointment, at=at, by=by, from_status=previous, to_status=to, note=note
                    )
                )
                previous = to
        AppointmentEvent.objects.bulk_create(events)
    ctx.counts["past appointments"] = len(appointments)
    ctx.counts["status events"] = len(events)


def seed_appointment_book(ctx: SeedContext) -> None:
    """From now to two weeks ahead, booked through ``appointment_book`` (hours, clashes and audit as at the desk);
    the next two days mostly confirmed and a few cancellations, through ``appointment_transition``."""
    from appointments.services import appointment_book, appointment_transition
    from vetpms.timeutils import to_local

    reception = ctx.staff["reception"]
    booked_minutes = 0.0
    for p in ctx.planned:
        appointment = appointment_book(
            animal=p.animal, vet=p.vet, type=ctx.types[p.type_name], start=p.start, by=reception, reason=p.reason
        )
        days_ahead = (to_local(p.start).date() - ctx.today).days
        if p.fate >= 0.97:
            note = CANCEL_REASONS[int(p.roll * len(CANCEL_REASONS))]
            appointment_transition(appointment=appointment, to="cancelled", by=reception, note=note)
            continue
        if (days_ahead <= 2 and p.fate < 0.7) or p.fate < 0.15:
            appointment_transition(appointment=appointment, to="confirmed", by=reception)
        booked_minutes += (p.end - p.start).total_seconds() / 60
    ctx.counts["booked appointments"] = len(ctx.planned)
    ctx.out.write(f"  future book: {_occupancy(ctx, booked_minutes):.0%} of the vets' open hours booked\n")


def _occupancy(ctx: SeedContext, booked_minutes: float) -> float:
    from appointments.selectors import sessions_for

    now = timezone.now()
    open_minutes = 0.0
    for offset in range(FUTURE_DAYS + 1):
        for intervals in sessions_for(vets=ctx.vets, day=ctx.today + dt.timedelta(days=offset)).values():
            for start, end in intervals:
                open_minutes += max(0.0, (end - max(start, now)).total_seconds() / 60)
    return booked_minutes / open_minutes if open_minutes else 0.0


# --- Practice scale ---------------------------------------------------------------------------------------------------

APPOINTMENT_YEARS = 10
FUTURE_WEEKS = 8
APPOINTMENT_BATCH = 5_000
LEAVE_WEEKS_PER_YEAR = 4
# Walking through a session, the next stretch is an appointment with this chance, else a 10-minute gap: about
# 80% of the hours booked, 23 appointments a vet a day: about 600k in ten years for ten vets.
PRACTICE_BOOKED_CHANCE = 0.72
GAP_MINUTES = 10


def seed_practice_book_setup(ctx: SeedContext) -> None:
    """Appointment types, every vet's week (the first also works Saturday mornings) and four weeks of leave a
    year each, past and future."""
    from appointments.models import AppointmentType, BookException, WorkingHours

    for name, (minutes, hex_colour, recall, interval, unit, _share) in APPOINTMENT_TYPES.items():
        ctx.types[name] = AppointmentType.objects.create(
            name=name,
            default_minutes=minutes,
            colour=hex_colour,
            recall_name=recall,
            recall_interval=interval,
            recall_unit=unit,
        )
    hours = [
        WorkingHours(vet=vet, weekday=weekday, start_time=start, end_time=end)
        for n, vet in enumerate(ctx.vets)
        for weekday, start, end in week_sessions(saturday=n == 0)
    ]
    WorkingHours.objects.bulk_create(hours)
    first_monday = practice_first_day(ctx) - dt.timedelta(days=practice_first_day(ctx).weekday())
    weeks = (practice_last_day(ctx) - first_monday).days // 7 + 1
    leave = []
    for vet in ctx.vets:
        for year_start in range(0, weeks, 52):
            for week in ctx.rng.sample(range(year_start, min(weeks, year_start + 52)), LEAVE_WEEKS_PER_YEAR):
                monday = first_monday + dt.timedelta(weeks=week)
                leave += [
                    BookException(vet=vet, date=monday + dt.timedelta(days=d), kind="leave", note="Annual leave")
                    for d in range(5)
                ]
    ctx.counts["leave days"] = len(bulk(BookException, leave))


def practice_first_day(ctx: SeedContext) -> dt.date:
    return ctx.today.replace(year=ctx.today.year - APPOINTMENT_YEARS, day=min(ctx.today.day, 28))


def practice_last_day(ctx: SeedContext) -> dt.date:
    return ctx.today + dt.timedelta(weeks=FUTURE_WEEKS)


def seed_appointments(ctx: SeedContext) -> None:
    """Ten years of appointments for every vet, plus the booked weeks ahead, bulk-inserted in batches.

    Generated per vet per day, one after the other through each working session, so no two blocking appointments
    of a vet overlap (the exclusion constraint checks every row on PostgreSQL). Past: completed 88%, no-show 4%,
    cancelled 8% (half of the cancelled slots were given to another pet, as a front desk does); future: booked,
    confirmed for the next days, busier the nearer. The client is the animal's owner. Status events are not
    written at this scale (they would triple the rows and the time); the demo scale has them.
    """
    from animals.models import Animal
    from appointments.models import Appointment, BookException, WorkingHours
    from vetpms.timeutils import practice_tz

    started = time.perf_counter()
    tz = practice_tz()
    now = timezone.now()
    reception_id = ctx.staff["reception"].pk
    type_ids = {name: t.pk for name, t in ctx.types.items()}
    lengths = {name: dt.timedelta(minutes=spec[0]) for name, spec in APPOINTMENT_TYPES.items()}
    next_type = type_deck(ctx.rng)
    rng = ctx.rng
    gap = dt.timedelta(minutes=GAP_MINUTES)

    # Patients: (id, owner id, born, last day seen alive); the ones who can still be booked for the future.
    patients = list(
        Animal.objects.order_by("pk").values_list("pk", "owner_id", "date_of_birth", "deceased_on", "is_active")
    )
    # An unknown birthday (none at practice scale) does not keep a patient out of any day.
    no_birthday = dt.date.min
    alive = [(pk, owner, born or no_birthday, died or dt.date.max) for pk, owner, born, died, _active in patients]
    bookable = [
        (pk, owner, born or no_birthday, dt.date.max)
        for pk, owner, born, died, active in patients
        if active and not died
    ]

    def patient(day: dt.date, future: bool) -> tuple[int, int]:
        pool = bookable if future else alive
        for _ in range(6):
            pk, owner, born, last = pool[int(rng.random() * len(pool))]
            if born <= day <= last:
                return pk, owner
        pk, owner, _born, _last = bookable[int(rng.random() * len(bookable))]
        return pk, owner

    sessions_by_vet: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {}
    for row in WorkingHours.objects.filter(vet__in=ctx.vets).order_by("start_time"):
        sessions_by_vet.setdefault(row.vet_id, {}).setdefault(row.weekday, []).append((row.start_time, row.end_time))
    on_leave = set(BookException.objects.filter(kind="leave").values_list("vet_id", "date"))

    batch: list[Appointment] = []
    total = 0

    def flush() -> None:
        nonlocal batch, total
        with transaction.atomic():
            Appointment.objects.bulk_create(batch)
        total += len(batch)
        batch = []

    def add(vet_id: int, name: str, start: dt.datetime, end: dt.datetime, status: str, pet: tuple[int, int]) -> None:
        created = min(now, start - dt.timedelta(days=1 + int(rng.random() * 30), minutes=int(rng.random() * 480)))
        updated = min(now, end) if status in ("completed", "no_show") else created
        batch.append(
            Appointment(
                animal_id=pet[0],
                client_id=pet[1],
                vet_id=vet_id,
                type_id=type_ids[name],
                start=start,
                end=end,
                reason=rng.choice(REASONS[name]),
                status=status,
                cancel_reason=rng.choice(CANCEL_REASONS) if status == "cancelled" else "",
                booked_by_id=reception_id,
                created_at=created,
                updated_at=updated,
            )
        )

    day = practice_first_day(ctx)
    last_day = practice_last_day(ctx)
    with historic_timestamps():
        while day <= last_day:
            days_ahead = (day - ctx.today).days
            # the near future is nearly full, eight weeks ahead mostly open
            chance = (
                PRACTICE_BOOKED_CHANCE if days_ahead <= 2 else PRACTICE_BOOKED_CHANCE * max(0.15, 1 - days_ahead / 60)
            )
            for vet in ctx.vets:
                if (vet.pk, day) in on_leave:
                    continue
                for session_start, session_end in sessions_by_vet[vet.pk].get(day.weekday(), []):
                    at = dt.datetime.combine(day, session_start, tzinfo=tz).astimezone(dt.UTC)
                    stop = dt.datetime.combine(day, session_end, tzinfo=tz).astimezone(dt.UTC)
                    while True:
                        name = next_type()
                        end = at + lengths[name]
                        if end > stop:
                            break
                        if rng.random() >= chance:
                            at += gap
                            continue
                        future = end > now
                        fate = rng.random()
                        if future:
                            status = "confirmed" if days_ahead <= 2 and fate < 0.7 else "booked"
                        elif fate < 0.88:
                            status = "completed"
                        elif fate < 0.92:
                            status = "no_show"
                        else:
                            status = "cancelled"
                        add(vet.pk, name, at, end, status, patient(day, future))
                        if status == "cancelled" and rng.random() < 0.5:
                            add(vet.pk, name, at, end, "completed", patient(day, future))
                        at = end
                if len(batch) >= APPOINTMENT_BATCH:
                    flush()
            day += dt.timedelta(days=1)
        if batch:
            flush()
    elapsed = time.perf_counter() - started
    ctx.out.write(f"  appointments: {total:,} rows in {elapsed:.0f} s ({total / elapsed:,.0f} rows/s)\n")
    ctx.counts["appointments"] = total


DEMO_STEPS: list[Step] = [seed_book_setup, seed_appointment_history, seed_appointment_book]
PRACTICE_STEPS: list[Step] = [seed_practice_book_setup, seed_appointments]
