"""Running an import: every row through the same services the pages use, in its own transaction.

A dry run and an import run exactly this code; the dry run rolls each row's transaction back at its end. Because
nothing a dry run writes survives its row, what later rows need from earlier ones is carried in memory for the run:
which source ids of owners passed (an animal whose owner is new in the same import gets a stand-in owner inside
its own rolled-back transaction), and the emails, phones, surname+postcode and microchips seen so far (a second
row with the same ones is reported as a possible duplicate of the first, as the database would report it once
the first is written). An import writes each row for good, so the database answers those questions itself.

A failed row records its issues and the next row goes on; the run notes its progress on the job every second,
and stops between two rows when the job's cancel flag is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from animals import services as animal_services
from animals.models import Animal, Breed, Species, normalise_microchip
from clients import services as client_services
from clients.models import Client
from exchange.importing import readers
from exchange.importing.columns import ENTITIES, SEX_CODES, Column, ColumnType, Entity, normalise
from exchange.importing.values import CellError, parse_cell
from exchange.models import Erasure, ImportedRecord, ImportFile, ImportIssue, ImportJob
from vetpms.errors import DomainError
from vetpms.models import User
from vetpms.phones import normalise_phone
from vetpms.timeutils import to_local

SUPPORTED = ("clients", "animals")  # entities with a row handler; the rest of columns.py is the export's spec
ORDER = list(ENTITIES)
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
    seen: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    species: dict[str, Species] = field(default_factory=dict)
    issues: list[ImportIssue] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "error": 0}
    )
    rows_done: int = 0
    warning: str = ""  # a note about the current row (a species added), kept when the row passes
    content_types: dict[str, ContentType] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return self.job.source_system

    def record_of(self, entity: str, source_id: str) -> ImportedRecord | None:
        return ImportedRecord.objects.filter(source_system=self.system, entity=entity, source_id=source_id).first()

    def remember(self, entity: str, source_id: str, obj: Any) -> None:
        ct = self.content_types.get(entity)
        if ct is None:
            ct = self.content_types[entity] = ContentType.objects.get_for_model(type(obj))
        ImportedRecord.objects.update_or_create(
            source_system=self.system,
            entity=entity,
            source_id=source_id,
            defaults={"content_type": ct, "object_id": obj.pk, "job": self.job},
        )


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


def _client_keys(client: Client) -> list[tuple[str, str]]:
    keys = [("email", client.email.strip().lower())] if client.email.strip() else []
    for f in ("mobile_phone", "home_phone", "work_phone"):
        phone = getattr(client, f)
        if phone:
            keys.append(("phone", phone))
    if client.last_name.strip() and client.postcode.strip():
        keys.append(
            ("surname+postcode", f"{client.last_name.strip().lower()}|{client.postcode.replace(' ', '').upper()}")
        )
    return keys


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
        client = Client.objects.filter(pk=record.object_id).first()
        if client is not None:
            _refuse_erased(client, "")
            return _update_client(run, client, data, active)
    candidate = Client(**data)
    try:
        candidate.full_clean()
    except ValidationError as exc:
        raise RowFailed(_validation_issues(exc)) from exc
    if run.job.duplicates == ImportJob.Duplicates.SKIP:
        for key in _client_keys(candidate):
            if key in run.seen:
                file, row = run.seen[key]
                raise RowFailed(
                    [(key[0].split("+")[0] if key[0] != "phone" else "", f"Same {key[0]} as row {row} of {file}.")],
                    kind=ImportIssue.Kind.DUPLICATE,
                )
    try:
        client = client_services.client_create(
            by=run.by, confirm_new=run.job.duplicates == ImportJob.Duplicates.CREATE, **data
        )
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


def _refuse_erased(client: Client, column: str) -> None:
    """An owner whose personal data was erased (exchange.datarights) is never filled in again by an import of an
    old file: the row fails with the reason, and the manager sees it in the report."""
    erasure = Erasure.objects.filter(client=client).only("erased_at").first()
    if erasure is not None:
        raise RowFailed(
            [(column, f"This owner's personal data was erased on {to_local(erasure.erased_at):%d %b %Y}; "
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
        owner = Client.objects.filter(pk=record.object_id).first()
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
    key = name.strip().lower()
    found = run.species.get(key) if not run.dry_run else None
    if found is not None:
        return found
    species = Species.objects.filter(name__iexact=name.strip()).first()
    if species is None:
        if f"species:{key}" not in run.warned:
            run.warned.add(f"species:{key}")
            run.warning = f"New species “{name.strip()}” added to the practice's list."
        species = animal_services.species_save(by=run.by, name=name)
    if not run.dry_run:
        run.species[key] = species
    return species


def _breed(run: Run, species: Species, name: str) -> Breed | None:
    if not name.strip():
        return None
    breed = Breed.objects.filter(species=species, name__iexact=name.strip()).first()
    if breed is None:
        key = f"breed:{species.name.lower()}:{name.strip().lower()}"
        if key not in run.warned:
            run.warned.add(key)
            run.warning = f"New breed “{name.strip()}” ({species.name}) added to the practice's list."
        breed = animal_services.breed_save(by=run.by, species=species, name=name)
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
    run.remember("animals", source_id, animal)
    return outcome


HANDLERS: dict[str, Callable[[Run, dict[str, Any], tuple[str, int]], str]] = {
    "clients": import_client,
    "animals": import_animal,
}


# --- The run ---------------------------------------------------------------------------------------------------


def _row(run: Run, file: ImportFile, entity: Entity, number: int, cells: list[str]) -> None:
    values, errors = row_values(entity, file, cells, run.job.date_order)
    source_id = str(values.get("source_id") or "")
    if errors:
        _fail(run, file, number, source_id, RowFailed(errors))
        return
    run.warning = ""
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
