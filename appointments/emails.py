"""What the owner is told about their appointment: booked, moved or cancelled. Text and HTML, with the appointment
as an .ics attachment: the same UID every time and a SEQUENCE raised by each change, so the owner's calendar
updates the event it already has (METHOD:CANCEL removes it)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from appointments.ical import owner_invite
from appointments.models import Appointment
from vetpms.mail import practice_sender
from vetpms.timeutils import to_local

log = logging.getLogger(__name__)

SUBJECTS = {
    "booked": "Appointment for {name} on {start:%a %d %b at %H:%M}",
    "moved": "Appointment for {name} moved to {start:%a %d %b at %H:%M}",
    "cancelled": "Appointment for {name} on {start:%a %d %b at %H:%M} is cancelled",
}


def send_owner_notice(appointment_pk: int, kind: str) -> bool:
    """Email the owner (``kind``: booked, moved or cancelled) if they consented and have an address. Returns
    whether a message was handed to SMTP.

    Runs after the change committed; a mail server that is down is logged and never undoes the change.
    """
    appointment = Appointment.objects.select_related("animal__species", "client", "vet", "type").get(pk=appointment_pk)
    client = appointment.client
    if not client.reminder_consent or not client.email:
        return False
    context = {
        "appointment": appointment,
        "client": client,
        "kind": kind,
        "start": to_local(appointment.start),
        "end": to_local(appointment.end),
        "practice": settings.PRACTICE,
    }
    method = "CANCEL" if kind == "cancelled" else "PUBLISH"
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind].format(name=appointment.animal.name, start=context["start"]),
        body=render_to_string("appointments/email/confirmation.txt", context),
        from_email=practice_sender(),
        to=[client.email],
    )
    message.attach_alternative(render_to_string("appointments/email/confirmation.html", context), "text/html")
    message.attach(
        "appointment.ics", owner_invite(appointment, method=method), f"text/calendar; method={method}; charset=utf-8"
    )
    try:
        message.send()
    except OSError:
        log.exception("The %s notice for appointment %s could not be sent", kind, appointment_pk)
        return False
    return True
