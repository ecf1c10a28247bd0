"""/api/v1/search, /api/v1/me and /api/v1/tokens: endpoints that belong to no single app."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from animals.schemas import AnimalSummary
from animals.selectors import search
from clients.schemas import ClientRef
from vetpms import services
from vetpms.api_utils import Id, InputSchema, QuerySchema, url_id
from vetpms.models import ApiToken, User
from vetpms.permissions import require_perm

search_router = Router(tags=["search"])
me_router = Router(tags=["me"])
tokens_router = Router(tags=["tokens"])


# --- Search -------------------------------------------------------------------------------------------------------


class SearchHitOut(Schema):
    kind: str = Field(..., description='"animal" (a pet with its owner) or "client" (an owner).')
    score: int = Field(..., description="Higher is a better match; hits come best first.")
    client: ClientRef
    animal: AnimalSummary | None


class SearchParams(QuerySchema):
    q: str = Field(..., max_length=200, description="Surname, first name, organisation, phone, email, pet, chip.")
    limit: int = Field(20, ge=1, le=50)
    include_inactive: bool = Field(True, description="Include inactive clients, and deceased or inactive pets.")


@search_router.get("", response=list[SearchHitOut], summary="Global search: pets and owners, best first")
def global_search(request: HttpRequest, filters: Query[SearchParams]):
    require_perm(request.user, "clients.view_client", "animals.view_animal")
    return search(query=filters.q, limit=filters.limit, include_inactive=filters.include_inactive)


# --- Who am I -----------------------------------------------------------------------------------------------------


class TokenRef(Schema):
    id: int
    name: str
    key_prefix: str


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    display_name: str
    email: str
    roles: list[str]
    role_label: str
    permissions: list[str] = Field(..., description="Sorted app_label.codename strings.")
    authenticated_by: str = Field(..., description='"token" or "session".')
    token: TokenRef | None = Field(None, description="The token this request used, if any.")


@me_router.get("", response=MeOut, summary="Who am I: the user, role and permissions this request acts with")
def me(request: HttpRequest):
    user = request.user
    token = getattr(user, "api_token", None)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": str(user),
        "email": user.email,
        "roles": user.roles,
        "role_label": user.role_label,
        "permissions": sorted(user.get_all_permissions()),
        "authenticated_by": "token" if token is not None else "session",
        "token": token,
    }


# --- API tokens (managers) ----------------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    key_prefix: str
    user_id: int
    user: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_user(obj: ApiToken) -> str:
        return str(obj.user)


class TokenCreatedOut(TokenOut):
    secret: str = Field(..., description="Shown this once; only a hash is stored.")


class TokenIn(InputSchema):
    user: Id = Field(..., description="Id of the user the token acts as.")
    name: str = Field(..., min_length=1, max_length=100, description="What the token is for.")


@tokens_router.get("", response=list[TokenOut], summary="API tokens (managers)")
def list_tokens(request: HttpRequest, include_revoked: bool = False):
    require_perm(request.user, "vetpms.manage_api_tokens")
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    return qs if include_revoked else qs.live()


@tokens_router.post("", response={201: TokenCreatedOut}, summary="Create an API token (managers)")
def create_token(request: HttpRequest, payload: TokenIn):
    require_perm(request.user, "vetpms.manage_api_tokens")
    user = User.objects.filter(pk=payload.user).first()
    if user is None:
        raise ValidationError({"user": f"There is no user with id {payload.user}."})
    token, secret = services.api_token_create(user=user, name=payload.name, by=request.user)
    token.secret = secret  # type: ignore[attr-defined]
    return Status(201, token)


@tokens_router.post("/{int:token_id}/revoke", response=TokenOut, summary="Revoke an API token (managers)")
def revoke_token(request: HttpRequest, token_id: int):
    require_perm(request.user, "vetpms.manage_api_tokens")
    token = ApiToken.objects.select_related("user").get(pk=url_id(token_id))
    return services.api_token_revoke(token=token, by=request.user)
