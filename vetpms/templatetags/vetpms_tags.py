"""Template helpers: phone display, animal alert badges and form field rendering."""

from __future__ import annotations

from django import template

from vetpms.phones import display_phone
from vetpms.tables import table_body as _table_body

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
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


@register.simple_tag
def table_body(table):
    """The rows of a django-tables2 table page (vetpms.tables.table_body): templates/includes/table.html."""
    return _table_body(table)
