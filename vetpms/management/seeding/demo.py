"""Demo scale: a believable small practice, written through the services so audit entries exist."""

from __future__ import annotations

from decimal import Decimal

from vetpms.management.seeding import names
from vetpms.management.seeding.common import (
    SeedContext,
    Step,
    age_days,
    colour,
    fiction_phone,
    organisation,
    person,
    pet_name,
    pick_species,
    seed_staff,
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


STEPS: list[Step] = [seed_staff, seed_clients, seed_animals, seed_weights, seed_life_events]
