"""The numeric bounds the API enforces are the ones its schema publishes: every number a client sends (amounts,
percentages, quantities, weights, vitals, durations, counts, ids) is documented with a lower and an upper bound,
and each bound is enforced exactly: the value at the bound is taken, the value beyond it is a 422 on that field."""

from __future__ import annotations

import contextlib
import importlib
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError as PydanticError

from tests.api.openapi_check import published_schema
from vetpms.api_utils import QuerySchema


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _branches(published_schema()["components"]["schemas"][name])
    if "anyOf" in schema:
        return [b for sub in schema["anyOf"] for b in _branches(sub)]
    return [schema]


def _input_properties() -> list[tuple[str, dict[str, Any]]]:
    """Every property of every request body (nested schemas too) and every parameter of every operation."""
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()

    def walk(schema: dict[str, Any], where: str) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return
            seen.add(name)
            schema = published_schema()["components"]["schemas"][name]
            where = name
        for sub in schema.get("anyOf", []):
            walk(sub, where)
        if "items" in schema:
            walk(schema["items"], where)
        for prop, sub in schema.get("properties", {}).items():
            found.append((f"{where}.{prop}", sub))
            walk(sub, where)

    for path, methods in published_schema()["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                found.append((f"{method} {path} ?{parameter['name']}", parameter["schema"]))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                walk(body["schema"], f"{method} {path}")
    return found


INPUTS = _input_properties()


def test_the_walk_sees_money_quantities_percentages_and_vitals():
    names = " ".join(label for label, _ in INPUTS)
    for expected in ("PaymentIn.amount", "LineIn.quantity", "LineIn.discount_percent", "WeightIn.kg", "temperature_c"):
        assert expected in names, expected


@pytest.mark.parametrize(("label", "schema"), INPUTS, ids=[label for label, _ in INPUTS])
def test_every_number_a_client_sends_is_documented_with_both_bounds(label, schema):
    branches = _branches(schema)
    numbers = [b for b in branches if b.get("type") in ("number", "integer") and "enum" not in b]
    for branch in numbers:
        assert "minimum" in branch or "exclusiveMinimum" in branch, (label, branch)
        assert "maximum" in branch, (label, branch)
    decimal_strings = [b for b in branches if b.get("type") == "string" and "12" in str(b.get("examples", ""))]
    if decimal_strings:  # money, quantities, percentages as strings: a number with the same bounds beside them
        assert numbers, (label, branches)
        assert all(not b["pattern"].startswith("^-") for b in decimal_strings), (label, "negative input documented")


# --- The bounds are enforced, exactly ----------------------------------------------------------------------------


def _schemas() -> list[type[QuerySchema]]:
    for app in ("clients", "animals", "appointments", "invoicing", "clinical", "reminders", "reports", "vetpms"):
        for module in ("schemas", "api", "api_routes", "api_utils"):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"{app}.{module}")
    found, todo = [], [QuerySchema]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _bounded_fields() -> list[tuple[str, type[QuerySchema], str, dict[str, Any]]]:
    fields = []
    for schema in _schemas():
        properties = schema.model_json_schema(ref_template="#/components/schemas/{model}").get("properties", {})
        for name, prop in properties.items():
            for branch in prop.get("anyOf", [prop]):
                if branch.get("type") in ("number", "integer") and "maximum" in branch:
                    fields.append((f"{schema.__module__}.{schema.__name__}.{name}", schema, name, branch))
    return fields


BOUNDED = _bounded_fields()


def _errors_on(schema: type[QuerySchema], name: str, value: Any) -> list[dict[str, Any]]:
    try:
        schema.model_validate({name: value})
    except PydanticError as exc:
        return [e for e in exc.errors() if e["loc"][:1] == (name,)]
    return []


def _value(branch: dict[str, Any], number: float | int) -> Any:
    return int(number) if branch["type"] == "integer" else Decimal(str(number))


def test_the_enforced_bounds_include_money_percentages_and_vitals():
    labels = " ".join(label for label, *_ in BOUNDED)
    for expected in ("PaymentIn.amount", "discount_percent", "LineIn.quantity", "WeightIn.kg", "heart_rate"):
        assert expected in labels, expected


@pytest.mark.parametrize(("label", "schema", "name", "branch"), BOUNDED, ids=[b[0] for b in BOUNDED])
def test_each_published_bound_is_enforced_exactly(label, schema, name, branch):
    step = 1 if branch["type"] == "integer" else Decimal("0.01")
    top = _value(branch, branch["maximum"])
    assert _errors_on(schema, name, top) == [], (label, top)
    assert _errors_on(schema, name, top + step), (label, "above the maximum is taken")
    if "exclusiveMinimum" in branch:
        low = _value(branch, branch["exclusiveMinimum"])
        assert _errors_on(schema, name, low), (label, "the exclusive minimum is taken")
        assert _errors_on(schema, name, low + step) == [], (label, low + step)
    else:
        low = _value(branch, branch["minimum"])
        assert _errors_on(schema, name, low) == [], (label, low)
        assert _errors_on(schema, name, low - step), (label, "below the minimum is taken")
