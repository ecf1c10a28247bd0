"""A report as a printable PDF (reportlab): the practice and the report's title, the period and the filters, the
notes, the chart, then the table(s) with their totals; page x of y in the footer.

It prints the same ``ReportResult`` the page shows, with the same cell texts (reports.formats.display), so the
screen and the paper cannot disagree. Text is DejaVu Sans as on the invoices (invoicing.pdf.fonts). A wide
report (more than seven columns) turns the page to landscape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
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
from invoicing.pdf import NumberedCanvas, fonts
from reports.base import Column, ReportResult
from reports.charts import chart_drawing
from reports.exports import tables_of, totals_row
from reports.formats import day_text, display, period_text

MARGIN = 15 * mm
ZEBRA = colors.HexColor("#f5f7f8")
NOTE_BG = colors.HexColor("#fff8e6")
NUMERIC = ("money", "int", "percent")
LANDSCAPE_FROM = 8  # columns


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)
    return {
        "body": body,
        "muted": ParagraphStyle("muted", parent=body, fontSize=8.5, leading=11.5, textColor=MUTED),
        "practice": ParagraphStyle("practice", parent=body, fontName=bold, fontSize=11, leading=14, textColor=ACCENT),
        "title": ParagraphStyle("title", parent=body, fontName=bold, fontSize=18, leading=23, spaceBefore=2),
        "section": ParagraphStyle(
            "section", parent=body, fontName=bold, fontSize=11, leading=14, textColor=ACCENT, spaceBefore=4
        ),
        "note": ParagraphStyle("note", parent=body, fontSize=8.5, leading=11.5),
        "cell": cell,
        "cell_right": ParagraphStyle("cell_right", parent=cell, alignment=2),
        "head": ParagraphStyle("head", parent=cell, fontName=bold, textColor=colors.white),
        "head_right": ParagraphStyle("head_right", parent=cell, fontName=bold, textColor=colors.white, alignment=2),
        "total": ParagraphStyle("total", parent=cell, fontName=bold),
        "total_right": ParagraphStyle("total_right", parent=cell, fontName=bold, alignment=2),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or ""), style)


def _footer(title: str, page_width: float) -> Callable[[Canvas, int, int], None]:
    regular, _ = fonts()
    printed = timezone.localtime()
    left = f"{settings.PRACTICE['name']} · {title} · printed {day_text(printed.date())} {printed:%H:%M}"

    def draw(canvas: Canvas, page: int, total: int) -> None:
        canvas.saveState()
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, 11 * mm, page_width - MARGIN, 11 * mm)
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 7 * mm, left)
        canvas.drawRightString(page_width - MARGIN, 7 * mm, f"Page {page} of {total}")
        canvas.restoreState()

    return draw


def _widths(columns: list[Column], body_width: float) -> list[float]:
    """Numbers get at least a fixed share, wide enough for the longest word of their heading (so "Appointments"
    is never broken); text columns share what is left, and are never narrower than a number column."""
    _, bold = fonts()
    number_w = min(22 * mm, body_width / (len(columns) + 1))

    def heading_width(column: Column) -> float:
        longest = max(column.label.split() or [""], key=len)
        return stringWidth(longest, bold, 8) + 9  # cell padding, 4 pt each side, and a little air

    widths = [max(number_w, heading_width(c)) if c.kind in NUMERIC or c.kind == "date" else None for c in columns]
    texts = widths.count(None)
    fixed = sum(w for w in widths if w is not None)
    text_w = max((body_width - fixed) / texts, number_w) if texts else 0
    widths = [text_w if w is None else w for w in widths]
    scale = min(1.0, body_width / sum(widths))  # too wide: shrink every column alike
    return [w * scale for w in widths]


def _table(table: ReportResult, st: dict[str, ParagraphStyle], body_width: float) -> Table:
    columns = table.columns
    right = [c.kind in NUMERIC for c in columns]

    def row_of(cells, plain: str, aligned: str, blank_empty: bool = False) -> list:
        return [
            _p("" if blank_empty and v is None else display(v, c.kind), st[aligned] if r else st[plain])
            for (c, v), r in zip(cells, right, strict=True)
        ]

    data = [[_p(c.label, st["head_right"] if r else st["head"]) for c, r in zip(columns, right, strict=True)]]
    data += [row_of([(c, row.get(c.key)) for c in columns], "cell", "cell_right") for row in table.rows]
    totals = bool(table.totals and table.rows)  # an empty table says so instead of totalling nothing
    if totals:
        data.append(row_of(totals_row(columns, table.totals), "total", "total_right", blank_empty=True))
    regular, _ = fonts()
    style: list = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    last_body = len(data) - (2 if totals else 1)
    style += [("BACKGROUND", (0, i), (-1, i), ZEBRA) for i in range(2, last_body + 1, 2)]
    if totals:
        style += [("LINEABOVE", (0, -1), (-1, -1), 1.0, ACCENT), ("LINEBELOW", (0, -1), (-1, -1), 1.0, ACCENT)]
    if not table.rows:
        data.append([_p("Nothing in this period.", st["cell"])] + [""] * (len(columns) - 1))
        style.append(("SPAN", (0, len(data) - 1), (-1, len(data) - 1)))
    result = Table(data, colWidths=_widths(columns, body_width), repeatRows=1, hAlign="LEFT")
    result.setStyle(TableStyle(style))
    return result


def render_report(result: ReportResult, *, filters: list[tuple[str, str]] | None = None) -> bytes:
    """The PDF of ``result``; ``filters`` are the chosen filters as (label, text) pairs, e.g. ("Vet", "Dr Ng")."""
    st = _styles()
    widest = max((len(t.columns) for t, _ in tables_of(result)), default=0)
    pagesize = landscape(A4) if widest >= LANDSCAPE_FROM else A4
    page_width, page_height = pagesize
    body_width = page_width - 2 * MARGIN
    regular, _ = fonts()

    story: list = [
        _p(settings.PRACTICE["name"], st["practice"]),
        _p(result.title, st["title"]),
        _p(f"Period: {period_text(result.params)}", st["body"]),
    ]
    for label, text in filters or []:
        story.append(_p(f"{label}: {text}", st["body"]))
    story.append(Spacer(1, 3 * mm))
    if result.notes:
        note_rows = [[_p(note, st["note"])] for note in result.notes]
        notes = Table(note_rows, colWidths=[body_width], hAlign="LEFT")
        notes.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), NOTE_BG),
                    ("LINEBEFORE", (0, 0), (0, -1), 2, colors.HexColor("#d08a2e")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        story += [notes, Spacer(1, 3 * mm)]
    if result.chart is not None and result.chart.categories and result.chart.series:
        chart = result.chart
        height = min(75 * mm, page_height * 0.36)
        story.append(
            KeepTogether(
                [
                    _p(chart.title, st["section"]),
                    Spacer(1, 1 * mm),
                    chart_drawing(chart, body_width, height, font=regular),
                    Spacer(1, 4 * mm),
                ]
            )
        )
    for table, is_section in tables_of(result):
        if is_section:
            story += [_p(table.title, st["section"]), *[_p(n, st["muted"]) for n in table.notes], Spacer(1, 1.5 * mm)]
        story += [_table(table, st, body_width), Spacer(1, 5 * mm)]

    buffer = BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=13 * mm,
        bottomMargin=16 * mm,
        title=f"{result.title}, {period_text(result.params)}",
        author=settings.PRACTICE["name"],
        creator="VetPMS",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, 0, 0, 0, 0)
    doc.addPageTemplates([PageTemplate(frames=[frame])])
    doc.build(story, canvasmaker=functools.partial(NumberedCanvas, footer=_footer(result.title, page_width)))
    return buffer.getvalue()
