"""What an API token may do, as SMART-on-FHIR style scopes: ``system/<Type|*>.<read|write|*>``, space-separated.

A token acts as its user, so the user's role still decides what it may see; scopes only narrow that further, so a
partner's token can be limited to reading (``system/*.read``) or to one resource type (``system/Patient.read``).

- The FHIR server (exchange.fhir) checks the scope for each resource type and interaction.
- The REST API (/api/v1) has no resource types to match, so it honours only the wildcard scopes: reads need
  ``system/*.read`` (or ``system/*.*``), writes need ``system/*.write`` (or ``system/*.*``). A token limited to
  named types is a FHIR-only token.

A token without scopes (created before scopes existed) counts as ``system/*.*``, what tokens could always do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FULL = "system/*.*"
READ_ONLY = "system/*.read"
_SCOPE = re.compile(r"^system/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*)$")

# The choices the token page offers (any valid scope string is accepted through the API).
CHOICES = [
    (FULL, "Full access (read and write), as the user's role allows"),
    (READ_ONLY, "Read only, as the user's role allows"),
]


class InvalidScope(ValueError):
    pass


@dataclass(frozen=True)
class Scopes:
    """A parsed scope string: a set of (type or "*", "read" | "write")."""

    grants: frozenset[tuple[str, str]]

    @classmethod
    def parse(cls, text: str | None) -> Scopes:
        text = (text or "").strip() or FULL
        grants: set[tuple[str, str]] = set()
        for word in text.split():
            match = _SCOPE.match(word)
            if match is None:
                raise InvalidScope(f"{word!r} is not a scope; use system/<Type or *>.<read, write or *>.")
            resource, action = match.groups()
            for act in ("read", "write") if action == "*" else (action,):
                grants.add((resource, act))
        return cls(frozenset(grants))

    @classmethod
    def full(cls) -> Scopes:
        return cls.parse(FULL)

    def allows(self, resource_type: str, action: str) -> bool:
        return (resource_type, action) in self.grants or ("*", action) in self.grants

    def allows_all(self, action: str) -> bool:
        return ("*", action) in self.grants


def normalise(text: str) -> str:
    """The scope string as stored: validated, duplicates dropped, in a stable order. Raises InvalidScope."""
    Scopes.parse(text)
    words = sorted(set(text.split()))
    return " ".join(words) or FULL


def token_scopes(user) -> Scopes:
    """The scopes of the token ``user`` came in with (``vetpms.auth`` puts it on the user); full for a session."""
    token = getattr(user, "api_token", None)
    if token is None:
        return Scopes.full()
    try:
        return Scopes.parse(token.scopes)
    except InvalidScope:  # a stored value edited by hand: grant nothing rather than everything
        return Scopes(frozenset())
