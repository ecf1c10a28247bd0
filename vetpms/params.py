"""Parameters from the outside world, parsed with bounds: one place for what a date, an id or a "next" URL may be.

Every date a person or a client program can give VetPMS lies between 1 Jan 1900 and 31 Dec 2999. Python's dates
reach 0001 and 9999, but the arithmetic the pages do around a date (the week around it, the local midnight after
it, the twelve months before it) leaves that range near its ends and raises OverflowError or ValueError: a 500.
The same bounds apply to forms (every ``forms.DateField``, see ``VetpmsConfig.ready``), to query strings
(``parse_day``) and to the API (``vetpms.api_utils.Day``).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

MIN_YEAR, MAX_YEAR = 1900, 2999
MIN_DAY, MAX_DAY = dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)
MAX_ID = 2**63 - 1  # the largest bigint: a larger number would overflow the database driver, not just miss
DATE_MESSAGE = f"Give a date between {MIN_YEAR} and {MAX_YEAR}."
# How the API's schema states the bound: JSON Schema has no minimum for dates, so a pattern carries the years.
DAY_JSON_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": r"^(19\d\d|2\d\d\d)-\d\d-\d\d$",
    "description": f"A date (YYYY-MM-DD) between {MIN_YEAR} and {MAX_YEAR}.",
    "examples": ["2026-03-01"],
}


# Control characters no one types (BEL, ESC, NUL, ...): they ring terminals, break CSV and PDF output and, for
# NUL, PostgreSQL refuses them. Tab and line breaks are ordinary in multi-line text and stay allowed.
CONTROL_CHARACTERS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\t", "\n", "\r"}
TEXT_MESSAGE = "Text may not contain control characters (such as NUL, BEL or ESC)."


# Python reads digits of every script as numbers: int(), Decimal() and strptime() all take full-width "12" (U+FF11
# U+FF12) and Arabic-Indic digits.
# No one at the desk means a full-width or Arabic-Indic "12" as an amount, a weight, a temperature, a count or a
# date, and what they typed would be stored as something other than what the screen echoed back. One rule: every
# number, date and time a person or a program gives VetPMS is written with the ASCII digits 0-9. Forms get it
# through ``ascii_only`` (installed on Django's number, date and time fields in ``VetpmsConfig.ready``), the API
# through ``vetpms.api_utils.QuerySchema`` and the decimal types of ``invoicing.schemas``.
DIGITS_MESSAGE = "Write numbers and dates with the digits 0-9."


def ascii_only(field_class: type) -> None:
    """Make ``field_class.to_python`` refuse any non-ASCII text before parsing it as a number, date or time."""
    original = field_class.__dict__.get("to_python")
    if original is None or getattr(original, "ascii_only", False):
        return

    def to_python(self, value):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and not value.isascii():
            raise ValidationError(DIGITS_MESSAGE, code="invalid")
        return original(self, value)

    to_python.ascii_only = True  # type: ignore[attr-defined]
    field_class.to_python = to_python  # type: ignore[attr-defined]


def integer_key(field: forms.ModelChoiceField) -> bool:
    """Whether the choices of a model choice field are named by a whole number (an id, or a number field)."""
    if field.queryset is None:
        return False
    meta = field.queryset.model._meta
    model_field = meta.get_field(field.to_field_name or meta.pk.name)
    while model_field.is_relation:  # a primary key that is a one-to-one link names the row it links to
        model_field = model_field.target_field
    return isinstance(model_field, models.IntegerField)


def ascii_ids(field_class: type) -> None:
    """Make a model choice field (one or many) refuse an id that is not written with the digits 0-9 alone.

    Django looks the choice up with the text as it came: the database field's ``int()`` reads a full-width "12"
    (and " 12") as 12, so a tampered form or a pasted value picks row 12 while showing something else. The
    refusal comes before any query, as the same "not one of the choices" error a wrong id gets."""
    if field_class is forms.ModelMultipleChoiceField or issubclass(field_class, forms.ModelMultipleChoiceField):
        check = field_class.__dict__["_check_values"]
        if getattr(check, "ascii_ids", False):
            return

        def _check_values(self, value):  # type: ignore[no-untyped-def]
            if integer_key(self):
                for item in value or ():
                    if isinstance(item, str) and not is_ascii_number(item):
                        raise ValidationError(
                            self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": item}
                        )
            return check(self, value)

        _check_values.ascii_ids = True  # type: ignore[attr-defined]
        field_class._check_values = _check_values  # type: ignore[attr-defined]
        return
    original = field_class.__dict__["to_python"]
    if getattr(original, "ascii_ids", False):
        return

    def to_python(self, value):  # type: ignore[no-untyped-def]
        plain = not isinstance(value, str) or value in self.empty_values or is_ascii_number(value)
        if not plain and integer_key(self):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return original(self, value)

    to_python.ascii_ids = True  # type: ignore[attr-defined]
    field_class.to_python = to_python  # type: ignore[attr-defined]


def is_ascii_number(raw: str) -> bool:
    """Whether ``raw`` is a whole number written in 0-9 (``str.isdigit`` is also true for full-width digits)."""
    return raw.isascii() and raw.isdigit()


def has_control_characters(value: str) -> bool:
    return not CONTROL_CHARACTERS.isdisjoint(value)


def validate_plain_text(value: str | None) -> None:
    """A form validator for every text field: refuses control characters other than tab and line breaks."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(TEXT_MESSAGE, code="control_characters")


def in_bounds(value: dt.date) -> bool:
    return MIN_DAY <= (value.date() if isinstance(value, dt.datetime) else value) <= MAX_DAY


def validate_day(value: dt.date | None) -> None:
    """A form validator: refuses a date outside 1900-2999 with a message that names the range."""
    if value is not None and not in_bounds(value):
        raise ValidationError(DATE_MESSAGE, code="date_out_of_range")


def parse_day(raw: str | None) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) from a query string, or None when it is missing, malformed or out of bounds."""
    raw = (raw or "").strip()
    if len(raw) != 10 or not raw.isascii():
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return value if in_bounds(value) else None


def parse_id(raw: str | None) -> int | None:
    """A database id from a query string (1 .. the largest bigint), or None."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` URL of the request when it is a path on this site, else ``fallback``.

    Only a path ("/..."): anything else would be taken by ``redirect()`` for a view name to reverse (a 500 for a
    name that does not exist) or, with a scheme or "//", for another site.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and target.isprintable()
        and len(target) <= 2000
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return target
    return fallback
