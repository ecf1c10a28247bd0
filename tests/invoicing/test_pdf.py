"""Invoices, credit notes, statements and claim forms as real PDFs, read back with poppler's pdftotext: the
numbers, the names (non-ASCII ones too), the tax summary, totals, paid/outstanding, page numbers."""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing import pdf
from invoicing.models import Payor, Policy, Product
from invoicing.pdf import render_claim_form, render_invoice, render_statement
from invoicing.selectors import client_statement, invoice_detail
from invoicing.services import (
    claim_create,
    claim_submit,
    credit_note_issue,
    invoice_add_line,
    invoice_draft_for,
    invoice_finalise,
    payment_record,
)
from tests.factories import AnimalFactory, breed
from vetpms.money import format_money

pytestmark = pytest.mark.django_db
D = Decimal


def pdf_text(body: bytes, tmp_path, name: str = "doc.pdf", mode: str = "-layout") -> str:
    """The PDF's text laid out as on the page (``-raw``: in content order, which also keeps rotated text such as a
    watermark); pages are separated by form feeds."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert body.startswith(b"%PDF")
    path = tmp_path / name
    path.write_bytes(body)
    command = [shutil.which("pdftotext"), mode, str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own file


def squash(text: str) -> str:
    """Runs of spaces to one, so a table row reads "20% £83.50 £16.70" whatever the column gaps."""
    return re.sub(r"[ \t]+", " ", text)


def day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


@pytest.fixture
def dental_food(zero_rated):
    return Product.objects.create(
        code="FOOD-D", name="Dental diet 2 kg", category="retail", unit="bag", unit_price=D("12.99"),
        tax_category=zero_rated,
    )  # fmt: skip


@pytest.fixture
def policy(owner_pet):
    _, pet = owner_pet
    pet.breed = breed("Dog", "Labrador Retriever")
    pet.microchip = "985141000123456"
    pet.date_of_birth = dt.date(2021, 4, 3)
    pet.save()
    payor = Payor.objects.create(
        name="Petsure Insurance", claims_email="claims@petsure.example", address="PO Box 12\nLeeds LS1 1AA"
    )
    today = timezone.localdate()
    return Policy.objects.create(
        animal=pet,
        payor=payor,
        policy_number="PS-778812",
        starts_on=today - dt.timedelta(days=100),
        ends_on=today + dt.timedelta(days=265),
        excess=D("20.00"),
        copay_percent=D("10"),
    )


def test_an_issued_invoice_prints_the_practice_the_client_snapshot_and_every_amount(issued, settings, tmp_path):
    client = issued.client
    client.last_name = "Renamed-After-Issue"  # the document prints what was issued, not the live client
    client.save()
    text = pdf_text(render_invoice(issued), tmp_path)
    flat = squash(text)
    practice = settings.PRACTICE
    for value in (practice["name"], practice["address"], practice["phone"], practice["email"], practice["tax_id"]):
        assert value in text
    assert "Invoice" in text and issued.reference in text and re.match(r"INV-\d{4}-00001", issued.reference)
    assert day(issued.issue_date) in text and day(issued.due_date) in text
    assert "Mrs Zoë Ångström" in text and "Renamed-After-Issue" not in text
    assert issued.client_address.splitlines()[0] in text
    assert text.count("Mírzá") == 2  # the animal on each line
    assert "Consultation" in flat and "Rabies vaccine" in flat
    assert "1 each £45.00" in flat and "1 each £38.50" in flat and flat.count("20% £") == 3
    assert "20% £83.50 £16.70" in flat  # the tax summary
    assert "Net £83.50" in flat and "Tax £16.70" in flat and "Total £100.20" in flat
    assert "Paid £0.00" in flat and "Outstanding £100.20" in flat
    assert "Page 1 of" not in text and "DRAFT" not in text
    assert f"quoting {issued.reference}" in flat


def test_mixed_rates_fractions_discounts_and_a_part_payment(
    consult_fee, amoxicillin, dental_food, receptionist, manager, tmp_path
):
    pet = AnimalFactory(name="Bjørn", owner__title="", owner__first_name="Łukasz", owner__last_name="Ødegaard")
    invoice = invoice_draft_for(client=pet.owner, by=receptionist)
    invoice_add_line(
        invoice=invoice, by=manager, product=consult_fee, quantity=D(1), animal=pet, discount_percent=D(10)
    )
    invoice_add_line(invoice=invoice, by=receptionist, product=amoxicillin, quantity=D("2.5"), animal=pet)
    invoice_add_line(invoice=invoice, by=receptionist, product=dental_food, quantity=D(2), animal=pet)
    invoice = invoice_finalise(invoice=invoice, by=receptionist)
    payment_record(client=pet.owner, amount=D("30.00"), method="card", by=receptionist)

    flat = squash(pdf_text(render_invoice(invoice_detail(pk=invoice.pk)), tmp_path))
    assert "Łukasz Ødegaard" in flat and flat.count("Bjørn") == 3
    assert "1 each £45.00 10% 20% £40.50" in flat
    assert "2.5 ml £1.33 20% £3.33" in flat  # 3.325 rounds half up
    assert "2 bag £12.99 0% £25.98" in flat
    assert "20% £43.83 £8.77" in flat and "0% £25.98 £0.00" in flat  # one summary row per rate, highest first
    assert flat.index("20% £43.83") < flat.index("0% £25.98 £0.00")
    assert "Net £69.81" in flat and "Tax £8.77" in flat and "Total £78.58" in flat
    assert "Paid -£30.00" in flat and "Outstanding £48.58" in flat


def test_a_credit_note_prints_negative_amounts_and_the_invoice_it_corrects(issued, manager, tmp_path):
    vaccine = issued.lines.get(description="Rabies vaccine")
    note = credit_note_issue(invoice=issued, by=manager, reason="Vaccine not given", lines=[(vaccine, D(1))])
    flat = squash(pdf_text(render_invoice(note), tmp_path))
    assert "Credit note" in flat and note.reference in flat and note.reference.startswith("CN-")
    assert f"Corrects invoice {issued.reference}" in flat and "Reason: Vaccine not given" in flat
    assert "Mrs Zoë Ångström" in flat and "Mírzá" in flat
    assert "-1 each £38.50 20% -£38.50" in flat
    assert "20% -£38.50 -£7.70" in flat
    assert "Net -£38.50" in flat and "Tax -£7.70" in flat and "Total -£46.20" in flat
    assert "Outstanding" not in flat

    # The invoice now shows what was credited and what is left to pay.
    flat = squash(pdf_text(render_invoice(issued), tmp_path))
    assert "Total £100.20" in flat and "Credited -£46.20" in flat and "Outstanding £54.00" in flat


def test_an_insured_invoice_splits_the_insurers_share_from_what_the_client_pays(issued, policy, receptionist, tmp_path):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    claim_submit(claim=claim, by=receptionist)
    flat = squash(pdf_text(render_invoice(issued), tmp_path))
    # (100.20 - 20.00 excess) x 90 % = 72.18 from the insurer; the client pays 28.02.
    assert "Insurer's share -£72.18" in flat and "You pay £28.02" in flat and "Outstanding £28.02" in flat


def test_a_long_invoice_spans_pages_with_numbers_and_the_table_header_repeated(
    owner_pet, consult_fee, amoxicillin, receptionist, tmp_path
):
    client, pet = owner_pet
    invoice = invoice_draft_for(client=client, by=receptionist)
    for i in range(25):
        product = consult_fee if i % 2 else amoxicillin
        invoice_add_line(
            invoice=invoice,
            by=receptionist,
            product=product,
            quantity=D(i + 1),
            animal=pet,
            description=f"Item {i + 1:02d} {product.name}, as discussed with the owner at the consultation",
        )
    invoice = invoice_finalise(invoice=invoice, by=receptionist)
    text = pdf_text(render_invoice(invoice), tmp_path)
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert invoice.reference in page
        if "Item" in page:
            assert "Description" in page and "Unit price" in page  # the header row repeats
    for i in range(25):
        assert f"Item {i + 1:02d}" in text
    assert f"Total £{format_money(invoice.gross_total)}" in squash(text)


def test_a_draft_is_watermarked_and_shows_the_live_client(owner_pet, consult_fee, receptionist, tmp_path):
    client, pet = owner_pet
    draft = invoice_draft_for(client=client, by=receptionist)
    invoice_add_line(invoice=draft, by=receptionist, product=consult_fee, quantity=D(1), animal=pet)
    text = pdf_text(render_invoice(draft), tmp_path)
    flat = squash(text)
    assert "Mrs Zoë Ångström" in text and "Total £54.00" in flat and "Draft, not yet issued" in flat
    assert "INV-" not in text and "Outstanding" not in text
    assert "DRAFT" in pdf_text(render_invoice(draft), tmp_path, mode="-raw")  # the rotated watermark
    assert "DRAFT" not in pdf_text(
        render_invoice(invoice_finalise(invoice=draft, by=receptionist)), tmp_path, mode="-raw"
    )


def test_hostile_text_prints_literally(consult_fee, receptionist, tmp_path):
    pet = AnimalFactory(name="<i>Rex</i>", owner__title="", owner__first_name="<b>Bob</b>", owner__last_name="& Co")
    invoice = invoice_draft_for(client=pet.owner, by=receptionist)
    invoice_add_line(
        invoice=invoice, by=receptionist, product=consult_fee, quantity=D(1), animal=pet, description="Exam <br/> &amp;"
    )
    invoice = invoice_finalise(invoice=invoice, by=receptionist)
    text = pdf_text(render_invoice(invoice), tmp_path)
    assert "<b>Bob</b> & Co" in text and "<i>Rex</i>" in text and "Exam <br/> &amp;" in text


def test_the_currency_symbol_comes_from_settings(issued, settings, tmp_path):
    settings.CURRENCY_SYMBOL = "€"
    flat = squash(pdf_text(render_invoice(issued), tmp_path))
    assert "Total €100.20" in flat and "£" not in flat


def test_the_text_font_is_embedded_dejavu(issued):
    if pdf._find_font("DejaVuSans.ttf") is None:
        pytest.skip("fonts-dejavu-core is not installed")
    assert b"DejaVuSans" in render_invoice(issued)


def test_without_dejavu_the_documents_fall_back_to_helvetica_with_a_warning(issued, monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(pdf, "_find_font", lambda filename: None)
    pdf.fonts.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="invoicing.pdf"):
            body = render_invoice(issued)
    finally:
        pdf.fonts.cache_clear()
    assert "fonts-dejavu-core" in caplog.text
    assert b"Helvetica" in body and b"DejaVuSans" not in body
    assert "Total £100.20" in squash(pdf_text(body, tmp_path))


def test_a_statement_prints_opening_entries_running_balance_and_closing(issued, owner_pet, receptionist, tmp_path):
    client, _ = owner_pet
    today = timezone.localdate()
    payment_record(client=client, amount=D("60.00"), method="cash", by=receptionist, reference="Till 4")
    statement = client_statement(client=client, start=today - dt.timedelta(days=30), end=today)
    flat = squash(pdf_text(render_statement(statement), tmp_path))
    assert "Statement" in flat and "Mrs Zoë Ångström" in flat
    assert f"{day(statement.start)} to {day(today)}" in flat
    assert "Opening balance £0.00" in flat
    assert f"Invoice {issued.reference} £100.20 £100.20" in flat
    assert "Payment Till 4 Cash -£60.00 £40.20" in flat
    assert "Closing balance £40.20" in flat and "Amount due £40.20" in flat
    assert flat.index("Opening balance") < flat.index(issued.reference) < flat.index("Till 4") < flat.index("Closing")


def test_a_statement_in_credit_says_so(issued, owner_pet, receptionist, tmp_path):
    client, _ = owner_pet
    today = timezone.localdate()
    payment_record(client=client, amount=D("150.00"), method="card", by=receptionist)
    statement = client_statement(client=client, start=today, end=today)
    flat = squash(pdf_text(render_statement(statement), tmp_path))
    assert "Closing balance -£49.80" in flat and "In credit £49.80" in flat


def test_a_claim_form_prints_policy_animal_owner_lines_and_the_claimed_amount(issued, policy, receptionist, tmp_path):
    claim = claim_create(invoice=issued, policy=policy, lines=list(issued.lines.all()), by=receptionist)
    text = pdf_text(render_claim_form(claim), tmp_path)
    flat = squash(text)
    assert "Insurance claim" in flat and "Petsure Insurance" in flat and "PO Box 12" in flat
    assert "PS-778812" in flat and "Excess £20.00" in flat and "Co-pay 10%" in flat
    assert "Mírzá" in flat and "Dog" in flat and "Labrador Retriever" in flat
    assert "3 Apr 2021" in flat and "985141000123456" in flat
    assert "Mrs Zoë Ångström" in flat and issued.reference in flat
    assert "Consultation 1 each £45.00 £9.00 £54.00" in flat and "Rabies vaccine 1 each £38.50 £7.70 £46.20" in flat
    assert "Treatment (gross) £100.20" in flat and "Less excess -£20.00" in flat
    assert "Less co-pay (10%) -£8.02" in flat and "Amount claimed £72.18" in flat
    assert "Declaration" in flat and "signature" in flat
