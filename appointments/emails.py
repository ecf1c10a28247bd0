"""The owner's booking confirmation: text and HTML, with the appointment as an .ics attachment."""

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


def send_booking_confirmation(appointment_pk: int) -> bool:
    """Email the owner if they consented and have an address. Returns whether a message was handed to SMTP.

    Runs after the booking committed; a mail server that is down is logged and never undoes the booking.
    """
    appointment = Appointment.objects.select_related("animal__species", "client", "vet", "type").get(pk=appointment_pk)
    client = appointment.client
    if not client.reminder_consent or not client.email:
        return False
    context = {
        "appointment": appointment,
        "client": client,
        "start": to_local(appointment.start),
        "end": to_local(appointment.end),
        "practice": settings.PRACTICE,
    }
    subject = f"Appointment for {appointment.animal.name} on {context['start']:%a %d %b at %H:%M}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("appointments/email/confirmation.txt", context),
        from_email=practice_sender(),
        to=[client.email],
    )
    message.attach_alternative(render_to_string("appointments/email/confirmation.html", context), "text/html")
    message.attach("appointment.ics", owner_invite(appointment), "text/calendar; method=PUBLISH; charset=utf-8")
    try:
        message.send()
    except OSError:
        log.exception("Booking confirmation for appointment %s could not be sent", appointment_pk)
        return False
    return True
