"""FHIR errors: every refusal is an OperationOutcome with the HTTP status that fits it."""

from __future__ import annotations


class FhirError(Exception):
    """A refusal to answer with an OperationOutcome. ``code`` is from the FHIR issue-type value set."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str = "invalid",
        severity: str = "error",
        expression: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.severity = severity
        self.expression = expression
        self.headers = headers or {}


def bad_request(diagnostics: str, *, expression: str | None = None) -> FhirError:
    return FhirError(400, diagnostics, code="invalid", expression=expression)


def not_found(diagnostics: str = "No such resource.") -> FhirError:
    return FhirError(404, diagnostics, code="not-found")


def unprocessable(diagnostics: str, *, expression: str | None = None) -> FhirError:
    return FhirError(422, diagnostics, code="processing", expression=expression)


def issue(severity: str, code: str, diagnostics: str, expression: str | None = None) -> dict:
    item: dict = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        item["expression"] = [expression]
    return item


def operation_outcome(issues: list[dict]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": issues}
