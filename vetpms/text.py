"""Text normalisation shared by search indexing and search queries, plurals, and the period in file names."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(value: str) -> str:
    """Lower-case, strip accents and squeeze spaces: "Müller  O'Brien" -> "muller o'brien"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def digits(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit())


# Nouns whose plural the rules below would get wrong.
_IRREGULAR = {"species": "species", "person": "people", "child": "children", "addendum": "addenda",
              "diagnosis": "diagnoses", "analysis": "analyses"}  # fmt: skip


def plural(noun: str, count: int | None = None) -> str:
    """``noun`` for ``count`` things: plural(“delivery”, 43) -> “deliveries”, plural(“delivery”, 1) -> “delivery”.

    The one place an English plural is made (Django's ``pluralize`` only appends "s", which gave "43 deliverys");
    templates use it as ``{{ noun|plural:count }}``. Without a count, the plural."""
    if count is not None and abs(count) == 1:
        return noun
    head, _, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        word = last[0] + _IRREGULAR[lower][1:] if last else last
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        word = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def file_period(start: dt.date, end: dt.date) -> str:
    """The period a downloaded file covers, for its name: "2025-07-01-to-2025-09-30", or one date for one day
    ("day_sheet-2025-07-01.csv", not "...-2025-07-01-to-2025-07-01"). Every report and statement file uses it."""
    return start.isoformat() if start == end else f"{start.isoformat()}-to-{end.isoformat()}"
