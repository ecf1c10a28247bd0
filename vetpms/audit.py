"""The audit trail: services call ``record`` in their transaction; ``snapshot``/``diff`` say what changed.

A small model of our own rather than django-simple-history: VetPMS records *domain actions* (transfer, mark
deceased, finalise) with the fields they changed, written explicitly by the service that performs them, in one
table that a manager reads per record. simple-history would copy whole rows on every save() (including saves that
are not user actions, such as search-index refreshes) and record no action names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from vetpms.models import AuditEntry, User

IGNORED_FIELDS = {"id", "created_at", "updated_at", "search_text"}


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audit-relevant values of ``obj`` (foreign keys by their display text)."""
    values: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in IGNORED_FIELDS or (fields is not None and field.name not in fields):
            continue
        if field.is_relation:
            values[field.name] = str(getattr(obj, field.name)) if getattr(obj, field.attname) is not None else None
        else:
            values[field.name] = _plain(getattr(obj, field.attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def _via(actor: User | None) -> str:
    """The API token a request acted through (vetpms.auth puts it on the user), with its creator: a token a
    manager made "as" a receptionist records both people, not only the receptionist."""
    token = getattr(actor, "api_token", None)
    if token is None:
        return ""
    creator = token.created_by
    made = f", created by {creator}" if creator is not None else ""
    return f"API token “{token.name}” ({token.key_prefix}…){made}"[:250]


def record(
    *,
    actor: User | None,
    obj: models.Model,
    action: str,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=(str(actor) if actor else "system")[:150],
        via_label=_via(actor),
        content_type=ContentType.objects.get_for_model(obj.__class__),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        changes=changes or {},
        note=note[:500],
    )


def entries_for(obj: models.Model):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj.__class__), object_id=str(obj.pk)
    ).select_related("actor")


def save_fields(*, obj: models.Model, data: dict[str, Any], allowed: frozenset[str], by: User | None) -> Any:
    """Set ``data`` on ``obj`` (only names in ``allowed``), validate, save and record what changed.

    The shared body of the simple "create or edit a reference record" services (catalogue entries, payors,
    appointment types); the caller owns the transaction.
    """
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"Not editable {obj._meta.verbose_name} fields: {', '.join(sorted(unknown))}")
    before = snapshot(obj) if obj.pk else {}
    for name, value in data.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    record(actor=by, obj=obj, action="update" if before else "create", changes=diff(before, snapshot(obj)))
    return obj
