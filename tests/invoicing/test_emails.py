"""Emailing invoices through a real local SMTP server (the smtp_server fixture): what the server received."""

from __future__ import annotations

import smtplib
from decimal import Decimal

import pytest

from invoicing.emails import send_invoice_email
from invoicing.services import credit_note_issue, invoice_add_line, invoice_draft_for, invoice_finalise
from tests.factories import AnimalFactory
from tests.invoicing.test_pdf import pdf_text
from vetpms.errors import DomainError
from vetpms.models import AuditEntry

pytestmark = pytest.mark.django_db
D = Decimal


def attachments(message) -> list:
    return [part for part in message.iter_attachments()]


def test_an_invoice_is_emailed_with_text_html_and_its_pdf(issued, receptionist, smtp_server, settings, tmp_path):
    send_invoice_email(invoice=issued, by=receptionist)
    assert len(smtp_server.envelopes) == 1
    envelope, message = smtp_server.envelopes[0], smtp_server.messages[0]
    assert envelope.rcpt_tos == [issued.client.email]
    assert message["Subject"] == f"Invoice {issued.reference} from {settings.PRACTICE['name']}"
    assert message["To"] == issued.client.email and message["Reply-To"] == settings.PRACTICE["email"]
    assert message["From"] == f"{settings.PRACTICE['name']} <{settings.PRACTICE['email']}>"
    assert envelope.mail_from == settings.PRACTICE["email"]

    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "Zoë Ångström" in body and issued.reference in body
        assert "£100.20" in body and settings.PRACTICE["phone"] in body
    assert "Outstanding: £100.20" in text

    (pdf,) = attachments(message)
    assert pdf.get_filename() == f"{issued.reference}.pdf" and pdf.get_content_type() == "application/pdf"
    body = pdf.get_content()
    assert body.startswith(b"%PDF")
    assert "Mrs Zoë Ångström" in pdf_text(body, tmp_path) and issued.reference in pdf_text(body, tmp_path)

    entry = AuditEntry.objects.filter(action="emailed").get()
    assert entry.actor == receptionist and issued.client.email in str(entry.changes)


def test_the_html_part_escapes_what_users_typed(consult_fee, receptionist, smtp_server):
    pet = AnimalFactory(owner__title="", owner__first_name="<b>Bob</b>", owner__last_name="<script>x</script>")
    pet.owner.email = "bob@example.com"
    pet.owner.save()
    invoice = invoice_draft_for(client=pet.owner, by=receptionist)
    invoice_add_line(invoice=invoice, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    send_invoice_email(invoice=invoice_finalise(invoice=invoice, by=receptionist), by=receptionist)
    message = smtp_server.messages[0]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;Bob&lt;/b&gt;" in html and "<b>Bob</b>" not in html and "<script>" not in html
    assert "<b>Bob</b>" in message.get_body(preferencelist=("plain",)).get_content()  # plain text stays as typed


def test_a_credit_note_is_emailed_with_the_invoice_it_corrects(issued, manager, smtp_server):
    note = credit_note_issue(invoice=issued, by=manager, reason="Vaccine not given")
    send_invoice_email(invoice=note, by=manager)
    message = smtp_server.messages[0]
    assert message["Subject"].startswith(f"Credit note {note.reference}")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert issued.reference in text and "Vaccine not given" in text and "-£100.20" in text
    assert attachments(message)[0].get_filename() == f"{note.reference}.pdf"


def test_a_draft_is_not_emailed(owner_pet, consult_fee, receptionist, smtp_server):
    client, pet = owner_pet
    draft = invoice_draft_for(client=client, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    with pytest.raises(DomainError) as exc:
        send_invoice_email(invoice=draft, by=receptionist)
    assert exc.value.code == "draft"
    assert smtp_server.envelopes == [] and not AuditEntry.objects.filter(action="emailed").exists()


def test_a_client_without_an_email_address_is_refused(issued, receptionist, smtp_server):
    client = issued.client
    client.email = ""
    client.save()
    with pytest.raises(DomainError) as exc:
        send_invoice_email(invoice=issued, by=receptionist)
    assert exc.value.code == "no_email" and smtp_server.envelopes == []


def test_a_mail_server_that_is_down_raises_and_records_nothing(issued, receptionist, smtp_server, settings):
    settings.EMAIL_PORT = 1  # nothing listens there
    with pytest.raises((OSError, smtplib.SMTPException)):
        send_invoice_email(invoice=issued, by=receptionist)
    assert not AuditEntry.objects.filter(action="emailed").exists()
