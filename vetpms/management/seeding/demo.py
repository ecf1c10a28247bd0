"""Demo scale: a believable small practice, written through the services so audit entries exist.

The one exception is the appointment history: ``appointment_book`` refuses times in the past, so past weeks are
bulk-inserted with their status events (see ``seed_appointment_history``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

from django.utils import timezone

from vetpms.management.seeding import names
from vetpms.management.seeding.common import (
    APPOINTMENT_TYPES,
    CANCEL_REASONS,
    CATALOGUE,
    PAYORS,
    REMINDER_TYPES,
    Addressee,
    NoticeSource,
    SeedContext,
    Step,
    adult_weight_range,
    age_days,
    colour,
    fiction_phone,
    historic_timestamps,
    organisation,
    outbox_history,
    person,
    pet_name,
    pick_species,
    reason_for,
    seed_staff,
    treatment_plan,
    type_deck,
    week_sessions,
    weight_at_age,
    write_outbox,
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
        # Made-up people may share a surname and postcode by chance; the demo means them as different people.
        ctx.clients.append(client_create(by=ctx.staff["reception"], confirm_new=True, **data))
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
    """A weight history: a few visits over the last two years around the breed's adult weight (a young animal's
    following its growth), so every weight fits the species and breed (animals.plausibility)."""
    from animals.services import weight_record

    count = 0
    for animal in ctx.animals:
        species = animal.species.name
        low, high = adult_weight_range(species, animal.breed.name if animal.breed else "")
        adult = ctx.rng.uniform(low, high)
        visits = ctx.rng.randint(1, 4)
        for visit in range(visits):
            measured = ctx.days_ago(ctx.rng.randint(0, 60) + 180 * (visits - 1 - visit))
            if animal.date_of_birth and measured < animal.date_of_birth:
                continue
            age = (measured - animal.date_of_birth).days if animal.date_of_birth else 999
            kg = weight_at_age(adult, species, age) * ctx.rng.uniform(0.97, 1.03)
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
                    if ctx.rng.random() >= BOOKED_CHANCE:
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


# --- Invoicing ----------------------------------------------------------------------------------------------------

EARLIER_VISITS = 12  # charged 5-11 weeks ago, before the appointment history: some of them are now overdue
OPEN_DRAFTS = 3  # the last charges of the day are left on drafts, as if the desk had not finalised them yet
UNPAID_RECENT = 0.35  # share of the last week's invoices not paid yet
INSURED_ANIMALS = 7
CLAIM_FATES = ["settled", "accepted", "submitted", "partly_accepted", "declined", "settled", "submitted"]


class _Clock:
    """``django.utils.timezone`` as the invoicing services see it, stopped at ``at``."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def localdate(self, *args: Any, **kwargs: Any) -> dt.date:
        from vetpms.timeutils import to_local

        return to_local(self.at).date()


@contextmanager
def _services_clock(at: dt.datetime) -> Iterator[None]:
    """Issue documents on the day they belong to. ``invoice_finalise`` dates and numbers an invoice "now"; a
    history built in one go would otherwise be issued entirely today (and nothing could be overdue). Only the
    invoicing and reminder services' clocks are moved (a finalised vaccine completes its reminder when it was
    given); everything else they do (numbering, snapshots, audit) is unchanged."""
    from invoicing import services
    from reminders import services as reminder_services

    clock = _Clock(at)
    with mock.patch.object(services, "timezone", clock), mock.patch.object(reminder_services, "timezone", clock):
        yield


def seed_catalogue(ctx: SeedContext) -> None:
    """The price list, through ``product_save`` as the manager."""
    from invoicing.models import TaxCategory
    from invoicing.services import product_save

    categories = {c.code: c for c in TaxCategory.objects.all()}
    for code, (name, category, unit, price, tax) in CATALOGUE.items():
        data = {
            "code": code,
            "name": name,
            "category": category,
            "unit": unit,
            "unit_price": Decimal(price),
            "tax_category": categories[tax],
            "is_active": True,
        }
        ctx.products[code] = product_save(by=ctx.staff["manager"], data=data)
    ctx.counts["products"] = len(ctx.products)


@dataclass
class _Visit:
    at: dt.datetime  # when the visit ended (the invoice is finalised a few minutes later)
    animal: Any
    vet: Any
    items: list[tuple[str, Decimal]]
    appointment: Any = None


def _visits(ctx: SeedContext) -> list[_Visit]:
    """What was charged: most completed appointments of the history, and a few earlier visits (before it)."""
    from animals.models import Animal
    from appointments.models import Appointment

    visits = []
    completed = Appointment.objects.filter(status="completed").select_related("animal__species", "type", "vet")
    for appointment in completed.order_by("start", "pk"):
        type_name = appointment.type.name
        skip = 0.6 if type_name == "Post-op check" else 0.04  # most post-op checks are free
        roll = ctx.rng.random()
        # at most three lines a visit: the demo is charged through the services, which take a while per line
        items = treatment_plan(ctx.rng, type_name, appointment.animal.species.name)[:3]
        if roll >= skip:
            visits.append(_Visit(appointment.end, appointment.animal, appointment.vet, items, appointment))
    pets = list(
        Animal.objects.filter(pk__in=[a.pk for a in ctx.animals], is_active=True, owner__is_active=True)
        .select_related("species")
        .order_by("pk")
    )
    first_history_day = ctx.today - dt.timedelta(days=HISTORY_DAYS)
    for _ in range(EARLIER_VISITS):
        animal = ctx.rng.choice(pets)
        day = first_history_day - dt.timedelta(days=ctx.rng.randint(7, 50))
        at = dt.datetime.combine(day, dt.time(ctx.rng.randint(9, 17), ctx.rng.choice([0, 15, 30, 45])))
        items = treatment_plan(ctx.rng, "Consultation", animal.species.name)[:3]
        vet = ctx.rng.choice(ctx.vets)
        visits.append(_Visit(timezone.make_aware(at), animal, vet, items))
    return sorted(visits, key=lambda v: v.at)


def seed_charges(ctx: SeedContext) -> None:
    """Charge the visits in the order they happened, each finalised by the receptionist minutes later (numbers
    follow the dates); the very last ones stay on drafts. Appointments go through ``charge_appointment``, the
    earlier visits through ``invoice_add_line`` (a charge made at the desk)."""
    from invoicing.services import charge_appointment, invoice_add_line, invoice_draft_for, invoice_finalise
    from vetpms.timeutils import to_local

    reception = ctx.staff["reception"]
    visits = _visits(ctx)
    lines = 0
    for n, visit in enumerate(visits):
        items = [(ctx.products[code], quantity) for code, quantity in visit.items]
        with _services_clock(visit.at):
            if visit.appointment is not None:
                invoice = charge_appointment(appointment=visit.appointment, by=visit.vet.user, items=items)
            else:
                invoice = invoice_draft_for(client=visit.animal.owner, by=reception)
                for product, quantity in items:
                    invoice_add_line(
                        invoice=invoice,
                        by=visit.vet.user,
                        product=product,
                        quantity=quantity,
                        animal=visit.animal,
                        vet=visit.vet,
                        service_date=to_local(visit.at).date(),
                    )
            lines += len(items)
            if n < len(visits) - OPEN_DRAFTS:
                at = visit.at + dt.timedelta(minutes=ctx.rng.randint(2, 20))
                with _services_clock(at):
                    ctx.invoices.append(invoice_finalise(invoice=invoice, by=reception))
    ctx.counts["invoices"] = len(ctx.invoices)
    ctx.counts["invoice lines"] = lines


def seed_corrections(ctx: SeedContext) -> None:
    """A void invoice (charged to the wrong client, voided the same day) and a partial credit note (unused
    tablets taken back a few days later), both by the manager."""
    from invoicing.models import InvoiceLine
    from invoicing.services import credit_note_issue, invoice_void

    manager = ctx.staff["manager"]
    older = [i for i in ctx.invoices if i.issue_date < ctx.today - dt.timedelta(days=10)]
    voided = older[len(older) // 3]
    tablets = InvoiceLine.objects.filter(invoice__in=older[len(older) // 2 :], unit="tablet", quantity__gte=10)
    line = tablets.select_related("invoice").order_by("invoice__issue_date", "pk").first()
    corrections = [(voided.finalised_at + dt.timedelta(hours=1), voided, None)]
    if line is not None:
        when = line.invoice.finalised_at + dt.timedelta(days=ctx.rng.randint(1, 4))
        corrections.append((min(when, timezone.now()), line.invoice, line))
    for at, invoice, line in sorted(corrections, key=lambda c: c[0]):
        with _services_clock(at):
            if line is None:
                invoice_void(invoice=invoice, by=manager, reason="Charged to the wrong client's account.")
            else:
                back = (line.quantity / 2).to_integral_value()
                reason = f"{back:f} unused tablets returned."
                credit_note_issue(invoice=invoice, by=manager, reason=reason, lines=[(line, back)])
    ctx.invoices = [i for i in ctx.invoices if i.pk != voided.pk]
    ctx.counts["credit notes"] = len(corrections)


def seed_insurance(ctx: SeedContext) -> None:
    """Two insurers, policies for a few insured pets, and claims in every state through the claim services."""
    from invoicing.models import InvoiceLine
    from invoicing.services import (
        claim_create,
        claim_decide,
        claim_settle,
        claim_submit,
        payor_save,
        policy_save,
    )
    from vetpms.money import quantize_money

    manager, reception = ctx.staff["manager"], ctx.staff["reception"]
    payors = []
    for name, (contact, email, address, phone, reference) in PAYORS.items():
        data = {
            "name": name,
            "contact_name": contact,
            "claims_email": email,
            "address": address,
            "phone": phone,
            "reference": reference,
            "is_active": True,
        }
        payors.append(payor_save(by=manager, data=data))

    credited = set(
        InvoiceLine.objects.filter(credited_line__isnull=False).values_list("credited_line__invoice", flat=True)
    )
    claimable: dict[int, list] = {}
    for invoice in ctx.invoices:
        if invoice.status != "finalised" or invoice.pk in credited:
            continue
        for line in InvoiceLine.objects.filter(invoice=invoice, animal__isnull=False).select_related("animal"):
            claimable.setdefault(line.animal_id, []).append((invoice, line))
    # The pets with the biggest bills are the insured ones (that is why they were insured).
    ranked = sorted(claimable, key=lambda pk: -sum(line.gross for _i, line in claimable[pk]))[:INSURED_ANIMALS]
    claims = []
    for n, animal_pk in enumerate(ranked):
        animal = claimable[animal_pk][0][1].animal
        payor = payors[n % len(payors)]
        starts = ctx.today - dt.timedelta(days=ctx.rng.randint(60, 300))
        policy = policy_save(
            by=manager,
            data={
                "animal": animal,
                "payor": payor,
                "policy_number": f"{payor.reference[:3]}{ctx.rng.randint(10**6, 10**7 - 1)}",
                "starts_on": starts,
                "ends_on": starts + dt.timedelta(days=364),
                "excess": Decimal(ctx.rng.choice(["0.00", "50.00", "99.00", "120.00"])),
                "copay_percent": Decimal(ctx.rng.choice(["0", "0", "10", "20"])),
            },
        )
        by_invoice: dict[int, list] = {}
        for invoice, line in claimable[animal_pk]:
            by_invoice.setdefault(invoice.pk, [invoice, []])[1].append(line)
        biggest = max(by_invoice.values(), key=lambda pair: sum(line.gross for line in pair[1]))
        claims.append((policy, biggest[0], biggest[1]))
    claims.sort(key=lambda c: c[1].issue_date)
    states = []
    for n, (policy, invoice, lines) in enumerate(claims):
        fate = CLAIM_FATES[n % len(CLAIM_FATES)] if n < len(claims) - 1 else "draft"
        claim = claim_create(invoice=invoice, policy=policy, lines=lines, by=reception)
        if fate != "draft" and claim.amount_claimed > 0:
            submitted = min(ctx.today, invoice.issue_date + dt.timedelta(days=ctx.rng.randint(1, 3)))
            claim = claim_submit(claim=claim, by=reception, on=submitted)
            if fate in ("accepted", "partly_accepted", "declined", "settled"):
                decided = min(ctx.today, submitted + dt.timedelta(days=ctx.rng.randint(5, 12)))
                accepted = {
                    "declined": Decimal(0),
                    "partly_accepted": quantize_money(claim.amount_claimed * Decimal("0.8")),
                }
                amount = accepted.get(fate, claim.amount_claimed)
                reference = f"{policy.payor.reference[:3]}-C{ctx.rng.randint(10**5, 10**6 - 1)}"
                claim = claim_decide(claim=claim, by=reception, accepted=amount, reference=reference, on=decided)
                if fate == "settled":
                    paid_on = min(ctx.today, decided + dt.timedelta(days=ctx.rng.randint(3, 10)))
                    claim = claim_settle(claim=claim, by=reception, amount=amount, received_on=paid_on)
        states.append(claim.status)
    ctx.counts.update(payors=len(payors), policies=len(claims), claims=len(states))


def seed_payments(ctx: SeedContext) -> None:
    """Most invoices paid at the desk when issued (card or cash; some by bank transfer days later), through
    ``payment_record``. Left unpaid: a share of the last week's invoices, a few of the earlier visits (overdue
    by now) and invoices whose claim is still a draft (waiting for the insurer's share)."""
    from invoicing.models import Claim
    from invoicing.selectors import client_outstanding
    from invoicing.services import payment_record
    from vetpms.money import quantize_money

    reception = ctx.staff["reception"]
    waiting = set(Claim.objects.filter(status="draft").values_list("invoice_id", flat=True))
    overdue_before = ctx.today - dt.timedelta(days=HISTORY_DAYS)
    paid = 0
    for invoice in ctx.invoices:
        roll = ctx.rng.random()
        method = ctx.rng.choices(["card", "cash", "bank_transfer"], weights=[70, 20, 10])[0]
        if invoice.pk in waiting:
            continue
        if invoice.issue_date < overdue_before and roll < 0.3:
            continue  # overdue
        if invoice.issue_date > ctx.today - dt.timedelta(days=7) and roll < UNPAID_RECENT:
            continue  # issued this week, not paid yet
        owed = quantize_money(client_outstanding(invoice))  # SQLite sums come back with more places
        if owed <= 0:
            continue
        received = invoice.issue_date
        if method == "bank_transfer":
            received = min(ctx.today, received + dt.timedelta(days=ctx.rng.randint(2, 9)))
        payment_record(
            client=invoice.client,
            amount=owed,
            method=method,
            by=reception,
            received_on=received,
            reference=invoice.reference if method == "bank_transfer" else "",
            allocate_to=[(invoice, owed)],
        )
        paid += 1
    ctx.counts["payments"] = paid


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


# --- Reminders ----------------------------------------------------------------------------------------------------

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
        with _services_clock(min(at, timezone.now())):
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


INVOICING_STEPS: list[Step] = [
    seed_catalogue,
    seed_reminder_products,
    seed_charges,
    seed_corrections,
    seed_insurance,
    seed_payments,
]
REMINDER_STEPS: list[Step] = [
    seed_reminder_types,
    seed_imported_reminders,
    seed_reminder_activity,
    seed_reminder_history,
]

STEPS: list[Step] = [
    seed_staff,
    seed_clients,
    seed_animals,
    seed_weights,
    seed_life_events,
    seed_book_setup,
    seed_appointment_history,
    seed_appointment_book,
    seed_reminder_types,
    seed_imported_reminders,
    *INVOICING_STEPS,
    seed_reminder_activity,
    seed_reminder_history,
]
