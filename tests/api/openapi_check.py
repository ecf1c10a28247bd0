"""Every API answer the tests receive is checked against the published OpenAPI schema (/api/v1/openapi.json):
the status must be one the operation documents, and a JSON body must match the documented schema for it.

The checker is a small JSON Schema validator of our own for the keywords pydantic and django-ninja emit ($ref,
allOf/anyOf/oneOf, type, enum/const, properties/required/additionalProperties, items, string length, pattern and
date formats, numeric bounds); an unknown keyword is ignored only if it is an annotation (title, description,
examples, default, format names we do not check). ``tests/api/conftest.py`` installs it on the test client for
every test under tests/api, and ``tests/test_no_server_errors.py`` for its walk of every operation."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from typing import Any

# Statuses any operation may give that the API's description documents once for all (vetpms.api's error
# contract): too large a body, and too many bad credentials from one client. Their body is {"detail": "..."}.
GLOBAL_STATUSES = {413, 429}
_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}


@cache
def published_schema() -> dict[str, Any]:
    from vetpms.api import api

    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), default=str))


@cache
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    found = []
    for template, methods in published_schema()["paths"].items():
        # "/api/v1/clients/{client_id}" -> a pattern; ninja's int path parameters are digits only.
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        for method, operation in methods.items():
            found.append((re.compile(f"^{pattern}$"), method.lower(), operation))
    # Literal segments before parameters: "/vets/any/free-slots" wins over "/vets/{vet_id}/free-slots".
    found.sort(key=lambda item: item[0].pattern.count("[^/]+"))
    return found


def operation_for(method: str, path: str) -> dict[str, Any] | None:
    for pattern, verb, operation in _operations():
        if verb == method.lower() and pattern.match(path):
            return operation
    return None


class SchemaMismatch(AssertionError):
    pass


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise SchemaMismatch when the answer is not one the published schema documents."""
    if not path.startswith("/api/v1/") or path in ("/api/v1/openapi.json", "/api/v1/docs"):
        return
    operation = operation_for(method, path)
    if operation is None:
        # An unknown path (the JSON 404 fallback), a trailing-slash redirect, or a path refused before routing (a
        # NUL character: 400): not an operation of the schema, but still the error contract's {"detail": "..."}.
        if status not in (400, 401, 404, 405, 308):
            raise SchemaMismatch(f"{method} {path} answered {status} but is no operation of the schema")
        if "json" in content_type:
            errors: list[str] = []
            validate(json.loads(body), _DETAIL, "$", errors)
            if errors:
                raise SchemaMismatch(f"{method} {path} -> {status}: " + "; ".join(errors))
        return
    responses = operation.get("responses", {})
    documented = responses.get(str(status))
    where = f"{method} {path} -> {status}"
    if documented is None:
        if status in GLOBAL_STATUSES:
            documented = {"content": {"application/json": {"schema": _DETAIL}}}
        else:
            raise SchemaMismatch(f"{where}: status not documented (documented: {sorted(responses)})")
    content = documented.get("content")
    if not content:
        if body:
            raise SchemaMismatch(f"{where}: documented without a body, but one was sent")
        return
    if "json" not in content_type:
        if "application/json" in content and len(content) == 1:
            raise SchemaMismatch(f"{where}: documented as JSON, answered {content_type}")
        return
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None:
        return
    errors: list[str] = []
    validate(json.loads(body), schema, "$", errors)
    if errors:
        raise SchemaMismatch(f"{where}: the body does not match the schema:\n  " + "\n  ".join(errors[:10]))


# --- A JSON Schema validator for the keywords the API's schema uses -------------------------------------------

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = published_schema()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _valid(instance: Any, schema: dict[str, Any]) -> bool:
    errors: list[str] = []
    validate(instance, schema, "$", errors)
    return not errors


def validate(instance: Any, schema: dict[str, Any], at: str, errors: list[str]) -> None:
    if "$ref" in schema:
        validate(instance, _resolve(schema["$ref"]), at, errors)
    for sub in schema.get("allOf", []):
        validate(instance, sub, at, errors)
    if "anyOf" in schema and not any(_valid(instance, s) for s in schema["anyOf"]):
        errors.append(f"{at}: {_short(instance)} matches none of anyOf")
    if "oneOf" in schema and sum(_valid(instance, s) for s in schema["oneOf"]) != 1:
        errors.append(f"{at}: {_short(instance)} does not match exactly one of oneOf")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](instance) for t in types):
            errors.append(f"{at}: {_short(instance)} is not of type {schema['type']}")
            return
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{at}: {_short(instance)} is not one of {schema['enum']}")
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{at}: {_short(instance)} is not {schema['const']!r}")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            errors.append(f"{at}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            errors.append(f"{at}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{at}: {_short(instance)} does not match {schema['pattern']}")
        _check_format(instance, schema.get("format"), at, errors)
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{at}: {instance} < minimum {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{at}: {instance} > maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            errors.append(f"{at}: {instance} <= exclusiveMinimum {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and instance >= schema["exclusiveMaximum"]:
            errors.append(f"{at}: {instance} >= exclusiveMaximum {schema['exclusiveMaximum']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            errors.append(f"{at}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            errors.append(f"{at}: more than {schema['maxItems']} items")
        if "items" in schema and isinstance(schema["items"], dict):
            for i, item in enumerate(instance):
                validate(item, schema["items"], f"{at}[{i}]", errors)
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in instance:
                errors.append(f"{at}: required property {name!r} is missing")
        for name, value in instance.items():
            if name in properties:
                validate(value, properties[name], f"{at}.{name}", errors)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{at}: property {name!r} is not in the schema")
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(value, schema["additionalProperties"], f"{at}.{name}", errors)


def _check_format(value: str, fmt: str | None, at: str, errors: list[str]) -> None:
    try:
        if fmt == "date":
            dt.date.fromisoformat(value)
        elif fmt == "date-time":
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                errors.append(f"{at}: {value!r} is a date-time without an offset")
        elif fmt == "time":
            dt.time.fromisoformat(value)
    except ValueError:
        errors.append(f"{at}: {value!r} is not a {fmt}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
