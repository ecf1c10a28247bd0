"""API shapes of clients: what may be sent (limits match the model) and what is returned (with display fields)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from clients.models import PHONE_FIELDS, Client
from vetpms.api_utils import InputSchema, patch_schema
from vetpms.phones import display_phone

# Phone numbers may be typed with spaces and brackets; the service stores them as E.164 (at most 20 characters).
PHONE_INPUT_MAX = 40
PHONE_KINDS = {"mobile_phone": "mobile", "home_phone": "home", "work_phone": "work"}


class ClientIn(InputSchema):
    """A new client. Give ``last_name`` or ``organisation`` (or both)."""

    title: Client.Title = Client.Title.NONE
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    organisation: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    mobile_phone: str = Field("", max_length=PHONE_INPUT_MAX, description="Any format; stored as E.164.")
    home_phone: str = Field("", max_length=PHONE_INPUT_MAX)
    work_phone: str = Field("", max_length=PHONE_INPUT_MAX)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    town: str = Field("", max_length=100)
    county: str = Field("", max_length=100)
    postcode: str = Field("", max_length=20)
    country: str = Field("", max_length=100)
    preferred_channel: Client.Channel = Client.Channel.EMAIL
    reminder_consent: bool = False
    notes: str = Field("", max_length=5000)


ClientPatch = patch_schema(ClientIn, "ClientPatch")


class ClientDeactivateIn(InputSchema):
    reason: str = Field("", max_length=500)


class PhoneOut(Schema):
    kind: str = Field(..., description="mobile, home or work")
    number: str = Field(..., description="E.164, e.g. +447700900123")
    display: str = Field(..., description="As people write it, e.g. 07700 900123")


def phones_of(client: Client) -> list[dict[str, str]]:
    return [
        {"kind": PHONE_KINDS[f], "number": getattr(client, f), "display": display_phone(getattr(client, f))}
        for f in PHONE_FIELDS
        if getattr(client, f)
    ]


class ClientRef(Schema):
    """A client named inside another record (an animal's owner, a search hit)."""

    id: int
    display_name: str
    main_phone: str = Field(..., description="The first phone number, as people write it.")
    email: str
    is_active: bool


class ClientOut(Schema):
    id: int
    display_name: str
    sort_name: str
    title: str
    first_name: str
    last_name: str
    organisation: str
    email: str
    mobile_phone: str
    home_phone: str
    work_phone: str
    phones: list[PhoneOut]
    address_line1: str
    address_line2: str
    town: str
    county: str
    postcode: str
    country: str
    address_lines: list[str]
    preferred_channel: str
    reminder_consent: bool
    consent_changed_at: dt.datetime | None
    notes: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_phones(obj: Client) -> list[dict[str, str]]:
        return phones_of(obj)


class ClientListOut(ClientOut):
    animal_count: int = Field(..., description="Living, active animals.")


class ClientAnimalOut(Schema):
    """One of the client's animals, as listed on the client."""

    id: int
    name: str
    species: str
    breed: str | None
    sex: str
    age: str
    alerts: list[str]
    is_deceased: bool
    deceased_on: dt.date | None
    is_active: bool

    @staticmethod
    def resolve_species(obj) -> str:
        return obj.species.name

    @staticmethod
    def resolve_breed(obj) -> str | None:
        return obj.breed.name if obj.breed_id else None

    @staticmethod
    def resolve_alerts(obj) -> list[str]:
        return obj.alert_list


class ClientDetailOut(ClientOut):
    animals: list[ClientAnimalOut]

    @staticmethod
    def resolve_animals(obj: Client) -> list:
        return list(obj.animals.all())


class DuplicateCandidateOut(Schema):
    id: int
    display_name: str
    is_active: bool
    reasons: list[str] = Field(..., description="same phone, same email, same surname and postcode")


class PossibleDuplicatesOut(Schema):
    detail: str
    code: str = Field(..., description="possible_duplicate")
    candidates: list[DuplicateCandidateOut]
