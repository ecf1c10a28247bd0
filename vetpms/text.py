"""Text normalisation shared by search indexing and search queries."""

from __future__ import annotations

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
