"""API shapes of animals, weights, species and breeds. Weights travel as decimal strings ("12.500"), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import field_validator

from animals.models import Animal
from clients.schemas import ClientRef
from vetpms.api_utils import Id, InputSchema, QuerySchema, patch_schema

KG_PLACES = Decimal("0.001")
MAX_ALERTS = 20
ALERT_MAX_LENGTH = 200


class AnimalFields(InputSchema):
    """Fields an animal shares between create and update. Species and breed are given by id."""

    name: str = Field(..., min_length=1, max_length=100)
    species: Id = Field(..., description="Species id (GET /api/v1/species).")
    breed: Id | None = Field(None, description="Breed id of that species, or null.")
    sex: Animal.Sex = Animal.Sex.UNKNOWN
    neuter_status: Animal.Neuter = Animal.Neuter.UNKNOWN
    date_of_birth: dt.date | None = None
    date_of_birth_estimated: bool = False
    colour: str = Field("", max_length=200)
    microchip: str = Field(
        "", max_length=30, description="15 digits (ISO 11784); spaces and dashes between groups are ignored."
    )
    alerts: list[str] = Field(
        default_factory=list,
        max_length=MAX_ALERTS,
        description="Shown prominently everywhere, e.g. ['Bites', 'Allergic to penicillin'].",
    )
    notes: str = Field("", max_length=5000)

    @field_validator("alerts")
    @classmethod
    def _clean_alerts(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(a.split()) for a in value]
        for alert in cleaned:
            if len(alert) > ALERT_MAX_LENGTH:
                raise ValueError(f"An alert has at most {ALERT_MAX_LENGTH} characters.")
        return [a for a in cleaned if a]


class AnimalIn(AnimalFields):
    owner: Id = Field(..., description="The owner's client id.")


AnimalPatch = patch_schema(AnimalFields, "AnimalPatch")


class TransferIn(InputSchema):
    to_owner: Id = Field(..., description="Client id of the new owner.")
    note: str = Field("", max_length=500)


class DeceasedIn(InputSchema):
    on: dt.date = Field(..., description="Date of death (not in the future).")
    note: str = Field("", max_length=500)


class WeightIn(InputSchema):
    kg: Decimal = Field(..., gt=0, le=2000, max_digits=7, decimal_places=3, description='e.g. "12.5"')
    measured_on: dt.date | None = Field(None, description="Defaults to today.")
    confirm: bool = Field(
        False, description="Keep a weight that is unusual for the species or breed (otherwise a 409 confirm_required)."
    )


class WeightDeleteParams(QuerySchema):
    reason: str = Field(..., min_length=1, max_length=300, description="Why the weight is removed (audited).")


class Named(Schema):
    id: int
    name: str


class WeightOut(Schema):
    id: int
    kg: str = Field(..., description='Kilograms as a decimal string, e.g. "12.500".')
    measured_on: dt.date

    @staticmethod
    def resolve_kg(obj) -> str:
        # As stored (3 places), also for a weight just recorded whose value is still the Decimal that was sent.
        return str(Decimal(obj.kg).quantize(KG_PLACES))


class OwnershipOut(Schema):
    client: Named
    started_at: dt.datetime
    ended_at: dt.datetime | None
    note: str

    @staticmethod
    def resolve_client(obj) -> dict:
        return {"id": obj.client_id, "name": obj.client.display_name}


class AnimalSummary(Schema):
    """An animal as listed (search hits, lists): who it is and what to watch out for."""

    id: int
    name: str
    species: Named
    breed: Named | None
    sex: str
    neuter_status: str
    date_of_birth: dt.date | None
    date_of_birth_estimated: bool
    age: str = Field(..., description='As vets say it: "3 y 2 m", "6 w"; "~" when the birth date is estimated.')
    microchip: str
    alerts: list[str]
    is_deceased: bool
    deceased_on: dt.date | None
    is_active: bool

    @staticmethod
    def resolve_alerts(obj: Animal) -> list[str]:
        return obj.alert_list


class AnimalOut(AnimalSummary):
    owner: ClientRef
    colour: str
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime


class AnimalDetailOut(AnimalOut):
    weights: list[WeightOut] = Field(..., description="Newest first.")
    ownerships: list[OwnershipOut] = Field(..., description="Who owned the animal when, newest first.")

    @staticmethod
    def resolve_weights(obj: Animal) -> list:
        return list(obj.weights.all())

    @staticmethod
    def resolve_ownerships(obj: Animal) -> list:
        return list(obj.ownerships.all())


class SpeciesOut(Schema):
    id: int
    name: str
    is_active: bool


class BreedOut(Schema):
    id: int
    name: str
    is_active: bool
