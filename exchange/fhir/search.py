"""Search parameters: how a FHIR query string becomes filters on a queryset.

Each parameter a resource type declares is a ``SearchParam``: its FHIR name and type (for the CapabilityStatement)
and a function that turns ONE value of the query (``birthdate=ge2020-01-01``; a comma inside is an OR of values)
into a ``Q``. Repeating a parameter ANDs the repeats (``date=ge2026-01-01&date=lt2026-02-01``), as FHIR says.
The helpers below build the usual kinds: ``date_param``, ``token_param``, ``string_param``, ``reference_param``.
A value the parameter cannot read is a ``FhirError`` 400 naming it, never a 500.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

from exchange.fhir.errors import bad_request
from vetpms.params import is_ascii_number
from vetpms.timeutils import practice_tz

NOTHING = Q(pk__in=[])

# Parameters of the search itself rather than filters; everything else must be declared by the resource type.
CONTROL = {"_count", "_cursor", "_format", "_pretty"}


@dataclass(frozen=True)
class SearchParam:
    """One search parameter. ``to_q(value, modifier)`` turns one value (commas already split) into a Q."""

    name: str
    type: str  # FHIR search param type: token, string, date, reference, number, uri, quantity
    to_q: Callable[[str, str], Q] = field(repr=False)
    documentation: str = ""
    modifiers: frozenset[str] = frozenset()
    definition: str | None = None

    def filter(self, values: list[str], modifier: str) -> Q:
        if modifier and modifier not in self.modifiers:
            raise bad_request(f"The search parameter {self.name} does not support the modifier :{modifier}.")
        combined = NOTHING
        for value in values:
            if value == "":
                raise bad_request(f"The search parameter {self.name} needs a value.", expression=self.name)
            combined |= self.to_q(value, modifier)
        return combined


def split_values(raw: str) -> list[str]:
    r"""Comma-separated alternatives; ``\,`` is a comma inside a value."""
    parts = re.split(r"(?<!\\),", raw)
    return [part.replace(r"\,", ",") for part in parts]


# --- dates ----------------------------------------------------------------------------------------------------------

_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def parse_date_range(text: str, name: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start, end) a FHIR date or dateTime of any precision covers; a time without a zone is
    read in the practice's zone (the server's local time, which is what FHIR says)."""
    text = text.replace(" ", "+")  # an unencoded "+" of a zone offset arrives as a space
    match = _DATE.match(text)
    if match is None:
        raise bad_request(f"{name}: {text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime).")
    parts = match.groupdict()
    tz = parts["tz"]
    if tz is None or parts["H"] is None:
        zone: dt.tzinfo = practice_tz()
    elif tz == "Z":
        zone = dt.UTC
    else:
        sign = 1 if tz[0] == "+" else -1
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 14 or minutes > 59:
            raise bad_request(f"{name}: {tz} is not a time zone offset.")
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    year = int(parts["y"])
    if not 1 < year < 9999:
        raise bad_request(f"{name}: {text!r} is out of range.")
    try:
        if parts["m"] is None:
            start = dt.datetime(year, 1, 1, tzinfo=zone)
            end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
        elif parts["d"] is None:
            month = int(parts["m"])
            start = dt.datetime(year, month, 1, tzinfo=zone)
            end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        elif parts["H"] is None:
            start = dt.datetime(year, int(parts["m"]), int(parts["d"]), tzinfo=zone)
            end = start + dt.timedelta(days=1)
        else:
            fraction = (parts["f"] or "").ljust(6, "0")[:6]
            start = dt.datetime(
                year,
                int(parts["m"]),
                int(parts["d"]),
                int(parts["H"]),
                int(parts["M"]),
                int(parts["S"] or 0),
                int(fraction or 0),
                tzinfo=zone,
            )
            if parts["f"]:
                step = dt.timedelta(microseconds=1)
            else:
                step = dt.timedelta(seconds=1) if parts["S"] else dt.timedelta(minutes=1)
            end = start + step
    except (ValueError, OverflowError) as exc:
        raise bad_request(f"{name}: {text!r} is not a real date.") from exc
    return start, end


def split_prefix(text: str) -> tuple[str, str]:
    if len(text) > 2 and text[:2] in _PREFIXES:
        return text[:2], text[2:]
    return "eq", text


def range_q(path: str, prefix: str, start, end) -> Q:
    """The rows whose value at ``path`` (a point in time) satisfies ``prefix`` against the range [start, end)."""
    if prefix in ("eq", "ap"):
        return Q(**{f"{path}__gte": start, f"{path}__lt": end})
    if prefix == "ne":
        return Q(**{f"{path}__lt": start}) | Q(**{f"{path}__gte": end})
    if prefix in ("gt", "sa"):
        return Q(**{f"{path}__gte": end})
    if prefix in ("lt", "eb"):
        return Q(**{f"{path}__lt": start})
    if prefix == "ge":
        return Q(**{f"{path}__gte": start})
    if prefix == "le":
        return Q(**{f"{path}__lt": end})
    raise bad_request(f"{prefix} is not a search prefix.")


def date_param(name: str, path: str, *, is_date: bool = False, documentation: str = "") -> SearchParam:
    """A date parameter on a DateTimeField (or a DateField with ``is_date``): prefixes eq ne gt lt ge le sa eb ap."""

    def to_q(value: str, modifier: str) -> Q:
        prefix, text = split_prefix(value)
        start, end = parse_date_range(text, name)
        if is_date:  # a calendar date column: the local dates the range touches
            first = start.astimezone(practice_tz()).date() if start.tzinfo else start.date()
            last_instant = end.astimezone(practice_tz()) - dt.timedelta(microseconds=1)
            return range_q(path, prefix, first, last_instant.date() + dt.timedelta(days=1))
        return range_q(path, prefix, start, end)

    return SearchParam(name, "date", to_q, documentation)


# --- tokens, strings, references ------------------------------------------------------------------------------------


def parse_token(value: str) -> tuple[str | None, str]:
    """``system|code`` -> (system, code); ``|code`` -> ("", code) (no system); ``code`` -> (None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


def token_param(
    name: str, to_q: Callable[[str | None, str], Q], *, documentation: str = "", modifiers: frozenset[str] = frozenset()
) -> SearchParam:
    """``to_q(system, code)``: system is None when the value has none (any system matches)."""

    def parse(value: str, modifier: str) -> Q:
        system, code = parse_token(value)
        return to_q(system, code)

    return SearchParam(name, "token", parse, documentation, modifiers)


def string_param(name: str, paths: list[str], *, documentation: str = "") -> SearchParam:
    """FHIR string search: starts with, ignoring case (``:contains`` anywhere, ``:exact`` the whole value)."""

    def to_q(value: str, modifier: str) -> Q:
        lookup = {"": "istartswith", "contains": "icontains", "exact": "exact"}[modifier]
        combined = NOTHING
        for path in paths:
            combined |= Q(**{f"{path}__{lookup}": value})
        return combined

    return SearchParam(name, "string", to_q, documentation, frozenset({"contains", "exact"}))


def int_id(text: str) -> int | None:
    """A numeric FHIR id as an int, or None when it is not one (it then matches nothing)."""
    return int(text) if is_ascii_number(text) and len(text) < 18 else None


def reference_id(value: str, target: str, name: str) -> int | None:
    """The id in ``Patient/12``, ``12`` or ``https://.../Patient/12``; 400 for a reference to another type."""
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != target:
        raise bad_request(f"{name} refers to {target} resources, not {parts[-2]}.", expression=name)
    return int_id(parts[-1])


def reference_param(name: str, path: str, target: str, *, documentation: str = "") -> SearchParam:
    """A reference to ``target`` stored as the foreign key at ``path`` (``animal_id``); ``:<Type>`` is allowed."""

    def to_q(value: str, modifier: str) -> Q:
        if modifier and modifier != target:
            raise bad_request(f"{name} refers to {target} resources, not {modifier}.")
        pk = reference_id(value, target, name)
        return Q(**{path: pk}) if pk is not None else NOTHING

    return SearchParam(name, "reference", to_q, documentation, frozenset({target}))


def id_param(path: str = "pk") -> SearchParam:
    def to_q(value: str, modifier: str) -> Q:
        pk = int_id(value)
        return Q(**{path: pk}) if pk is not None else NOTHING

    return SearchParam("_id", "token", to_q, "The logical id of the resource.")


def choice_param(name: str, path: str, mapping: dict[str, list[str]], *, documentation: str = "") -> SearchParam:
    """A token over a FHIR code that maps to some stored values (``status=booked``); an unknown code is a 400."""

    def to_q(value: str, modifier: str) -> Q:
        _, code = parse_token(value)
        if code not in mapping:
            raise bad_request(f"{name}: {code!r} is not one of {', '.join(sorted(mapping))}.", expression=name)
        return Q(**{f"{path}__in": mapping[code]})

    return SearchParam(name, "token", to_q, documentation)
