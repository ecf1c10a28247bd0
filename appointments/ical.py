"""iCalendar (RFC 5545) documents: one appointment for the owner's confirmation, a vet's whole book for a feed.

The vet's feed is read on a phone, outside the practice: it carries the pet, the appointment type and reason and
the times, never the owner's contact details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from appointments.models import Appointment, AppointmentStatus


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//VetPMS//Appointment book//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    return cal


def _uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@vetpms"


def _event(appointment: Appointment, *, summary: str, description: str) -> Event:
    event = Event()
    event.add("uid", _uid(appointment))
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(dt.UTC))
    event.add("dtend", appointment.end.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED")
    event.add("last-modified", appointment.updated_at.astimezone(dt.UTC))
    event.add("sequence", appointment.ical_sequence)
    return event


def owner_invite(appointment: Appointment, *, method: str = "PUBLISH") -> bytes:
    """The .ics attached to the owner's emails: PUBLISH for a booking or a move (the same UID with a higher
    SEQUENCE replaces the old time), CANCEL for a cancellation (RFC 5546: it names the organiser)."""
    practice = settings.PRACTICE
    cal = _calendar(practice["name"])
    cal.add("method", method)
    event = _event(
        appointment,
        summary=f"{appointment.animal.name}: {appointment.type.name} at {practice['name']}",
        description=f"{appointment.type.name} for {appointment.animal.name} with {appointment.vet}. "
        f"To change it, call {practice['phone']}.",
    )
    event.add("location", f"{practice['name']}, {practice['address']}")
    event.add("organizer", f"mailto:{practice['email']}", parameters={"CN": practice["name"]})
    cal.add_component(event)
    return cal.to_ical()


def vet_feed(vet_name: str, appointments: Iterable[Appointment]) -> bytes:
    cal = _calendar(f"{vet_name} - appointments")
    for appointment in appointments:
        species = appointment.animal.species.name
        summary = f"{appointment.animal.name} ({species}) - {appointment.type.name}"
        description = appointment.reason or appointment.type.name
        cal.add_component(_event(appointment, summary=summary, description=description))
    return cal.to_ical()
