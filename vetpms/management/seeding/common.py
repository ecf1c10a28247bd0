"""What both seeding scales share: the context passed from step to step, staff, people and pets."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
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
    products: dict[str, Any] = field(default_factory=dict)  # the catalogue by code
    invoices: list[Any] = field(default_factory=list)  # issued invoices, oldest first (demo scale)

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


# --- Invoicing (issue 4) ----------------------------------------------------------------------------------------

# code -> (name, category, unit, unit price in GBP, tax category code). UK high-street prices of 2026; vet services,
# drugs and pet food are standard-rated (20%); feed for food-producing animals and statutory fees are zero-rated.
CATALOGUE: dict[str, tuple[str, str, str, str, str]] = {
    "CONS": ("Consultation", "consultation", "each", "52.00", "standard"),
    "CONS-FU": ("Follow-up consultation", "consultation", "each", "32.00", "standard"),
    "CONS-NURSE": ("Nurse clinic", "consultation", "each", "22.00", "standard"),
    "CONS-OOH": ("Out-of-hours consultation", "consultation", "each", "165.00", "standard"),
    "VAC-DHPP": (
        "DHPP booster (distemper, hepatitis, parvovirus, parainfluenza)",
        "vaccine",
        "each",
        "62.00",
        "standard",
    ),
    "VAC-KC": ("Kennel cough vaccine (intranasal)", "vaccine", "each", "45.00", "standard"),
    "VAC-RAB": ("Rabies vaccination", "vaccine", "each", "68.00", "standard"),
    "VAC-FELV": ("FeLV vaccination", "vaccine", "each", "58.00", "standard"),
    "VAC-RHD": ("Myxomatosis and RHD vaccination", "vaccine", "each", "55.00", "standard"),
    "MED-MELOX": ("Meloxicam 1.5 mg/ml oral suspension", "medication", "ml", "0.85", "standard"),
    "MED-AMOXI": ("Amoxicillin/clavulanate 250 mg", "medication", "tablet", "0.95", "standard"),
    "MED-MARO": ("Maropitant 10 mg/ml injection", "medication", "ml", "6.20", "standard"),
    "MED-PRED": ("Prednisolone 5 mg", "medication", "tablet", "0.40", "standard"),
    "MED-GABA": ("Gabapentin 100 mg", "medication", "tablet", "0.70", "standard"),
    "MED-WORM": ("Milbemycin/praziquantel wormer", "medication", "tablet", "6.50", "standard"),
    "PRO-DENTAL": ("Dental scale and polish", "procedure", "each", "285.00", "standard"),
    "PRO-EXT": ("Tooth extraction", "procedure", "each", "45.00", "standard"),
    "PRO-GA": ("General anaesthesia and monitoring", "procedure", "each", "120.00", "standard"),
    "PRO-SPAY": ("Spay (ovariohysterectomy)", "procedure", "each", "395.00", "standard"),
    "PRO-CAST": ("Castration", "procedure", "each", "175.00", "standard"),
    "PRO-LUMP": ("Lump removal", "procedure", "each", "240.00", "standard"),
    "PRO-NAIL": ("Nail clip", "procedure", "each", "14.00", "standard"),
    "LAB-PANEL": ("Haematology and biochemistry panel", "laboratory", "each", "98.00", "standard"),
    "LAB-URINE": ("Urinalysis", "laboratory", "each", "38.00", "standard"),
    "LAB-T4": ("Total T4 (thyroid)", "laboratory", "each", "45.00", "standard"),
    "LAB-CYTO": ("Cytology (external laboratory)", "laboratory", "each", "72.00", "standard"),
    "IMG-XRAY": ("Radiograph", "imaging", "view", "95.00", "standard"),
    "IMG-US": ("Abdominal ultrasound", "imaging", "each", "185.00", "standard"),
    "HOSP-DAY": ("Hospitalisation", "hospitalisation", "day", "68.00", "standard"),
    "HOSP-FLUIDS": ("Intravenous fluid therapy", "hospitalisation", "day", "45.00", "standard"),
    "RET-RENAL": ("Renal support dry food 2 kg", "retail", "bag", "28.99", "standard"),
    "RET-GI": ("Gastrointestinal diet wet food 400 g", "retail", "tin", "2.79", "standard"),
    "RET-FLEA": ("Fipronil flea and tick spot-on (3 pipettes)", "retail", "pack", "18.50", "standard"),
    "RET-LAYERS": ("Layers pellets 20 kg (poultry feed)", "retail", "bag", "14.50", "zero"),
    "OTH-CHIP": ("Microchip implant and registration", "other", "each", "25.00", "standard"),
    "OTH-PASSPORT": ("Equine passport application (statutory fee)", "other", "each", "40.00", "zero"),
    "OTH-CREM": ("Communal cremation", "other", "each", "95.00", "standard"),
}

# Fictional insurers: name -> (contact, claims email, address, phone, payor reference)
PAYORS: dict[str, tuple[str, str, str, str, str]] = {
    "Petsure Insurance": (
        "Claims team",
        "claims@petsure.example.com",
        "Petsure House\n12 Harbour Road\nBristol\nBS1 4QA",
        "0117 496 0999",
        "PS-4471",
    ),
    "Animal Friends Cover": (
        "Vet liaison desk",
        "vetclaims@animalfriendscover.example.org",
        "3 Mill Lane\nLeeds\nLS2 8NE",
        "0113 496 0555",
        "AFC-0932",
    ),
}

VACCINES = {"Dog": "VAC-DHPP", "Cat": "VAC-FELV", "Rabbit": "VAC-RHD", "Ferret": "VAC-RAB"}
TABLETS = [Decimal("7"), Decimal("10"), Decimal("14"), Decimal("14"), Decimal("28")]
MILLILITRES = [Decimal("0.5"), Decimal("1.5"), Decimal("2.5"), Decimal("5"), Decimal("10"), Decimal("15")]


def _dose(rng: random.Random, code: str) -> tuple[str, Decimal]:
    unit = CATALOGUE[code][2]
    if unit == "ml":
        return code, rng.choice(MILLILITRES)
    if unit == "tablet":
        return code, rng.choice(TABLETS)
    return code, Decimal(1)


def _extras(rng: random.Random, species: str, count: int) -> list[tuple[str, Decimal]]:
    """Medicines, tests and shop items added to a visit: ``count`` different ones."""
    pool = ["MED-MELOX", "MED-AMOXI", "MED-MARO", "MED-PRED", "MED-GABA", "LAB-PANEL", "LAB-URINE", "LAB-T4"]
    pool += ["IMG-XRAY", "IMG-US", "RET-GI", "RET-RENAL", "RET-FLEA", "MED-WORM"]
    weights = [16, 12, 6, 8, 5, 8, 5, 3, 4, 2, 5, 3, 8, 8]
    if species == "Bird":
        pool, weights = [*pool, "RET-LAYERS"], [*weights, 6]
    chosen: list[str] = []
    while len(chosen) < count:
        code = rng.choices(pool, weights=weights)[0]
        if code not in chosen:
            chosen.append(code)
    items = [_dose(rng, code) for code in chosen]
    return [(c, Decimal(rng.choice([1, 2, 3]))) if c == "IMG-XRAY" else (c, q) for c, q in items]


def treatment_plan(rng: random.Random, type_name: str, species: str) -> list[tuple[str, Decimal]]:
    """What a visit of ``type_name`` is charged: (product code, quantity) rows, about four on average."""
    extra = rng.choices([0, 1, 2, 3, 4, 5, 6], weights=[3, 9, 20, 26, 21, 13, 8])[0]
    if type_name == "Consultation":
        first = rng.choices(["CONS", "CONS-FU", "CONS-OOH"], weights=[78, 20, 2])[0]
        return [(first, Decimal(1)), *_extras(rng, species, extra)]
    if type_name == "Vaccination":
        items = [(VACCINES.get(species, "CONS"), Decimal(1))]
        if species == "Dog" and rng.random() < 0.3:
            items.append(("VAC-KC", Decimal(1)))
        if rng.random() < 0.05:
            items.append(("OTH-CHIP", Decimal(1)))
        return items + _extras(rng, species, max(0, extra - 1))
    if type_name == "Dental":
        items = [("PRO-DENTAL", Decimal(1)), ("PRO-GA", Decimal(1)), ("MED-MELOX", rng.choice(MILLILITRES))]
        if rng.random() < 0.6:
            items.append(("PRO-EXT", Decimal(rng.randint(1, 5))))
        if rng.random() < 0.5:
            items.append(("LAB-PANEL", Decimal(1)))
        return items + [("MED-AMOXI", rng.choice(TABLETS))] * (rng.random() < 0.5)
    if type_name == "Surgery admit":
        surgery = rng.choice(["PRO-SPAY", "PRO-CAST", "PRO-LUMP"])
        items = [(surgery, Decimal(1)), ("PRO-GA", Decimal(1)), ("HOSP-DAY", Decimal(rng.choice([1, 1, 2])))]
        items += [("MED-MELOX", rng.choice(MILLILITRES)), ("MED-AMOXI", rng.choice(TABLETS))]
        if surgery == "PRO-LUMP":
            items.append(("LAB-CYTO", Decimal(1)))
        if rng.random() < 0.4:
            items.append(("HOSP-FLUIDS", Decimal(1)))
        return items
    if type_name == "Post-op check":
        return [("CONS-FU", Decimal(1)), *_extras(rng, species, max(0, extra - 2))]
    # Nurse clinic
    items = [("CONS-NURSE", Decimal(1))]
    if rng.random() < 0.35:
        items.append(("PRO-NAIL", Decimal(1)))
    return items + _extras(rng, species, max(1, extra - 1))
