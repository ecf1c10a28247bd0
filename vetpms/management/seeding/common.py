"""What both seeding scales share: the context passed from step to step, staff, people and pets."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.utils import timezone

from vetpms.management.seeding import names

# username -> (first name, last name, role, password). The passwords are for the local demo only; they are
# printed by `make demo` and written in the README.
DEMO_STAFF: dict[str, tuple[str, str, str, str]] = {
    "reception": ("Rita", "Reeves", "Receptionist", "demo-reception-2026"),
    "vet": ("Victoria", "Hale", "Vet", "demo-vet-2026"),
    "vet2": ("Tomasz", "Nowak", "Vet", "demo-vet2-2026"),
    "manager": ("Maggie", "Pearson", "Manager", "demo-manager-2026"),
}


@dataclass
class SeedContext:
    """Handed to every step: the random source, the fixed 'today', and what earlier steps made."""

    rng: random.Random
    today: dt.date
    out: TextIO
    staff: dict[str, Any] = field(default_factory=dict)
    clients: list[Any] = field(default_factory=list)
    animals: list[Any] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    vets: list[Any] = field(default_factory=list)  # the appointment books, in column order
    types: dict[str, Any] = field(default_factory=dict)  # appointment types by name
    planned: list[Any] = field(default_factory=list)  # appointments still to book (demo scale)

    @classmethod
    def create(cls, *, seed: int, out: TextIO) -> SeedContext:
        # Every date is an offset from today, so a demo looks current whenever it is built, while the names
        # and the offsets depend only on the seed.
        return cls(rng=random.Random(seed), today=timezone.localdate(), out=out)

    def days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)


Step = Callable[[SeedContext], None]


@contextmanager
def timed(ctx: SeedContext, label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    ctx.out.write(f"  {label:<28} {time.perf_counter() - started:7.2f} s\n")


def run_steps(ctx: SeedContext, steps: list[Step]) -> None:
    for step in steps:
        with timed(ctx, step.__name__):
            step(ctx)


def seed_staff(ctx: SeedContext) -> None:
    """One login per role (two vets, so the appointment book has two columns), created through the service."""
    from vetpms.models import User
    from vetpms.services import staff_create

    for username, (first, last, role, password) in DEMO_STAFF.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = staff_create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                role=role,
                password=password,
                by=None,
                vet_display_name=f"{first} {last} MRCVS" if role == "Vet" else "",
            )
        ctx.staff[username] = user


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


def microchip_at(index: int) -> str:
    """A unique 15-digit ISO 11784 number: a manufacturer or UK country code and a scrambled serial.

    7919 is coprime to 10**12, so index -> serial is a bijection and no two indexes share a chip.
    """
    prefix = ("985", "941", "977", "826")[index % 4]
    return f"{prefix}{(index * 7919 + 104729) % 10**12:012d}"


# --- Appointment books (issue 3) --------------------------------------------------------------------------------

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

# Extra vets at practice scale (ten in all with the two demo vets); no password, not demo logins.
PRACTICE_VETS: dict[str, tuple[str, str]] = {
    "vet3": ("Amara", "Okafor"),
    "vet4": ("Ewan", "MacLeod"),
    "vet5": ("Priya", "Shah"),
    "vet6": ("Sean", "Gallagher"),
    "vet7": ("Ingrid", "Larsen"),
    "vet8": ("Daniel", "Price"),
    "vet9": ("Fatima", "Haddad"),
    "vet10": ("Owen", "Llewellyn"),
}


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
