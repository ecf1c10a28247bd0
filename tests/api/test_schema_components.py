"""Every answer's published schema is the schema of the Python type the view returns.

Component names in the published schema are short class names; two types with one name (a paged list of webhook
deliveries and a paged list of reminder deliveries were both "PagedDeliveryOut") would silently publish one of them
for both. This walks every operation and compares, level by level, the property names the published schema gives
with those of the view's own response type."""

import re

from vetpms.api import api


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        schema = root[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _shape(schema: dict, root: dict, depth: int = 0):
    """The nested property names of ``schema`` (following $ref, arrays and optional branches), a few levels deep."""
    schema = _resolve(schema, root)
    if depth > 4:
        return None
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            branches = [_shape(branch, root, depth) for branch in schema[key]]
            return tuple(sorted((b for b in branches if b is not None), key=repr)) or None
    if schema.get("type") == "array" and "items" in schema:
        return ("[]", _shape(schema["items"], root, depth + 1))
    if "properties" in schema:
        return tuple(sorted((name, _shape(sub, root, depth + 1)) for name, sub in schema["properties"].items()))
    return None


def test_every_published_answer_has_the_shape_of_the_views_type():
    published = api.get_openapi_schema()
    components = published["components"]["schemas"]
    checked = 0
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = "/api/v1" + re.sub(r"{\w+:(\w+)}", r"{\1}", (prefix + path).replace("//", "/"))
            for operation in path_view.operations:
                if not operation.include_in_schema:
                    continue
                for method in operation.methods:
                    published_op = published["paths"].get(full, {}).get(method.lower())
                    assert published_op is not None, f"{method} {full} is routed but not published"
                    for status, model in (operation.response_models or {}).items():
                        if not hasattr(model, "model_json_schema"):  # no body (204) or not declared
                            continue
                        own = model.model_json_schema()
                        own_shape = _shape(own["properties"]["response"], own.get("$defs", {}))
                        answer = published_op["responses"].get(status) or published_op["responses"].get(str(status))
                        content = (answer or {}).get("content", {}).get("application/json")
                        if content is None:
                            continue
                        assert _shape(content["schema"], components) == own_shape, f"{method} {full} -> {status}"
                        checked += 1
    assert checked > 100  # the walk really reached the API's operations
