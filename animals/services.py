"""Every write to an animal or the species/breed lists goes through here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from animals.models import Animal, Breed, Ownership, Species, Weight, normalise_microchip
from animals.plausibility import check_vital
from animals.signals import animal_retired
from clients.models import Client
from vetpms import audit, events
from vetpms.errors import DomainError
from vetpms.models import User

EDITABLE_FIELDS = frozenset(
    {
        "name",
        "species",
        "breed",
        "sex",
        "neuter_status",
        "date_of_birth",
        "date_of_birth_estimated",
        "colour",
        "microchip",
        "alerts",
        "notes",
    }
)


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable animal fields: {', '.join(sorted(unknown))}")


def _check_microchip_free(animal: Animal) -> None:
    if not animal.microchip or animal.deceased_on is not None:
        return
    holder = (
        # "not empty" restates the partial unique index's condition, so SQLite reads that index instead of
        # every animal (PostgreSQL works it out itself).
        Animal.objects.filter(microchip=animal.microchip, deceased_on__isnull=True)
        .exclude(microchip="")
        .exclude(pk=animal.pk)
        .select_related("owner")
        .first()
    )
    if holder is not None:
        raise DomainError(
            f"Microchip {animal.microchip} already belongs to {holder.name} (owner {holder.owner}).",
            field="microchip",
            code="duplicate_microchip",
        )


def _save(animal: Animal) -> None:
    """Validate, refresh the search text and save; a chip taken by a concurrent request becomes a DomainError."""
    animal.microchip = normalise_microchip(animal.microchip)
    animal.full_clean(validate_constraints=False)
    _check_microchip_free(animal)
    animal.search_text = animal.build_search_text()
    try:
        with transaction.atomic():
            animal.save()
    except IntegrityError as exc:
        if "microchip" in str(exc):
            raise DomainError(
                f"Microchip {animal.microchip} was just registered to another animal.",
                field="microchip",
                code="duplicate_microchip",
            ) from exc
        raise


@transaction.atomic
def animal_create(*, by: User, owner: Client, **data: Any) -> Animal:
    _check_fields(data)
    if not owner.is_active:
        raise DomainError(f"{owner} is inactive; reactivate the client before adding an animal.", field="owner")
    animal = Animal(owner=owner, **data)
    _save(animal)
    Ownership.objects.create(animal=animal, client=owner, started_at=timezone.now(), recorded_by=by)
    audit.record(actor=by, obj=animal, action="create", changes=audit.diff({}, audit.snapshot(animal)))
    events.publish("animal.created", animal)
    return animal


@transaction.atomic
def animal_update(*, animal: Animal, by: User, data: dict[str, Any]) -> Animal:
    _check_fields(data)
    animal = Animal.objects.select_for_update().select_related("owner").get(pk=animal.pk)
    before = audit.snapshot(animal)
    for name, value in data.items():
        setattr(animal, name, value)
    _save(animal)
    changes = audit.diff(before, audit.snapshot(animal))
    if changes:
        audit.record(actor=by, obj=animal, action="update", changes=changes)
        events.publish("animal.updated", animal, changed=changes)
    return animal


@transaction.atomic
def animal_transfer(*, animal: Animal, to_owner: Client, by: User, note: str = "") -> Animal:
    """Give the animal a new owner, closing the current ownership so the history shows who owned it when."""
    animal = Animal.objects.select_for_update().select_related("owner").get(pk=animal.pk)
    if animal.owner_id == to_owner.pk:
        raise DomainError(f"{animal.name} already belongs to {to_owner}.", field="to_owner")
    if not to_owner.is_active:
        raise DomainError(f"{to_owner} is inactive and cannot take on an animal.", field="to_owner")
    if animal.is_deceased:
        raise DomainError(f"{animal.name} is deceased and cannot be transferred.")
    now = timezone.now()
    previous = animal.owner
    Ownership.objects.filter(animal=animal, ended_at__isnull=True).update(ended_at=now)
    Ownership.objects.create(animal=animal, client=to_owner, started_at=now, note=note[:500], recorded_by=by)
    animal.owner = to_owner
    animal.search_text = animal.build_search_text()
    animal.save(update_fields=["owner", "search_text", "updated_at"])
    audit.record(actor=by, obj=animal, action="transfer", changes={"owner": [str(previous), str(to_owner)]}, note=note)
    events.publish("animal.transferred", animal, changed={"owner"})
    return animal


@transaction.atomic
def animal_mark_deceased(*, animal: Animal, on: dt.date, by: User, note: str = "") -> Animal:
    animal = Animal.objects.select_for_update().get(pk=animal.pk)
    if animal.is_deceased:
        raise DomainError(f"{animal.name} was already recorded as deceased on {animal.deceased_on:%d %b %Y}.")
    if on > timezone.localdate():
        raise ValidationError({"deceased_on": "The date of death cannot be in the future."})
    if animal.date_of_birth and on < animal.date_of_birth:
        raise ValidationError({"deceased_on": "The date of death is before the date of birth."})
    animal.deceased_on = on
    animal.save(update_fields=["deceased_on", "updated_at"])
    animal_retired.send(sender=Animal, animal=animal, by=by, reason="deceased")
    events.publish("animal.deceased", animal, changed={"deceased_on"})
    audit.record(
        actor=by,
        obj=animal,
        action="mark deceased",
        changes={"deceased_on": [None, on.isoformat()]},
        note=note,
    )
    return animal


@transaction.atomic
def animal_set_active(*, animal: Animal, active: bool, by: User) -> Animal:
    animal = Animal.objects.select_for_update().get(pk=animal.pk)
    if animal.is_active == active:
        raise DomainError(f"{animal.name} is already {'active' if active else 'inactive'}.")
    if active:
        _check_microchip_free(animal)
    animal.is_active = active
    animal.save(update_fields=["is_active", "updated_at"])
    if not active:
        animal_retired.send(sender=Animal, animal=animal, by=by, reason="deactivated")
    audit.record(
        actor=by,
        obj=animal,
        action="reactivate" if active else "deactivate",
        changes={"is_active": [not active, active]},
    )
    events.publish("animal.updated", animal, changed={"is_active"})
    return animal


@transaction.atomic
def weight_record(
    *, animal: Animal, kg: Decimal, by: User, measured_on: dt.date | None = None, confirm: bool = False
) -> Weight:
    """Add a weight to the animal's history (the one source of weights: consultations record theirs here too).

    Refused: a date in the future or after the animal's death, an impossible weight (ValidationError), and a
    weight implausible for the species or breed (``animals.plausibility``) unless ``confirm`` is true
    (DomainError with code ``confirm_required``)."""
    animal = Animal.objects.select_related("species", "breed").get(pk=animal.pk)
    weight = Weight(animal=animal, kg=kg, measured_on=measured_on or timezone.localdate(), recorded_by=by)
    if weight.measured_on > timezone.localdate():
        raise ValidationError({"measured_on": "A weight cannot be measured in the future."})
    if animal.deceased_on is not None and weight.measured_on > animal.deceased_on:
        raise ValidationError(
            {"measured_on": f"{animal.name} died on {animal.deceased_on:%d %b %Y}; a weight cannot be later."}
        )
    check_vital(
        quantity="weight_kg",
        value=Decimal(kg),
        species=animal.species.name,
        breed=animal.breed.name if animal.breed else "",
        confirm=confirm,
        field="kg",
    )
    weight.full_clean()
    weight.save()
    audit.record(
        actor=by,
        obj=animal,
        action="weight",
        changes={"weight_kg": [None, str(weight.kg)]},
        note=f"measured on {weight.measured_on.isoformat()}" + (" (confirmed as unusual)" if confirm else ""),
    )
    return weight


@transaction.atomic
def weight_delete(*, weight: Weight, by: User, reason: str) -> None:
    """Remove a weight entered in error, saying why (kept in the audit trail). A weight recorded in a consultation
    belongs to that record and is refused here (the consultation's foreign key protects it)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the weight is removed."})
    weight = Weight.objects.select_for_update().select_related("animal").get(pk=weight.pk)
    description = f"{weight.kg} kg on {weight.measured_on.isoformat()}"
    try:
        with transaction.atomic():
            weight.delete()
    except (ProtectedError, IntegrityError) as exc:
        raise DomainError(
            f"The weight {description} was recorded in a consultation; correct it there (or add an addendum).",
            field="weight",
            code="weight_in_consultation",
        ) from exc
    audit.record(
        actor=by, obj=weight.animal, action="weight removed", changes={"weight_kg": [description, None]}, note=reason
    )


def refresh_search_text_for_owner(*, client: Client) -> int:
    """Re-derive the search text of every animal of ``client`` (after the client's name or phones changed)."""
    animals = list(Animal.objects.filter(owner=client).select_related("owner"))
    for animal in animals:
        animal.owner = client
        animal.search_text = animal.build_search_text()
    Animal.objects.bulk_update(animals, ["search_text"])
    return len(animals)


# --- Reference data -------------------------------------------------------------------------------------------


@transaction.atomic
def species_save(*, by: User, species: Species | None = None, name: str, is_active: bool = True) -> Species:
    species = species or Species()
    before = audit.snapshot(species) if species.pk else {}
    species.name = name.strip()
    species.is_active = is_active
    species.full_clean()
    species.save()
    audit.record(
        actor=by,
        obj=species,
        action="update" if before else "create",
        changes=audit.diff(before, audit.snapshot(species)),
    )
    return species


@transaction.atomic
def breed_save(*, by: User, species: Species, name: str, breed: Breed | None = None, is_active: bool = True) -> Breed:
    breed = breed or Breed()
    before = audit.snapshot(breed) if breed.pk else {}
    breed.species = species
    breed.name = name.strip()
    breed.is_active = is_active
    breed.full_clean()
    breed.save()
    audit.record(
        actor=by,
        obj=breed,
        action="update" if before else "create",
        changes=audit.diff(before, audit.snapshot(breed)),
    )
    return breed
