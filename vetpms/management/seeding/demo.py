"""Demo scale: a believable small practice, written through the services so audit entries exist.

The one exception is the appointment history: ``appointment_book`` refuses times in the past, so past weeks are
bulk-inserted with their status events (see ``seed_appointment_history``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from vetpms.management.seeding import names
from vetpms.management.seeding.common import (
    APPOINTMENT_TYPES,
    CANCEL_REASONS,
    REASONS,
    SeedContext,
    Step,
    age_days,
    colour,
    fiction_phone,
    historic_timestamps,
    organisation,
    person,
    pet_name,
    pick_species,
    seed_staff,
    type_deck,
    week_sessions,
)

CLIENTS = 60
ANIMALS = 90
ORGANISATIONS = 4


def seed_clients(ctx: SeedContext) -> None:
    from clients.services import client_create

    used_phones: set[str] = set()

    def fresh_phone() -> str:
        while True:
            number = fiction_phone(ctx.rng)
            if number not in used_phones:
                used_phones.add(number)
                return number

    for serial in range(1, CLIENTS + 1):
        data = organisation(ctx.rng, serial=serial) if serial <= ORGANISATIONS else person(ctx.rng, serial=serial)
        data["home_phone"] = fresh_phone()
        if ctx.rng.random() < 0.3:
            data["work_phone"] = fresh_phone()
        ctx.clients.append(client_create(by=ctx.staff["reception"], **data))
    ctx.counts["clients"] = len(ctx.clients)


def seed_animals(ctx: SeedContext) -> None:
    """ANIMALS pets: every client but a few has one, the rest go to multi-pet households."""
    from animals.models import Animal, Breed, Species
    from animals.services import animal_create

    species = {s.name: s for s in Species.objects.all()}
    breeds: dict[str, list[Breed]] = {}
    for breed in Breed.objects.select_related("species").order_by("species__name", "name"):
        breeds.setdefault(breed.species.name, []).append(breed)

    owners = [c for i, c in enumerate(ctx.clients) if i % 12 != 11]  # some clients have no pet on file
    while len(owners) < ANIMALS:
        owners.append(ctx.rng.choice(ctx.clients[: len(ctx.clients) // 2]))
    chip_serial = ctx.rng.randint(10**9, 9 * 10**9)
    for n, owner in enumerate(owners[:ANIMALS]):
        kind = "Horse" if owner.organisation and "Equestrian" in owner.organisation else pick_species(ctx.rng)
        sex = ctx.rng.choice([Animal.Sex.MALE, Animal.Sex.FEMALE])
        data = {
            "name": pet_name(ctx.rng, kind),
            "species": species[kind],
            "breed": ctx.rng.choice(breeds[kind]) if ctx.rng.random() < 0.9 else None,
            "sex": sex,
            "neuter_status": ctx.rng.choice([Animal.Neuter.NEUTERED, Animal.Neuter.NEUTERED, Animal.Neuter.ENTIRE]),
            "date_of_birth": ctx.days_ago(age_days(ctx.rng, kind)),
            "date_of_birth_estimated": ctx.rng.random() < 0.15,
            "colour": colour(ctx.rng, kind),
            "microchip": f"98514{chip_serial + n * 37:010d}" if kind in {"Dog", "Cat", "Horse", "Ferret"} else "",
            "alerts": "",
        }
        if ctx.rng.random() < 0.12:
            data["alerts"] = "\n".join(ctx.rng.sample(names.ALERTS, k=ctx.rng.choice([1, 1, 2])))
        by = ctx.staff["reception"] if n % 3 else ctx.staff["vet"]
        ctx.animals.append(animal_create(by=by, owner=owner, **data))
    # The two alerts receptionists must never miss, on pets that are easy to find in the demo.
    for animal, alert in ((ctx.animals[0], "Bites"), (ctx.animals[1], "Allergic to penicillin")):
        from animals.services import animal_update

        animal_update(animal=animal, by=ctx.staff["vet"], data={"alerts": alert})
    ctx.counts["animals"] = len(ctx.animals)


def seed_weights(ctx: SeedContext) -> None:
    """A weight history: a few visits over the last two years, drifting around the adult weight."""
    from animals.services import weight_record

    count = 0
    for animal in ctx.animals:
        low, high = names.ADULT_WEIGHT_KG[animal.species.name]
        kg = ctx.rng.uniform(low, high)
        visits = ctx.rng.randint(1, 4)
        for visit in range(visits):
            measured = ctx.days_ago(ctx.rng.randint(0, 60) + 180 * (visits - 1 - visit))
            if animal.date_of_birth and measured < animal.date_of_birth:
                continue
            kg *= ctx.rng.uniform(0.95, 1.06)
            weight_record(
                animal=animal,
                kg=Decimal(f"{kg:.3f}"),
                by=ctx.staff[ctx.rng.choice(["vet", "vet2"])],
                measured_on=measured,
            )
            count += 1
    ctx.counts["weights"] = count


def seed_life_events(ctx: SeedContext) -> None:
    """What a real list holds: a rehomed pet, pets that died, clients and pets no longer with the practice."""
    from animals.services import animal_mark_deceased, animal_set_active, animal_transfer
    from clients.services import client_deactivate

    reception, vet = ctx.staff["reception"], ctx.staff["vet"]
    rescue = next(c for c in ctx.clients if c.organisation == "Second Chance Animal Rescue")
    transferred = next(a for a in ctx.animals[10:] if a.owner_id != rescue.pk)
    animal_transfer(
        animal=transferred, to_owner=rescue, by=reception, note="Owner moving abroad; rehomed via the rescue."
    )

    deceased = [a for a in ctx.animals[20:] if a.date_of_birth and a.date_of_birth < ctx.days_ago(3650)][:2]
    for animal in deceased:
        animal_mark_deceased(animal=animal, on=ctx.days_ago(ctx.rng.randint(10, 300)), by=vet, note="Euthanasia.")

    inactive_animals = [a for a in ctx.animals[40:] if a not in deceased][:3]
    for animal in inactive_animals:
        animal_set_active(animal=animal, active=False, by=reception)

    # Clients who moved away: their pets go inactive too, as a receptionist would do it.
    movers = [c for c in ctx.clients[-10:] if not c.organisation][:2]
    for client in movers:
        for animal in [a for a in ctx.animals if a.owner_id == client.pk and a.is_active]:
            if animal not in inactive_animals and animal not in deceased and animal != transferred:
                animal_set_active(animal=animal, active=False, by=reception)
        client_deactivate(client=client, by=reception, reason="Moved out of the area.")
    ctx.counts.update(transferred=1, deceased=len(deceased), inactive_clients=len(movers))


# --- Appointment books ------------------------------------------------------------------------------------------

HISTORY_DAYS = 28  # four past weeks, bulk-inserted with their status events
FUTURE_DAYS = 14  # today and the next two weeks, booked through appointment_book
# Walking through each session, the next stretch is an appointment with this chance, else a 15-minute gap:
# about 60% of the working hours end up booked (the seeder prints what it got).
BOOKED_CHANCE = 0.63
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
        .select_related("owner")
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
                    if ctx.rng.random() >= BOOKED_CHANCE:
                        at += GAP
                        continue
                    plan.append(
                        Planned(
                            vet=vet,
                            type_name=name,
                            start=at,
                            end=end,
                            animal=patients.pop(),
                            reason=ctx.rng.choice(REASONS[name]),
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


STEPS: list[Step] = [
    seed_staff,
    seed_clients,
    seed_animals,
    seed_weights,
    seed_life_events,
    seed_book_setup,
    seed_appointment_history,
    seed_appointment_book,
]
