"""/api/v1/clients: thin endpoints over clients.selectors and clients.services.

Each endpoint checks the same permission as the matching web page (vetpms.roles), before looking anything up,
so a role without access learns nothing about which ids exist.
"""

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Status
from ninja.pagination import paginate

from clients import selectors, services
from clients.models import Client
from clients.schemas import (
    ClientDeactivateIn,
    ClientDetailOut,
    ClientIn,
    ClientListOut,
    ClientPatch,
    PossibleDuplicatesOut,
)
from vetpms.api_utils import Id, Page, QuerySchema, url_id
from vetpms.permissions import require_perm

router = Router(tags=["clients"])


class ClientFilters(QuerySchema):
    active: bool | None = Field(None, description="Only active (true) or inactive (false) clients.")
    consent: bool | None = Field(None, description="Consents to reminder emails, or not.")
    species: Id | None = Field(None, description="Owns an animal of this species (id).")
    created_from: dt.date | None = Field(None, description="Created on or after this local day.")
    created_to: dt.date | None = Field(None, description="Created on or before this local day.")
    q: str = Field("", max_length=200, description="Name, phone in any format, email: as the global search.")


def _detail(pk: int) -> Client:
    return selectors.client_detail(pk=url_id(pk))  # DoesNotExist -> 404 (vetpms.api)


@router.get("", response=list[ClientListOut], summary="List clients")
@paginate(Page)
def list_clients(request: HttpRequest, filters: Query[ClientFilters]):
    require_perm(request.user, "clients.view_client")
    return selectors.client_list(
        active=filters.active,
        consent=filters.consent,
        species_id=filters.species,
        created_from=filters.created_from,
        created_to=filters.created_to,
        query=filters.q,
    )


@router.get("/{int:client_id}", response=ClientDetailOut, summary="One client with their animals")
def get_client(request: HttpRequest, client_id: int):
    require_perm(request.user, "clients.view_client")
    return _detail(client_id)


class CreateOptions(QuerySchema):
    confirm_new: bool = Field(
        False, description="Create it although it shares a phone, email, or surname and postcode with a client."
    )


@router.post(
    "",
    response={201: ClientDetailOut, 409: PossibleDuplicatesOut},
    summary="Create a client",
    description=(
        "A client sharing a phone number, an email, or a surname and postcode with one already recorded is not "
        "created: the answer is a 409 listing them (code possible_duplicate). Check, then send again with "
        "?confirm_new=true to create it anyway."
    ),
)
def create_client(request: HttpRequest, payload: ClientIn, options: Query[CreateOptions]):
    require_perm(request.user, "clients.add_client")
    try:
        client = services.client_create(by=request.user, confirm_new=options.confirm_new, **payload.dict())
    except services.PossibleDuplicates as exc:
        candidates = [
            {"id": c.pk, "display_name": c.display_name, "is_active": c.is_active, "reasons": reasons}
            for c, reasons in exc.candidates
        ]
        return Status(409, {"detail": exc.message, "code": exc.code, "candidates": candidates})
    return Status(201, _detail(client.pk))


@router.patch("/{int:client_id}", response=ClientDetailOut, summary="Change some fields of a client")
def update_client(request: HttpRequest, client_id: int, payload: ClientPatch):  # type: ignore[valid-type]
    require_perm(request.user, "clients.change_client")
    client = _detail(client_id)
    services.client_update(client=client, by=request.user, data=payload.dict(exclude_unset=True))
    return _detail(client_id)


@router.post("/{int:client_id}/deactivate", response=ClientDetailOut, summary="Deactivate a client")
def deactivate_client(request: HttpRequest, client_id: int, payload: ClientDeactivateIn | None = None):
    require_perm(request.user, "clients.deactivate_client")
    client = _detail(client_id)
    services.client_deactivate(client=client, by=request.user, reason=payload.reason if payload else "")
    return _detail(client_id)


@router.post("/{int:client_id}/reactivate", response=ClientDetailOut, summary="Reactivate a client")
def reactivate_client(request: HttpRequest, client_id: int):
    require_perm(request.user, "clients.deactivate_client")
    client = _detail(client_id)
    services.client_reactivate(client=client, by=request.user)
    return _detail(client_id)
