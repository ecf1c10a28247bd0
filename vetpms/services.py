"""Writes for staff, vets and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from vetpms import audit
from vetpms.errors import DomainError
from vetpms.models import ApiToken, Role, User, Vet


@transaction.atomic
def api_token_create(*, user: User, name: str, by: User) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it with the secret, which is never stored and never shown again."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the token a name that says what it is for.", field="name")
    if len(name) > 100:
        raise DomainError("A token name has at most 100 characters.", field="name")
    if not user.is_active:
        raise DomainError(f"{user} is not an active user.", field="user")
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user, name=name, key_prefix=secret[:12], key_hash=ApiToken.hash_secret(secret), created_by=by
    )
    audit.record(actor=by, obj=token, action="create", changes={"user": [None, str(user)], "name": [None, name]})
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise DomainError("This token was already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor=by, obj=token, action="revoke")
    return token


@transaction.atomic
def staff_set_role(*, user: User, role: str, by: User) -> User:
    """Put ``user`` in exactly one role group."""
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    before = sorted(g.name for g in user.groups.all())
    user.groups.remove(*Group.objects.filter(name__in=Role.values))
    user.groups.add(Group.objects.get(name=role))
    user.__dict__.pop("_role_names", None)  # forget the cached role list
    audit.record(actor=by, obj=user, action="role", changes={"roles": [before, [role]]})
    return user


@transaction.atomic
def staff_create(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    password: str | None,
    by: User | None,
    vet_display_name: str = "",
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"The username {username!r} is taken.", field="username")
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    user.groups.add(Group.objects.get(name=role))
    if role == Role.VET:
        Vet.objects.create(user=user, display_name=vet_display_name or f"{first_name} {last_name}".strip())
    audit.record(actor=by, obj=user, action="create", changes={"username": [None, username], "role": [None, role]})
    return user
