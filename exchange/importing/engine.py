"""Running an import: every row through the same services the pages use, in its own transaction.

Files run in the order of ``ORDER`` (products, clients, animals, then what points at them: vaccinations, reminders,
appointments, opening balances), whatever order they were uploaded in.

A dry run and an import run exactly this code; the dry run rolls each row's transaction back at its end. Because
nothing a dry run writes survives its row, what later rows need from earlier ones is carried in memory for the run:
which source ids of clients, animals (with their species) and products passed (a row naming one that is new in the
same import gets a stand-in inside its own rolled-back transaction), the bookings that passed per vet (a second
row over the same time is reported as the clash the import would meet), and the emails, phones, surname+postcode,
microchips and pending reminders seen so far (a second row with the same ones is reported as the database would
report it once the first is written). An import writes each row for good, so the database answers those questions
itself. What the dry run cannot see is what an earlier row's services did on their own: a reminder an imported
vaccination renewed is found (and taken over) by the reminders file only in the import, so the dry run may count
as "created" a reminder the import counts as "updated".

A failed row records its issues and the next row goes on; the run notes its progress on the job every second,
and stops between two rows when the job's cancel flag is set.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from animals import services as animal_services
from animals.models import Animal, Breed, Species, normalise_microchip
from appointments import services as appointment_services
from appointments.models import Appointment, AppointmentStatus, AppointmentType
from clients import services as client_services
from clients.models import Client
from clinical import services as clinical_services
from clinical.models import Vaccination
from exchange.importing import readers
from exchange.importing.columns import ENTITIES, SEX_CODES, Column, ColumnType, Entity, normalise
from exchange.importing.values import CellError, parse_cell
from exchange.models import Erasure, ImportedRecord, ImportFile, ImportIssue, ImportJob
from invoicing import services as invoicing_services
from invoicing.models import Invoice, Payment, Product, TaxCategory
from reminders import services as reminders_services
from reminders.models import Reminder, ReminderType
from vetpms.errors import DomainError
from vetpms.models import User, Vet
from vetpms.money import quantize_money
from vetpms.phones import normalise_phone
from vetpms.timeutils import to_local

# Every entity of the spec, in the order a run takes the files: what a row points at comes first (a vaccination
# names its animal and its product's code, an appointment its animal, a balance its client).
ORDER = ["products", "clients", "animals", "vaccinations", "reminders", "appointments", "opening_balances"]
SUPPORTED = tuple(ORDER)
PROGRESS_EVERY = 1.0  # seconds between progress notes on the job


class _RollBack(Exception):
    """Ends a dry-run row's transaction without writing."""


class RowFailed(Exception):
    def __init__(self, issues: list[tuple[str, str]], kind: str = ImportIssue.Kind.ERROR) -> None:
        super().__init__(issues[0][1] if issues else "")
        self.issues = issues  # (column, message)
        self.kind = kind


@dataclass
class Run:
    job: ImportJob
    by: User
    dry_run: bool
    valid: dict[str, set[str]] = field(default_factory=lambda: {e: set() for e in ENTITIES})
    seen: dict[tuple[str, ...], tuple[str, int]] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    species: dict[str, Species] = field(default_factory=dict)
    issues: list[ImportIssue] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "error": 0}
    )
    rows_done: int = 0
    # Dry run only (nothing survives a row): animals (their species) and products that passed, for stand-ins in
    # later rows; the bookings that passed per vet, so a clash between two rows is reported as the import would.
    dry_animals: dict[str, str] = field(default_factory=dict)
    dry_products: dict[str, dict[str, Any]] = field(default_factory=dict)
    booked: dict[int, list[tuple[dt.datetime, dt.datetime, tuple[str, int]]]] = field(default_factory=dict)
    names: dict[tuple[str, str], Any] = field(default_factory=dict)  # practice list entries found by name
    warning: str = ""  # a note about the current row (a species added), kept when the row passes
    # Per-run caches, each loaded once and kept up to date by the rows written (never by a dry run's rows, which
    # do not survive): the source ids imported before ({entity: {source id: (record id, content type id, object
    # id)}}), the breeds found or added, and the duplicate keys of the clients already recorded.
    records: dict[str, dict[str, tuple[int, int, int]]] = field(default_factory=dict)
    breeds: dict[tuple[int, str], Breed] = field(default_factory=dict)
    # Dry run: species and breeds the practice's list did not have when the run first looked; each row adds them
    # again in its own rolled-back transaction, without looking first (on PostgreSQL every rolled-back row leaves a
    # dead copy behind, which a look-up by name would read again and again).
    adding: set[Any] = field(default_factory=set)
    client_keys: ClientKeys | None = None
    after_row: list[Callable[[], None]] = field(default_factory=list)  # cache updates kept once the row is written

    @property
    def system(self) -> str:
        return self.job.source_system

    def imported(self, entity: str) -> dict[str, tuple[int, int, int]]:
        """The source ids of ``entity`` imported from this system before, read once per run (one query instead of
        one per row; the unique key (system, entity, source id) still guards against a second writer)."""
        known = self.records.get(entity)
        if known is None:
            rows = ImportedRecord.objects.filter(source_system=self.system, entity=entity).values_list(
                "source_id", "pk", "content_type_id", "object_id"
            )
            known = self.records[entity] = {sid: (pk, ct, oid) for sid, pk, ct, oid in rows.iterator(chunk_size=5000)}
        return known

    def record_of(self, entity: str, source_id: str) -> ImportedRecord | None:
        known = self.imported(entity).get(source_id)
        if known is None:
            return None
        pk, ct, oid = known
        return ImportedRecord(
            pk=pk, source_system=self.system, entity=entity, source_id=source_id, content_type_id=ct, object_id=oid
        )

    def warn(self, message: str) -> None:
        """A note about the current row (both a new species and its new breed are said)."""
        self.warning = f"{self.warning} {message}".strip()

    def after(self, change: Callable[[], None]) -> None:
        """Keep ``change`` (to a cache) once the current row is written: at its end in an import, never in a dry
        run, whose row is rolled back."""
        if not self.dry_run:
            self.after_row.append(change)

    def remember(self, entity: str, source_id: str, obj: Any) -> None:
        ct = ContentType.objects.get_for_model(type(obj))  # cached by Django; an opening balance is of two kinds
        known = self.imported(entity).get(source_id)
        if known is None:
            pk = ImportedRecord.objects.create(
                source_system=self.system,
                entity=entity,
                source_id=source_id,
                content_type=ct,
                object_id=obj.pk,
                job=self.job,
            ).pk
        else:
            pk = known[0]
            ImportedRecord.objects.filter(pk=pk).update(
                content_type=ct, object_id=obj.pk, job=self.job, updated_at=timezone.now()
            )
        records, entry = self.imported(entity), (pk, ct.pk, obj.pk)
        self.after(lambda: records.__setitem__(source_id, entry))


# --- Cells to values -------------------------------------------------------------------------------------------


def row_values(entity: Entity, file: ImportFile, cells: list[str], order: str) -> tuple[dict[str, Any], list]:
    """{column: value} for the mapped columns, and [(column, message)] for the cells that could not be read."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for position, name in file.column_map.items():
        index = int(position)
        text = cells[index] if index < len(cells) else ""
        column = entity.column(name)
        try:
            if name == "sex" and entity.name == "animals":
                values[name] = _sex(text, file.value_map.get("sex") or {})
            elif column.type == ColumnType.NAME_REF:
                mapped = (file.value_map.get(name) or {}).get(text, text)
                values[name] = parse_cell(column, mapped, order=order)
            else:
                values[name] = parse_cell(column, text, order=order, value_map=file.value_map.get(name))
        except CellError as exc:
            errors.append((name, str(exc)))
    for column in entity.columns:
        if column.required and column.name in values and values[column.name] in ("", None):
            errors.append((column.name, f"{column.label} is required."))
    return values, errors


def _sex(text: str, value_map: dict[str, str]) -> tuple[str, str]:
    target = value_map.get(text, value_map.get(normalise(text), text))
    pair = SEX_CODES.get(normalise(target))
    if pair is None:
        raise CellError(f"“{text[:20]}” is not a sex code VetPMS knows (map it, e.g. to male neutered).")
    return pair


def _validation_issues(exc: ValidationError, fields: dict[str, str] | None = None) -> list[tuple[str, str]]:
    fields = fields or {}
    if hasattr(exc, "error_dict"):
        return [
            (fields.get(name, name if name != "__all__" else ""), " ".join(msgs))
            for name, msgs in exc.message_dict.items()
        ]
    return [("", " ".join(exc.messages))]


# --- Clients ---------------------------------------------------------------------------------------------------

CLIENT_FIELDS = [c.name for c in ENTITIES["clients"].columns if c.name not in ("source_id", "is_active")]


def _keys(email: str, phones: tuple[str, ...], last_name: str, postcode: str) -> list[tuple[str, str]]:
    """What clients.selectors.possible_duplicates matches a new client by: its email (any case), any of its phones
    (normalised) in any of the three fields, its surname (any case) with its postcode (any spacing)."""
    keys = [("email", email.strip().lower())] if email.strip() else []
    keys.extend(("phone", phone) for phone in phones if phone)
    postcode = "".join(postcode.split()).upper()
    if last_name.strip() and postcode:
        keys.append(("surname+postcode", f"{last_name.strip().lower()}|{postcode}"))
    return keys


def _client_keys(client: Client) -> list[tuple[str, str]]:
    return _keys(client.email, (client.mobile_phone, client.home_phone, client.work_phone), client.last_name,
                 client.postcode)  # fmt: skip


class ClientKeys:
    """The duplicate keys of every client recorded, read once per run and then only what changed since (at each
    progress note, about once a second), so a row is checked against them in memory instead of by a query.

    The keys match loosely (the whole of Python's lower case, any white space in a postcode), so they find at
    least what clients.selectors.possible_duplicates finds; a row that hits one goes to the client service
    without ``confirm_new``, whose own query decides (and names the clients it looks like). A row that hits none
    is new to every client the keys were read from, and the service is told so."""

    FIELDS = ("email", "mobile_phone", "home_phone", "work_phone", "last_name", "postcode")
    MARGIN = dt.timedelta(seconds=5)  # clients saved by another process while the last read ran

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()
        self.since: dt.datetime | None = None

    def refresh(self) -> None:
        started = timezone.now()
        clients = Client.objects.all() if self.since is None else Client.objects.filter(updated_at__gte=self.since)
        for email, mobile, home, work, last_name, postcode in clients.values_list(*self.FIELDS).iterator(
            chunk_size=5000
        ):
            self.keys.update(_keys(email, (mobile, home, work), last_name, postcode))
        self.since = started - self.MARGIN

    def may_match(self, client: Client) -> bool:
        return any(key in self.keys for key in _client_keys(client))


def _normalised_phones(data: dict[str, Any]) -> None:
    for f in ("mobile_phone", "home_phone", "work_phone"):
        if data.get(f):
            data[f] = normalise_phone(data[f])


def import_client(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    source_id = values["source_id"]
    data = {k: v for k, v in values.items() if k in CLIENT_FIELDS}
    for name in ("title", "preferred_channel"):
        if data.get(name) is None:
            data.pop(name, None)
    if data.get("reminder_consent") is None:
        data.pop("reminder_consent", None)
    active = values.get("is_active")
    record = run.record_of("clients", source_id)
    if record is not None:
        client = _client_by_pk(record.object_id)
        if client is not None:
            _refuse_erased(client, "")
            return _update_client(run, client, data, active)
    candidate = Client(**data)
    try:
        # The client service validates again, with the database's constraints; this first pass gives the
        # duplicate keys (its phones normalised) and a bad row's messages before anything else.
        candidate.full_clean(validate_constraints=False)
    except ValidationError as exc:
        raise RowFailed(_validation_issues(exc)) from exc
    confirm_new = run.job.duplicates == ImportJob.Duplicates.CREATE
    if not confirm_new:
        for key in _client_keys(candidate):
            if key in run.seen:
                file, row = run.seen[key]
                raise RowFailed(
                    [(key[0].split("+")[0] if key[0] != "phone" else "", f"Same {key[0]} as row {row} of {file}.")],
                    kind=ImportIssue.Kind.DUPLICATE,
                )
        if run.client_keys is None:
            run.client_keys = ClientKeys()
            run.client_keys.refresh()
        # Like no client recorded by any key: the service's own look-up would find none either.
        confirm_new = not run.client_keys.may_match(candidate)
    try:
        client = client_services.client_create(by=run.by, confirm_new=confirm_new, **data)
    except client_services.PossibleDuplicates as exc:
        names = "; ".join(f"{c.display_name} (#{c.pk}: {', '.join(r)})" for c, r in exc.candidates)
        raise RowFailed(
            [("", f"Looks like a client already recorded: {names}.")], kind=ImportIssue.Kind.DUPLICATE
        ) from exc
    for key in _client_keys(client):
        run.seen.setdefault(key, where)
    if active is False:
        client_services.client_deactivate(client=client, by=run.by, reason="Inactive in the source system")
    run.remember("clients", source_id, client)
    return "created"


def _client_by_pk(pk: int) -> Client | None:
    """A client with their erasure, if their personal data was erased, in one query."""
    return Client.objects.select_related("erasure").filter(pk=pk).order_by().first()


def _refuse_erased(client: Client, column: str) -> None:
    """An owner whose personal data was erased (exchange.datarights) is never filled in again by an import of an
    old file: the row fails with the reason, and the manager sees it in the report."""
    try:
        erasure: Erasure | None = client.erasure  # type: ignore[attr-defined]  # read with the client, or now
    except Erasure.DoesNotExist:
        erasure = None
    erased_at = erasure.erased_at if erasure is not None else None
    if erased_at is not None:
        raise RowFailed(
            [(column, f"This owner's personal data was erased on {to_local(erased_at):%d %b %Y}; "
                      "an import does not bring it back.")]
        )  # fmt: skip


def _update_client(run: Run, client: Client, data: dict[str, Any], active: bool | None) -> str:
    _normalised_phones(data)
    changed = {k: v for k, v in data.items() if getattr(client, k) != v}
    if changed:
        client_services.client_update(client=client, by=run.by, data=changed)
    if active is not None and active != client.is_active:
        if active:
            client_services.client_reactivate(client=client, by=run.by)
        else:
            client_services.client_deactivate(client=client, by=run.by, reason="Inactive in the source system")
        changed["is_active"] = active
    return "updated" if changed else "unchanged"


# --- Animals ---------------------------------------------------------------------------------------------------

ANIMAL_FIELDS = ["name", "date_of_birth", "date_of_birth_estimated", "colour", "microchip", "alerts", "notes"]


def _owner(run: Run, source_id: str) -> Client:
    record = run.record_of("clients", source_id)
    if record is not None:
        owner = _client_by_pk(record.object_id)
        if owner is not None:
            _refuse_erased(owner, "owner_source_id")
            return owner
    if run.dry_run and source_id in run.valid["clients"]:
        # The owner is new in this import and passed the dry run; a stand-in inside this row's rolled-back
        # transaction lets the animal go through the real service.
        return Client.objects.create(last_name="(owner from this import)")
    raise RowFailed(
        [("owner_source_id", f"No client with id {source_id} in this import or an earlier one from {run.system}.")]
    )


def _species(run: Run, name: str) -> Species:
    """The practice's species of that name (any case), added through the service when new. A species recorded
    before the run is kept for the run's next rows; one this run adds, once its row is written (a dry run's is
    rolled back with its row, so the next row adds it again, as the import will once)."""
    key = name.strip().lower()
    found = run.species.get(key)
    if found is not None:
        return found
    species = Species.objects.filter(name__iexact=name.strip()).first() if key not in run.adding else None
    if species is not None:
        run.species[key] = species
        return species
    if run.dry_run:
        run.adding.add(key)
    if f"species:{key}" not in run.warned:
        run.warned.add(f"species:{key}")
        run.warn(f"New species “{name.strip()}” added to the practice's list.")
    species = animal_services.species_save(by=run.by, name=name)
    run.after(lambda: run.species.__setitem__(key, species))
    return species


def _breed(run: Run, species: Species, name: str) -> Breed | None:
    """As ``_species``, for the species' breeds."""
    if not name.strip():
        return None
    key = (species.pk, name.strip().lower())
    found = run.breeds.get(key)
    if found is not None:
        return found
    new_species = species.name.strip().lower() in run.adding  # added in this row: none of its breeds exist
    breed = (
        Breed.objects.filter(species=species, name__iexact=name.strip()).first()
        if key not in run.adding and not new_species
        else None
    )
    if breed is not None:
        run.breeds[key] = breed
        return breed
    if run.dry_run and not new_species:
        run.adding.add(key)
    warned = f"breed:{species.name.lower()}:{name.strip().lower()}"
    if warned not in run.warned:
        run.warned.add(warned)
        run.warn(f"New breed “{name.strip()}” ({species.name}) added to the practice's list.")
    breed = animal_services.breed_save(by=run.by, species=species, name=name)
    run.after(lambda: run.breeds.__setitem__(key, breed))
    return breed


def import_animal(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    source_id = values["source_id"]
    data: dict[str, Any] = {k: values[k] for k in ANIMAL_FIELDS if k in values}
    for flag in ("date_of_birth_estimated",):
        if data.get(flag) is None:
            data.pop(flag, None)
    if "microchip" in data:
        data["microchip"] = normalise_microchip(data["microchip"])
        chip = data["microchip"]
        if chip and run.dry_run and values.get("deceased_on") is None:
            seen = run.seen.get(("microchip", chip))
            if seen:
                raise RowFailed([("microchip", f"Microchip {chip} is also on row {seen[1]} of {seen[0]}.")])
    if values.get("sex") is not None:
        data["sex"], neuter = values["sex"]
        if neuter != "unknown" or values.get("neuter_status") is None:
            data["neuter_status"] = neuter
    if (
        values.get("neuter_status") is not None and values.get("sex") is not None and values["sex"][1] == "unknown"
    ) or (values.get("neuter_status") is not None and "sex" not in values):
        data["neuter_status"] = values["neuter_status"]
    if "species" in values:
        data["species"] = _species(run, values["species"])
        if "breed" in values:
            data["breed"] = _breed(run, data["species"], values["breed"])
    owner = _owner(run, values["owner_source_id"])
    record = run.record_of("animals", source_id)
    animal = Animal.objects.filter(pk=record.object_id).first() if record is not None else None
    if animal is None:
        try:
            animal = animal_services.animal_create(by=run.by, owner=owner, **data)
        except ValidationError as exc:
            raise RowFailed(_validation_issues(exc)) from exc
        outcome = "created"
    else:
        changed = {k: v for k, v in data.items() if getattr(animal, k) != v}
        if changed and not animal.is_deceased:
            animal = animal_services.animal_update(animal=animal, by=run.by, data=changed)
        if animal.owner_id != owner.pk and not animal.is_deceased:
            animal = animal_services.animal_transfer(animal=animal, to_owner=owner, by=run.by, note="Imported")
            changed["owner"] = owner
        outcome = "updated" if changed else "unchanged"
    deceased_on = values.get("deceased_on")
    if deceased_on is not None and not animal.is_deceased:
        animal = animal_services.animal_mark_deceased(animal=animal, on=deceased_on, by=run.by, note="Imported")
        outcome = "updated" if outcome == "unchanged" else outcome
    active = values.get("is_active")
    if active is not None and active != animal.is_active:
        animal_services.animal_set_active(animal=animal, active=active, by=run.by)
        outcome = "updated" if outcome == "unchanged" else outcome
    if animal.microchip and not animal.is_deceased:
        run.seen.setdefault(("microchip", animal.microchip), where)
    if run.dry_run:
        run.dry_animals[source_id] = animal.species.name
    run.remember("animals", source_id, animal)
    return outcome


# --- References to rows of earlier files ---------------------------------------------------------------------------


@contextmanager
def _as_row_errors(fields: dict[str, str], messages: dict[str, str] | None = None) -> Iterator[None]:
    """A service's refusal as this row's issues, naming the import's columns instead of the model's fields, and
    with a message of our own where the service's speaks to a page (``messages``: by error code)."""
    try:
        yield
    except ValidationError as exc:
        raise RowFailed(_validation_issues(exc, fields)) from exc
    except DomainError as exc:
        message = (messages or {}).get(exc.code, exc.message)
        raise RowFailed([(fields.get(exc.field or "", exc.field or ""), message)]) from exc


def _client_ref(run: Run, source_id: str, column: str) -> Client:
    """The client a row names by its id in the source system (imported earlier, or passed this dry run)."""
    record = run.record_of("clients", source_id)
    if record is not None:
        client = _client_by_pk(record.object_id)
        if client is not None:
            _refuse_erased(client, column)
            return client
    if run.dry_run and source_id in run.valid["clients"]:
        # New in this import and passed the dry run: a stand-in inside this row's rolled-back transaction lets
        # the row go through the real services.
        return Client.objects.create(last_name="(client from this import)")
    raise RowFailed([(column, f"No client with id {source_id} in this import or an earlier one from {run.system}.")])


def _animal_ref(run: Run, source_id: str, column: str) -> Animal:
    record = run.record_of("animals", source_id)
    if record is not None:
        animal = Animal.objects.select_related("owner", "owner__erasure", "species").filter(pk=record.object_id).first()
        if animal is not None:
            _refuse_erased(animal.owner, column)
            return animal
    if run.dry_run and source_id in run.dry_animals:
        species_name = run.dry_animals[source_id]
        species = Species.objects.filter(name__iexact=species_name).first() or Species.objects.create(
            name=species_name[:60]
        )
        owner = Client.objects.create(last_name="(owner from this import)")
        return Animal.objects.create(owner=owner, species=species, name="(animal from this import)")
    raise RowFailed([(column, f"No animal with id {source_id} in this import or an earlier one from {run.system}.")])


def _named(run: Run, kind: str, name: str, column: str, find: Callable[[str], Any], hint: str) -> Any:
    """A practice list entry (vet, appointment type, reminder type, tax category) by the name in a cell."""
    key = (kind, name.strip().lower())
    if key not in run.names:
        run.names[key] = find(name.strip()) if name.strip() else None
    found = run.names[key]
    if found is None:
        shown = name.strip()[:60]
        raise RowFailed([(column, f"“{shown}” is not {hint} in VetPMS; map it to one in the value mapping.")])
    return found


def _find_vet(name: str) -> Vet | None:
    vets = Vet.objects.select_related("user")
    found = vets.filter(display_name__iexact=name).first() or vets.filter(user__username__iexact=name).first()
    if found is None:
        wanted = " ".join(name.lower().split())
        found = next((v for v in vets if v.user.get_full_name().lower() == wanted), None)
    return found


def _find_user(name: str) -> User | None:
    found = User.objects.filter(username__iexact=name).first()
    if found is None:
        vet = _find_vet(name)
        found = vet.user if vet is not None else None
    return found


def _find_tax_category(name: str) -> TaxCategory | None:
    found = (
        TaxCategory.objects.filter(code__iexact=name).first() or TaxCategory.objects.filter(name__iexact=name).first()
    )
    if found is None:
        # A rate ("20", "20%", "0.00") names the category charging it today.
        try:
            rate = Decimal(name.replace("%", "").strip())
        except InvalidOperation:
            return None
        if not rate.is_finite():
            return None
        today = timezone.localdate()
        for category in TaxCategory.objects.all():
            try:
                if invoicing_services.tax_rate_on(category=category, day=today) == rate:
                    return category
            except DomainError:
                continue
    return found


def _claimed(run: Run, model: type[Model], pk: int) -> bool:
    """True when a row of this source system already became this record."""
    ct = ContentType.objects.get_for_model(model)
    return ImportedRecord.objects.filter(source_system=run.system, content_type=ct, object_id=pk).exists()


# --- Products (the catalogue) ----------------------------------------------------------------------------------

PRODUCT_FIELDS = ("code", "name", "category", "unit", "unit_price", "tax_category", "is_active")


def import_product(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    """Create or update a catalogue entry by its source id; a product of the same code that no row of this
    system claimed yet is the same product (the code is the catalogue's own key) and is updated."""
    source_id = values["source_id"]
    data: dict[str, Any] = {k: values[k] for k in PRODUCT_FIELDS if values.get(k) not in (None, "")}
    if "tax_category" in data:
        data["tax_category"] = _named(
            run, "tax", data["tax_category"], "tax_category", _find_tax_category, "a tax category (code, name or rate)"
        )
    if data["unit_price"] < 0:
        raise RowFailed([("unit_price", "A price is zero or more.")])
    renews = values.get("reminder_type") or ""
    rtype = (
        _named(run, "reminder_type", renews, "reminder_type", _find_reminder_type, "a reminder type")
        if renews
        else None
    )
    record = run.record_of("products", source_id)
    product = Product.objects.filter(pk=record.object_id).first() if record is not None else None
    if product is None:
        product = Product.objects.filter(code__iexact=data["code"]).first()
        if product is not None and _claimed(run, Product, product.pk):
            raise RowFailed([("code", f"Code {data['code']} is already the product of another row from {run.system}.")])
    with _as_row_errors({}):
        if product is None:
            if "tax_category" not in data:
                raise RowFailed([("tax_category", "Say which tax category a new product is sold in.")])
            data.setdefault("category", Product.Category.OTHER)
            product = invoicing_services.product_save(by=run.by, data=data)
            outcome = "created"
        else:
            changed = {k: v for k, v in data.items() if getattr(product, k) != v}
            if changed:
                product = invoicing_services.product_save(by=run.by, data=changed, product=product)
            outcome = "updated" if changed else "unchanged"
    if rtype is not None:
        # The reminder type it renews (a vaccine's booster): linked as on the reminder type's page.
        with _as_row_errors({"products": "reminder_type"}):
            if reminders_services.product_renews(product=product, reminder_type=rtype, by=run.by):
                outcome = "updated" if outcome == "unchanged" else outcome
    if run.dry_run:
        run.dry_products[product.code.lower()] = {k: getattr(product, k) for k in PRODUCT_FIELDS}
    run.remember("products", source_id, product)
    return outcome


def _product_ref(run: Run, code: str, column: str) -> Product:
    product = Product.objects.filter(code__iexact=code.strip()).first()
    if product is None and run.dry_run and code.strip().lower() in run.dry_products:
        product = Product.objects.create(**run.dry_products[code.strip().lower()])
    if product is None:
        raise RowFailed([(column, f"No product with code {code.strip()[:30]} in VetPMS or in this import.")])
    return product


# --- Vaccination history ---------------------------------------------------------------------------------------

NO_BATCH = "not recorded"


def import_vaccination(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    """A vaccine given, recorded through the clinical record's service (never charged: history was billed in the
    old system). Its reminder is renewed as a vaccination recorded on the page renews it: the animal's pending
    reminder of that vaccine is completed and the next created, once; an older dose imported after a newer one
    renews nothing. A row imported before is not rewritten (the clinical record is not edited by an import)."""
    source_id = values["source_id"]
    animal = _animal_ref(run, values["animal_source_id"], "animal_source_id")
    product = _product_ref(run, values["product_code"], "product_code")
    given_on = values["given_on"]
    record = run.record_of("vaccinations", source_id)
    existing = Vaccination.objects.filter(pk=record.object_id).first() if record is not None else None
    if existing is not None:
        same = (existing.animal_id, existing.product_id, existing.given_on) == (animal.pk, product.pk, given_on)
        if not same:
            raise RowFailed(
                [("", f"This vaccination was imported before ({existing}); an import does not rewrite the "
                      "clinical record: correct it in the animal's record.")]
            )  # fmt: skip
        return "unchanged"
    giver_name = values.get("given_by") or ""
    giver = _named(run, "user", giver_name, "given_by", _find_user, "a vet or user") if giver_name else run.by
    vet = Vet.objects.filter(user=giver, is_active=True).first()
    if vet is None:
        raise RowFailed([("given_by", f"{giver} is not a vet: map Given by to the vet responsible.")])
    batch = values.get("batch") or ""
    expiry = values.get("batch_expiry")
    if not batch or expiry is None:
        note = f"missing:{where[0]}"
        if note not in run.warned:
            run.warned.add(note)
            run.warning = (
                f"Batch or batch expiry missing: recorded as “{NO_BATCH}” and the day given (the old record "
                "did not say)."
            )
    with _as_row_errors({"supervising_vet": "given_by", "product": "product_code", "next_due_on": "next_due_on"}):
        vaccination = clinical_services.vaccination_record(
            animal=animal,
            product=product,
            batch=batch or NO_BATCH,
            batch_expiry=expiry or given_on,
            by=run.by,
            given_by=giver,
            supervising_vet=vet,
            manufacturer=values.get("manufacturer") or "",
            route=values.get("route") or "sc",
            site=values.get("site") or "",
            given_on=given_on,
            next_due_on=values.get("next_due_on"),
            charge=False,
        )
    run.remember("vaccinations", source_id, vaccination)
    return "created"


# --- Reminders due ---------------------------------------------------------------------------------------------


def _find_reminder_type(name: str) -> ReminderType | None:
    return ReminderType.objects.filter(name__iexact=name).first()


def import_reminder(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    """A reminder from the old system, under the same rules as the page: at most one pending per animal and type.
    A pending row takes over the animal's pending reminder of that type when there is one (typically the one an
    imported vaccination has just renewed), moved to the row's due date; else it is created. A completed or
    cancelled row is history: it takes over an identical closed reminder (same type and due date) no row claimed
    yet, else it is recorded as it was. Importing again moves, completes or cancels what the file says."""
    source_id = values["source_id"]
    animal = _animal_ref(run, values["animal_source_id"], "animal_source_id")
    rtype = _named(
        run, "reminder_type", values["reminder_type"], "reminder_type", _find_reminder_type, "a reminder type"
    )
    status = values.get("status") or Reminder.Status.PENDING
    due_on = values["due_on"]
    note = values.get("note") or ""
    fields = {"type": "reminder_type", "animal": "animal_source_id", "due_on": "due_on", "status": "status"}
    record = run.record_of("reminders", source_id)
    reminder = Reminder.objects.filter(pk=record.object_id).first() if record is not None else None
    with _as_row_errors(fields):
        if reminder is not None:
            outcome = _update_reminder(run, reminder, status=status, due_on=due_on, note=note)
        elif status == Reminder.Status.PENDING:
            key = ("pending", str(animal.pk) if not run.dry_run else values["animal_source_id"], str(rtype.pk))
            if run.dry_run and key in run.seen:
                file, row = run.seen[key]
                raise RowFailed(
                    [("reminder_type", f"{rtype} is already pending for this animal on row {row} of {file}.")]
                )
            current = Reminder.objects.filter(animal=animal, type=rtype, status=Reminder.Status.PENDING).first()
            if current is not None and _claimed(run, Reminder, current.pk):
                raise RowFailed(
                    [("reminder_type", f"{animal.name} already has a pending {rtype} reminder from another row; "
                                       "an animal has at most one pending reminder of a type.")]
                )  # fmt: skip
            if current is not None:
                outcome = "unchanged"
                if current.due_on != due_on:
                    reminders_services.reminder_reschedule(reminder=current, due_on=due_on, by=run.by)
                    outcome = "updated"
                reminder = current
            else:
                reminder = reminders_services.reminder_create(
                    animal=animal, reminder_type=rtype, due_on=due_on, by=run.by, source=Reminder.Source.IMPORT
                )
                outcome = "created"
            run.seen.setdefault(key, where)
        else:
            same = Reminder.objects.filter(animal=animal, type=rtype, status=status, due_on=due_on).order_by("pk")
            reminder = next((r for r in same if not _claimed(run, Reminder, r.pk)), None)
            outcome = "unchanged"
            if reminder is None:
                reminder = reminders_services.reminder_record_closed(
                    animal=animal, reminder_type=rtype, due_on=due_on, status=status, by=run.by,
                    note=note or f"{Reminder.Status(status).label} in {run.system}",
                )  # fmt: skip
                outcome = "created"
    run.remember("reminders", source_id, reminder)
    return outcome


def _update_reminder(run: Run, reminder: Reminder, *, status: str, due_on: dt.date, note: str) -> str:
    if reminder.status != Reminder.Status.PENDING:
        return "unchanged"  # closed in VetPMS since: its later word stands
    outcome = "unchanged"
    if reminder.due_on != due_on:
        reminders_services.reminder_reschedule(reminder=reminder, due_on=due_on, by=run.by)
        outcome = "updated"
    if status == Reminder.Status.COMPLETED:
        reminders_services.reminder_complete(reminder=reminder, by=run.by, note=note or f"Completed in {run.system}")
        outcome = "updated"
    elif status == Reminder.Status.CANCELLED:
        reminders_services.reminder_cancel(reminder=reminder, by=run.by, note=note or f"Cancelled in {run.system}")
        outcome = "updated"
    return outcome


# --- Future appointments ---------------------------------------------------------------------------------------

APPOINTMENT_MESSAGES = {
    "past": "Starts in the past: only appointments still to come are imported (past visits are history: "
    "vaccinations, reminders and the balance carry what they left).",
}


def _find_appointment_type(name: str) -> AppointmentType | None:
    return AppointmentType.objects.filter(name__iexact=name).first()


def import_appointment(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    """A future appointment booked through the booking service, as a receptionist would: a clash with another
    booking of that vet, a time outside the vet's working hours, the past, an animal that cannot be seen are
    errors on the row, never a silent overlap. The owner is not emailed (the old system told them). Importing
    again moves an appointment whose time, length or vet changed (through the same rescheduling service) and
    updates its reason and notes when the old system changed them."""
    source_id = values["source_id"]
    animal = _animal_ref(run, values["animal_source_id"], "animal_source_id")
    vet = _named(run, "vet", values["vet"], "vet", _find_vet, "a vet")
    atype = _named(
        run, "appointment_type", values["appointment_type"], "appointment_type", _find_appointment_type,
        "an appointment type",
    )  # fmt: skip
    start: dt.datetime = values["start"]
    minutes = values.get("duration_minutes")
    if values.get("end") is not None:
        seconds = (values["end"] - start).total_seconds()
        if seconds <= 0:
            raise RowFailed([("end", "The appointment ends before it starts.")])
        minutes = int(seconds // 60)
    end_local = start + dt.timedelta(minutes=minutes or atype.default_minutes)
    fields = {"start": "start", "minutes": "duration_minutes", "vet": "vet", "type": "appointment_type",
              "animal": "animal_source_id"}  # fmt: skip
    hours_note = {
        "outside_hours": f"{to_local(start):%a %d %b %Y %H:%M}-{to_local(end_local):%H:%M} is outside {vet}'s working "
        "hours in VetPMS: set the hours (Set-up → Books) or move the booking, and import again.",
        **APPOINTMENT_MESSAGES,
    }
    if run.dry_run:
        for other_start, other_end, at in run.booked.get(vet.pk, []):
            if other_start < end_local and start < other_end:
                raise RowFailed([("start", f"{vet} is already booked then by row {at[1]} of {at[0]}.")])
    record = run.record_of("appointments", source_id)
    appointment = Appointment.objects.filter(pk=record.object_id).first() if record is not None else None
    with _as_row_errors(fields, hours_note):
        if appointment is None:
            appointment = appointment_services.appointment_book(
                animal=animal,
                vet=vet,
                type=atype,
                start=start,
                minutes=minutes,
                reason=values.get("reason") or "",
                notes=values.get("notes") or "",
                by=run.by,
                notify_owner=False,
            )
            outcome = "created"
        elif appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            outcome = "unchanged"  # it has moved on in VetPMS (arrived, cancelled, ...): VetPMS's word stands
        elif (appointment.start, appointment.minutes, appointment.vet_id) != (
            start,
            minutes or appointment.minutes,
            vet.pk,
        ):
            appointment = appointment_services.appointment_reschedule(
                appointment=appointment, start=start, minutes=minutes, vet=vet, by=run.by, notify_owner=False
            )
            outcome = "updated"
        else:
            outcome = "unchanged"
        if outcome != "created" and appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            # What it is for, as the old system says now (a column left out of the mapping is left alone).
            reason = (values["reason"] or "") if "reason" in values else appointment.reason
            notes = (values["notes"] or "") if "notes" in values else appointment.notes
            if (reason, notes) != (appointment.reason, appointment.notes):
                appointment = appointment_services.appointment_details_update(
                    appointment=appointment, by=run.by, reason=reason, notes=notes
                )
                outcome = "updated"
    if run.dry_run:
        run.booked.setdefault(vet.pk, []).append((appointment.start, appointment.end, where))
    run.remember("appointments", source_id, appointment)
    return outcome


# --- Opening balances ------------------------------------------------------------------------------------------


def import_opening_balance(run: Run, values: dict[str, Any], where: tuple[str, int]) -> str:
    """A client's balance carried over (invoicing.services.opening_balance_record: an issued opening-balance
    invoice for what they owe, a payment on account for what the practice owes them). Issued documents and
    payments are never changed by an import: the same amount again is unchanged, another amount is an error
    that says how to correct it."""
    source_id = values["source_id"]
    client = _client_ref(run, values["client_source_id"], "client_source_id")
    amount = quantize_money(values["balance"])
    as_of = values.get("as_of") or timezone.localdate()
    record = run.record_of("opening_balances", source_id)
    if record is not None:
        carried: Invoice | Payment | None = (
            Invoice.objects.filter(pk=record.object_id).first()
            if ContentType.objects.get_for_id(record.content_type_id).model == "invoice"
            else Payment.objects.filter(pk=record.object_id).first()
        )
        if carried is not None:
            was = carried.gross_total if isinstance(carried, Invoice) else -carried.amount
            if was == amount:
                return "unchanged"
            label = carried.reference if isinstance(carried, Invoice) else "a payment on account"
            raise RowFailed(
                [("balance", f"The opening balance of {was} was carried over before ({label}); issued documents "
                             f"are not changed by an import: correct the difference to {amount} with a credit "
                             "note or a payment on the client's account.")]
            )  # fmt: skip
    if amount == 0:
        return "unchanged"
    with _as_row_errors({"as_of": "as_of", "balance": "balance", "client": "client_source_id"}):
        carried = invoicing_services.opening_balance_record(
            client=client, amount=amount, as_of=as_of, by=run.by, source=run.system, note=values.get("note") or ""
        )
    run.remember("opening_balances", source_id, carried)
    return "created"


HANDLERS: dict[str, Callable[[Run, dict[str, Any], tuple[str, int]], str]] = {
    "products": import_product,
    "clients": import_client,
    "animals": import_animal,
    "vaccinations": import_vaccination,
    "reminders": import_reminder,
    "appointments": import_appointment,
    "opening_balances": import_opening_balance,
}


# --- The run ---------------------------------------------------------------------------------------------------


def _row(run: Run, file: ImportFile, entity: Entity, number: int, cells: list[str]) -> None:
    values, errors = row_values(entity, file, cells, run.job.date_order)
    source_id = str(values.get("source_id") or "")
    if errors:
        _fail(run, file, number, source_id, RowFailed(errors))
        return
    run.warning = ""
    run.after_row = []
    try:
        with transaction.atomic():
            outcome = HANDLERS[entity.name](run, values, (file.filename, number))
            if run.dry_run:
                raise _RollBack
    except _RollBack:
        pass
    except RowFailed as exc:
        _fail(run, file, number, source_id, exc)
        return
    except ValidationError as exc:
        _fail(run, file, number, source_id, RowFailed(_validation_issues(exc)))
        return
    except DomainError as exc:
        _fail(run, file, number, source_id, RowFailed([(exc.field or "", exc.message)]))
        return
    except PermissionDenied as exc:
        _fail(run, file, number, source_id, RowFailed([("", str(exc) or "Your role may not make this change.")]))
        return
    except IntegrityError as exc:
        # A rule the database holds (a unique key another writer took meanwhile): this row only.
        _fail(
            run,
            file,
            number,
            source_id,
            RowFailed([("", f"The database refused this row ({exc.__class__.__name__}).")]),
        )
        return
    for change in run.after_row:  # the row is written: the run's caches may count on what it wrote
        change()
    run.after_row = []
    if run.warning:
        run.issues.append(
            ImportIssue(
                job=run.job, file=file, row_number=number, source_id=source_id, kind="warning", message=run.warning
            )
        )
    run.valid[entity.name].add(source_id)
    run.counts[outcome] += 1


def _fail(run: Run, file: ImportFile, number: int, source_id: str, exc: RowFailed) -> None:
    for column, message in exc.issues or [("", "This row could not be imported.")]:
        run.issues.append(
            ImportIssue(
                job=run.job,
                file=file,
                row_number=number,
                column=column[:100],
                source_id=source_id[:100],
                kind=exc.kind,
                message=message[:2000],
            )
        )
    run.counts["skipped" if exc.kind == ImportIssue.Kind.DUPLICATE else "error"] += 1


def _flush(run: Run, *, final: bool = False) -> bool:
    """Write the issues gathered and the counts; True when the job was asked to stop."""
    if run.issues:
        ImportIssue.objects.bulk_create(run.issues, batch_size=500)
        run.issues = []
    fields = {
        "rows_done": run.rows_done,
        "created_count": run.counts["created"],
        "updated_count": run.counts["updated"],
        "unchanged_count": run.counts["unchanged"],
        "skipped_count": run.counts["skipped"],
        "error_count": run.counts["error"],
        "heartbeat_at": timezone.now(),
    }
    ImportJob.objects.filter(pk=run.job.pk).update(**fields)
    return ImportJob.objects.filter(pk=run.job.pk, cancel_requested=True).exists()


def files_in_order(job: ImportJob) -> list[ImportFile]:
    files = [f for f in job.files.all() if f.entity in SUPPORTED]
    return sorted(files, key=lambda f: (ORDER.index(f.entity), f.position, f.pk))


def execute(job: ImportJob) -> ImportJob:
    """Run the job's current mode over all its files (the caller has claimed it: status RUNNING)."""
    run = Run(job=job, by=job.created_by, dry_run=job.mode == ImportJob.Mode.DRY_RUN)
    run.warning = ""
    ImportIssue.objects.filter(job=job).delete()
    last = time.monotonic()
    cancelled = False
    for file in files_in_order(job):
        entity = ENTITIES[file.entity]
        for number, cells in readers.data_rows(
            kind=file.kind, content=bytes(file.content), encoding=file.encoding, delimiter=file.delimiter
        ):
            _row(run, file, entity, number, cells)
            run.rows_done += 1
            if time.monotonic() - last >= PROGRESS_EVERY:
                last = time.monotonic()
                if _flush(run):
                    cancelled = True
                    break
                if run.client_keys is not None:
                    run.client_keys.refresh()  # what other people recorded meanwhile
        if cancelled:
            break
    if _flush(run, final=True):
        cancelled = True
    job.refresh_from_db()
    job.finished_at = timezone.now()
    if cancelled:
        job.status = ImportJob.Status.CANCELLED
    elif run.dry_run:
        job.status = ImportJob.Status.CHECKED
        job.checked_version = job.mapping_version
    else:
        job.status = ImportJob.Status.APPLIED
    job.save(update_fields=["status", "finished_at", "checked_version"])
    return job


def column_of(entity: str, name: str) -> Column | None:
    try:
        return ENTITIES[entity].column(name)
    except KeyError:
        return None
