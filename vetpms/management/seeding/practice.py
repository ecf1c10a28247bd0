"""Practice scale (DESIGN.md section 5): ten years of a busy practice, written with bulk inserts.

Services are bypassed for speed, so no audit entries are written; every row still gets the same derived values
the services would give it (``search_text`` from the models' own ``build_search_text``), so search works.
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from invoicing import calc
from vetpms.management.seeding import names
from vetpms.management.seeding.common import (
    APPOINTMENT_TYPES,
    CANCEL_NOTES,
    CANCEL_REASONS,
    CATALOGUE,
    PAYORS,
    PRACTICE_VETS,
    REASONS,
    REMINDER_TYPES,
    Addressee,
    NoticeSource,
    SeedContext,
    Step,
    age_days,
    colour,
    fiction_phone_at,
    historic_timestamps,
    insert_rows,
    microchip_at,
    organisation,
    outbox_history,
    person,
    pet_name,
    pick_species,
    reserve_ids,
    seed_staff,
    treatment_plan,
    type_deck,
    week_sessions,
    write_outbox,
)
from vetpms.money import ZERO, quantize_money

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


# --- Invoicing (issue 4) ----------------------------------------------------------------------------------------

INVOICE_BATCH = 20_000  # invoices written (with their lines, claims and payments) per transaction
SKIP_POST_OP = 0.5  # most post-op checks are free
SKIP_OTHER = 0.03  # and a few other visits were never charged (goodwill, staff pets)
SHOP_SALES_PER_DAY = (0, 1, 2, 3, 4, 5)  # over-the-counter sales (food, flea treatment) without an appointment
INSURED_SHARE = 0.08  # animals with a policy at some point
CLAIM_FROM = Decimal("100.00")  # bills worth claiming
CLAIM_CHANCE = 0.7
CREDIT_CHANCE = 0.012  # a line credited on a later credit note
VOID_CHANCE = 0.003  # charged to the wrong client: voided by a full credit note
DISCOUNT_CHANCE = 0.04  # a 10% loyalty discount on the whole bill


def _columns(model, fields: list[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


def _write(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``fields`` order): COPY on PostgreSQL, executemany elsewhere."""
    from django.db import connection

    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _columns(model, fields))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _issue(rows: list[tuple[int, int, str]]) -> None:
    """Draft -> finalised (or void) with its number, one statement per batch. The documents were written as
    drafts so that their lines could be inserted (the triggers of migration 0002 refuse lines on issued
    documents); everything else about them (date, totals, snapshots) was written in its final state."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE invoicing_invoice AS i SET status = v.status, number = v.number "
                "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, number, status) WHERE i.id = v.id",
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
            )
        else:
            cursor.executemany(
                "UPDATE invoicing_invoice SET number = %s, status = %s WHERE id = %s", [(n, s, i) for i, n, s in rows]
            )


INVOICE_FIELDS = [
    "id", "kind", "status", "client", "series", "issue_date", "due_date", "credits", "reason", "client_name",
    "client_address", "net_total", "tax_total", "gross_total", "notes", "created_by", "finalised_by", "finalised_at",
    "created_at", "updated_at",
]  # fmt: skip
LINE_FIELDS = [
    "id", "invoice", "position", "product", "description", "animal", "vet", "appointment", "service_date",
    "category", "quantity", "unit", "unit_price", "price_overridden", "discount_percent", "discount_amount",
    "tax_rate", "net", "tax", "gross", "credited_line",
]  # fmt: skip
CLAIM_FIELDS = [
    "id", "policy", "invoice", "status", "direct_settlement", "amount_claimed", "amount_accepted", "amount_paid",
    "insurer_reference", "notes", "submitted_on", "decided_on", "settled_on", "created_by", "created_at",
    "updated_at",
]  # fmt: skip
CLAIM_LINE_FIELDS = ["claim", "line", "live"]
PAYMENT_FIELDS = [
    "id", "kind", "client", "payor", "method", "amount", "received_on", "reference", "notes", "created_by",
    "created_at",
]  # fmt: skip
ALLOCATION_FIELDS = ["payment", "invoice", "claim", "amount", "created_at"]


def seed_catalogue(ctx: SeedContext) -> None:
    """The price list (the same as the demo's) and the two insurers."""
    from invoicing.models import Payor, Product, TaxCategory

    categories = {c.code: c for c in TaxCategory.objects.all()}
    Product.objects.bulk_create(
        [
            Product(code=code, name=name, category=category, unit=unit, unit_price=Decimal(price),
                    tax_category=categories[tax])
            for code, (name, category, unit, price, tax) in CATALOGUE.items()
        ]
    )  # fmt: skip
    ctx.products = {p.code: p for p in Product.objects.select_related("tax_category")}
    Payor.objects.bulk_create(
        [
            Payor(name=name, contact_name=contact, claims_email=email, address=address, phone=phone, reference=ref)
            for name, (contact, email, address, phone, ref) in PAYORS.items()
        ]
    )
    ctx.counts["products"] = len(ctx.products)


def seed_policies(ctx: SeedContext) -> None:
    """Policies for INSURED_SHARE of the animals: one to four years of cover from a day of their life."""
    from animals.models import Animal
    from invoicing.models import Payor, Policy

    payors = list(Payor.objects.order_by("name"))
    first = _first_day(ctx)
    rows = []
    for pk, born, died in Animal.objects.order_by("pk").values_list("pk", "date_of_birth", "deceased_on"):
        if ctx.rng.random() >= INSURED_SHARE:
            continue
        start = max(first, born) + dt.timedelta(days=ctx.rng.randint(0, 2000))
        if start > (died or ctx.today):
            continue
        payor = payors[len(rows) % len(payors)]
        rows.append(
            Policy(
                animal_id=pk,
                payor=payor,
                policy_number=f"{payor.reference[:3]}{len(rows) + 1:07d}",
                starts_on=start,
                ends_on=start + dt.timedelta(days=365 * ctx.rng.randint(1, 4) - 1),
                excess=Decimal(ctx.rng.choice(["0.00", "50.00", "99.00", "120.00", "150.00"])),
                copay_percent=Decimal(ctx.rng.choice(["0", "0", "0", "10", "20"])),
            )
        )
    ctx.counts["policies"] = len(_bulk(Policy, rows))


class _Amounts:
    """invoicing.calc.line_amounts, remembered: two million lines are made of a few hundred distinct ones."""

    def __init__(self) -> None:
        self.cache: dict[tuple, Any] = {}

    def __call__(self, quantity: Decimal, price: Decimal, rate: Decimal, discount: Decimal) -> Any:
        key = (quantity, price, rate, discount)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = calc.line_amounts(
                quantity=quantity, unit_price=price, tax_rate=rate, discount_percent=discount
            )
        return found


class _Ledger:
    """Numbers, rows and the running counts of the invoicing load."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.counters: dict[str, int] = {}
        self.invoices: list[tuple] = []
        self.lines: list[tuple] = []
        self.claims: list[tuple] = []
        self.claim_lines: list[tuple] = []
        self.payments: list[tuple] = []
        self.allocations: list[tuple] = []
        self.issue: list[tuple[int, int, str]] = []
        self.credit_notes: list[dict] = []  # written last, numbered in date order
        self.totals = {"invoices": 0, "lines": 0, "claims": 0, "payments": 0}

    def number(self, prefix: str, day: dt.date) -> tuple[str, int]:
        series = f"{prefix}{day.year}"
        self.counters[series] = self.counters.get(series, 0) + 1
        return series, self.counters[series]

    def flush(self) -> None:
        from invoicing.models import Allocation, Claim, ClaimLine, Invoice, InvoiceLine, Payment

        with transaction.atomic():
            _write(Invoice, INVOICE_FIELDS, self.invoices)
            _write(InvoiceLine, LINE_FIELDS, self.lines)
            _issue(self.issue)
            _write(Claim, CLAIM_FIELDS, self.claims)
            _write(ClaimLine, CLAIM_LINE_FIELDS, self.claim_lines)
            _write(Payment, PAYMENT_FIELDS, self.payments)
            _write(Allocation, ALLOCATION_FIELDS, self.allocations)
        self.totals["invoices"] += len(self.invoices)
        self.totals["lines"] += len(self.lines)
        self.totals["claims"] += len(self.claims)
        self.totals["payments"] += len(self.payments)
        for rows in (self.invoices, self.lines, self.issue, self.claims, self.claim_lines, self.payments):
            rows.clear()
        self.allocations.clear()


def _visits(ctx: SeedContext) -> Iterator[tuple]:
    """(end, appointment id, animal id, client id, vet id, type name, start) of the completed appointments to
    charge, merged in time order with over-the-counter sales (appointment id None)."""
    from animals.models import Animal
    from appointments.models import Appointment, AppointmentType

    types = dict(AppointmentType.objects.values_list("pk", "name"))
    now = timezone.now()
    rows = Appointment.objects.filter(status="completed", end__lte=now).order_by("start", "pk")
    visits = []
    for pk, animal, client, vet, type_id, start, end in rows.values_list(
        "pk", "animal_id", "client_id", "vet_id", "type_id", "start", "end"
    ).iterator(chunk_size=20_000):
        name = types[type_id]
        if ctx.rng.random() < (SKIP_POST_OP if name == "Post-op check" else SKIP_OTHER):
            continue
        visits.append((end, pk, animal, client, vet, name, start))
    first = visits[0][0].date() if visits else ctx.today
    pets: dict[int, list[int]] = {}
    for pk, owner in Animal.objects.filter(is_active=True).values_list("pk", "owner_id"):
        pets.setdefault(owner, []).append(pk)
    owners = sorted(pets)
    from vetpms.timeutils import practice_tz

    tz = practice_tz()
    shop = []
    day = first
    while day < ctx.today:
        if day.weekday() != 6:
            for _ in range(ctx.rng.choice(SHOP_SALES_PER_DAY)):
                client = owners[int(ctx.rng.random() * len(owners))]
                at = dt.datetime.combine(day, dt.time(ctx.rng.randint(9, 17), ctx.rng.randint(0, 59)), tzinfo=tz)
                shop.append((at, None, ctx.rng.choice(pets[client]), client, None, "", at))
        day += dt.timedelta(days=1)
    shop.sort(key=lambda v: v[0])
    return heapq.merge(visits, shop, key=lambda v: v[0])


def seed_invoices(ctx: SeedContext) -> None:
    """About 500k invoices with 2M lines over ten years, their claims and payments (DESIGN.md section 5).

    One invoice per charged completed appointment (line animal, vet and service date from the appointment), plus
    over-the-counter sales; numbered in date order per yearly series; amounts by invoicing.calc, totals the sums
    of the lines; a snapshot of the client's name and address. Claims for insured pets' bigger bills, in states by
    age; payments for about 95% (the client's share, allocated to the invoice); some credit notes and voids.
    Written with COPY in batches: each invoice as a draft, its lines, then draft -> finalised in one UPDATE per
    batch (the triggers accept lines on drafts only). Counters end at the last numbers.
    """
    from animals.models import Animal
    from clients.models import Client
    from invoicing.models import Claim, DocumentCounter, Invoice, InvoiceLine, Payment, Policy, Product, TaxRate
    from invoicing.services import claim_amount
    from vetpms.models import Vet
    from vetpms.timeutils import practice_tz

    started = time.perf_counter()
    rng, today, tz = ctx.rng, ctx.today, practice_tz()
    reception = ctx.staff["reception"].pk
    vet_users = dict(Vet.objects.values_list("pk", "user_id"))
    species = dict(Animal.objects.values_list("pk", "species__name"))
    snapshot = {
        c.pk: (c.display_name, "\n".join(c.address_lines))
        for c in Client.objects.only(
            "title", "first_name", "last_name", "organisation", "address_line1", "address_line2", "town", "county",
            "postcode", "country",
        )
    }  # fmt: skip
    rates: dict[int, list[tuple]] = {}
    for rate in TaxRate.objects.order_by("valid_from"):
        rates.setdefault(rate.category_id, []).append((rate.valid_from, rate.valid_until or dt.date.max, rate.rate))

    def rate_on(category_id: int, day: dt.date) -> Decimal:
        for start, until, rate in rates[category_id]:
            if start <= day < until:
                return rate
        raise ValueError(f"no tax rate on {day}")

    products = ctx.products or {p.code: p for p in Product.objects.all()}
    policies: dict[int, list] = {}
    for policy in Policy.objects.select_related("payor"):
        policies.setdefault(policy.animal_id, []).append(policy)
    amounts = _Amounts()
    ledger = _Ledger(ctx)
    due_days = dt.timedelta(days=settings.INVOICE_DUE_DAYS)
    shop_codes = ["RET-GI", "RET-RENAL", "RET-FLEA", "MED-WORM", "RET-FLEA"]

    visits = list(_visits(ctx))
    invoice_id = reserve_ids(Invoice, len(visits))
    next_line = reserve_ids(InvoiceLine, len(visits) * 7)  # more than enough; the sequence just skips the rest
    ledger.next_claim = reserve_ids(Claim, len(visits) // 20 + 1000)
    ledger.next_payment = reserve_ids(Payment, len(visits) * 2)
    voids = credits = 0

    for end, appointment, animal, client, vet, type_name, start in visits:
        day = start.astimezone(tz).date()
        if appointment is None:
            plan = [(code, Decimal(rng.choice([1, 1, 2]))) for code in rng.sample(shop_codes, rng.choice([1, 1, 2]))]
            created_by = reception
        else:
            plan = treatment_plan(rng, type_name, species[animal])
            created_by = vet_users[vet]
        discount = Decimal(10) if rng.random() < DISCOUNT_CHANCE else Decimal(0)
        lines = []
        for position, (code, quantity) in enumerate(plan, start=1):
            product = products[code]
            rate = rate_on(product.tax_category_id, day)
            money = amounts(quantity, product.unit_price, rate, discount)
            lines.append(
                (next_line, invoice_id, position, product.pk, product.name, animal, vet, appointment, day,
                 product.category, quantity, product.unit, product.unit_price, False, discount, ZERO, rate,
                 money.net, money.tax, money.gross, None)
            )  # fmt: skip
            next_line += 1
        net = sum((line[17] for line in lines), ZERO)
        tax = sum((line[18] for line in lines), ZERO)
        gross = sum((line[19] for line in lines), ZERO)
        finalised = end + dt.timedelta(minutes=rng.randint(2, 25))
        name, address = snapshot[client]
        series, number = ledger.number(settings.INVOICE_SERIES_PREFIX, day)
        ledger.invoices.append(
            (invoice_id, "invoice", "draft", client, series, day, day + due_days, None, "", name, address, net, tax,
             gross, "", created_by, reception, finalised, end, finalised)
        )  # fmt: skip
        ledger.lines.extend(lines)
        age = (today - day).days
        roll = rng.random()
        if roll < VOID_CHANCE:
            ledger.issue.append((invoice_id, number, "void"))
            ledger.credit_notes.append(
                {"credits": invoice_id, "client": client, "day": day, "at": finalised + dt.timedelta(hours=2),
                 "lines": lines, "reason": "Charged to the wrong client's account.", "name": name, "address": address}
            )  # fmt: skip
            voids += 1
            invoice_id += 1
            continue
        ledger.issue.append((invoice_id, number, "finalised"))
        owed = gross
        claim_status = None
        cover = next((p for p in policies.get(animal, ()) if p.starts_on <= day <= p.ends_on), None)
        if roll < VOID_CHANCE + CREDIT_CHANCE and len(lines) > 1:
            credited = lines[-1]
            when = min(today, day + dt.timedelta(days=rng.randint(0, 10)))
            at = max(finalised, dt.datetime.combine(when, dt.time(16, 30), tzinfo=tz))
            ledger.credit_notes.append(
                {"credits": invoice_id, "client": client, "day": when, "at": at, "lines": [credited],
                 "reason": "Not given: taken off the bill.", "name": name, "address": address}
            )  # fmt: skip
            owed -= credited[19]
            credits += 1
        elif cover is not None and gross >= CLAIM_FROM and rng.random() < CLAIM_CHANCE:
            claimed = claim_amount(lines=[_Gross(line[19]) for line in lines], policy=cover)
            if claimed > 0:
                claim_status, share = _claim(ledger, cover, invoice_id, lines, claimed, day)
                owed -= share
        pay_chance = 0.965 if age > 60 else (0.88 if age > 30 else 0.6)  # about 95% in all
        if claim_status != "draft" and owed > 0 and rng.random() < pay_chance:
            method = rng.choices(["card", "cash", "bank_transfer"], weights=[72, 16, 12])[0]
            received = day if method != "bank_transfer" else min(today, day + dt.timedelta(days=rng.randint(2, 14)))
            at = max(finalised, dt.datetime.combine(received, dt.time(12), tzinfo=tz))
            reference = f"{series}-{number:05d}" if method == "bank_transfer" else ""
            ledger.payments.append(
                (ledger.next_payment, "payment", client, None, method, owed, received, reference, "", reception, at)
            )
            ledger.allocations.append((ledger.next_payment, invoice_id, None, owed, at))
            ledger.next_payment += 1
        invoice_id += 1
        if len(ledger.invoices) >= INVOICE_BATCH:
            ledger.flush()
            ctx.out.write(f"    {ledger.totals['invoices']:,} invoices ({time.perf_counter() - started:.0f} s)\n")
    ledger.flush()
    _credit_notes(ledger)
    # Written with COPY, so no model signal kept the list of open invoices or the revenue summaries: build them in
    # one statement each, after fresh planner statistics (on tables the planner still thinks empty the rebuild can
    # run for many minutes).
    from invoicing import balances, open_invoices, summaries

    _analyse_tables()
    open_count = open_invoices.rebuild()
    balances.rebuild()
    summary_counts = summaries.rebuild()
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(series=series, last_number=last) for series, last in sorted(ledger.counters.items())]
    )
    elapsed = time.perf_counter() - started
    total = ledger.totals
    ctx.out.write(
        f"  invoicing: {total['invoices']:,} documents, {total['lines']:,} lines, {total['claims']:,} claims, "
        f"{total['payments']:,} payments in {elapsed:.0f} s ({total['lines'] / elapsed:,.0f} lines/s)\n"
    )
    ctx.counts.update(
        {
            "invoices and credit notes": total["invoices"],
            "invoice lines": total["lines"],
            "credit notes": credits + voids,
            "void invoices": voids,
            "claims": total["claims"],
            "payments": total["payments"],
            "open invoices": open_count,
            "revenue summary rows (days, months, payment days)": sum(summary_counts.values()),
        }
    )


@dataclass
class _Gross:
    gross: Decimal


def _claim(ledger: _Ledger, policy, invoice_id: int, lines: list[tuple], claimed: Decimal, day: dt.date):
    """A claim for every line of an insured pet's bill, in a state that fits its age; returns (status, the
    insurer's share as the balance counts it). Settled claims come with the insurer's payment."""
    rng, today = ledger.ctx.rng, ledger.ctx.today
    age, roll = (today - day).days, rng.random()
    if age > 60:
        status = "settled" if roll < 0.8 else ("declined" if roll < 0.88 else "partly_settled")
    elif age > 20:
        status = "accepted" if roll < 0.4 else ("settled" if roll < 0.8 else "submitted")
    else:
        status = "draft" if roll < 0.3 else ("submitted" if roll < 0.9 else "accepted")
    accepted = None
    submitted = decided = settled = None
    if status != "draft":
        submitted = min(today, day + dt.timedelta(days=rng.randint(1, 5)))
    if status in ("accepted", "settled", "partly_settled", "declined"):
        decided = min(today, submitted + dt.timedelta(days=rng.randint(7, 30)))
        accepted = {"declined": ZERO, "partly_settled": quantize_money(claimed * Decimal("0.75"))}.get(status, claimed)
    if status in ("settled", "partly_settled"):
        settled = min(today, decided + dt.timedelta(days=rng.randint(3, 14)))
        status = "settled"
    share = ZERO if status in ("draft", "declined") else (claimed if accepted is None else accepted)
    paid = accepted if settled else ZERO
    reference = f"{policy.payor.reference[:3]}-C{ledger.next_claim:07d}" if decided else ""
    stamp = dt.datetime.combine(submitted or day, dt.time(15), tzinfo=dt.UTC)
    changed = dt.datetime.combine(settled or decided or submitted or day, dt.time(15), tzinfo=dt.UTC)
    claim_id = ledger.next_claim
    ledger.next_claim += 1
    ledger.claims.append(
        (claim_id, policy.pk, invoice_id, status, True, claimed, accepted, paid, reference, "", submitted, decided,
         settled, ledger.ctx.staff["reception"].pk, stamp, changed)
    )  # fmt: skip
    ledger.claim_lines.extend((claim_id, line[0], status != "declined") for line in lines)
    if settled:
        ledger.payments.append(
            (ledger.next_payment, "payment", None, policy.payor_id, "insurance", paid, settled, reference, "",
             ledger.ctx.staff["reception"].pk, changed)
        )  # fmt: skip
        ledger.allocations.append((ledger.next_payment, invoice_id, claim_id, paid, changed))
        ledger.next_payment += 1
    return status, share


def _credit_notes(ledger: _Ledger) -> None:
    """The credit notes (full ones for the voided invoices), numbered in date order per yearly series."""
    from invoicing.models import Invoice, InvoiceLine

    notes = sorted(ledger.credit_notes, key=lambda n: (n["day"], n["credits"]))
    if not notes:
        return
    manager = ledger.ctx.staff["manager"].pk
    note_id = reserve_ids(Invoice, len(notes))
    line_id = reserve_ids(InvoiceLine, sum(len(n["lines"]) for n in notes))
    for note in notes:
        lines = []
        for position, line in enumerate(note["lines"], start=1):
            lines.append(
                (line_id, note_id, position, *line[3:10], -line[10], *line[11:17], -line[17], -line[18], -line[19],
                 line[0])
            )  # fmt: skip
            line_id += 1
        net, tax, gross = (sum((line[i] for line in lines), ZERO) for i in (17, 18, 19))
        at = note["at"]
        series, number = ledger.number(settings.CREDIT_NOTE_SERIES_PREFIX, note["day"])
        ledger.invoices.append(
            (note_id, "credit_note", "draft", note["client"], series, note["day"], None, note["credits"],
             note["reason"], note["name"], note["address"], net, tax, gross, "", manager, manager, at, at, at)
        )  # fmt: skip
        ledger.lines.extend(lines)
        ledger.issue.append((note_id, number, "finalised"))
        note_id += 1
    ledger.flush()


INVOICING_STEPS: list[Step] = [seed_catalogue, seed_policies, seed_invoices]


# --- Reminders (issue 5) ----------------------------------------------------------------------------------------

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


def seed_reminder_types(ctx: SeedContext) -> None:
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

    first = _first_day(ctx)
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
        first = _first_day(self.ctx)
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
        pet, day = by_pk.get(animal), start.astimezone(tz).date()
        if pet is None or day < pet.joined or (pet.stop is not None and day >= pet.stop):
            continue
        if animal in open_until and (open_until[animal] is None or open_until[animal] > day):
            continue  # a recheck is still pending: the hook creates none
        closed, _fate = writer.close(pet, recall, recall.next_due(day), day, "recall", appointment=pk)
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
        first_day=_first_day(ctx),
        today=ctx.today,
        rng=ctx.rng,
        reception_id=ctx.staff["reception"].pk,
    )
    with transaction.atomic():
        write_outbox(outbox)
    statuses = {}
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


REMINDER_STEPS: list[Step] = [seed_reminder_types, seed_reminders]


def _analyse_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def analyse(ctx: SeedContext) -> None:
    """Fresh planner statistics, so the first search after a bulk load uses the trigram indexes."""
    _analyse_tables()


STEPS: list[Step] = [
    seed_staff,
    seed_vets,
    seed_clients,
    seed_animals,
    seed_ownerships,
    seed_weights,
    seed_book_setup,
    seed_appointments,
    *INVOICING_STEPS,
    *REMINDER_STEPS,
    analyse,
]
