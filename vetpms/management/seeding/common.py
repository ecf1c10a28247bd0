"""What both seeding scales share: the context passed from step to step, staff, people and pets."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, TextIO

from django.utils import timezone

from vetpms.management.seeding import names

# username -> (first name, last name, role, password). The passwords are for the local demo only; they are
# printed by `make demo` and written in the README.
DEMO_STAFF: dict[str, tuple[str, str, str, str]] = {
    "reception": ("Rita", "Reeves", "Receptionist", "demo-reception-2026"),
    "vet": ("Victoria", "Hale", "Vet", "demo-vet-2026"),
    "vet2": ("Tomasz", "Nowak", "Vet", "demo-vet2-2026"),
    "nurse": ("Nadia", "Okafor", "Nurse", "demo-nurse-2026"),
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
    reminder_types: dict[str, Any] = field(default_factory=dict)  # by name

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

YOUNG_ONLY = {"First vaccination", "Second puppy vaccination", "Puppy party"}
ADULT_ONLY = {"Annual booster", "Booster", "Weight clinic", "Dental extractions"}
DOGS_ONLY = {"Second puppy vaccination", "Puppy party", "Kennel cough"}
YOUNG_DAYS = 180


def reason_for(rng: random.Random, type_name: str, *, species: str, sex: str, age_in_days: int | None) -> str:
    """A reason for a visit of ``type_name`` that fits the animal: first vaccinations and puppy parties for the
    young, boosters for adults, kennel cough for dogs, a spay for a female and a castration for a male."""
    young = age_in_days is not None and age_in_days < YOUNG_DAYS

    def fits(reason: str) -> bool:
        if reason in DOGS_ONLY and species != "Dog":
            return False
        if reason in YOUNG_ONLY:
            return young
        if reason in ADULT_ONLY:
            return not young
        if reason == "Spay":
            return sex == "female"
        if reason == "Castration":
            return sex == "male"
        return True

    options = REASONS[type_name]
    return rng.choice([r for r in options if fits(r)] or options)


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


# --- Reminders (issue 5) ----------------------------------------------------------------------------------------

SIGN_OFF_TEXT = "Warm wishes,\nThe team at {practice_name}\n{practice_phone}"
SIGN_OFF_HTML = "<p>Warm wishes,<br>The team at {practice_name}<br>{practice_phone}</p>"


@dataclass(frozen=True)
class ReminderTypeSpec:
    """A reminder type of the demo practice: what it is for, how often, when owners hear, and its email."""

    species: tuple[str, ...]  # empty: every species
    interval: int
    unit: str
    stages: tuple[int, ...]
    products: tuple[str, ...]  # catalogue codes that renew it when invoiced
    appointment_type: str  # the appointment type whose completion recalls it ("" for none)
    subject: str
    opening: str  # the paragraph before the list of items (text; the HTML part uses the same words)
    closing: str  # the paragraph after it

    def body_text(self) -> str:
        return f"Dear {{owner_first_name}},\n\n{self.opening}\n\n{{items}}\n\n{self.closing}\n\n{SIGN_OFF_TEXT}"

    def body_html(self) -> str:
        opening, closing = f"<p>{self.opening}</p>", f"<p>{self.closing}</p>"
        return f"<p>Dear {{owner_first_name}},</p>\n{opening}\n{{items}}\n{closing}\n{SIGN_OFF_HTML}"

    def data(self, name: str) -> dict[str, Any]:
        """The fields ``reminder_type_save`` takes (species and products are linked separately)."""
        return {
            "name": name,
            "interval": self.interval,
            "interval_unit": self.unit,
            "stages": list(self.stages),
            "subject": self.subject,
            "body_text": self.body_text(),
            "body_html": self.body_html(),
            "is_active": True,
        }


# Placeholders from reminders.models.PLACEHOLDERS only. An owner with several things due gets one email written
# with the most urgent item's template, so each text reads well whatever else ``{items}`` lists.
REMINDER_TYPES: dict[str, ReminderTypeSpec] = {
    "Rabies vaccination": ReminderTypeSpec(
        species=("Dog", "Cat", "Ferret"),
        interval=12,
        unit="months",
        stages=(-14, 0, 30),
        products=("VAC-RAB",),
        appointment_type="",
        subject="Rabies vaccination due for {pets}",
        opening="A friendly reminder that it is nearly time for a rabies booster. Here is what is coming up:",
        closing="Keeping the booster on time keeps the protection, and any pet passport, valid. "
        "To book a visit, {booking_contact}.",
    ),
    "DHPP booster": ReminderTypeSpec(
        species=("Dog",),
        interval=12,
        unit="months",
        stages=(-14, 0, 30),
        products=("VAC-DHPP",),
        appointment_type="",
        subject="Booster time for {pets}",
        opening="It is time for the yearly booster against distemper, hepatitis, parvovirus and parainfluenza:",
        closing="The visit takes about fifteen minutes and includes a quick health check. To book, {booking_contact}.",
    ),
    "FeLV": ReminderTypeSpec(
        species=("Cat",),
        interval=12,
        unit="months",
        stages=(-14, 0, 30),
        products=("VAC-FELV",),
        appointment_type="",
        subject="FeLV vaccination due for {pets}",
        opening="The feline leukaemia (FeLV) vaccination comes round again soon:",
        closing="Cats who go outdoors are best kept protected without a gap. To book, {booking_contact}.",
    ),
    "Dental recheck": ReminderTypeSpec(
        species=(),
        interval=6,
        unit="months",
        stages=(-7, 0, 14),
        products=(),
        appointment_type="Dental",
        subject="Time for a dental recheck for {pets}",
        opening="At the last dental visit we suggested a quick look at teeth and gums in a few months, "
        "and that time has come:",
        closing="It is a short, gentle appointment that helps us catch problems early. To book, {booking_contact}.",
    ),
    "Annual health check": ReminderTypeSpec(
        species=(),
        interval=12,
        unit="months",
        stages=(-14, 14),
        products=(),
        appointment_type="",
        subject="An annual health check for {pets}",
        opening="It has been about a year, so a nose-to-tail health check is due:",
        closing="It is a good moment to ask us anything about diet, weight or behaviour too. "
        "To book, {booking_contact}.",
    ),
}

CANCEL_NOTES = {
    "lapsed": "No response after three reminders",
    "declined": "Owner declined",
    "deceased": "animal deceased",
    "inactive": "animal inactive",
    "owner": "owner deactivated",
}
FOLLOW_UP_NOTES = ["Rang: booked in", "Rang: will call back to book", "Left a voicemail", "Rang: seen elsewhere"]
FAILED_EMAIL = "550 5.1.1 Recipient address rejected: mailbox unavailable"


def reserve_ids(model, count: int) -> int:
    """The first of ``count`` consecutive primary keys nobody else will get (rows are then written with COPY,
    which cannot return the keys it made)."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            return cursor.fetchone()[0] - count + 1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (a model's table name)
        return cursor.fetchone()[0] + 1


def insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``fields`` order, written as given: no auto_now): COPY on PostgreSQL; elsewhere
    each value prepared as the field would save it (SQLite stores datetimes as naive UTC text), then executemany."""
    from django.db import connection

    if not rows:
        return
    model_fields = [model._meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        prepare = [f.get_db_prep_save for f in model_fields]
        prepared = [tuple(p(v, connection) for p, v in zip(prepare, row, strict=True)) for row in rows]
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", prepared)  # noqa: S608


@dataclass(frozen=True)
class NoticeSource:
    """A reminder as the outbox history sees it: whose, what, when due, and the days it could be told about."""

    reminder_id: int
    client_id: int
    pet: str
    type_id: int
    due_on: dt.date
    from_day: dt.date  # the reminder existed from this day
    closed_on: dt.date | None  # completed or cancelled that day (no notice on or after it)


@dataclass(frozen=True)
class Addressee:
    """What the history needs of an owner (the attributes ``reminders.sending.channel_for`` reads)."""

    email: str
    reminder_consent: bool
    owner_name: str
    owner_first_name: str


@dataclass
class Outbox:
    runs: list[tuple] = field(default_factory=list)
    deliveries: list[tuple] = field(default_factory=list)
    notices: list[tuple] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


RUN_FIELDS = [
    "id", "trigger", "for_date", "status", "task_id", "created_at", "started_at", "finished_at", "notices_planned",
    "emails_total", "emails_sent", "emails_failed", "emails_deferred", "no_channel", "error",
]  # fmt: skip
DELIVERY_FIELDS = [
    "id", "client", "run", "channel", "status", "reason", "to_email", "subject", "message_id", "attempts",
    "claimed_at", "sent_at", "last_error", "followed_up_at", "followed_up_by", "follow_up_note", "created_at",
    "updated_at",
]  # fmt: skip
NOTICE_FIELDS = ["reminder", "stage", "send_on", "delivery", "status", "skip_reason", "created_at", "sent_at"]


def outbox_history(
    *,
    reminders: list[NoticeSource],
    addressees: dict[int, Addressee],
    types: dict[int, Any],
    first_day: dt.date,
    today: dt.date,
    rng: random.Random,
    reception_id: int,
) -> Outbox:
    """What the daily notice job would have recorded from ``first_day`` to yesterday, as rows to insert.

    One run a day at the send time; each notice whose stage day fell then, while its reminder was still open,
    grouped per owner into one delivery: an email (sent; about one in a hundred refused by the owner's mail
    server, failed), or, for owners without consent or an email address, an entry on the follow-up list (most
    older ones marked as rung). Today's notices are left for the job (``run now`` sends them). Rows are tuples
    in RUN_FIELDS / DELIVERY_FIELDS / NOTICE_FIELDS order, keys reserved from the tables' sequences.
    """
    from django.conf import settings

    from reminders.models import PLACEHOLDER, ReminderDelivery, ReminderRun
    from reminders.sending import channel_for, message_id
    from vetpms.timeutils import practice_tz

    tz = practice_tz()
    send_hour, send_minute = (int(part) for part in getattr(settings, "REMINDER_SEND_TIME", "07:00").split(":"))
    due: list[tuple[dt.date, int, int, int]] = []  # (send_on, client, reminder index, stage)
    for index, reminder in enumerate(reminders):
        for stage in types[reminder.type_id].stages:
            send_on = reminder.due_on + dt.timedelta(days=stage)
            if not (first_day <= send_on < today and send_on >= reminder.from_day):
                continue
            if reminder.closed_on is not None and send_on >= reminder.closed_on:
                continue
            due.append((send_on, reminder.client_id, index, stage))
    due.sort()
    days = (today - first_day).days
    outbox = Outbox()
    run_id = reserve_ids(ReminderRun, max(days, 1))
    delivery_id = reserve_ids(ReminderDelivery, max(len(due), 1))  # at most one delivery per notice
    practice = settings.PRACTICE
    position = 0
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        started = dt.datetime.combine(day, dt.time(send_hour, send_minute), tzinfo=tz).astimezone(dt.UTC)
        clock = started + dt.timedelta(seconds=2)
        planned = sent = failed = no_channel = 0
        while position < len(due) and due[position][0] == day:
            client_id = due[position][1]
            group = []
            while position < len(due) and due[position][:2] == (day, client_id):
                group.append(due[position])
                position += 1
            planned += len(group)
            owner = addressees[client_id]
            items = sorted((reminders[i] for _d, _c, i, _s in group), key=lambda r: (r.due_on, types[r.type_id].name))
            pets = list(dict.fromkeys(r.pet for r in items))
            values = {
                "pets": pets[0] if len(pets) == 1 else ", ".join(pets[:-1]) + " and " + pets[-1],
                "owner_name": owner.owner_name,
                "owner_first_name": owner.owner_first_name,
                "first_due_date": f"{items[0].due_on.day} {items[0].due_on:%B %Y}",
                "practice_name": practice["name"],
                "practice_phone": practice["phone"],
            }
            subject = _fill(PLACEHOLDER, types[items[0].type_id].subject, values)
            clock += dt.timedelta(milliseconds=rng.randint(20, 400))
            followed = None
            channel, reason = channel_for(owner)  # type: ignore[arg-type]  # an Addressee reads like a Client
            if channel == "email":
                attempts, sent_at, error = 1, clock, ""
                if rng.random() < 0.01:  # a permanent rejection: failed at once, not retried
                    status, notice_status, sent_at, error = "failed", "failed", None, FAILED_EMAIL
                    failed += 1
                else:
                    status, notice_status = "sent", "sent"
                    if rng.random() < 0.03:  # a temporary failure first, sent on the retry
                        attempts, sent_at = 2, clock + dt.timedelta(minutes=5)
                    sent += 1
                stamp = message_id(SimpleNamespace(pk=delivery_id, created_at=clock)) if sent_at else ""
                subject = subject if sent_at else ""  # the job records the subject it sent
                delivery = (delivery_id, client_id, run_id, "email", status, "", owner.email, subject, stamp,
                            attempts, clock, sent_at, error, None, None, "", clock, sent_at or clock)  # fmt: skip
            else:
                status = notice_status = "no_channel"
                no_channel += 1
                sent_at = None
                note = ""
                if (today - day).days > 21 and rng.random() < 0.8:
                    followed = clock + dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(1, 6))
                    note = rng.choice(FOLLOW_UP_NOTES)
                rung_by = reception_id if followed else None
                delivery = (delivery_id, client_id, run_id, "none", status, reason, "", "", "", 0, None, None,
                            "", followed, rung_by, note, clock, followed or clock)  # fmt: skip
            outbox.deliveries.append(delivery)
            for _d, _c, index, stage in group:
                outbox.notices.append(
                    (reminders[index].reminder_id, stage, day, delivery_id, notice_status, "", started, sent_at)
                )
            delivery_id += 1
        emails = sent + failed
        outbox.runs.append(
            (run_id, "schedule", day, "finished", "", started, started + dt.timedelta(seconds=1),
             clock + dt.timedelta(seconds=1), planned, emails, sent, failed, 0, no_channel, "")
        )  # fmt: skip
        run_id += 1
    outbox.counts = {"reminder runs": len(outbox.runs), "deliveries": len(outbox.deliveries)}
    outbox.counts["notices"] = len(outbox.notices)
    return outbox


def _fill(pattern: Any, template: str, values: dict[str, str]) -> str:
    """A subject line as the job renders it (the placeholders it can fill from what the history knows)."""
    return pattern.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def write_outbox(outbox: Outbox) -> None:
    from reminders.models import ReminderDelivery, ReminderNotice, ReminderRun

    insert_rows(ReminderRun, RUN_FIELDS, outbox.runs)
    for start in range(0, len(outbox.deliveries), 50_000):
        insert_rows(ReminderDelivery, DELIVERY_FIELDS, outbox.deliveries[start : start + 50_000])
    for start in range(0, len(outbox.notices), 50_000):
        insert_rows(ReminderNotice, NOTICE_FIELDS, outbox.notices[start : start + 50_000])
