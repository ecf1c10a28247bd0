"""Clients for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py): made-up people and
organisations with phone numbers from Ofcom's drama ranges.

Demo scale: 60 clients through ``client_create`` (so audit entries exist). Practice scale: 60,000 bulk-inserted,
with the ``search_text`` the model builds.
"""

from __future__ import annotations

import random
from typing import Any

from django.utils import timezone

from vetpms.management.seeding import names
from vetpms.management.seeding.common import SeedContext, Step, bulk


def fiction_phone(rng: random.Random) -> str:
    """A valid UK landline from one of Ofcom's drama ranges, e.g. '0117 496 0421'."""
    return rng.choice(names.FICTION_PHONE_PREFIXES) + f"0{rng.randint(0, 999):03d}"


def fiction_phone_at(index: int) -> str:
    """The index-th number of the drama ranges (15,000 of them, then they repeat)."""
    prefixes = names.FICTION_PHONE_PREFIXES
    return prefixes[index % len(prefixes)] + f"0{(index // len(prefixes)) % 1000:03d}"


def postcode(rng: random.Random, district: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{district} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def person(rng: random.Random, *, serial: int) -> dict[str, Any]:
    """Fields of a made-up private client (without phone numbers)."""
    female = rng.random() < 0.55
    first = rng.choice(names.FEMALE_NAMES if female else names.MALE_NAMES)
    last = rng.choice(names.SURNAMES)
    title = rng.choice(["Mrs", "Ms", "Miss", "Dr"] if female else ["Mr", "Mr", "Mr", "Dr"])
    if rng.random() < 0.1:
        title = ""
    town, district = rng.choice(names.TOWNS)
    email_local = f"{first}.{last}".lower().replace("'", "")
    domain = "example.com" if serial % 3 else "example.org"
    return {
        "title": title,
        "first_name": first,
        "last_name": last,
        "email": f"{email_local}{serial}@{domain}" if rng.random() < 0.85 else "",
        "address_line1": f"{rng.randint(1, 180)} {rng.choice(names.STREETS)}",
        "town": town,
        "county": rng.choice(names.COUNTIES),
        "postcode": postcode(rng, district),
        "country": "United Kingdom",
        "preferred_channel": rng.choice(["email", "email", "email", "phone", "sms", "post"]),
        "reminder_consent": rng.random() < 0.75,
        "notes": rng.choice(names.NOTES),
    }


def organisation(rng: random.Random, *, serial: int) -> dict[str, Any]:
    data = person(rng, serial=serial)
    data["organisation"] = names.ORGANISATIONS[serial % len(names.ORGANISATIONS)]
    if rng.random() < 0.5:
        data.update(title="", first_name="", last_name="")
    slug = data["organisation"].lower().replace(" & ", "-").replace(" ", "-")
    data["email"] = f"office@{slug}.example.org"
    return data


# --- Demo scale -------------------------------------------------------------------------------------------------------

DEMO_CLIENTS = 60
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

    for serial in range(1, DEMO_CLIENTS + 1):
        data = organisation(ctx.rng, serial=serial) if serial <= ORGANISATIONS else person(ctx.rng, serial=serial)
        data["home_phone"] = fresh_phone()
        if ctx.rng.random() < 0.3:
            data["work_phone"] = fresh_phone()
        # Made-up people may share a surname and postcode by chance; the demo means them as different people.
        ctx.clients.append(client_create(by=ctx.staff["reception"], confirm_new=True, **data))
    ctx.counts["clients"] = len(ctx.clients)


# --- Practice scale ---------------------------------------------------------------------------------------------------

PRACTICE_CLIENTS = 60_000


def seed_practice_clients(ctx: SeedContext) -> None:
    from clients.models import Client

    rows = []
    for serial in range(1, PRACTICE_CLIENTS + 1):
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
    ctx.clients = bulk(Client, rows)
    ctx.counts["clients"] = len(ctx.clients)


DEMO_STEPS: list[Step] = [seed_clients]
PRACTICE_STEPS: list[Step] = [seed_practice_clients]
