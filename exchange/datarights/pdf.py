"""The subject access copy as a readable PDF (reportlab), drawn from the same dict as the JSON download
(``selectors.subject_access``), in the house style of the invoices and clinical documents (invoicing/pdf.py)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

from invoicing.pdf import BODY_WIDTH, _build, _grid_style, _header, _p, _styles

NONE = "None recorded."


def _section(title: str, st: dict) -> list:
    return [CondPageBreak(30 * mm), Spacer(1, 3 * mm), _p(title, st["section"]), Spacer(1, 1.5 * mm)]


def _table(head: list[str], rows: list[list[str]], widths: list[float], st: dict, *, numeric_from: int = 99) -> list:
    if not rows:
        return [_p(NONE, st["muted"])]
    data: list[list[Paragraph]] = [[_p(h, st["head"]) for h in head]]
    data += [[_p(str(cell) if cell is not None else "—", st["cell"]) for cell in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(_grid_style(len(data), numeric_from=min(numeric_from, len(head)))))
    return [table]


def _pairs(rows: list[tuple[str, str]], st: dict) -> list:
    table = Table(
        [[_p(k, st["label"]), _p(v or "—", st["body"])] for k, v in rows], colWidths=[38 * mm, BODY_WIDTH - 38 * mm]
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
    return [table]


def _day(value: str | None) -> str:
    return value[:10] if value else "—"


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "—"


def _clinical(history: dict[str, Any], st: dict) -> list:
    story: list = []
    for c in history["consultations"]:
        bits = [
            f"<b>{_when(c['opened_at'])}</b> · consultation with {c['vet']} ({c['status']})",
        ]
        for label, key in (
            ("Complaint", "complaint"),
            ("History", "history"),
            ("Examination", "examination"),
            ("Assessment", "assessment"),
            ("Plan", "plan"),
        ):
            if c[key]:
                bits.append(f"{label}: {c[key]}")
        if c["diagnoses"]:
            bits.append("Diagnoses: " + ", ".join(c["diagnoses"]))
        for a in c["addenda"]:
            bits.append(f"Addendum {_when(a['at'])} ({a['author']}): {a['text']}")
        story.append(KeepTogether([_p_markup(bits, st), Spacer(1, 1.5 * mm)]))
    for v in history["vaccinations"]:
        due = f", next due {v['next_due_on']}" if v["next_due_on"] else ""
        story += [_p(f"{v['given_on']} · vaccination: {v['product']}, batch {v['batch']}{due}", st["body"])]
    for m in history["medicines"]:
        story += [
            _p(
                f"{m['dispensed_on']} · dispensed: {m['product']} {m['strength']} x {m['quantity']}, {m['dose']} "
                f"{m['frequency']} ({m['prescribed_by']})",
                st["body"],
            )
        ]
    for p in history["problems"]:
        story += [_p(f"Problem: {p['condition']} ({p['status']})", st["body"])]
    for f in history["files"]:
        story += [_p(f"{_day(f['added'])} · file: {f['title']} ({f['kind']})", st["body"])]
    return story or [_p("No clinical records in the period of ownership.", st["muted"])]


def _p_markup(bits: list[str], st: dict) -> Paragraph:
    """The first bit carries <b>; the rest is escaped text, one per line."""
    from html import escape

    head, rest = bits[0], bits[1:]
    return Paragraph("<br/>".join([head, *(escape(b).replace("\n", "<br/>") for b in rest)]), st["body"])


def _value(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _changes(changes: Any) -> str:
    """{"town": [old, new]} as "town: old → new", leaving out fields that were empty before and after."""
    if not isinstance(changes, dict):
        return _value(changes)
    parts = []
    for name, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            if value[0] in (None, "") and value[1] in (None, "", False):
                continue
            parts.append(f"{name}: {_value(value[0])} → {_value(value[1])}")
        else:
            parts.append(f"{name}: {_value(value)}")
    return "; ".join(parts)


def render_subject_access(data: dict[str, Any]) -> bytes:
    st = _styles()
    contact = data["contact"]
    party = [_p(contact["name"], st["name"]), *[_p(line, st["body"]) for line in contact["address"]]]
    facts = [
        ("Client number", str(contact["client_number"])),
        ("Produced", _when(data["produced_at"])),
        ("Produced by", data["produced_by"] or "—"),
    ]
    story = _header(st, "Your data", "Data subject", party, facts)
    story += [
        _p(
            f"This is a copy of the personal data {data['controller']['name']} holds about you, with the records of "
            "your animals, as the data protection law entitles you to. The same data is available as a JSON file "
            "for another practice or system.",
            st["muted"],
        )
    ]

    story += _section("Contact details and consent", st)
    phones = ", ".join(f"{k.split('_')[0]}: {v}" for k, v in contact["phones"].items() if v)
    consent = data["consents"]
    story += _pairs(
        [
            ("Name", contact["name"]),
            ("Email", contact["email"]),
            ("Phone", phones),
            ("Address", ", ".join(contact["address"])),
            ("Prefers", contact["preferred_channel"]),
            ("Client since", _day(contact["client_since"])),
            ("Notes", contact["notes"]),
            (
                "Reminder emails",
                ("consented" if consent["reminder_emails"] else "no consent")
                + (f" (changed {_when(consent['changed_at'])})" if consent["changed_at"] else ""),
            ),
        ],
        st,
    )
    for change in consent["history"]:
        story += [_p(f"{_when(change['at'])} · {change['action']}", st["muted"])]

    story += _section(f"Animals ({len(data['animals'])})", st)
    if not data["animals"]:
        story += [_p(NONE, st["muted"])]
    for animal in data["animals"]:
        period = f"owned from {_day(animal['owned_from'])}" if animal["owned_from"] else "owned"
        if animal["owned_until"]:
            period += f" until {_day(animal['owned_until'])}"
        rows = [
            ("Species / breed", f"{animal['species']} {animal['breed']}".strip()),
            ("Sex", f"{animal['sex']}, {animal['neuter_status']}"),
            ("Born", animal["date_of_birth"] or "—"),
            ("Microchip", animal["microchip"]),
            ("Ownership", period),
            ("Weights", ", ".join(f"{w['measured_on']}: {w['kg']} kg" for w in animal["weights"])),
        ]
        if animal["deceased_on"]:
            rows.append(("Died", animal["deceased_on"]))
        if animal["notes"]:
            rows.append(("Notes", animal["notes"]))
        story += [Spacer(1, 2 * mm), _p(animal["name"], st["name"]), *_pairs(rows, st)]
        if data["clinical_history_included"]:
            story += [
                Spacer(1, 1.5 * mm),
                _p("Clinical history", st["label"]),
                *_clinical(animal["clinical_history"], st),
            ]
    if not data["clinical_history_included"]:
        story += [
            Spacer(1, 2 * mm),
            _p("The clinical history is not part of this copy; ask the practice for it.", st["muted"]),
        ]

    story += _section(f"Appointments ({len(data['appointments'])})", st)
    story += _table(
        ["Start", "Animal", "Vet", "Type", "Reason", "Status"],
        [[_when(a["start"]), a["animal"], a["vet"], a["type"], a["reason"], a["status"]] for a in data["appointments"]],
        [28 * mm, 25 * mm, 30 * mm, 30 * mm, 45 * mm, 20 * mm],
        st,
    )

    story += _section(f"Invoices and credit notes ({len(data['invoices'])})", st)
    story += _table(
        ["Reference", "Issued", "Status", "Name and address on it", "Lines", "Total"],
        [
            [
                i["reference"],
                i["issue_date"] or "—",
                i["status"],
                ", ".join(
                    b for b in (i["name_on_document"], (i["address_on_document"] or "").replace("\n", ", ")) if b
                ),
                "; ".join(f"{line['description']} ({line['animal']})" for line in i["lines"]),
                f"{settings.CURRENCY_SYMBOL}{i['gross']}",
            ]
            for i in data["invoices"]
        ],
        [26 * mm, 20 * mm, 16 * mm, 46 * mm, 50 * mm, 20 * mm],
        st,
        numeric_from=5,
    )

    story += _section(f"Payments ({len(data['payments'])})", st)
    story += _table(
        ["Received", "Kind", "Method", "Reference", "Amount"],
        [
            [
                p["received_on"],
                p["kind"] + (" (voided)" if p["voided"] else ""),
                p["method"],
                p["reference"],
                f"{settings.CURRENCY_SYMBOL}{p['amount']}",
            ]
            for p in data["payments"]
        ],
        [28 * mm, 30 * mm, 30 * mm, 60 * mm, 30 * mm],
        st,
        numeric_from=4,
    )
    story += [Spacer(1, 1.5 * mm), _p(f"Balance: {settings.CURRENCY_SYMBOL}{data['balance']}", st["body"])]

    story += _section(f"Reminders ({len(data['reminders'])})", st)
    story += _table(
        ["Animal", "Reminder", "Due", "Status"],
        [[r["animal"], r["type"], r["due_on"], r["status"]] for r in data["reminders"]],
        [40 * mm, 70 * mm, 35 * mm, 33 * mm],
        st,
    )

    story += _section(f"Reminder emails and follow-up calls ({len(data['emails_sent'])})", st)
    story += _table(
        ["Created", "Channel", "Status", "To", "Subject", "Sent"],
        [
            [_when(d["created_at"]), d["channel"], d["status"], d["to"], d["subject"], _when(d["sent_at"])]
            for d in data["emails_sent"]
        ],
        [26 * mm, 16 * mm, 20 * mm, 40 * mm, 50 * mm, 26 * mm],
        st,
    )

    story += _section(f"Changes recorded about you and your animals ({len(data['audit'])})", st)
    story += _table(
        ["When", "By", "Record", "Action", "What changed"],
        [
            [
                _when(e["at"]),
                e["by"],
                e["record"],
                e["action"],
                _changes(e["changes"]) + (f" ({e['note']})" if e["note"] else ""),
            ]
            for e in data["audit"]
        ],
        [26 * mm, 26 * mm, 40 * mm, 26 * mm, 60 * mm],
        st,
    )
    name = data["contact"]["name"]
    return _build(
        story,
        title=f"Personal data of {name}",
        reference=f"Subject access · client {contact['client_number']}",
        continued=f"Personal data · client {contact['client_number']}",
    )
