"""The day list's "owes" flag: the owner's unpaid balance beside each appointment (see appointments.flags)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from appointments.flags import DayListFlag
from appointments.models import Appointment
from invoicing.selectors import client_balances
from vetpms.models import User
from vetpms.money import format_money


def owes_flags(appointments: list[Appointment], user: User) -> dict[int, list[DayListFlag]]:
    if not user.has_perm("invoicing.view_invoice"):
        return {}
    balances = client_balances(client_ids=sorted({a.client_id for a in appointments}))
    flags: dict[int, list[DayListFlag]] = {}
    for appointment in appointments:
        balance = balances.get(appointment.client_id)
        if balance is not None and balance.balance > 0:
            flags[appointment.pk] = [
                DayListFlag(
                    label=f"Owes {settings.CURRENCY_SYMBOL}{format_money(balance.balance)}",
                    tone="danger",
                    url=reverse("invoicing:account", args=[appointment.client_id]),
                    title="Unpaid balance on the owner's account",
                )
            ]
    return flags
