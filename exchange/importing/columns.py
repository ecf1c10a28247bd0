"""The canonical import/export columns: one spec shared by the importer and the export zip.

Every entity VetPMS can take in from another practice system (and writes back out in its export zip) has a fixed
list of columns here: the column's name (the exact CSV header an export writes), its type (how the importer parses a
cell), whether a row needs it, and the header synonyms other systems use, so "Surname", "Last name" and
"Client Last Name" all propose ``last_name``. An export written with exactly these headers and value formats imports
back into an empty VetPMS with nothing to map (the round trip).

Value formats an export writes (and the importer always accepts without a value mapping):
- ``date``: ISO ``YYYY-MM-DD``; ``datetime``: ISO 8601 with offset (``2026-03-01T09:30:00+00:00``).
- ``bool``: ``yes`` / ``no``.  ``money`` / ``decimal``: plain digits with a dot (``1234.50``, ``-20.00``), no symbol.
- ``choice``: the stored value listed in ``choices`` (``male``, ``neutered``, ``email``, ...).
- ``ref``: the ``source_id`` of a row of the entity named in ``ref`` (an animal's ``owner_source_id`` is the
  ``source_id`` of its owner in clients.csv). A VetPMS export writes its own primary keys as source ids.
- ``name_ref``: the name of a practice list entry (species, breed, reminder type, appointment type, vet, product code);
  the importer maps unknown names by a value mapping and proposes new entries where the list allows it.

Entities are listed in import order (an animal's owner comes before the animal). This module is data only: no model
imports, so anything (the export, a management command, docs) may read it cheaply. Changing a column name breaks the
round trip with exports already written: add columns, never rename them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    EMAIL = "email"
    PHONE = "phone"
    CHOICE = "choice"
    REF = "ref"
    NAME_REF = "name_ref"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    label: str
    required: bool = False
    synonyms: tuple[str, ...] = ()
    max_length: int | None = None
    # CHOICE: the stored values; REF: the entity whose source_id it names; NAME_REF: the practice list it names.
    choices: tuple[str, ...] = ()
    ref: str = ""
    help: str = ""


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    filename: str
    columns: tuple[Column, ...]
    # Words other systems put before a header ("Client Last Name", "Pet Name") that may be dropped when matching.
    prefixes: tuple[str, ...] = ()
    file_synonyms: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


T = ColumnType


def _source_id(*extra: str) -> Column:
    return Column(
        "source_id",
        T.TEXT,
        "Id in the source system",
        required=True,
        max_length=100,
        synonyms=("id", "record id", "code", "number", "no", "ref", "reference", "external id", "legacy id", *extra),
        help="The record's identifier in the system that wrote the file; importing it again updates the same record.",
    )


CLIENTS = Entity(
    name="clients",
    label="Clients (owners)",
    filename="clients.csv",
    prefixes=("client", "owner", "customer", "contact"),
    file_synonyms=("client", "owners", "owner", "customers", "customer", "contacts"),
    columns=(
        _source_id("client id", "client number", "client no", "owner id", "customer id", "account", "account no"),
        Column(
            "title",
            T.CHOICE,
            "Title",
            max_length=10,
            choices=("", "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof"),
            synonyms=("salutation", "honorific"),
        ),
        Column(
            "first_name",
            T.TEXT,
            "First name",
            max_length=100,
            synonyms=("first name", "forename", "forenames", "given name", "christian name", "firstname", "first"),
        ),
        Column(
            "last_name",
            T.TEXT,
            "Last name",
            max_length=100,
            synonyms=("last name", "surname", "family name", "lastname", "last", "name"),
            help="A client needs a last name or an organisation.",
        ),
        Column(
            "organisation",
            T.TEXT,
            "Organisation",
            max_length=200,
            synonyms=("organization", "company", "company name", "business", "business name", "farm", "firm"),
        ),
        Column("email", T.EMAIL, "Email", max_length=254, synonyms=("email address", "e mail", "mail", "emailaddress")),
        Column(
            "mobile_phone",
            T.PHONE,
            "Mobile phone",
            max_length=40,
            synonyms=(
                "mobile",
                "mobile number",
                "mobile no",
                "cell",
                "cell phone",
                "cellphone",
                "mobile tel",
                "phone mobile",
                "sms",
            ),
        ),
        Column(
            "home_phone",
            T.PHONE,
            "Home phone",
            max_length=40,
            synonyms=(
                "phone",
                "telephone",
                "tel",
                "home",
                "home tel",
                "home telephone",
                "phone home",
                "landline",
                "phone 1",
            ),
        ),
        Column(
            "work_phone",
            T.PHONE,
            "Work phone",
            max_length=40,
            synonyms=("work", "work tel", "work telephone", "business phone", "office phone", "phone work", "phone 2"),
        ),
        Column(
            "address_line1",
            T.TEXT,
            "Address",
            max_length=200,
            synonyms=("address", "address 1", "address line 1", "addr1", "street", "street address", "house"),
        ),
        Column(
            "address_line2",
            T.TEXT,
            "Address line 2",
            max_length=200,
            synonyms=("address 2", "address line 2", "addr2", "locality", "district"),
        ),
        Column("town", T.TEXT, "Town", max_length=100, synonyms=("city", "town city", "post town", "address 3")),
        Column(
            "county", T.TEXT, "County / region", max_length=100, synonyms=("region", "state", "province", "address 4")
        ),
        Column(
            "postcode",
            T.TEXT,
            "Postcode",
            max_length=20,
            synonyms=("post code", "zip", "zip code", "postal code", "zipcode"),
        ),
        Column("country", T.TEXT, "Country", max_length=100, synonyms=("nation",)),
        Column(
            "preferred_channel",
            T.CHOICE,
            "Preferred channel",
            max_length=10,
            choices=("email", "phone", "sms", "post"),
            synonyms=("contact method", "preferred contact", "contact preference", "channel"),
        ),
        Column(
            "reminder_consent",
            T.BOOL,
            "Reminder consent",
            synonyms=("consent", "reminders", "send reminders", "marketing consent", "opt in", "accepts reminders"),
        ),
        Column("notes", T.TEXT, "Notes", max_length=5000, synonyms=("note", "comments", "comment", "memo", "remarks")),
        Column("is_active", T.BOOL, "Active", synonyms=("active", "status active", "current")),
    ),
)

ANIMALS = Entity(
    name="animals",
    label="Animals (with owner)",
    filename="animals.csv",
    prefixes=("animal", "pet", "patient"),
    file_synonyms=("animal", "pets", "pet", "patients", "patient"),
    columns=(
        _source_id("animal id", "pet id", "patient id", "animal number", "patient number", "pet no"),
        Column(
            "owner_source_id",
            T.REF,
            "Owner (id in the source system)",
            required=True,
            ref="clients",
            max_length=100,
            synonyms=(
                "owner id",
                "client id",
                "owner",
                "client",
                "owner number",
                "client number",
                "client no",
                "customer id",
                "account",
            ),
        ),
        Column(
            "name",
            T.TEXT,
            "Name",
            required=True,
            max_length=100,
            synonyms=("pet name", "animal name", "patient name", "name"),
        ),
        Column(
            "species",
            T.NAME_REF,
            "Species",
            required=True,
            ref="species",
            max_length=60,
            synonyms=("animal type", "kind", "type"),
        ),
        Column("breed", T.NAME_REF, "Breed", ref="breed", max_length=80, synonyms=("breed name", "race")),
        Column(
            "sex",
            T.CHOICE,
            "Sex",
            choices=("male", "female", "unknown"),
            synonyms=("gender", "sex code", "sex neuter"),
            help="Combined codes such as MN (male neutered) or FE (female entire) also set the neuter status.",
        ),
        Column(
            "neuter_status",
            T.CHOICE,
            "Neuter status",
            choices=("entire", "neutered", "unknown"),
            synonyms=("neutered", "neuter", "desexed", "spayed castrated", "castrated", "spayed", "fixed"),
        ),
        Column(
            "date_of_birth", T.DATE, "Date of birth", synonyms=("dob", "birth date", "birthdate", "born", "birthday")
        ),
        Column(
            "date_of_birth_estimated",
            T.BOOL,
            "Birth date is estimated",
            synonyms=("dob estimated", "estimated dob", "age estimated", "birth date estimated"),
        ),
        Column(
            "colour",
            T.TEXT,
            "Colour / markings",
            max_length=200,
            synonyms=("color", "markings", "coat", "colour markings"),
        ),
        Column(
            "microchip",
            T.TEXT,
            "Microchip",
            max_length=40,
            synonyms=("chip", "chip number", "chip no", "microchip number", "microchip no", "transponder", "id chip"),
            help="15 digits (ISO 11784); spaces and dashes are removed.",
        ),
        Column(
            "alerts", T.TEXT, "Alerts", max_length=2000, synonyms=("alert", "warning", "warnings", "caution", "flags")
        ),
        Column("notes", T.TEXT, "Notes", max_length=5000, synonyms=("note", "comments", "comment", "remarks")),
        Column(
            "deceased_on",
            T.DATE,
            "Deceased on",
            synonyms=("date of death", "died", "death date", "deceased date", "dod", "deceased"),
        ),
        Column("is_active", T.BOOL, "Active", synonyms=("active", "current")),
    ),
)

VACCINATIONS = Entity(
    name="vaccinations",
    label="Vaccination history",
    filename="vaccinations.csv",
    prefixes=("vaccination", "vaccine", "vacc"),
    file_synonyms=("vaccination", "vaccines", "vaccine", "vaccination history", "immunisations", "immunizations"),
    columns=(
        _source_id("vaccination id", "vacc id"),
        Column(
            "animal_source_id",
            T.REF,
            "Animal (id in the source system)",
            required=True,
            ref="animals",
            max_length=100,
            synonyms=("animal id", "pet id", "patient id", "animal", "patient", "pet"),
        ),
        Column(
            "given_on",
            T.DATE,
            "Given on",
            required=True,
            synonyms=("date", "date given", "vaccination date", "given", "administered"),
        ),
        Column(
            "product_code",
            T.NAME_REF,
            "Vaccine (product code)",
            required=True,
            ref="product",
            max_length=30,
            synonyms=("vaccine", "product", "vaccine code", "product code", "vaccine name", "item", "item code"),
        ),
        Column("manufacturer", T.TEXT, "Manufacturer", max_length=100, synonyms=("maker", "brand")),
        Column(
            "batch",
            T.TEXT,
            "Batch / lot number",
            max_length=60,
            synonyms=("batch number", "lot", "lot number", "batch no"),
        ),
        Column(
            "batch_expiry", T.DATE, "Batch expiry", synonyms=("expiry", "expiry date", "expires", "batch expiry date")
        ),
        Column(
            "route",
            T.CHOICE,
            "Route",
            choices=("sc", "im", "in", "oral", "iv", "other"),
            synonyms=("administration route", "method"),
        ),
        Column("site", T.TEXT, "Site", max_length=100, synonyms=("injection site",)),
        Column(
            "given_by",
            T.NAME_REF,
            "Given by",
            ref="user",
            max_length=150,
            synonyms=("vet", "vaccinator", "clinician", "by"),
        ),
        Column(
            "next_due_on", T.DATE, "Next due on", synonyms=("next due", "due", "due date", "booster due", "next date")
        ),
    ),
)

REMINDERS = Entity(
    name="reminders",
    label="Reminders due",
    filename="reminders.csv",
    prefixes=("reminder", "recall"),
    file_synonyms=("reminder", "recalls", "recall", "reminders due"),
    columns=(
        _source_id("reminder id", "recall id"),
        Column(
            "animal_source_id",
            T.REF,
            "Animal (id in the source system)",
            required=True,
            ref="animals",
            max_length=100,
            synonyms=("animal id", "pet id", "patient id", "animal", "patient", "pet"),
        ),
        Column(
            "reminder_type",
            T.NAME_REF,
            "Reminder type",
            required=True,
            ref="reminder_type",
            max_length=100,
            synonyms=("type", "reminder", "recall", "recall type", "description", "reason"),
        ),
        Column(
            "due_on", T.DATE, "Due on", required=True, synonyms=("due", "due date", "date due", "recall date", "date")
        ),
        Column(
            "status",
            T.CHOICE,
            "Status",
            choices=("pending", "completed", "cancelled"),
            synonyms=("state",),
            help="Only pending reminders are sent; an empty cell means pending.",
        ),
        Column("note", T.TEXT, "Note", max_length=300, synonyms=("notes", "comment", "comments")),
    ),
)

APPOINTMENTS = Entity(
    name="appointments",
    label="Future appointments",
    filename="appointments.csv",
    prefixes=("appointment", "appt", "booking"),
    file_synonyms=("appointment", "appts", "bookings", "booking", "diary"),
    columns=(
        _source_id("appointment id", "appt id", "booking id"),
        Column(
            "animal_source_id",
            T.REF,
            "Animal (id in the source system)",
            required=True,
            ref="animals",
            max_length=100,
            synonyms=("animal id", "pet id", "patient id", "animal", "patient", "pet"),
        ),
        Column(
            "vet",
            T.NAME_REF,
            "Vet",
            required=True,
            ref="vet",
            max_length=150,
            synonyms=("clinician", "vet name", "diary", "column", "resource", "staff"),
        ),
        Column(
            "appointment_type",
            T.NAME_REF,
            "Appointment type",
            required=True,
            ref="appointment_type",
            max_length=80,
            synonyms=("type", "appt type", "booking type", "category"),
        ),
        Column(
            "start",
            T.DATETIME,
            "Start",
            required=True,
            synonyms=("start time", "date time", "datetime", "when", "starts", "from"),
        ),
        Column("end", T.DATETIME, "End", synonyms=("end time", "ends", "to", "finish")),
        Column("duration_minutes", T.INT, "Duration (minutes)", synonyms=("duration", "length", "minutes", "mins")),
        Column("reason", T.TEXT, "Reason", max_length=200, synonyms=("description", "purpose", "complaint", "subject")),
        Column("notes", T.TEXT, "Notes", max_length=5000, synonyms=("note", "comments", "comment")),
    ),
)

OPENING_BALANCES = Entity(
    name="opening_balances",
    label="Opening balances",
    filename="opening_balances.csv",
    prefixes=("opening", "account"),
    file_synonyms=("balances", "balance", "opening balance", "account balances", "debtors"),
    columns=(
        _source_id("balance id"),
        Column(
            "client_source_id",
            T.REF,
            "Client (id in the source system)",
            required=True,
            ref="clients",
            max_length=100,
            synonyms=(
                "client id",
                "owner id",
                "client",
                "owner",
                "account",
                "account no",
                "customer id",
                "client number",
            ),
        ),
        Column(
            "balance",
            T.MONEY,
            "Balance",
            required=True,
            synonyms=("amount", "balance due", "outstanding", "amount due", "owed", "opening balance", "total"),
            help="Positive: the client owes the practice; negative: the practice owes the client (a credit).",
        ),
        Column("as_of", T.DATE, "As of", synonyms=("date", "balance date", "as at", "as of date")),
        Column("note", T.TEXT, "Note", max_length=200, synonyms=("notes", "description", "comment")),
    ),
)

PRODUCTS = Entity(
    name="products",
    label="Products and services (catalogue)",
    filename="products.csv",
    prefixes=("product", "item", "stock"),
    file_synonyms=("product", "catalogue", "catalog", "items", "price list", "pricelist", "stock", "services"),
    columns=(
        _source_id("product id", "item id"),
        Column(
            "code",
            T.TEXT,
            "Code",
            required=True,
            max_length=30,
            synonyms=("product code", "item code", "sku", "plu", "stock code"),
        ),
        Column(
            "name",
            T.TEXT,
            "Name",
            required=True,
            max_length=200,
            synonyms=("description", "product name", "item name", "item", "product"),
        ),
        Column(
            "category",
            T.CHOICE,
            "Category",
            choices=(
                "consultation",
                "procedure",
                "vaccine",
                "medication",
                "laboratory",
                "imaging",
                "hospitalisation",
                "retail",
                "other",
            ),
            synonyms=("group", "type", "product group", "class", "department"),
        ),
        Column("unit", T.TEXT, "Unit", max_length=20, synonyms=("units", "uom", "unit of measure", "pack")),
        Column(
            "unit_price",
            T.MONEY,
            "Unit price",
            required=True,
            synonyms=("price", "sell price", "selling price", "retail price", "price ex vat", "net price", "fee"),
            help="Before tax.",
        ),
        Column(
            "tax_category",
            T.NAME_REF,
            "Tax category (code)",
            ref="tax_category",
            max_length=30,
            synonyms=("tax", "vat", "vat code", "tax code", "vat rate", "tax rate"),
        ),
        Column("is_active", T.BOOL, "Active", synonyms=("active", "current", "in use")),
        Column(
            "reminder_type",
            T.NAME_REF,
            "Renews reminder type",
            ref="reminder_type",
            max_length=100,
            synonyms=("reminder type", "renews", "reminder", "recall", "recall type", "vaccine reminder"),
            help="The reminder type giving (or selling) this product renews, e.g. a vaccine's booster reminder.",
        ),
    ),
)

ENTITIES: dict[str, Entity] = {
    e.name: e for e in (CLIENTS, ANIMALS, VACCINATIONS, REMINDERS, APPOINTMENTS, OPENING_BALANCES, PRODUCTS)
}

# Cell values the importer reads as yes / no without a value mapping (compared after ``normalise``).
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "x", "on", "ja", "oui", "si"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off", "nein", "non", ""})

# Sex codes other systems use, to (sex, neuter_status); compared after ``normalise``. The user confirms or changes
# this table per import (the value mapping); these are the proposals.
SEX_CODES: dict[str, tuple[str, str]] = {
    "m": ("male", "unknown"),
    "male": ("male", "unknown"),
    "f": ("female", "unknown"),
    "female": ("female", "unknown"),
    "mn": ("male", "neutered"),
    "mc": ("male", "neutered"),
    "mk": ("male", "neutered"),
    "n": ("male", "neutered"),
    "male neutered": ("male", "neutered"),
    "male castrated": ("male", "neutered"),
    "castrated male": ("male", "neutered"),
    "neutered male": ("male", "neutered"),
    "fn": ("female", "neutered"),
    "fs": ("female", "neutered"),
    "s": ("female", "neutered"),
    "female neutered": ("female", "neutered"),
    "female spayed": ("female", "neutered"),
    "spayed female": ("female", "neutered"),
    "neutered female": ("female", "neutered"),
    "me": ("male", "entire"),
    "mi": ("male", "entire"),
    "male entire": ("male", "entire"),
    "entire male": ("male", "entire"),
    "male intact": ("male", "entire"),
    "fe": ("female", "entire"),
    "fi": ("female", "entire"),
    "female entire": ("female", "entire"),
    "entire female": ("female", "entire"),
    "female intact": ("female", "entire"),
    "u": ("unknown", "unknown"),
    "unknown": ("unknown", "unknown"),
    "": ("unknown", "unknown"),
}


def normalise(text: str) -> str:
    """Lower case, no accents, each run of other characters one space: "Client_Last-Name" -> "client last name"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def match_header(entity: Entity, header: str) -> str | None:
    """The canonical column a source header means, or None.

    In order: the column's own name ("last_name"), its label, a synonym; then the same after dropping one of the
    entity's prefixes ("Client Last Name" -> "last name", "Pet Name" -> "name")."""
    wanted = normalise(header)
    if not wanted:
        return None
    candidates = [wanted]
    for prefix in entity.prefixes:
        for form in (prefix, prefix + "s"):
            if wanted.startswith(form + " "):
                candidates.append(wanted[len(form) + 1 :])
    for candidate in candidates:
        for col in entity.columns:
            if candidate in (normalise(col.name), normalise(col.label)):
                return col.name
        for col in entity.columns:
            if candidate in {normalise(s) for s in col.synonyms}:
                return col.name
    # Last, the same without spaces: "D.O.B." -> "dob", "E Mail Address" -> "emailaddress".
    squeezed = {c.replace(" ", "") for c in candidates}
    for col in entity.columns:
        forms = {normalise(col.name), normalise(col.label), *(normalise(s) for s in col.synonyms)}
        if squeezed & {f.replace(" ", "") for f in forms}:
            return col.name
    return None


def propose_mapping(entity: Entity, headers: list[str]) -> dict[int, str]:
    """Header position -> canonical column, each column used at most once (the first header that claims it wins)."""
    taken: set[str] = set()
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        name = match_header(entity, header)
        if name and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def guess_entity(filename: str, headers: list[str]) -> Entity | None:
    """The entity a file most likely holds: by its name ("animals.csv", "Patients export.xlsx"), else by headers."""
    stem = normalise(filename.rsplit(".", 1)[0])
    for entity in ENTITIES.values():
        names = {
            normalise(entity.name),
            normalise(entity.filename.rsplit(".", 1)[0]),
            *map(normalise, entity.file_synonyms),
        }
        if stem in names or any(stem.startswith(n + " ") or stem.endswith(" " + n) for n in names if n):
            return entity
    best, best_score = None, 0
    for entity in ENTITIES.values():
        score = len(propose_mapping(entity, headers))
        required = [c.name for c in entity.columns if c.required]
        if all(r in propose_mapping(entity, headers).values() for r in required) and score > best_score:
            best, best_score = entity, score
    return best
