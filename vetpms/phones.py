"""Phone numbers: validated and stored as E.164 ("+447700900123"), shown in the practice's national format."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalise_phone(raw: str) -> str:
    """Return the E.164 form of ``raw`` or raise ValidationError; an empty value stays empty."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if len(raw) > 40:
        raise ValidationError("A phone number has at most 40 characters.", code="invalid_phone")
    try:
        number = phonenumbers.parse(raw, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"“{raw}” is not a phone number.", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"“{raw}” is not a valid phone number.", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(raw: str) -> None:
    normalise_phone(raw)


def display_phone(e164: str) -> str:
    """National format for numbers of the practice's region, international format for the rest."""
    if not e164:
        return ""
    return _display_phone(e164, settings.PHONE_REGION)


@functools.lru_cache(maxsize=8192)
def _display_phone(e164: str, region: str) -> str:
    # Parsing costs about as much as rendering a whole table cell, and the same lists, day lists and accounts are
    # shown again and again through the day; a number always reads the same in a region, so it is formatted once
    # per process (8,192 numbers, well under a megabyte).
    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == region
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def phone_search_forms(e164: str) -> list[str]:
    """Digit strings a person might type for this number: international and national, without punctuation."""
    if not e164:
        return []
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = ["".join(c for c in e164 if c.isdigit()), "".join(c for c in national if c.isdigit())]
    return list(dict.fromkeys(forms))


def phone_query_digits(query: str) -> list[str]:
    """Digit strings to look for when the query may be a phone number typed in any format."""
    raw_digits = "".join(c for c in query if c.isdigit())
    if len(raw_digits) < 4:
        return []
    candidates = [raw_digits]
    try:
        number = phonenumbers.parse(query, settings.PHONE_REGION)
        if phonenumbers.is_possible_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            candidates.append(e164.lstrip("+"))
    except phonenumbers.NumberParseException:
        pass
    return list(dict.fromkeys(candidates))
