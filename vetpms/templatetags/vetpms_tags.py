"""Template helpers: phone display, animal alert badges and form field rendering."""

from __future__ import annotations

from django import template

from vetpms.phones import display_phone
from vetpms.tables import table_body as _table_body
from vetpms.text import plural

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """An E.164 number in the practice's national format (international for foreign numbers)."""
    return display_phone(value or "")


@register.inclusion_tag("includes/alert_badges.html")
def alert_badges(animal, compact: bool = False):
    """Red badges for an animal's alerts, plus deceased / inactive markers. Autoescaped like everything else."""
    return {"animal": animal, "alerts": animal.alert_list, "compact": compact}


@register.inclusion_tag("includes/field.html")
def field(bound_field, label: str | None = None):
    return {"field": bound_field, "label": label}


@register.filter
def field_label(name: str) -> str:
    """Turn an audit field name (``mobile_phone``) into words (``Mobile phone``)."""
    return str(name).replace("_", " ").capitalize()


@register.filter
def audit_value(value) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value) or "—"
    if isinstance(value, str):
        return _moment_text(value) or value
    return str(value)


def _moment_text(value: str) -> str | None:
    """An ISO date or timestamp as the audit trail stores it (vetpms.audit: UTC, ISO 8601) in the practice's
    zone and format, as the "When" column shows times: "2026-03-29T00:30:00+00:00" -> "29 Mar 2026, 00:30"."""
    import datetime as dt

    from django.utils import dateformat, timezone

    if not (10 <= len(value) <= 40 and value[:4].isdigit() and value[4:5] == "-" and value[7:8] == "-"):
        return None
    try:
        if len(value) == 10:
            return dateformat.format(dt.date.fromisoformat(value), "j M Y")
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return dateformat.format(moment, "j M Y, H:i")
    return dateformat.format(timezone.localtime(moment), "j M Y, H:i")


@register.filter(name="plural")
def plural_filter(noun: str, count=None) -> str:
    """``{{ noun|plural:count }}``: "delivery" or "deliveries" (vetpms.text.plural)."""
    try:
        number = int(count) if count is not None and count != "" else None
    except (TypeError, ValueError):
        number = None
    return plural(str(noun), number)


@register.simple_tag
def table_body(table):
    """The rows of a django-tables2 table page (vetpms.tables.table_body): templates/includes/table.html."""
    return _table_body(table)
