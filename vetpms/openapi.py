"""Unique component names in the published OpenAPI schema.

django-ninja names a schema component after its class alone and merges the components of every operation into
one dictionary, so two classes with one name overwrite each other: ``Invoice.Kind`` (invoice / credit note) and
``Payment.Kind`` (payment / refund) both become ``Kind``, and an invoice was documented with the payment kinds;
``clients.schemas.ClientRef`` and ``invoicing.schemas.ClientRef`` both became ``ClientRef``, one of them wrong.

``UniqueComponentNames`` fixes the class of problem rather than renaming today's clashes by hand: the schema is
built twice, the first time only to learn which short names belong to more than one type, the second time with
those names qualified (``InvoiceKind``, ``PaymentKind``, ``ClientsClientRef``, ``InvoicingClientRef``). Names that
are unique stay as they were, so clients generated from the schema keep their type names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from ninja.schema import NinjaGenerateJsonSchema
from pydantic.json_schema import DefsRef

from vetpms.params import MAX_ID

_original_get_defs_ref = NinjaGenerateJsonSchema.get_defs_ref


class UniqueComponentNames:
    seen: dict[str, set[str]] = defaultdict(set)  # short name -> qualified names of the types that carry it
    ambiguous: frozenset[str] = frozenset()

    @staticmethod
    def qualified_name(qualified: str) -> str:
        """ "invoicing.models.Invoice.Kind" -> "InvoiceKind"; "invoicing.schemas.ClientRef" -> "InvoicingClientRef"."""
        parts = qualified.split(".")
        if len(parts) >= 2 and parts[-2][:1].isupper():
            return parts[-2] + parts[-1]
        return parts[0].title().replace("_", "") + parts[-1]

    @classmethod
    def build(cls, generate: Any) -> Any:
        """Run ``generate`` (which builds the schema) twice: once to find the clashes, once to avoid them."""
        cls.seen = defaultdict(set)
        cls.ambiguous = frozenset()
        generate()
        cls.ambiguous = frozenset(short for short, types in cls.seen.items() if len(types) > 1)
        return generate()


def _get_defs_ref(self: NinjaGenerateJsonSchema, core_mode_ref: Any) -> DefsRef:
    key = _original_get_defs_ref(self, core_mode_ref)
    core_ref = core_mode_ref[0]
    if "[" in core_ref:  # a generic such as Page[Item]: named after its parts, which are handled themselves
        return key
    qualified = re.sub(r":\d+$", "", core_ref)
    short = qualified.rsplit(".", 1)[-1]
    UniqueComponentNames.seen[short].add(qualified)
    if short in UniqueComponentNames.ambiguous:
        self._prioritized_defsref_choices[key].insert(0, DefsRef(UniqueComponentNames.qualified_name(qualified)))
    return key


NinjaGenerateJsonSchema.get_defs_ref = _get_defs_ref  # type: ignore[method-assign]


# --- The error answers every operation can give (vetpms.api's error contract), documented where they occur ------

_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_CONFLICT = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}, "field": {"type": "string"}},
    "required": ["detail", "code"],
}
_INVALID = {
    "type": "object",
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}, "type": {"type": "string"}},
                "required": ["loc", "msg"],
            },
        }
    },
    "required": ["detail"],
}
_ERRORS = {
    "400": ("A body that is not JSON, or a NUL character in the path or query string.", _DETAIL),
    "401": ("No valid API token or session.", _DETAIL),
    "403": ("The role lacks the permission (or a session write lacks its CSRF token).", _DETAIL),
    "404": ("No such record.", _DETAIL),
    "409": ("A business rule refused it; `field` names the input at fault.", _CONFLICT),
    "422": ("Invalid input: each problem with its location.", _INVALID),
}

# A read that a business rule can refuse (an inactive vet's free slots: 409 on "vet") declares it with
# ``openapi_extra=CONFLICT_ON_READ``.
CONFLICT_ON_READ = {
    "responses": {"409": {"description": _ERRORS["409"][0], "content": {"application/json": {"schema": _CONFLICT}}}}
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers to each operation where they can occur: 401/403 where authentication is required,
    404 with a path id, 409 on writes (and on the reads that declare ``CONFLICT_ON_READ``), 422 with parameters or a
    body, 400 with a body or query."""
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            params = operation.get("parameters", [])
            for param in params:
                # Ids in the path: 1 to the largest bigint (vetpms.api_utils.url_id); outside it names nothing (404).
                param_schema = param.get("schema", {})
                if param.get("in") == "path" and param_schema.get("type") == "integer":
                    param_schema.setdefault("minimum", 1)
                    param_schema.setdefault("maximum", MAX_ID)
            body = "requestBody" in operation
            wanted = set()
            if operation.get("security"):
                wanted |= {"401", "403"}
            if "{" in path:
                wanted.add("404")
            if method in {"post", "put", "patch", "delete"}:
                wanted.add("409")  # reads a business rule can refuse declare it: openapi_extra=CONFLICT_ON_READ
            if params or body:
                wanted |= {"400", "422"}
            responses = operation.setdefault("responses", {})
            for status in sorted(wanted):
                if status in responses or int(status) in responses:  # ninja keys its own answers by int
                    continue
                description, body_schema = _ERRORS[status]
                content = {"application/json": {"schema": body_schema}}
                responses[int(status)] = {"description": description, "content": content}
    return schema
