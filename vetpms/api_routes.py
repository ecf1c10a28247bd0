"""/api/v1/search, /api/v1/me, /api/v1/tokens and /api/v1/staff: endpoints that belong to no single app."""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from animals.schemas import AnimalSummary
from animals.selectors import search
from clients.schemas import ClientRef
from vetpms import services
from vetpms.api_utils import Id, InputSchema, Page, QuerySchema, url_id
from vetpms.models import ApiToken, Role, User
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
    scopes: str = Field(..., description="SMART-style scopes: system/*.* (full), system/*.read (read only), ...")

    @staticmethod
    def resolve_user(obj: ApiToken) -> str:
        return str(obj.user)


class TokenCreatedOut(TokenOut):
    secret: str = Field(..., description="Shown this once; only a hash is stored.")


class TokenIn(InputSchema):
    user: Id = Field(..., description="Id of the user the token acts as.")
    name: str = Field(..., min_length=1, max_length=100, description="What the token is for.")
    scopes: str = Field(
        "system/*.*",
        max_length=500,
        description="system/*.* (full, the default), system/*.read (read only), or FHIR types: system/Patient.read",
    )


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
    token, secret = services.api_token_create(user=user, name=payload.name, by=request.user, scopes=payload.scopes)
    token.secret = secret  # type: ignore[attr-defined]
    return Status(201, token)


@tokens_router.post("/{int:token_id}/revoke", response=TokenOut, summary="Revoke an API token (managers)")
def revoke_token(request: HttpRequest, token_id: int):
    require_perm(request.user, "vetpms.manage_api_tokens")
    token = ApiToken.objects.select_related("user").get(pk=url_id(token_id))
    return services.api_token_revoke(token=token, by=request.user)


# --- Staff (managers) ---------------------------------------------------------------------------------------------

staff_router = Router(tags=["staff"])


class StaffOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: Role | None = Field(..., description="Null for an account without a role.")
    is_active: bool
    last_login: dt.datetime | None

    @staticmethod
    def resolve_role(obj: User) -> str | None:
        return obj.roles[0] if obj.roles else None


class StaffIn(InputSchema):
    username: str = Field(..., min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    first_name: str = Field(..., min_length=1, max_length=150)
    last_name: str = Field(..., min_length=1, max_length=150)
    email: str = Field("", max_length=254)
    role: Role
    password: str | None = Field(None, max_length=128, description="Omitted: the account has no password yet.")
    vet_display_name: str = Field("", max_length=100, description="Vets: the name in the appointment book.")


class StaffChange(InputSchema):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, min_length=1, max_length=150)
    email: str | None = Field(None, max_length=254)
    role: Role | None = Field(None, description="The last active manager cannot lose the role (409).")


class PasswordIn(InputSchema):
    password: str = Field(..., min_length=1, max_length=128)


def _staff(pk: int) -> User:
    return User.objects.prefetch_related("groups").get(pk=url_id(pk))  # DoesNotExist -> 404


@staff_router.get("", response=list[StaffOut], summary="Staff (managers)")
@paginate(Page)
def list_staff(request: HttpRequest, include_inactive: bool = True):
    require_perm(request.user, "vetpms.manage_staff")
    qs = User.objects.prefetch_related("groups").order_by("-is_active", "last_name", "first_name", "username")
    return qs if include_inactive else qs.filter(is_active=True)


@staff_router.get("/{int:user_id}", response=StaffOut, summary="One member of staff (managers)")
def get_staff(request: HttpRequest, user_id: int):
    require_perm(request.user, "vetpms.manage_staff")
    return _staff(user_id)


@staff_router.post(
    "", response={201: StaffOut}, summary="Add a member of staff (managers)", description="A taken username is 409."
)
def create_staff(request: HttpRequest, payload: StaffIn):
    require_perm(request.user, "vetpms.manage_staff")
    if payload.password:
        candidate = User(username=payload.username, first_name=payload.first_name, last_name=payload.last_name)
        try:
            validate_password(payload.password, candidate)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    user = services.staff_create(
        username=payload.username,
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email,
        role=payload.role,
        password=payload.password,
        vet_display_name=payload.vet_display_name,
        by=request.user,
    )
    return Status(201, _staff(user.pk))


@staff_router.patch(
    "/{int:user_id}",
    response=StaffOut,
    summary="Change a member of staff (managers)",
    description="Names, email, role. Removing the role of the last active manager is a 409.",
)
def change_staff(request: HttpRequest, user_id: int, payload: StaffChange):
    require_perm(request.user, "vetpms.manage_staff")
    user = _staff(user_id)
    data = payload.dict(exclude_unset=True)
    role = data.pop("role", None)
    with transaction.atomic():
        if data:
            services.staff_update(user=user, by=request.user, data=data)
        if role is not None:
            services.staff_set_role(user=user, role=role, by=request.user)
    return _staff(user_id)


@staff_router.post(
    "/{int:user_id}/deactivate",
    response=StaffOut,
    summary="Deactivate a leaver (managers)",
    description="Their sessions and API tokens stop working at once. The last active manager is a 409.",
)
def deactivate_staff(request: HttpRequest, user_id: int):
    require_perm(request.user, "vetpms.manage_staff")
    services.staff_deactivate(user=_staff(user_id), by=request.user)
    return _staff(user_id)


@staff_router.post("/{int:user_id}/reactivate", response=StaffOut, summary="Reactivate a member of staff (managers)")
def reactivate_staff(request: HttpRequest, user_id: int):
    require_perm(request.user, "vetpms.manage_staff")
    services.staff_reactivate(user=_staff(user_id), by=request.user)
    return _staff(user_id)


@staff_router.post(
    "/{int:user_id}/password",
    response={204: None},
    summary="Set a member of staff's password (managers)",
    description="A weak password is a 422. Their sessions end.",
)
def set_staff_password(request: HttpRequest, user_id: int, payload: PasswordIn):
    require_perm(request.user, "vetpms.manage_staff")
    services.staff_set_password(user=_staff(user_id), password=payload.password, by=request.user)
    return Status(204, None)
