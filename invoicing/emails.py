"""Emailing an issued invoice or credit note to the client: text and HTML, with the PDF attached."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from invoicing.models import Invoice
from invoicing.pdf import money, render_invoice
from invoicing.selectors import client_outstanding
from vetpms import audit
from vetpms.errors import DomainError
from vetpms.mail import practice_sender
from vetpms.models import User

log = logging.getLogger(__name__)


def send_invoice_email(*, invoice: Invoice, by: User) -> None:
    """Send ``invoice`` (an invoice or a credit note) to its client's email address and record that it was sent.

    Refuses a draft (it has no number and may still change) and a client without an email address
    (DomainError). A mail server that refuses or cannot be reached raises OSError (smtplib's errors are
    OSErrors) after logging it, and nothing is recorded; the caller says so to the user.
    """
    invoice = Invoice.objects.select_related("client", "credits").get(pk=invoice.pk)
    if invoice.is_draft:
        raise DomainError("A draft cannot be emailed; finalise it first.", code="draft")
    client = invoice.client
    if not client.email:
        raise DomainError(f"{client} has no email address.", field="email", code="no_email")
    kind = invoice.get_kind_display()
    context = {
        "invoice": invoice,
        "kind": kind,
        "name": client.person_name or invoice.client_name,
        "total": money(invoice.gross_total),
        "outstanding": money(client_outstanding(invoice)) if not invoice.is_credit_note else None,
        "practice": settings.PRACTICE,
    }
    message = EmailMultiAlternatives(
        subject=f"{kind} {invoice.reference} from {settings.PRACTICE['name']}",
        body=render_to_string("invoicing/email/invoice.txt", context),
        from_email=practice_sender(),
        to=[client.email],
        reply_to=[settings.PRACTICE["email"]] if settings.PRACTICE.get("email") else None,
    )
    message.attach_alternative(render_to_string("invoicing/email/invoice.html", context), "text/html")
    message.attach(f"{invoice.reference}.pdf", render_invoice(invoice), "application/pdf")
    try:
        message.send()
    except OSError:
        log.exception("%s could not be emailed to client %s", invoice.reference, client.pk)
        raise
    audit.record(actor=by, obj=invoice, action="emailed", changes={"to": [None, client.email]})
