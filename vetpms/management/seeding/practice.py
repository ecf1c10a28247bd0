"""Practice scale (DESIGN.md section 5): ten years of a busy practice, written with bulk inserts.

Services are bypassed for speed, so no audit entries are written; every row still gets the same derived values
the services would give it (``search_text`` from the models' own ``build_search_text``), so search works.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from vetpms.management.seeding import names
from vetpms.management.seeding.common import (
    SeedContext,
    Step,
    age_days,
    colour,
    fiction_phone_at,
    microchip_at,
    organisation,
    person,
    pet_name,
    pick_species,
    seed_staff,
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


def analyse(ctx: SeedContext) -> None:
    """Fresh planner statistics, so the first search after a bulk load uses the trigram indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


STEPS: list[Step] = [seed_staff, seed_clients, seed_animals, seed_ownerships, seed_weights, analyse]
