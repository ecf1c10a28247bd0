"""/api/v1/animals and /api/v1/species: thin endpoints over animals.selectors and animals.services.

Ids in a body (owner, species, breed, to_owner) that name nothing are invalid input (422 on that field); an id
in the URL that names nothing is 404. Permissions are checked first, as on the web pages.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Status
from ninja.pagination import paginate

from animals import selectors, services
from animals.models import Animal, Breed, Species, Weight
from animals.schemas import (
    AnimalDetailOut,
    AnimalIn,
    AnimalOut,
    AnimalPatch,
    BreedOut,
    DeceasedIn,
    SpeciesOut,
    TransferIn,
    WeightDeleteParams,
    WeightIn,
    WeightOut,
)
from clients.models import Client
from vetpms.api_utils import Id, Page, QuerySchema, body_record, renamed_errors, url_id
from vetpms.permissions import require_perm

router = Router(tags=["animals"])
species_router = Router(tags=["species"])


class AnimalFilters(QuerySchema):
    owner: Id | None = Field(None, description="Client id of the owner.")
    species: Id | None = Field(None, description="Species id.")
    active: bool | None = None
    deceased: bool | None = None
    q: str = Field("", max_length=200, description="Pet name, microchip, owner name or phone: as the global search.")


def _detail(pk: int) -> Animal:
    return selectors.animal_detail(pk=url_id(pk))  # DoesNotExist -> 404 (vetpms.api)


def _model_data(data: dict[str, Any]) -> dict[str, Any]:
    """API field values -> the service's keyword arguments (ids to records, the alert list to lines)."""
    if "species" in data:
        data["species"] = body_record(Species, data["species"], "species")
    if "breed" in data:
        data["breed"] = body_record(Breed, data["breed"], "breed")
    if "alerts" in data:
        data["alerts"] = "\n".join(data["alerts"])
    return data


@router.get("", response=list[AnimalOut], summary="List animals")
@paginate(Page)
def list_animals(request: HttpRequest, filters: Query[AnimalFilters]):
    require_perm(request.user, "animals.view_animal")
    return selectors.animal_list(
        owner_id=filters.owner,
        species_id=filters.species,
        active=filters.active,
        deceased=filters.deceased,
        query=filters.q,
    )


@router.get("/{int:animal_id}", response=AnimalDetailOut, summary="One animal with weights and owners")
def get_animal(request: HttpRequest, animal_id: int):
    require_perm(request.user, "animals.view_animal")
    return _detail(animal_id)


@router.post("", response={201: AnimalDetailOut}, summary="Create an animal")
def create_animal(request: HttpRequest, payload: AnimalIn):
    require_perm(request.user, "animals.add_animal")
    data = payload.dict()
    owner = body_record(Client, data.pop("owner"), "owner")
    animal = services.animal_create(by=request.user, owner=owner, **_model_data(data))
    return Status(201, _detail(animal.pk))


@router.patch("/{int:animal_id}", response=AnimalDetailOut, summary="Change some fields of an animal")
def update_animal(request: HttpRequest, animal_id: int, payload: AnimalPatch):  # type: ignore[valid-type]
    require_perm(request.user, "animals.change_animal")
    animal = _detail(animal_id)
    data = _model_data(payload.dict(exclude_unset=True))
    services.animal_update(animal=animal, by=request.user, data=data)
    return _detail(animal_id)


@router.post("/{int:animal_id}/transfer", response=AnimalDetailOut, summary="Transfer to another owner")
def transfer_animal(request: HttpRequest, animal_id: int, payload: TransferIn):
    require_perm(request.user, "animals.transfer_animal")
    animal = _detail(animal_id)
    to_owner = body_record(Client, payload.to_owner, "to_owner")
    services.animal_transfer(animal=animal, to_owner=to_owner, by=request.user, note=payload.note)
    return _detail(animal_id)


@router.post("/{int:animal_id}/deceased", response=AnimalDetailOut, summary="Record the animal's death")
def mark_deceased(request: HttpRequest, animal_id: int, payload: DeceasedIn):
    require_perm(request.user, "animals.mark_animal_deceased")
    animal = _detail(animal_id)
    renamed_errors(
        lambda: services.animal_mark_deceased(animal=animal, on=payload.on, by=request.user, note=payload.note),
        {"deceased_on": "on"},
    )
    return _detail(animal_id)


@router.post("/{int:animal_id}/deactivate", response=AnimalDetailOut, summary="Deactivate an animal")
def deactivate_animal(request: HttpRequest, animal_id: int):
    require_perm(request.user, "animals.deactivate_animal")
    services.animal_set_active(animal=_detail(animal_id), active=False, by=request.user)
    return _detail(animal_id)


@router.post("/{int:animal_id}/reactivate", response=AnimalDetailOut, summary="Reactivate an animal")
def reactivate_animal(request: HttpRequest, animal_id: int):
    require_perm(request.user, "animals.deactivate_animal")
    services.animal_set_active(animal=_detail(animal_id), active=True, by=request.user)
    return _detail(animal_id)


@router.post("/{int:animal_id}/weights", response={201: WeightOut}, summary="Record a weight")
def add_weight(request: HttpRequest, animal_id: int, payload: WeightIn):
    require_perm(request.user, "animals.add_weight")
    animal = _detail(animal_id)
    weight = services.weight_record(
        animal=animal, kg=payload.kg, measured_on=payload.measured_on, confirm=payload.confirm, by=request.user
    )
    return Status(201, weight)


@router.delete(
    "/{int:animal_id}/weights/{int:weight_id}", response={204: None}, summary="Remove a weight entered in error"
)
def delete_weight(request: HttpRequest, animal_id: int, weight_id: int, params: Query[WeightDeleteParams]):
    """``?reason=`` is required and kept in the audit trail; a weight recorded in a consultation is a 409."""
    require_perm(request.user, "animals.delete_weight")
    weight = Weight.objects.get(pk=url_id(weight_id), animal_id=url_id(animal_id))  # DoesNotExist -> 404
    services.weight_delete(weight=weight, by=request.user, reason=params.reason)
    return Status(204, None)


# --- Reference data ---------------------------------------------------------------------------------------------
# Species and breeds are short lists (tens of rows), returned whole rather than paginated.


@species_router.get("", response=list[SpeciesOut], summary="Species")
def list_species(request: HttpRequest, active: bool | None = None):
    require_perm(request.user, "animals.view_species")
    qs = Species.objects.order_by("name")
    return qs if active is None else qs.filter(is_active=active)


@species_router.get("/{int:species_id}/breeds", response=list[BreedOut], summary="Breeds of a species")
def list_breeds(request: HttpRequest, species_id: int, active: bool | None = None):
    require_perm(request.user, "animals.view_breed")
    species = Species.objects.get(pk=url_id(species_id))  # DoesNotExist -> 404
    qs = species.breeds.order_by("name")
    return qs if active is None else qs.filter(is_active=active)
