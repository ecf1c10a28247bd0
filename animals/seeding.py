"""Animals for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py): pets with plausible
species, breeds, ages and weights.

Demo scale: 90 pets through the animals services, their weight histories, and what a real list holds (a rehomed
pet, pets that died, clients and pets no longer with the practice). Practice scale: 90,000 animals, their
ownerships and weights, bulk-inserted.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from vetpms.management.seeding import names
from vetpms.management.seeding.common import SeedContext, Step, bulk


def pick_species(rng: random.Random) -> str:
    species, weights = zip(*names.SPECIES_WEIGHTS.items(), strict=True)
    return rng.choices(species, weights=weights)[0]


def pet_name(rng: random.Random, species: str) -> str:
    return rng.choice(names.PET_NAMES_BY_SPECIES[species])


def colour(rng: random.Random, species: str) -> str:
    return rng.choice(names.COLOURS.get(species, names.DEFAULT_COLOURS))


def age_days(rng: random.Random, species: str) -> int:
    """A plausible age: mostly adults, some young; small pets and birds live shorter, horses longer."""
    max_years = {"Horse": 28, "Reptile": 20, "Bird": 12, "Guinea pig": 6, "Ferret": 7, "Rabbit": 9}.get(species, 15)
    if rng.random() < 0.12:
        return rng.randint(42, 300)
    return rng.randint(365, max_years * 365)


def adult_weight_range(species: str, breed: str) -> tuple[float, float]:
    """What a healthy adult of the breed weighs (kg): the breed's typical range, else 45-85 % of the ceiling
    animals.plausibility knows for it, else the species range."""
    from animals.plausibility import BREED_MAX_KG

    if (species, breed) in names.BREED_ADULT_KG:
        return names.BREED_ADULT_KG[(species, breed)]
    ceiling = BREED_MAX_KG.get((species, breed))
    if ceiling is not None:
        return float(ceiling) * 0.45, float(ceiling) * 0.85
    return names.ADULT_WEIGHT_KG[species]


def weight_at_age(adult_kg: float, species: str, age_in_days: int) -> float:
    """Young animals are lighter: a simple growth curve reaching the adult weight at about eleven months (three
    years for horses), so a ten-week-old puppy is not weighed as a grown dog."""
    grown = 1100 if species == "Horse" else 330
    if age_in_days >= grown:
        return adult_kg
    return adult_kg * (0.12 + 0.88 * max(age_in_days, 0) / grown)


def microchip_at(index: int) -> str:
    """A unique 15-digit ISO 11784 number: a manufacturer or UK country code and a scrambled serial.

    7919 is coprime to 10**12, so index -> serial is a bijection and no two indexes share a chip.
    """
    prefix = ("985", "941", "977", "826")[index % 4]
    return f"{prefix}{(index * 7919 + 104729) % 10**12:012d}"


# --- Demo scale -------------------------------------------------------------------------------------------------------

DEMO_ANIMALS = 90


def seed_animals(ctx: SeedContext) -> None:
    """DEMO_ANIMALS pets: every client but a few has one, the rest go to multi-pet households."""
    from animals.models import Animal, Breed, Species
    from animals.services import animal_create

    species = {s.name: s for s in Species.objects.all()}
    breeds: dict[str, list[Breed]] = {}
    for breed in Breed.objects.select_related("species").order_by("species__name", "name"):
        breeds.setdefault(breed.species.name, []).append(breed)

    owners = [c for i, c in enumerate(ctx.clients) if i % 12 != 11]  # some clients have no pet on file
    while len(owners) < DEMO_ANIMALS:
        owners.append(ctx.rng.choice(ctx.clients[: len(ctx.clients) // 2]))
    chip_serial = ctx.rng.randint(10**9, 9 * 10**9)
    for n, owner in enumerate(owners[:DEMO_ANIMALS]):
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


# --- Practice scale ---------------------------------------------------------------------------------------------------

PRACTICE_ANIMALS = 90_000


def _owners(ctx: SeedContext) -> list:
    """PRACTICE_ANIMALS owners: households of 0-4 pets, topped up or trimmed to the exact total."""
    owners = []
    for client in ctx.clients:
        owners.extend([client] * ctx.rng.choices([0, 1, 2, 3, 4], weights=[12, 45, 28, 10, 5])[0])
    while len(owners) < PRACTICE_ANIMALS:
        owners.append(ctx.rng.choice(ctx.clients))
    return owners[:PRACTICE_ANIMALS]


def seed_practice_animals(ctx: SeedContext) -> None:
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
    ctx.animals = bulk(Animal, rows)
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
    ctx.counts["ownerships"] = len(bulk(Ownership, rows))


def seed_practice_weights(ctx: SeedContext) -> None:
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
    ctx.counts["weights"] = len(bulk(Weight, rows))


DEMO_STEPS: list[Step] = [seed_animals, seed_weights, seed_life_events]
PRACTICE_STEPS: list[Step] = [seed_practice_animals, seed_ownerships, seed_practice_weights]
