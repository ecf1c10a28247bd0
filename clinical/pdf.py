"""Printable clinical documents (reportlab), each returned as PDF bytes: the dispensing label for a label printer,
the owner's vaccination certificate, the clinical history of a period (referrals, second opinions, insurers), and
the section the insurance claim form gains (the consultations and conditions of the claimed lines' dates).

They share the invoicing documents' fonts (DejaVu Sans, so any name prints as written), styles, header and page
furniture (invoicing/pdf.py); the label is drawn straight on its small page instead.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

from animals.models import Animal
from appointments.pdf import ACCENT, MUTED
from clinical import selectors
from clinical.models import Addendum, Consultation, ConsultationDiagnosis, Prescription, Vaccination
from invoicing.models import Claim, InvoiceLine
from invoicing.pdf import (
    BODY_WIDTH,
    _build,
    _day,
    _grid_style,
    _header,
    _number,
    _p,
    _styles,
    fonts,
)
from vetpms.timeutils import local_day_bounds, to_local

LABEL_WIDTH = 89 * mm
LABEL_HEIGHT = 36 * mm
LABEL_MARGIN = 2.2 * mm
HISTORY_MAX_ENTRIES = 2000
WARNINGS = "For animal treatment only · Keep out of reach of children"


# --- Dispensing label --------------------------------------------------------------------------------------------


def _label_paragraphs(prescription: Prescription, size: float) -> list[Paragraph]:
    regular, bold = fonts()
    body = ParagraphStyle("label", fontName=regular, fontSize=size, leading=size * 1.18)
    strong = ParagraphStyle("label_strong", parent=body, fontName=bold, fontSize=size + 1, leading=(size + 1) * 1.18)
    small = ParagraphStyle(
        "label_small", parent=body, fontSize=size - 0.8, leading=(size - 0.8) * 1.18, textColor=MUTED
    )
    animal, owner = prescription.animal, prescription.animal.owner
    medicine = prescription.product.name
    if prescription.strength and prescription.strength.lower() not in medicine.lower():
        medicine += f" {prescription.strength}"
    route = prescription.get_route_display()
    route = route[0].lower() + route[1:]
    quantity = f"{_number(prescription.quantity)} {prescription.product.unit}".strip()
    directions = " ".join(
        bit
        for bit in (
            f"{prescription.dose} {prescription.frequency}".strip(),
            f"for {prescription.duration}" if prescription.duration else "",
        )
        if bit
    )
    directions += f", {route}"
    if prescription.instructions:
        directions += ". " + prescription.instructions
    practice = settings.PRACTICE
    return [
        _p(f"{medicine}  ·  Qty {quantity}", strong),
        _p(directions, body),
        _p(f"Animal: {animal.name} ({animal.species.name})  ·  Owner: {owner.display_name}", body),
        _p(f"Vet: {prescription.prescribed_by}  ·  {_day(prescription.dispensed_on)}", body),
        _p(f"{practice['name']}, {practice['address']}  ·  {practice['phone']}", small),
        _p(
            WARNINGS,
            ParagraphStyle(
                "label_warn", parent=strong, fontSize=min(size - 0.7, 6.4), leading=size * 1.1, textColor=ACCENT
            ),
        ),
    ]


def render_label(prescription: Prescription) -> bytes:
    """One dispensing label, 89 x 36 mm (a standard address-label roll): medicine and quantity, directions, animal
    and owner, vet, date, the practice, and the two warnings. Long instructions shrink the type to fit."""
    width = LABEL_WIDTH - 2 * LABEL_MARGIN
    height = LABEL_HEIGHT - 2 * LABEL_MARGIN
    size = 8.4
    while True:
        paragraphs = _label_paragraphs(prescription, size)
        used = sum(p.wrap(width, height)[1] for p in paragraphs)
        if used <= height or size <= 4.6:
            break
        size -= 0.3
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT))
    canvas.setTitle(f"Label {prescription.product.name} for {prescription.animal.name}")
    canvas.setAuthor(settings.PRACTICE["name"])
    canvas.setCreator("VetPMS")
    *details, warnings = paragraphs
    # The warnings stand on the bottom edge whatever happens above them.
    _, warnings_height = warnings.wrap(width, height)
    warnings.drawOn(canvas, LABEL_MARGIN, LABEL_MARGIN)
    floor = LABEL_MARGIN + warnings_height
    y = LABEL_HEIGHT - LABEL_MARGIN
    for paragraph in details:
        _, h = paragraph.wrap(width, height)
        if y - h < floor - 0.5 * mm:  # what still does not fit at the smallest size is cut, never overprinted
            break
        paragraph.drawOn(canvas, LABEL_MARGIN, y - h)
        y -= h
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- Shared: the animal and its owner ----------------------------------------------------------------------------


def _owner_block(animal: Animal, st: dict) -> list:
    owner = animal.owner
    lines = [_p(owner.display_name, st["name"]), *[_p(line, st["body"]) for line in owner.address_lines]]
    if owner.main_phone:
        lines.append(_p(owner.main_phone, st["body"]))
    return lines


def _animal_facts(animal: Animal) -> list[tuple[str, str]]:
    born = _day(animal.date_of_birth) if animal.date_of_birth else "Unknown"
    if animal.date_of_birth and animal.date_of_birth_estimated:
        born += " (estimated)"
    return [
        ("Animal", animal.name),
        ("Species", animal.species.name + (f", {animal.breed.name}" if animal.breed_id else "")),
        ("Sex", f"{animal.get_sex_display()}, {animal.get_neuter_status_display().lower()}"),
        ("Born", born),
        ("Microchip", animal.microchip or "None recorded"),
    ]


# --- Vaccination certificate -------------------------------------------------------------------------------------

CERTIFICATE_COLUMNS = ["Given", "Vaccine", "Manufacturer", "Batch", "Batch expiry", "Next due", "Vet"]
CERTIFICATE_WIDTHS = [20 * mm, 36 * mm, 24 * mm, 24 * mm, 22 * mm, 22 * mm, 30 * mm]  # 178 mm


def render_certificate(animal: Animal) -> bytes:
    """The animal's vaccination record for owners, kennels and travel: owner, animal with microchip, each vaccine
    given (oldest first) with its batch and next due date, the practice and the vets who gave them."""
    st = _styles()
    regular, _ = fonts()
    vaccinations = list(
        Vaccination.objects.filter(animal=animal)
        .select_related("product", "supervising_vet", "given_by")
        .order_by("given_on", "id")
    )
    facts = [*_animal_facts(animal), ("Issued", _day(timezone.localdate()))]
    story = _header(st, "Vaccination certificate", "Owner", _owner_block(animal, st), facts)
    if vaccinations:
        data: list[list] = [CERTIFICATE_COLUMNS]
        for v in vaccinations:
            data.append(
                [
                    _day(v.given_on),
                    _p(v.product.name, st["cell_bold"]),
                    _p(v.manufacturer or "—", st["cell"]),
                    _p(v.batch, st["cell"]),
                    _day(v.batch_expiry),
                    _day(v.next_due_on) if v.next_due_on else "—",
                    _p(str(v.supervising_vet), st["cell"]),
                ]
            )
        table = Table(data, colWidths=CERTIFICATE_WIDTHS, repeatRows=1)
        table.setStyle(TableStyle(_grid_style(len(data), numeric_from=len(CERTIFICATE_COLUMNS))))
        story += [_p("Vaccinations given", st["section"]), Spacer(1, 1.5 * mm), table]
    else:
        story.append(_p(f"No vaccinations of {animal.name} are recorded at this practice.", st["body"]))
    last_vet = vaccinations[-1].supervising_vet if vaccinations else None
    chip = f" (microchip {animal.microchip})" if animal.microchip else ""
    signature = Table(
        [["", "", ""], [f"Veterinary surgeon{f' ({last_vet})' if last_vet else ''}", "", "Date"]],
        colWidths=[90 * mm, 10 * mm, 40 * mm],
        rowHeights=[14 * mm, None],
        hAlign="LEFT",
    )
    signature.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), regular),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), MUTED),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                *[("LINEBELOW", (col, 0), (col, 0), 0.6, ACCENT) for col in (0, 2)],
            ]
        )
    )
    story += [
        Spacer(1, 8 * mm),
        KeepTogether(
            [
                _p(
                    f"I certify that the vaccinations above were given to the animal described{chip} at "
                    f"{settings.PRACTICE['name']}.",
                    st["body"],
                ),
                Spacer(1, 2 * mm),
                signature,
            ]
        ),
    ]
    return _build(
        story,
        title=f"Vaccination certificate {animal.name}",
        reference=f"Vaccination certificate · {animal.name}",
        continued=f"Vaccination certificate · {animal.name}",
    )


# --- Clinical history --------------------------------------------------------------------------------------------

HISTORY_KINDS = ("consultation", "vaccination", "prescription", "weight", "attachment")
SOAP = [
    ("complaint", "Presenting complaint"),
    ("history", "History"),
    ("examination", "Examination"),
    ("assessment", "Assessment"),
    ("plan", "Plan"),
]


def _vitals_text(c: Consultation) -> str:
    bits = []
    if c.weight_id:
        bits.append(f"weight {_number(c.weight.kg)} kg")
    if c.temperature_c is not None:
        bits.append(f"T {c.temperature_c} °C")
    if c.heart_rate is not None:
        bits.append(f"HR {c.heart_rate}/min")
    if c.respiratory_rate is not None:
        bits.append(f"RR {c.respiratory_rate}/min")
    if c.body_condition_score is not None:
        bits.append(f"BCS {c.body_condition_score}/9")
    if c.pain_score is not None:
        bits.append(f"pain {c.pain_score}/10")
    if c.mucous_membranes:
        bits.append(f"MM {c.get_mucous_membranes_display().lower()}")
    if c.capillary_refill:
        bits.append(f"CRT {c.get_capillary_refill_display()}")
    return ", ".join(bits)


def _diagnoses_text(links) -> str:
    return "; ".join(
        link.diagnosis.name + ("" if link.certainty == "confirmed" else f" ({link.get_certainty_display().lower()})")
        for link in links
    )


def _consultation_story(c: Consultation, st: dict, *, with_notes: bool) -> list:
    when = to_local(c.opened_at)
    status = f"signed {to_local(c.signed_at):%d %b %Y %H:%M}" if c.is_signed else "UNSIGNED DRAFT"
    head = _p(f"{when:%d %b %Y %H:%M}  ·  Consultation  ·  {c.vet}  ·  {status}", st["name"])
    parts: list = [head]
    rows: list[tuple[str, str]] = []
    links = list(c.diagnosis_links.all())
    if links:
        rows.append(("Diagnoses", _diagnoses_text(links)))
    vitals = _vitals_text(c)
    if vitals:
        rows.append(("Vitals", vitals))
    if with_notes:
        rows += [(label, getattr(c, name)) for name, label in SOAP if getattr(c, name).strip()]
        for addendum in c.addenda.all():
            rows.append((f"Addendum {to_local(addendum.created_at):%d %b %Y}", f"{addendum.text} ({addendum.author})"))
    if rows:
        table = Table(
            [[_p(label, st["label"]), _p(text, st["cell"])] for label, text in rows],
            colWidths=[32 * mm, BODY_WIDTH - 32 * mm],
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        parts.append(table)
    return [CondPageBreak(18 * mm), *parts, Spacer(1, 3 * mm)]


def _line(text: str, st: dict) -> list:
    return [_p(text, st["body"]), Spacer(1, 1.5 * mm)]


def history_entries(
    animal: Animal, *, since: dt.date | None, until: dt.date | None, kinds: list[str] | None = None
) -> list[selectors.HistoryEntry]:
    """The period's entries of the clinical kinds, oldest first (read page by page through the history selector)."""
    wanted = [k for k in (kinds or HISTORY_KINDS) if k in HISTORY_KINDS]
    entries: list[selectors.HistoryEntry] = []
    cursor = None
    while len(entries) < HISTORY_MAX_ENTRIES:
        page = selectors.history(animal=animal, kinds=wanted, since=since, until=until, cursor=cursor, limit=100)
        entries += page.entries
        cursor = page.next_cursor
        if cursor is None:
            break
    entries.reverse()
    return entries


def _with_consultation_details(entries: list[selectors.HistoryEntry]) -> None:
    """Addenda of the consultations in one more query (the history selector joins what its list shows)."""
    consultations = [e.obj for e in entries if e.kind == "consultation"]
    if consultations:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(
            consultations,
            Prefetch("addenda", queryset=Addendum.objects.select_related("author").order_by("created_at", "id")),
        )


def render_history(
    animal: Animal,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    kinds: list[str] | None = None,
    with_notes: bool = True,
) -> bytes:
    """The clinical history of ``animal`` from ``since`` to ``until`` (inclusive; open ends mean all), oldest
    first: consultations with diagnoses, vitals, notes and addenda (notes only ``with_notes``), vaccinations,
    medicines dispensed, weights and files on record; current problems at the top."""
    st = _styles()
    entries = history_entries(animal, since=since, until=until, kinds=kinds)
    _with_consultation_details(entries)
    period = f"{_day(since) if since else 'first record'} to {_day(until) if until else _day(timezone.localdate())}"
    facts = [*_animal_facts(animal), ("Period", period)]
    story = _header(st, "Clinical history", "Owner", _owner_block(animal, st), facts)
    problems = list(selectors.problems(animal=animal, current_only=True, linked="none"))
    if problems:
        story += [_p("Current problems", st["section"]), Spacer(1, 1 * mm)]
        for problem in problems:
            onset = f", since {_day(problem.onset)}" if problem.onset else ""
            story += _line(f"{problem.condition} ({problem.get_status_display().lower()}{onset})", st)
        story.append(Spacer(1, 3 * mm))
    story += [
        _p(f"Record ({len(entries)} entr{'y' if len(entries) == 1 else 'ies'})", st["section"]),
        Spacer(1, 2 * mm),
    ]
    if not with_notes:
        story += _line("The text of the clinical notes is not included.", st)
    for entry in entries:
        obj = entry.obj
        if entry.kind == "consultation":
            story += _consultation_story(obj, st, with_notes=with_notes)
        elif entry.kind == "vaccination":
            due = f", next due {_day(obj.next_due_on)}" if obj.next_due_on else ""
            story += _line(f"{_day(obj.given_on)}  ·  Vaccination: {obj.product.name}, batch {obj.batch}{due}", st)
        elif entry.kind == "prescription":
            story += _line(
                f"{_day(obj.dispensed_on)}  ·  Dispensed: {obj.product.name} {obj.strength} x "
                f"{_number(obj.quantity)}, {obj.dose} {obj.frequency}{f' for {obj.duration}' if obj.duration else ''}"
                f" ({obj.prescribed_by})",
                st,
            )
        elif entry.kind == "weight":
            story += _line(f"{_day(obj.measured_on)}  ·  Weight {_number(obj.kg)} kg", st)
        elif entry.kind == "attachment":
            story += _line(f"{to_local(obj.created_at):%d %b %Y}  ·  File: {obj.get_kind_display()}, {obj.title}", st)
    if not entries:
        story += _line("Nothing is recorded in this period.", st)
    return _build(
        story,
        title=f"Clinical history {animal.name}",
        reference=f"Clinical history · {animal.name} · {period}",
        continued=f"Clinical history · {animal.name}",
    )


# --- The insurance claim form's clinical section -----------------------------------------------------------------


def claim_clinical_section(claim: Claim, lines: list[InvoiceLine], st: dict) -> list:
    """For the claim form (registered with invoicing.pdf in ClinicalConfig.ready): the consultations of the
    claimed animal on the claimed lines' dates with their diagnoses, and the animal's problems, as insurers ask.
    Signed records only: a draft is not yet a record to send anyone."""
    animal_id = claim.policy.animal_id
    days = sorted({line.service_date for line in lines})
    if not days:
        return []
    consultations = [
        c
        for c in Consultation.objects.filter(animal_id=animal_id, status=Consultation.Status.SIGNED)
        .filter(opened_at__gte=_start(days[0]), opened_at__lt=_start(days[-1] + dt.timedelta(days=1)))
        .select_related("vet", "weight")
        .prefetch_related(
            Prefetch("diagnosis_links", queryset=ConsultationDiagnosis.objects.select_related("diagnosis"))
        )
        .order_by("opened_at", "id")
        if to_local(c.opened_at).date() in days
    ]
    problems = [
        p
        for p in selectors.problems(animal=claim.policy.animal, linked="none")
        if p.onset is None or p.onset <= days[-1]
    ]
    story: list = [Spacer(1, 2 * mm), _p("Clinical details", st["section"]), Spacer(1, 1.5 * mm)]
    if consultations:
        data: list[list] = [["Date", "Vet", "Presenting complaint", "Diagnoses"]]
        for c in consultations:
            data.append(
                [
                    f"{to_local(c.opened_at):%d/%m/%Y}",
                    _p(str(c.vet), st["cell"]),
                    _p(c.complaint or "—", st["cell"]),
                    _p(_diagnoses_text(c.diagnosis_links.all()) or "—", st["cell"]),
                ]
            )
        table = Table(data, colWidths=[22 * mm, 34 * mm, 62 * mm, 60 * mm], repeatRows=1)
        table.setStyle(TableStyle(_grid_style(len(data), numeric_from=4)))
        story.append(table)
    else:
        story.append(_p("No signed consultation on the dates claimed.", st["muted"]))
    if problems:
        rows = [
            (
                p.condition,
                f"{p.get_status_display()}{f', onset {_day(p.onset)}' if p.onset else ''}"
                f"{f', resolved {_day(p.resolved_on)}' if p.resolved_on else ''}",
            )
            for p in problems
        ]
        story += [Spacer(1, 3 * mm), _p("Conditions on record", st["label"])]
        story += [_p(f"{condition}: {course}", st["body"]) for condition, course in rows]
    story.append(Spacer(1, 4 * mm))
    return story


def _start(day: dt.date) -> dt.datetime:
    return local_day_bounds(day)[0]
