"""Every write to a client goes through here: one transaction, the rules, the audit entry."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from clients.models import Client
from clients.signals import client_changed
from vetpms import audit, events
from vetpms.errors import DomainError
from vetpms.models import User

EDITABLE_FIELDS = frozenset(
    {
        "title",
        "first_name",
        "last_name",
        "organisation",
        "email",
        "mobile_phone",
        "home_phone",
        "work_phone",
        "address_line1",
        "address_line2",
        "town",
        "county",
        "postcode",
        "country",
        "preferred_channel",
        "reminder_consent",
        "notes",
    }
)


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable client fields: {', '.join(sorted(unknown))}")


def _save(client: Client) -> None:
    client.full_clean()
    client.search_text = client.build_search_text()
    client.save()


class PossibleDuplicates(DomainError):
    """A new client looks like one already recorded; ``candidates`` are (client, reasons)."""

    def __init__(self, candidates: list[tuple[Client, list[str]]]) -> None:
        names = "; ".join(f"{c.display_name} ({', '.join(r)})" for c, r in candidates)
        super().__init__(
            f"This may be a client already recorded: {names}. Check, or confirm that this is a new client.",
            code="possible_duplicate",
        )
        self.candidates = candidates


@transaction.atomic
def client_create(*, by: User, confirm_new: bool = False, **data: Any) -> Client:
    """A new client. One who shares a phone, an email, or a surname and postcode with a client already recorded
    is refused (PossibleDuplicates, naming them) unless ``confirm_new`` says the person checked."""
    from clients.selectors import possible_duplicates

    _check_fields(data)
    client = Client(**data)
    if client.reminder_consent:
        client.consent_changed_at = timezone.now()
    client.full_clean()  # normalises the phones the duplicates are looked up by
    if not confirm_new:
        candidates = possible_duplicates(client=client)
        if candidates:
            raise PossibleDuplicates(candidates)
    _save(client)
    audit.record(actor=by, obj=client, action="create", changes=audit.diff({}, audit.snapshot(client)))
    events.publish("client.created", client)
    return client


@transaction.atomic
def client_update(*, client: Client, by: User, data: dict[str, Any]) -> Client:
    _check_fields(data)
    client = Client.objects.select_for_update().get(pk=client.pk)
    before = audit.snapshot(client)
    old_search_text = client.search_text
    for name, value in data.items():
        setattr(client, name, value)
    if client.reminder_consent != before["reminder_consent"]:
        client.consent_changed_at = timezone.now()
    _save(client)
    changes = audit.diff(before, audit.snapshot(client))
    if changes:
        audit.record(actor=by, obj=client, action="update", changes=changes)
        events.publish("client.updated", client, changed=changes)
        client_changed.send(
            sender=Client,
            client=client,
            fields=set(changes),
            search_changed=client.search_text != old_search_text,
        )
    return client


@transaction.atomic
def client_set_consent(*, client: Client, by: User | None, consent: bool, note: str = "") -> Client:
    """Give or withdraw consent to reminder emails; doing it twice is harmless (no second audit entry)."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.reminder_consent == consent:
        return client
    client.reminder_consent = consent
    client.consent_changed_at = timezone.now()
    client.save(update_fields=["reminder_consent", "consent_changed_at", "updated_at"])
    audit.record(
        actor=by,
        obj=client,
        action="consent given" if consent else "consent withdrawn",
        changes={"reminder_consent": [not consent, consent]},
        note=note,
    )
    client_changed.send(sender=Client, client=client, fields={"reminder_consent"}, search_changed=False)
    events.publish("client.updated", client, changed={"reminder_consent"})
    return client


@transaction.atomic
def client_deactivate(*, client: Client, by: User, reason: str = "") -> Client:
    client = Client.objects.select_for_update().get(pk=client.pk)
    if not client.is_active:
        raise DomainError(f"{client} is already inactive.")
    client.is_active = False
    client.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=by, obj=client, action="deactivate", changes={"is_active": [True, False]}, note=reason)
    client_changed.send(sender=Client, client=client, fields={"is_active"}, search_changed=False)
    events.publish("client.updated", client, changed={"is_active"})
    return client


@transaction.atomic
def client_reactivate(*, client: Client, by: User) -> Client:
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.is_active:
        raise DomainError(f"{client} is already active.")
    client.is_active = True
    client.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=by, obj=client, action="reactivate", changes={"is_active": [False, True]})
    client_changed.send(sender=Client, client=client, fields={"is_active"}, search_changed=False)
    events.publish("client.updated", client, changed={"is_active"})
    return client
