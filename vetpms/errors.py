"""The one exception type for broken business rules.

Services raise DomainError when a request is well-formed but not allowed by the rules (a duplicate live microchip,
transferring an animal to its current owner). The API maps it to 409 and HTML views to a form or page error, so a
rule is written once, in its service. Field-level problems stay Django ValidationErrors (422 / field errors).
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation. ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
