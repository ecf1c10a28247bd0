"""The printable day list of one vet (reportlab): an A4 landscape table with the practice's name at the top.

Renderers return bytes; the view only wraps them in a response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from io import BytesIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from appointments.models import Appointment
from vetpms.models import Vet
from vetpms.timeutils import to_local

ACCENT = colors.HexColor("#1f6f78")
GRID = colors.HexColor("#c9d1d6")
MUTED = colors.HexColor("#6c757d")
ALERT = colors.HexColor("#b02a37")
COLUMNS = ["Time", "Pet", "Species", "Owner", "Phone", "Type / reason", "Alerts", "Status"]
WIDTHS = [24 * mm, 34 * mm, 30 * mm, 40 * mm, 32 * mm, 50 * mm, 44 * mm, 20 * mm]  # 274 mm: A4 landscape


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=base["BodyText"], fontName="Helvetica", fontSize=8.5, leading=10.5)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=16, leading=20, alignment=0, spaceAfter=2),
        "sub": ParagraphStyle("sub", parent=base["BodyText"], fontSize=10, textColor=MUTED),
        "cell": cell,
        "bold": ParagraphStyle("bold", parent=cell, fontName="Helvetica-Bold"),
        "head": ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold", textColor=colors.white),
        "alert": ParagraphStyle("alert", parent=cell, fontName="Helvetica-Bold", textColor=ALERT),
        "muted": ParagraphStyle("muted", parent=cell, textColor=MUTED),
        "right": ParagraphStyle("right", parent=base["BodyText"], fontSize=8, textColor=MUTED, alignment=TA_RIGHT),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def _row(appointment: Appointment, st: dict[str, ParagraphStyle]) -> list:
    animal, client = appointment.animal, appointment.client
    start, end = to_local(appointment.start), to_local(appointment.end)
    species = animal.species.name + (f", {animal.breed.name}" if animal.breed_id else "")
    pet_bits = [animal.name]
    details = []
    if animal.age:
        details.append(animal.age)
    weight = getattr(appointment, "last_weight_kg", None)
    if weight is not None:
        details.append(f"{weight.normalize():f} kg")
    pet = Paragraph(
        f"<b>{escape(pet_bits[0])}</b>"
        + (f"<br/><font color='#6c757d'>{escape(' · '.join(details))}</font>" if details else ""),
        st["cell"],
    )
    reason = appointment.type.name + (f": {appointment.reason}" if appointment.reason else "")
    muted = not appointment.is_blocking
    return [
        _p(f"{start:%H:%M}\u2013{end:%H:%M}", st["muted" if muted else "bold"]),
        pet,
        _p(species, st["cell"]),
        _p(client.display_name, st["cell"]),
        _p(client.main_phone or "—", st["cell"]),
        _p(reason, st["cell"]),
        _p("\n".join(animal.alert_list), st["alert"]),
        _p(appointment.get_status_display(), st["muted" if muted else "cell"]),
    ]


def render_day_list(vet: Vet, day: dt.date, appointments: Sequence[Appointment]) -> bytes:
    """The day list as a PDF: practice, vet and date, then one row per appointment in time order."""
    buffer = BytesIO()
    practice = settings.PRACTICE
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Day list {vet.display_name} {day.isoformat()}",
        author=practice["name"],
    )
    st = _styles()
    live = [a for a in appointments if a.is_blocking]
    story: list = [
        _p(practice["name"], st["title"]),
        _p(
            f"Day list of {vet.display_name} · {day:%A} {day.day} {day:%B %Y} · {len(live)} appointment"
            f"{'' if len(live) == 1 else 's'}",
            st["sub"],
        ),
        Spacer(1, 5 * mm),
    ]
    data = [[_p(c, st["head"]) for c in COLUMNS]]
    data += [_row(a, st) for a in appointments]
    if not appointments:
        data.append([_p("No appointments.", st["muted"])] + [""] * (len(COLUMNS) - 1))
    table = Table(data, colWidths=WIDTHS, repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    for i in range(1, len(data)):
        if i % 2 == 0:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f5f7f8")))
    if not appointments:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    story.append(table)
    printed = timezone.localtime()
    story += [Spacer(1, 4 * mm), _p(f"Printed {printed:%d %b %Y %H:%M} · VetPMS", st["right"])]
    doc.build(story)
    return buffer.getvalue()
