"""Writes for staff, vets and API tokens.

Leavers: ``staff_deactivate`` switches the account off and revokes its API tokens in one transaction. Nothing
else is needed for "at once": a session is checked against the user on every request (Django's ModelBackend
refuses an inactive user), and a token only works for an active user (vetpms.auth). The practice always keeps at
least one active manager: the last one cannot lose the role or be deactivated, or no one could manage staff.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vetpms import audit
from vetpms import scopes as scopes_mod
from vetpms.errors import DomainError
from vetpms.models import ApiToken, Role, User, Vet


@transaction.atomic
def api_token_create(*, user: User, name: str, by: User, scopes: str = scopes_mod.FULL) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it with the secret, which is never stored and never shown again.
    ``scopes`` (vetpms.scopes) may narrow what it can do; the default is everything the user's role allows."""
    try:
        scopes = scopes_mod.normalise(scopes or scopes_mod.FULL)
    except scopes_mod.InvalidScope as exc:
        raise DomainError(str(exc), field="scopes", code="invalid") from exc
    if len(scopes) > 500:
        raise DomainError("Too many scopes for one token.", field="scopes", code="invalid")
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the token a name that says what it is for.", field="name")
    if len(name) > 100:
        raise DomainError("A token name has at most 100 characters.", field="name")
    if not user.is_active:
        raise DomainError(f"{user} is not an active user.", field="user")
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_prefix=secret[:12],
        key_hash=ApiToken.hash_secret(secret),
        created_by=by,
        scopes=scopes,
    )
    audit.record(
        actor=by,
        obj=token,
        action="create",
        changes={"user": [None, str(user)], "name": [None, name], "scopes": [None, scopes]},
    )
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


def _active_managers() -> Any:
    # Locked: two managers demoting each other at the same moment must not both see "another manager is left".
    return User.objects.select_for_update().filter(is_active=True, groups__name=Role.MANAGER)


def _refuse_losing_the_last_manager(user: User, action: str) -> None:
    managers = list(_active_managers().values_list("pk", flat=True))
    if managers == [user.pk]:
        raise DomainError(
            f"{user} is the only active manager: make someone else a manager before you {action}.",
            field="role" if "role" in action else "is_active",
            code="last_manager",
        )


@transaction.atomic
def staff_set_role(*, user: User, role: str, by: User) -> User:
    """Put ``user`` in exactly one role group."""
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    if role != Role.MANAGER and user.is_active and user.has_role(Role.MANAGER):
        _refuse_losing_the_last_manager(user, "change their role")
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


STAFF_FIELDS = frozenset({"first_name", "last_name", "email"})


@transaction.atomic
def staff_update(*, user: User, by: User, data: dict[str, Any]) -> User:
    """Change a member of staff's name or email (the username stays: it is how they sign in and are audited)."""
    unknown = set(data) - STAFF_FIELDS
    if unknown:
        raise ValueError(f"Not editable staff fields: {', '.join(sorted(unknown))}")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = audit.snapshot(user, STAFF_FIELDS)
    for name, value in data.items():
        setattr(user, name, (value or "").strip())
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(data))
    changes = audit.diff(before, audit.snapshot(user, STAFF_FIELDS))
    if changes:
        audit.record(actor=by, obj=user, action="update", changes=changes)
    return user


@transaction.atomic
def staff_deactivate(*, user: User, by: User) -> User:
    """A leaver: the account stops working at once (sessions and API tokens); their records keep their name."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise DomainError(f"{user} is already inactive.", field="is_active")
    if user.has_role(Role.MANAGER):
        _refuse_losing_the_last_manager(user, "deactivate them")
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = ApiToken.objects.live().filter(user=user).update(revoked_at=timezone.now())
    audit.record(
        actor=by,
        obj=user,
        action="deactivate",
        changes={"is_active": [True, False]},
        note=f"{revoked} API token{'s' if revoked != 1 else ''} revoked" if revoked else "",
    )
    return user


@transaction.atomic
def staff_reactivate(*, user: User, by: User) -> User:
    """Back from leave: the account works again (its revoked API tokens stay revoked)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise DomainError(f"{user} is already active.", field="is_active")
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(actor=by, obj=user, action="reactivate", changes={"is_active": [False, True]})
    return user


@transaction.atomic
def staff_set_password(*, user: User, password: str, by: User) -> User:
    """Set a password (a manager resetting someone's, or someone changing their own). The password itself is
    never recorded; changing it ends the user's other sessions (Django checks a hash of it on every request)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    action = "password changed" if by.pk == user.pk else "password reset"
    audit.record(actor=by, obj=user, action=action)
    return user
