"""The day list's "owes" flag: the owner's unpaid balance beside each appointment (see appointments.flags)."""

from __future__ import annotations

from django.conf import settings

from appointments.flags import DayListFlag
from appointments.models import Appointment
from invoicing.models import ClientBalance
from vetpms.models import User
from vetpms.money import format_money
from vetpms.tables import pk_url


def owes_flags(appointments: list[Appointment], user: User) -> dict[int, list[DayListFlag]]:
    if not user.has_perm("invoicing.view_invoice"):
        return {}
    # The balances kept beside the documents (invoicing.balances): one indexed read, not each owner's history.
    owing = dict(
        ClientBalance.objects.filter(client_id__in={a.client_id for a in appointments}, balance__gt=0).values_list(
            "client_id", "balance"
        )
    )
    flags: dict[int, list[DayListFlag]] = {}
    for appointment in appointments:
        balance = owing.get(appointment.client_id)
        if balance is not None:
            flags[appointment.pk] = [
                DayListFlag(
                    label=f"Owes {settings.CURRENCY_SYMBOL}{format_money(balance)}",
                    tone="danger",
                    url=pk_url("invoicing:account", appointment.client_id),
                    title="Unpaid balance on the owner's account",
                )
            ]
    return flags
