"""Turning one owner's due notices into one email: subject, plain text and HTML.

Staff write each reminder type's templates with ``{placeholders}`` (reminders.models.PLACEHOLDERS). An owner with
several items due gets one email. When they are all of one type (two dogs due their booster) it is that type's
templates, ``{items}`` listing every item. When the types differ (a dog's booster and a cat's FeLV vaccination),
no type's wording may speak for another's: the email is a neutral frame (``MIXED_SUBJECT``, ``MIXED_TEXT``) and
each type gets its own section, headed by its own subject for its own pets, listing its own items. Values
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


# The frame of an email whose items are of several types (the placeholders of reminders.models.PLACEHOLDERS).
MIXED_SUBJECT = "Reminders for {pets} from {practice_name}"
MIXED_TEXT = (
    "Dear {owner_first_name},\n\nHere is what is coming up for {pets}:\n\n{items}\n\nTo book, {booking_contact}."
    "\n\nWarm wishes,\nThe team at {practice_name}\n{practice_phone}"
)
MIXED_HTML = (
    "<p>Dear {owner_first_name},</p><p>Here is what is coming up for {pets}:</p>{items}"
    "<p>To book, {booking_contact}.</p><p>Warm wishes,<br>The team at {practice_name}<br>{practice_phone}</p>"
)


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


def _subject(template: str, values: dict[str, str]) -> str:
    return " ".join(render_template(template, values, html=False).split())[:250]


def _sections(*, client: Client, items: list[Item], types: dict[str, ReminderType]) -> tuple[str, str]:
    """``{items}`` of a mixed email, as text and as HTML: per type, its own subject for its own pets, then its
    items."""
    text_parts, html_parts = [], []
    for name in dict.fromkeys(i.type_name for i in items):
        own = [i for i in items if i.type_name == name]
        own_values = text_context(client=client, items=own)
        heading = _subject(types[name].subject, own_values)
        text_parts.append(f"{heading}\n{own_values['items']}")
        html_parts.append(
            str(format_html("<p><strong>{}</strong></p>{}", heading, html_context(own_values, own)["items"]))
        )
    return "\n\n".join(text_parts), "".join(html_parts)


def render(
    *,
    reminder_type: ReminderType,
    client: Client,
    items: list[Item],
    unsubscribe_url: str | None,
    types: dict[str, ReminderType] | None = None,
) -> RenderedEmail:
    """One owner's email: from ``reminder_type``'s templates when every item is of that type, else (``types`` maps
    each item's ``type_name`` to its type) the mixed frame with a section per type."""
    items = sort_items(items)
    text_values = text_context(client=client, items=items)
    html_values = html_context(text_values, items)
    subject_template, text_template, html_template = (
        reminder_type.subject,
        reminder_type.body_text,
        reminder_type.body_html,
    )
    if types and len({i.type_name for i in items}) > 1:
        subject_template, text_template, html_template = MIXED_SUBJECT, MIXED_TEXT, MIXED_HTML
        text_values["items"], html_values["items"] = _sections(client=client, items=items, types=types)
    subject = _subject(subject_template, text_values)
    body_text = render_template(text_template, text_values, html=False).strip()
    if html_template.strip():
        body_html: SafeString = mark_safe(render_template(html_template, html_values, html=True))  # noqa: S308 - values escaped above
    else:
        # No HTML template: the text one, with its values escaped and its paragraphs kept.
        body_html = mark_safe(linebreaks(render_template(escape(text_template), html_values, html=True)))  # noqa: S308
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
