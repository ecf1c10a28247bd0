"""Turning one owner's due notices into one email: subject, plain text and HTML.

Staff write each reminder type's templates with ``{placeholders}`` (reminders.models.PLACEHOLDERS). An owner with
several items due (two pets, or a vaccination and a dental recheck) gets one email: it uses the templates of the
most urgent item's type (the earliest due date, then the type's name), and ``{items}`` lists every item. Values
come from the database (owner and pet names are typed by staff or imported), so they are escaped in the HTML part;
the HTML template itself is written by the practice's managers and trusted as HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join, linebreaks
from django.utils.safestring import SafeString, mark_safe

from clients.models import Client
from reminders.models import PLACEHOLDER, ReminderType


@dataclass(frozen=True)
class Item:
    """One line of an email: a pet, what is due, and when."""

    pet: str
    what: str
    due_on: dt.date
    type_name: str = ""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def format_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def render_template(template: str, context: dict[str, str], *, html: bool) -> str:
    """Replace each ``{name}`` with its value. For HTML the values must already be safe (``html_context``); an
    unknown name cannot occur (templates are validated when saved) but is left as typed rather than failing."""

    def value(match) -> str:
        name = match.group(1)
        return str(context[name]) if name in context else match.group(0)

    return PLACEHOLDER.sub(value, template or "")


def _join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def text_context(*, client: Client, items: list[Item]) -> dict[str, str]:
    practice = settings.PRACTICE
    pets = list(dict.fromkeys(item.pet for item in items))
    return {
        "owner_name": client.display_name,
        "owner_first_name": client.first_name or client.display_name,
        "pets": _join_names(pets),
        "items": "\n".join(f"- {i.pet}: {i.what}, due {format_date(i.due_on)}" for i in items),
        "first_due_date": format_date(min(i.due_on for i in items)) if items else "",
        "practice_name": practice["name"],
        "practice_phone": practice["phone"],
        "booking_contact": f"call us on {practice['phone']} or email {practice['email']}",
    }


def html_context(text: dict[str, str], items: list[Item]) -> dict[str, str]:
    """The same values, escaped for HTML; ``{items}`` becomes a list."""
    values = {name: str(escape(value)) for name, value in text.items()}
    values["items"] = str(
        format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li><strong>{}</strong>: {}, due {}</li>", ((i.pet, i.what, format_date(i.due_on)) for i in items)
            ),
        )
    )
    practice = settings.PRACTICE
    values["booking_contact"] = str(
        format_html(
            'call us on {} or email <a href="mailto:{}">{}</a>', practice["phone"], practice["email"], practice["email"]
        )
    )
    return values


def sort_items(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.due_on, i.type_name, i.pet))


def render(
    *, reminder_type: ReminderType, client: Client, items: list[Item], unsubscribe_url: str | None
) -> RenderedEmail:
    """One owner's email from ``reminder_type``'s templates (the caller picks the most urgent item's type)."""
    items = sort_items(items)
    text_values = text_context(client=client, items=items)
    subject = " ".join(render_template(reminder_type.subject, text_values, html=False).split())[:250]
    body_text = render_template(reminder_type.body_text, text_values, html=False).strip()
    html_values = html_context(text_values, items)
    if reminder_type.body_html.strip():
        body_html: SafeString = mark_safe(render_template(reminder_type.body_html, html_values, html=True))  # noqa: S308 - values escaped above
    else:
        # No HTML template: the text one, with its values escaped and its paragraphs kept.
        body_html = mark_safe(linebreaks(render_template(escape(reminder_type.body_text), html_values, html=True)))  # noqa: S308
    context = {
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "practice": settings.PRACTICE,
        "unsubscribe_url": unsubscribe_url,
    }
    return RenderedEmail(
        subject=subject,
        text=render_to_string("reminders/email/reminder.txt", context),
        html=render_to_string("reminders/email/reminder.html", context),
    )


def render_preview(*, reminder_type: ReminderType) -> RenderedEmail:
    """The type's email for a made-up owner with two pets: what the template editor shows."""
    owner = Client(title="Mrs", first_name="Jane", last_name="Example <Sample>")
    today = timezone.localdate()
    items = [
        Item(pet="Rex", what=reminder_type.name or "Vaccination", due_on=today + dt.timedelta(days=14)),
        Item(pet="Bella & Co", what=reminder_type.name or "Vaccination", due_on=today + dt.timedelta(days=21)),
    ]
    return render(
        reminder_type=reminder_type, client=owner, items=items, unsubscribe_url=f"{settings.SITE_URL}/#preview"
    )
