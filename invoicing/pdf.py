"""Printable invoicing documents (reportlab): invoices and credit notes, client statements, insurance claim forms.

Renderers take domain objects and return PDF bytes; views, API endpoints and emails only wrap or attach them.
An invoice prints what was issued: the client's name and address come from the snapshot frozen at finalising
(a draft, which has no snapshot yet, prints the live client). Amounts are the stored, already-rounded Decimals,
formatted by vetpms.money with settings.CURRENCY_SYMBOL; nothing here computes money except sums that
invoicing.calc and invoicing.selectors already define.

Text is set in DejaVu Sans (Debian package fonts-dejavu-core), so names such as Zoë Ångström, Łukasz or Ødegaard
print as written; reportlab's built-in Helvetica only covers Latin-1. Without the font file the documents fall
back to Helvetica and a warning is logged once per process.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from appointments.pdf import ACCENT, GRID, MUTED
from invoicing import calc
from invoicing.models import Claim, Invoice, InvoiceLine
from invoicing.selectors import Statement, client_outstanding, insurer_share, owner_share
from vetpms.money import ZERO, format_money, plain_number

log = logging.getLogger(__name__)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN  # 178 mm
ZEBRA = colors.HexColor("#f5f7f8")
WATERMARK = colors.HexColor("#6c757d")
TINT = colors.HexColor("#e3eff0")

# --- Fonts -------------------------------------------------------------------------------------------------------

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts"))
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
_font_lock = threading.Lock()


def _find_font(filename: str) -> Path | None:
    """The font file in the usual Debian place, else anywhere under /usr/share/fonts (other distributions)."""
    for folder in FONT_DIRS[:-1]:
        if (folder / filename).is_file():
            return folder / filename
    root = FONT_DIRS[-1]
    return next(root.rglob(filename), None) if root.is_dir() else None


@functools.cache
def fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered with reportlab on first use (once per process)."""
    with _font_lock:
        paths = {style: _find_font(name) for style, name in FONT_FILES.items()}
        if paths["regular"] is None or paths["bold"] is None:
            log.warning(
                "DejaVu Sans not found under /usr/share/fonts (install fonts-dejavu-core); invoices fall back to "
                "Helvetica, which cannot print names outside Latin-1."
            )
            return "Helvetica", "Helvetica-Bold"
        pdfmetrics.registerFont(TTFont("VetSans", str(paths["regular"])))
        pdfmetrics.registerFont(TTFont("VetSans-Bold", str(paths["bold"])))
        pdfmetrics.registerFontFamily(
            "VetSans", normal="VetSans", bold="VetSans-Bold", italic="VetSans", boldItalic="VetSans-Bold"
        )
        return "VetSans", "VetSans-Bold"


# --- Formatting --------------------------------------------------------------------------------------------------


def money(value: Decimal) -> str:
    """-12.5 -> "-£12.50" (the sign before the symbol, as accountants and pdftotext both read it)."""
    sign = "-" if value < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{format_money(abs(value))}"


def _day(value: dt.date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "—"


def _number(value: Decimal) -> str:
    """Decimal("0.500") -> "0.5", Decimal("10.000") -> "10" (never exponent notation)."""
    return plain_number(value)


def _percent(value: Decimal) -> str:
    return f"{_number(value)}%"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)
    return {
        "body": body,
        "muted": ParagraphStyle("muted", parent=body, fontSize=8.5, leading=11.5, textColor=MUTED),
        "practice": ParagraphStyle("practice", parent=body, fontName=bold, fontSize=16, leading=20, textColor=ACCENT),
        "title": ParagraphStyle("title", parent=body, fontName=bold, fontSize=20, leading=24, alignment=TA_RIGHT),
        "label": ParagraphStyle("label", parent=body, fontName=bold, fontSize=7.5, leading=10, textColor=MUTED),
        "section": ParagraphStyle("section", parent=body, fontName=bold, fontSize=10, leading=13, textColor=ACCENT),
        "cell": cell,
        "cell_bold": ParagraphStyle("cell_bold", parent=cell, fontName=bold),
        "head": ParagraphStyle("head", parent=cell, fontName=bold, textColor=colors.white),
        "head_right": ParagraphStyle("head_right", parent=cell, fontName=bold, textColor=colors.white, alignment=2),
        "name": ParagraphStyle("name", parent=body, fontName=bold),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


# --- Page furniture ----------------------------------------------------------------------------------------------


class NumberedCanvas(Canvas):
    """Holds each finished page back until the document ends, so every footer can say "Page x of y" (the reports'
    PDFs use it too)."""

    def __init__(self, *args, footer: Callable[[Canvas, int, int], None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._held: list[dict] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._footer(self, self.getPageNumber(), total)
            super().showPage()
        super().save()


def _footer(reference: str, watermark: str | None) -> Callable[[Canvas, int, int], None]:
    """Drawn over each finished page: the footer line with page x of y, and a translucent watermark ("DRAFT") on
    top of the content, so table stripes cannot hide it."""
    practice = settings.PRACTICE
    regular, bold = fonts()
    left = " · ".join(bit for bit in (practice["name"], practice["phone"], practice["email"]) if bit)

    def draw(canvas: Canvas, page: int, total: int) -> None:
        canvas.saveState()
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, 12 * mm, PAGE_WIDTH - MARGIN, 12 * mm)
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 8 * mm, left)
        right = reference + (f"  ·  Page {page} of {total}" if total > 1 else "")
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 8 * mm, right)
        if watermark:
            canvas.setFillColor(WATERMARK)
            canvas.setFillAlpha(0.13)
            canvas.setFont(bold, 110)
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, -35, watermark)
        canvas.restoreState()

    return draw


def _continuation_header(continued: str) -> Callable:
    """From page 2 on, a quiet line at the top says whose document continues."""
    regular, _ = fonts()

    def draw(canvas: Canvas, doc) -> None:
        if canvas.getPageNumber() == 1:
            return
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, PAGE_HEIGHT - 9 * mm, settings.PRACTICE["name"])
        canvas.drawRightString(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 9 * mm, f"{continued} (continued)")
        canvas.restoreState()

    return draw


def _build(story: list, *, title: str, reference: str, continued: str, watermark: str | None = None) -> bytes:
    buffer = BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=14 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=settings.PRACTICE["name"],
        creator="VetPMS",
    )
    # No frame padding: tables then span exactly the margins and line up with the text above them.
    frame = Frame(
        doc.leftMargin, doc.bottomMargin, doc.width, doc.height, leftPadding=0, rightPadding=0, topPadding=0,
        bottomPadding=0,
    )  # fmt: skip
    doc.addPageTemplates([PageTemplate(frames=[frame], onPage=_continuation_header(continued))])
    doc.build(story, canvasmaker=functools.partial(NumberedCanvas, footer=_footer(reference, watermark)))
    return buffer.getvalue()


def _practice_block(st: dict[str, ParagraphStyle]) -> list:
    practice = settings.PRACTICE
    contact = " · ".join(bit for bit in (practice["phone"], practice["email"]) if bit)
    block = [_p(practice["name"], st["practice"]), _p(practice["address"], st["muted"]), _p(contact, st["muted"])]
    if practice.get("tax_id"):
        block.append(_p(f"Tax ID {practice['tax_id']}", st["muted"]))
    return block


def _header(st: dict[str, ParagraphStyle], title: str, party_label: str, party: list, facts: list) -> list:
    """Practice and title across the top; the addressee on the left and the document's facts on the right."""
    top = Table(
        [[_practice_block(st), _p(title, st["title"])]], colWidths=[BODY_WIDTH * 0.62, BODY_WIDTH * 0.38], hAlign="LEFT"
    )
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 8),
            ]
        )
    )
    fact_rows = [[_p(label, st["label"]), _p(value, st["body"])] for label, value in facts]
    fact_table = Table(fact_rows, colWidths=[30 * mm, BODY_WIDTH * 0.46 - 30 * mm])
    fact_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    address = Table(
        [[[_p(party_label, st["label"]), *party], fact_table]],
        colWidths=[BODY_WIDTH * 0.54, BODY_WIDTH * 0.46],
        hAlign="LEFT",
    )
    address.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return [top, address, Spacer(1, 7 * mm)]


def _grid_style(rows: int, *, numeric_from: int, head: bool = True) -> list:
    """The house table: accent header row, hairlines between rows, zebra stripes, numbers right-aligned."""
    regular, bold = fonts()
    style: list = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LEADING", (0, 0), (-1, -1), 10),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if head:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONTNAME", (0, 0), (-1, 0), bold),
        ]
    style += [("BACKGROUND", (0, i), (-1, i), ZEBRA) for i in range(2 if head else 1, rows, 2)]
    return style


def _sums_table(rows: list[tuple[str, str, bool]], width: float = 80 * mm) -> Table:
    """Label/amount rows, right-aligned; rows flagged True are emphasised (totals), the last one shaded (what is
    owed)."""
    regular, bold = fonts()
    table = Table([[label, amount] for label, amount, _ in rows], colWidths=[width - 30 * mm, 30 * mm], hAlign="RIGHT")
    style: list = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for i, (_, _, strong) in enumerate(rows):
        if strong:
            style += [("FONTNAME", (0, i), (-1, i), bold), ("LINEABOVE", (0, i), (-1, i), 0.8, ACCENT)]
    if rows and rows[-1][2]:
        style += [("BACKGROUND", (0, -1), (-1, -1), TINT), ("FONTSIZE", (0, -1), (-1, -1), 10)]
    table.setStyle(TableStyle(style))
    return table


# --- Invoices and credit notes -----------------------------------------------------------------------------------

INVOICE_COLUMNS = ["Date", "Animal", "Description", "Qty", "Unit price", "Discount", "Tax", "Net"]
INVOICE_WIDTHS = [19 * mm, 22 * mm, 45 * mm, 17 * mm, 20 * mm, 17 * mm, 12 * mm, 26 * mm]  # 178 mm


def _invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The lines with their animals: from a prefetch (invoicing.selectors.invoice_detail) or one query."""
    cache = getattr(invoice, "_prefetched_objects_cache", {})
    if "lines" in cache:
        return list(cache["lines"])
    return list(InvoiceLine.objects.filter(invoice=invoice).select_related("animal").order_by("position", "id"))


def _discount(line: InvoiceLine) -> str:
    parts = []
    if line.discount_percent:
        parts.append(_percent(line.discount_percent))
    if line.discount_amount:
        parts.append(money(line.discount_amount))
    return " + ".join(parts)


def _quantity(line: InvoiceLine) -> str:
    return f"{_number(line.quantity)} {line.unit}".strip()


def _line_row(line: InvoiceLine, st: dict[str, ParagraphStyle]) -> list:
    return [
        f"{line.service_date:%d/%m/%Y}",
        _p(line.animal.name if line.animal_id else "", st["cell"]),
        _p(line.description, st["cell"]),
        _quantity(line),
        money(line.unit_price),
        _discount(line),
        _percent(line.tax_rate),
        money(line.net),
    ]


def _invoice_facts(invoice: Invoice) -> list[tuple[str, str]]:
    if invoice.is_credit_note:
        facts = [
            ("Credit note no.", invoice.reference if invoice.number else "Draft, not yet issued"),
            ("Issued", _day(invoice.issue_date)),
        ]
        if invoice.credits_id:
            facts.append(("Corrects invoice", invoice.credits.reference))
        return facts
    facts = [
        ("Invoice no.", invoice.reference if invoice.number else "Draft, not yet issued"),
        ("Issued", _day(invoice.issue_date)),
        ("Due", _day(invoice.due_date)),
    ]
    if invoice.status == Invoice.Status.VOID:
        facts.append(("Status", "Void (fully credited)"))
    return facts


def _addressee(invoice: Invoice) -> tuple[str, list[str]]:
    """The frozen name and address of an issued document; a draft has none yet, so it shows the live client."""
    if invoice.is_draft:
        return invoice.client.display_name, invoice.client.address_lines
    return invoice.client_name, [line for line in invoice.client_address.splitlines() if line.strip()]


def _account_rows(invoice: Invoice) -> list[tuple[str, str, bool]]:
    """Credited, insurer's share, paid and outstanding of an issued invoice (selectors define each one)."""
    insurer = insurer_share(invoice)
    owner = owner_share(invoice)
    outstanding = client_outstanding(invoice)
    credited = owner + insurer - invoice.gross_total
    rows: list[tuple[str, str, bool]] = []
    if credited:
        rows.append(("Credited", money(credited), False))
    if insurer:
        rows += [("Insurer's share", money(-insurer), False), ("You pay", money(owner), True)]
    rows += [("Paid", money(-(owner - outstanding)), False), ("Outstanding", money(outstanding), True)]
    return rows


def render_invoice(invoice: Invoice, *, with_payments: bool = True) -> bytes:
    """An invoice or credit note as a PDF: practice header, addressee, lines, tax summary, totals and, for an
    issued invoice, what was paid and what is outstanding (unless ``with_payments`` is off: the reader may not see
    payments, invoicing.access). A draft is watermarked "DRAFT", a void invoice "VOID"."""
    st = _styles()
    title = invoice.get_kind_display()
    name, address = _addressee(invoice)
    story = _header(
        st,
        title,
        "Credit to" if invoice.is_credit_note else "Bill to",
        [_p(name, st["name"]), *[_p(line, st["body"]) for line in address]],
        _invoice_facts(invoice),
    )
    if invoice.is_credit_note and invoice.reason:
        story += [_p(f"Reason: {invoice.reason}", st["body"]), Spacer(1, 4 * mm)]

    lines = _invoice_lines(invoice)
    data: list[list] = [INVOICE_COLUMNS]
    data += [_line_row(line, st) for line in lines]
    if not lines:
        data.append([_p("No lines yet.", st["muted"])] + [""] * (len(INVOICE_COLUMNS) - 1))
    table = Table(data, colWidths=INVOICE_WIDTHS, repeatRows=1)
    style = _grid_style(len(data), numeric_from=3)
    if not lines:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 5 * mm)]

    breakdown = calc.tax_breakdown(lines)
    tax_rows = [["Tax rate", "Net", "Tax"]] + [[_percent(rate), money(net), money(tax)] for rate, net, tax in breakdown]
    tax_table = Table(tax_rows, colWidths=[20 * mm, 26 * mm, 24 * mm], hAlign="LEFT")
    tax_table.setStyle(TableStyle(_grid_style(len(tax_rows), numeric_from=0)))

    totals = calc.document_totals(lines)
    sums = [("Net", money(totals.net), False), ("Tax", money(totals.tax), False), ("Total", money(totals.gross), True)]
    if not invoice.is_draft and not invoice.is_credit_note and with_payments:
        sums += _account_rows(invoice)
    right_width = BODY_WIDTH - 84 * mm
    summary = Table(
        [[[_p("Tax summary", st["label"]), Spacer(1, 1.5 * mm), tax_table], _sums_table(sums)]],
        colWidths=[84 * mm, right_width],
    )
    summary.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    closing: list = [summary, Spacer(1, 8 * mm)]
    if invoice.is_credit_note:
        closing.append(_p("This credit note reduces what you owe on the invoice it corrects.", st["muted"]))
    elif not invoice.is_draft and invoice.due_date:
        closing.append(
            _p(
                f"Please pay by {_day(invoice.due_date)}, quoting {invoice.reference}. Thank you.",
                st["muted"],
            )
        )
    if invoice.notes:
        closing += [Spacer(1, 2 * mm), _p(invoice.notes, st["muted"])]
    story.append(KeepTogether(closing))

    reference = invoice.reference if invoice.number else f"Draft {title.lower()}"
    watermark = {Invoice.Status.DRAFT: "DRAFT", Invoice.Status.VOID: "VOID"}.get(invoice.status)
    return _build(
        story,
        title=f"{title} {reference}",
        reference=reference,
        continued=f"{title} {reference} · {name}" if invoice.number else f"Draft {title.lower()} · {name}",
        watermark=watermark,
    )


# --- Statements --------------------------------------------------------------------------------------------------

STATEMENT_COLUMNS = ["Date", "Type", "Reference", "Details", "Amount", "Balance"]
STATEMENT_WIDTHS = [22 * mm, 24 * mm, 32 * mm, 44 * mm, 28 * mm, 28 * mm]  # 178 mm


def render_statement(statement: Statement) -> bytes:
    """A client's statement: opening balance, every entry of the period with the running balance, closing balance."""
    st = _styles()
    client = statement.client
    _, bold = fonts()
    facts = [
        ("Period", f"{_day(statement.start)} to {_day(statement.end)}"),
        ("Printed", _day(timezone.localdate())),
    ]
    story = _header(
        st,
        "Statement",
        "Account of",
        [_p(client.display_name, st["name"]), *[_p(line, st["body"]) for line in client.address_lines]],
        facts,
    )
    data: list[list] = [
        STATEMENT_COLUMNS,
        [_day(statement.start), "", "", "Opening balance", "", money(statement.opening)],
    ]
    for entry in statement.entries:
        data.append(
            [
                _day(entry.day),
                entry.kind,
                _p(entry.reference, st["cell"]),
                _p(entry.description, st["cell"]),
                money(entry.amount),
                money(entry.balance),
            ]
        )
    data.append([_day(statement.end), "", "", "Closing balance", "", money(statement.closing)])
    table = Table(data, colWidths=STATEMENT_WIDTHS, repeatRows=1)
    style = _grid_style(len(data), numeric_from=4)
    style += [("FONTNAME", (0, 1), (-1, 1), bold), ("FONTNAME", (0, -1), (-1, -1), bold)]
    style.append(("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT))
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 6 * mm)]

    closing = statement.closing
    if closing > 0:
        due = [("Amount due", money(closing), True)]
    elif closing < 0:
        due = [("In credit", money(-closing), True)]
    else:
        due = [("Balance", money(ZERO), True)]
    story += [
        _sums_table(due, 70 * mm),
        Spacer(1, 6 * mm),
        _p(
            "Amounts raise (+) or lower (-) what you owe. Insurers' shares of claimed invoices are shown once the "
            "claim is submitted. Please contact us if anything looks wrong.",
            st["muted"],
        ),
    ]
    period = f"{statement.start.isoformat()} to {statement.end.isoformat()}"
    return _build(
        story,
        title=f"Statement {client.display_name} {period}",
        reference=f"Statement {period}",
        continued=f"Statement · {client.display_name}",
    )


# --- Insurance claim forms ---------------------------------------------------------------------------------------

CLAIM_COLUMNS = ["Date", "Description", "Qty", "Net", "Tax", "Gross"]
# Sections other apps add to the claim form after the treatment claimed: the clinical app adds the consultations
# and conditions of the claimed lines' dates, as insurers ask. invoicing cannot import the apps above it, so they
# register a section here in their AppConfig.ready(). A section is ``section(claim, lines, styles) -> flowables``
# and makes a fixed number of queries.
ClaimSection = Callable[[Claim, list[InvoiceLine], dict[str, ParagraphStyle]], list]
CLAIM_FORM_SECTIONS: list[ClaimSection] = []


def register_claim_section(section: ClaimSection) -> None:
    if section not in CLAIM_FORM_SECTIONS:
        CLAIM_FORM_SECTIONS.append(section)


CLAIM_WIDTHS = [22 * mm, 70 * mm, 20 * mm, 22 * mm, 20 * mm, 24 * mm]  # 178 mm


def _box(title: str, rows: Iterable[tuple[str, str]], st: dict[str, ParagraphStyle], width: float) -> list:
    """A titled block of label/value pairs for the claim form."""
    data = [[_p(label, st["label"]), _p(value or "—", st["body"])] for label, value in rows]
    table = Table(data, colWidths=[30 * mm, width - 30 * mm - 4 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return [_p(title, st["section"]), Spacer(1, 1.5 * mm), table]


def _pair(left: list, right: list) -> Table:
    half = BODY_WIDTH / 2
    table = Table([[left, right]], colWidths=[half, half])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5 * mm),
            ]
        )
    )
    return table


def render_claim_form(claim: Claim) -> bytes:
    """The claim form sent to the insurer: payor, policy, animal, owner, the claimed lines and the amounts."""
    claim = Claim.objects.select_related(
        "policy__payor", "policy__animal__species", "policy__animal__breed", "invoice__client"
    ).get(pk=claim.pk)
    st = _styles()
    regular, _ = fonts()
    policy, payor, invoice = claim.policy, claim.policy.payor, claim.invoice
    animal = policy.animal
    client = invoice.client
    lines = [
        cl.line for cl in claim.claim_lines.select_related("line").order_by("line__service_date", "line__position")
    ]
    payor_lines = [line for line in payor.address.splitlines() if line.strip()]
    payor_block = [
        _p(payor.name, st["name"]),
        *[_p(line, st["body"]) for line in payor_lines],
    ]
    if payor.claims_email:
        payor_block.append(_p(payor.claims_email, st["body"]))
    facts = [
        ("Claim no.", str(claim.pk)),
        ("Date", _day(claim.submitted_on or timezone.localdate())),
        ("Invoice", invoice.reference),
        ("Status", claim.get_status_display()),
    ]
    if payor.reference:
        facts.append(("Payor ref.", payor.reference))
    if claim.insurer_reference:
        facts.append(("Insurer ref.", claim.insurer_reference))
    story = _header(st, "Insurance claim", "To", payor_block, facts)

    half = BODY_WIDTH / 2
    policy_box = _box(
        "Policy",
        [
            ("Policy number", policy.policy_number),
            ("Cover", f"{_day(policy.starts_on)} to {_day(policy.ends_on)}"),
            ("Excess", money(policy.excess)),
            ("Co-pay", _percent(policy.copay_percent)),
            ("Settlement", "Direct to the practice" if claim.direct_settlement else "To the policyholder"),
        ],
        st,
        half,
    )
    dob = _day(animal.date_of_birth) if animal.date_of_birth else ""
    if dob and animal.date_of_birth_estimated:
        dob += " (estimated)"
    animal_box = _box(
        "Animal",
        [
            ("Name", animal.name),
            ("Species", animal.species.name),
            ("Breed", animal.breed.name if animal.breed_id else ""),
            ("Sex", f"{animal.get_sex_display()}, {animal.get_neuter_status_display().lower()}"),
            ("Date of birth", dob),
            ("Microchip", animal.microchip),
        ],
        st,
        half,
    )
    owner_address = [line for line in invoice.client_address.splitlines() if line.strip()] or client.address_lines
    owner_box = _box(
        "Policyholder",
        [
            ("Name", invoice.client_name or client.display_name),
            ("Address", "\n".join(owner_address)),
            ("Phone", client.main_phone),
            ("Email", client.email),
        ],
        st,
        half,
    )
    practice = settings.PRACTICE
    practice_box = _box(
        "Practice",
        [
            ("Name", practice["name"]),
            ("Address", practice["address"]),
            ("Phone", practice["phone"]),
            ("Email", practice["email"]),
        ],
        st,
        half,
    )
    story += [_pair(policy_box, animal_box), _pair(owner_box, practice_box)]

    data: list[list] = [CLAIM_COLUMNS]
    for line in lines:
        data.append(
            [
                f"{line.service_date:%d/%m/%Y}",
                _p(line.description, st["cell"]),
                _quantity(line),
                money(line.net),
                money(line.tax),
                money(line.gross),
            ]
        )
    table = Table(data, colWidths=CLAIM_WIDTHS, repeatRows=1)
    table.setStyle(TableStyle(_grid_style(len(data), numeric_from=2)))
    story += [_p("Treatment claimed", st["section"]), Spacer(1, 1.5 * mm), table, Spacer(1, 5 * mm)]

    gross = sum((line.gross for line in lines), ZERO)
    excess = min(policy.excess, gross)
    copay = gross - excess - claim.amount_claimed
    sums = [
        ("Treatment (gross)", money(gross), False),
        ("Less excess", money(-excess), False),
        (f"Less co-pay ({_percent(policy.copay_percent)})", money(-copay), False),
        ("Amount claimed", money(claim.amount_claimed), True),
    ]
    if claim.amount_accepted is not None:
        sums.append(("Amount accepted", money(claim.amount_accepted), False))
    if claim.amount_paid:
        sums.append(("Paid by insurer", money(claim.amount_paid), False))
    story.append(_sums_table(sums))
    for section in CLAIM_FORM_SECTIONS:
        story += section(claim, lines, st)

    # Sign above the line, the label beneath; the blank columns keep the four lines apart.
    signature = Table(
        [["", "", "", "", "", "", ""], ["Policyholder's signature", "", "Date", "", "Veterinary surgeon", "", "Date"]],
        colWidths=[58 * mm, 5 * mm, 24 * mm, 8 * mm, 54 * mm, 5 * mm, 24 * mm],
        rowHeights=[14 * mm, None],
    )
    signature.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), regular),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), MUTED),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                *[("LINEBELOW", (col, 0), (col, 0), 0.6, colors.black) for col in (0, 2, 4, 6)],
            ]
        )
    )
    declaration = [
        _p("Declaration", st["section"]),
        Spacer(1, 1.5 * mm),
        _p(
            f"I declare that the information on this form is true and complete, and I authorise "
            f"{practice['name']} to give the insurer any clinical history it asks for about {animal.name}"
            + (" and the insurer to pay the claim directly to the practice." if claim.direct_settlement else "."),
            st["body"],
        ),
        Spacer(1, 4 * mm),
        signature,
    ]
    story += [Spacer(1, 6 * mm), KeepTogether(declaration)]
    reference = f"Claim {claim.pk} · {invoice.reference}"
    return _build(
        story,
        title=f"Insurance claim {claim.pk} {payor.name}",
        reference=reference,
        continued=f"Insurance claim {claim.pk} · {animal.name}",
    )
