"""Flags on the rows of a vet's day list, contributed by the apps above this one.

DESIGN.md section 2: the vet's day list shows, beside each pet, its overdue reminders and its owner's unpaid
balance. Reminders and invoicing live above appointments, which cannot import them, so they register a provider
here in their ``AppConfig.ready()``. A provider gets the day's appointments and the user looking, and returns the
flags per appointment id; it must make a fixed number of queries whatever the number of rows (one ``IN`` query).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appointments.models import Appointment
from vetpms.models import User


@dataclass(frozen=True)
class DayListFlag:
    label: str
    tone: str  # a Bootstrap colour: warning, danger, info
    url: str = ""
    title: str = ""


FlagProvider = Callable[[list[Appointment], User], dict[int, list[DayListFlag]]]
DAY_LIST_FLAGS: list[FlagProvider] = []


def register(provider: FlagProvider) -> None:
    if provider not in DAY_LIST_FLAGS:
        DAY_LIST_FLAGS.append(provider)


def flags_for(appointments: list[Appointment], user: User) -> dict[int, list[DayListFlag]]:
    merged: dict[int, list[DayListFlag]] = {}
    if not appointments:
        return merged
    for provider in DAY_LIST_FLAGS:
        for appointment_id, flags in provider(appointments, user).items():
            merged.setdefault(appointment_id, []).extend(flags)
    return merged
