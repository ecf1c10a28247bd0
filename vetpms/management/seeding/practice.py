"""Practice scale (DESIGN.md section 5): ten years of a busy practice, written with bulk inserts.

Services are bypassed for speed, so no audit entries are written; every row still gets the same derived values
the services would give it (``search_text`` from the models' own ``build_search_text``), so search works.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from vetpms.management.seeding import names
from vetpms.management.seeding.common import (
    APPOINTMENT_TYPES,
    CANCEL_REASONS,
    PRACTICE_VETS,
    REASONS,
    SeedContext,
    Step,
    age_days,
    colour,
    fiction_phone_at,
    historic_timestamps,
    microchip_at,
    organisation,
    person,
    pet_name,
    pick_species,
    seed_staff,
    type_deck,
    week_sessions,
)

CLIENTS = 60_000
ANIMALS = 90_000
BATCH = 2_000


def _bulk(model, rows: list) -> list:
    """Insert in batches, each in its own transaction (fast on SQLite, bounded memory on PostgreSQL)."""
    created = []
    for start in range(0, len(rows), BATCH):
        with transaction.atomic():
            created.extend(model.objects.bulk_create(rows[start : start + BATCH]))
    return created


def seed_clients(ctx: SeedContext) -> None:
    from clients.models import Client

    rows = []
    for serial in range(1, CLIENTS + 1):
        data = organisation(ctx.rng, serial=serial) if serial % 400 == 0 else person(ctx.rng, serial=serial)
        client = Client(**data)
        # 15,000 fiction numbers for 60,000 clients: each landline is shared by four households; a third of the
        # clients also have a work number.
        client.home_phone = "+44" + fiction_phone_at(serial).replace(" ", "")[1:]
        if serial % 3 == 0:
            client.work_phone = "+44" + fiction_phone_at(serial * 7 + 3).replace(" ", "")[1:]
        client.is_active = ctx.rng.random() > 0.04
        if client.reminder_consent:
            client.consent_changed_at = timezone.now()
        client.search_text = client.build_search_text()
        rows.append(client)
    ctx.clients = _bulk(Client, rows)
    ctx.counts["clients"] = len(ctx.clients)


def _owners(ctx: SeedContext) -> list:
    """ANIMALS owners: households of 0-4 pets, topped up or trimmed to the exact total."""
    owners = []
    for client in ctx.clients:
        owners.extend([client] * ctx.rng.choices([0, 1, 2, 3, 4], weights=[12, 45, 28, 10, 5])[0])
    while len(owners) < ANIMALS:
        owners.append(ctx.rng.choice(ctx.clients))
    return owners[:ANIMALS]


def seed_animals(ctx: SeedContext) -> None:
    from animals.models import Animal, Breed, Species

    species = {s.name: s for s in Species.objects.all()}
    breeds: dict[str, list[Breed]] = {}
    for breed in Breed.objects.select_related("species").order_by("species__name", "name"):
        breeds.setdefault(breed.species.name, []).append(breed)

    rows = []
    for index, owner in enumerate(_owners(ctx)):
        kind = pick_species(ctx.rng)
        born = ctx.days_ago(age_days(ctx.rng, kind))
        animal = Animal(
            name=pet_name(ctx.rng, kind),
            owner=owner,
            species=species[kind],
            breed=ctx.rng.choice(breeds[kind]) if ctx.rng.random() < 0.9 else None,
            sex=ctx.rng.choice([Animal.Sex.MALE, Animal.Sex.FEMALE]),
            neuter_status=ctx.rng.choice([Animal.Neuter.NEUTERED, Animal.Neuter.ENTIRE]),
            date_of_birth=born,
            date_of_birth_estimated=ctx.rng.random() < 0.1,
            colour=colour(ctx.rng, kind),
            microchip=microchip_at(index) if ctx.rng.random() < 0.8 else "",
            alerts=ctx.rng.choice(names.ALERTS) if ctx.rng.random() < 0.05 else "",
        )
        roll = ctx.rng.random()
        if roll < 0.15:  # ten years of patients: many have died since
            animal.deceased_on = min(ctx.today, born + dt.timedelta(days=ctx.rng.randint(200, 5000)))
        elif roll < 0.18 or not owner.is_active:
            animal.is_active = False
        animal.search_text = animal.build_search_text()
        rows.append(animal)
    ctx.animals = _bulk(Animal, rows)
    ctx.counts["animals"] = len(ctx.animals)


def seed_ownerships(ctx: SeedContext) -> None:
    """The current owner of every animal; one in a hundred came from an earlier owner (a closed row)."""
    from animals.models import Ownership

    now = timezone.now()
    rows = []
    for animal in ctx.animals:
        started = now - dt.timedelta(days=(ctx.today - animal.date_of_birth).days)
        if ctx.rng.random() < 0.01:
            earlier = ctx.rng.choice(ctx.clients)
            handover = started + dt.timedelta(days=ctx.rng.randint(30, 300))
            rows.append(Ownership(animal=animal, client=earlier, started_at=started, ended_at=handover))
            started = handover
        rows.append(Ownership(animal=animal, client_id=animal.owner_id, started_at=started))
    ctx.counts["ownerships"] = len(_bulk(Ownership, rows))


def seed_weights(ctx: SeedContext) -> None:
    """A few weights per animal (about three on average)."""
    from animals.models import Weight

    rows = []
    for animal in ctx.animals:
        low, high = names.ADULT_WEIGHT_KG[animal.species.name]
        kg = ctx.rng.uniform(low, high)
        last_day = animal.deceased_on or ctx.today
        for _ in range(ctx.rng.choice([1, 2, 3, 3, 4, 5])):
            measured = last_day - dt.timedelta(days=ctx.rng.randint(0, 1500))
            if measured < animal.date_of_birth:
                measured = animal.date_of_birth
            rows.append(
                Weight(animal=animal, kg=Decimal(f"{kg * ctx.rng.uniform(0.9, 1.1):.3f}"), measured_on=measured)
            )
    ctx.counts["weights"] = len(_bulk(Weight, rows))


APPOINTMENT_YEARS = 10
FUTURE_WEEKS = 8
APPOINTMENT_BATCH = 5_000
LEAVE_WEEKS_PER_YEAR = 4
# Walking through a session, the next stretch is an appointment with this chance, else a 10-minute gap: about
# 80% of the hours booked, 23 appointments a vet a day: about 600k in ten years for ten vets.
BOOKED_CHANCE = 0.72
GAP_MINUTES = 10
VET_COLOURS = ["#2f6fdb", "#2e9d5b", "#8e44ad", "#d64541", "#e6a117", "#17a2a2", "#6c757d", "#c2185b", "#5d4037"]


def seed_vets(ctx: SeedContext) -> None:
    """Ten appointment books: the two demo vets and eight more (no password: they are not demo logins)."""
    from vetpms.models import User, Vet
    from vetpms.services import staff_create

    for username, (first, last) in PRACTICE_VETS.items():
        if not User.objects.filter(username=username).exists():
            staff_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                role="Vet",
                password=None,
                by=None,
                vet_display_name=f"{first} {last} MRCVS",
            )
    usernames = ["vet", "vet2", *PRACTICE_VETS]
    vets = {v.user.username: v for v in Vet.objects.select_related("user").filter(user__username__in=usernames)}
    ctx.vets = [vets[name] for name in usernames]
    for vet, hex_colour in zip(ctx.vets[2:], VET_COLOURS, strict=False):
        vet.colour = hex_colour
        vet.save(update_fields=["colour"])
    ctx.counts["vets"] = len(ctx.vets)


def seed_book_setup(ctx: SeedContext) -> None:
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
    first_monday = _first_day(ctx) - dt.timedelta(days=_first_day(ctx).weekday())
    weeks = (_last_day(ctx) - first_monday).days // 7 + 1
    leave = []
    for vet in ctx.vets:
        for year_start in range(0, weeks, 52):
            for week in ctx.rng.sample(range(year_start, min(weeks, year_start + 52)), LEAVE_WEEKS_PER_YEAR):
                monday = first_monday + dt.timedelta(weeks=week)
                leave += [
                    BookException(vet=vet, date=monday + dt.timedelta(days=d), kind="leave", note="Annual leave")
                    for d in range(5)
                ]
    ctx.counts["leave days"] = len(_bulk(BookException, leave))


def _first_day(ctx: SeedContext) -> dt.date:
    return ctx.today.replace(year=ctx.today.year - APPOINTMENT_YEARS, day=min(ctx.today.day, 28))


def _last_day(ctx: SeedContext) -> dt.date:
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
    alive = [(pk, owner, born, died or dt.date.max) for pk, owner, born, died, _active in patients]
    bookable = [(pk, owner, born, dt.date.max) for pk, owner, born, died, active in patients if active and not died]

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

    day = _first_day(ctx)
    last_day = _last_day(ctx)
    with historic_timestamps():
        while day <= last_day:
            days_ahead = (day - ctx.today).days
            # the near future is nearly full, eight weeks ahead mostly open
            chance = BOOKED_CHANCE if days_ahead <= 2 else BOOKED_CHANCE * max(0.15, 1 - days_ahead / 60)
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


def analyse(ctx: SeedContext) -> None:
    """Fresh planner statistics, so the first search after a bulk load uses the trigram indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


STEPS: list[Step] = [
    seed_staff,
    seed_vets,
    seed_clients,
    seed_animals,
    seed_ownerships,
    seed_weights,
    seed_book_setup,
    seed_appointments,
    analyse,
]
