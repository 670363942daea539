"""The error answers of the REST API, published in the OpenAPI schema for every operation.

A drf-spectacular postprocessing hook adds, to each operation that does not declare them itself,
the errors any operation can answer: 400 (bad query parameters, an unreadable body, invalid
fields), 406 (an Accept header no renderer serves) and 429 (throttled); 401 and 403 when the
operation needs credentials; 404 when its path names an object; 415 when it takes a body.
Errors only some operations answer (409, 422, a 404 without a path parameter) are declared on
the view with `extend_schema(responses=...)` and `config.api.ErrorSerializer`.

Bodies: `Error` is `{"detail": "..."}`; a 400 is `FieldErrors`, an object whose keys name the
field, query parameter or header that is wrong (or `detail`), each with a message, a list of
messages or the nested errors of a list or object. A view that declares its own 400 keeps it, and
the generic shape is allowed beside it (a malformed body or query string comes before the view).
"""

from __future__ import annotations

from typing import Any

ERROR = "#/components/schemas/Error"
FIELD_ERRORS = "#/components/schemas/FieldErrors"

COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "The body of every error answer that is not about fields.",
        "properties": {
            "detail": {"type": "string", "description": "What went wrong and what to do, in words."}
        },
        "required": ["detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": "Invalid request: each key names the field, query parameter or header "
        "that is wrong (`detail` when none is), each value is a message, a list of messages, "
        "or the errors of a nested list or object.",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]
        },
    },
}

RESPONSES: dict[str, tuple[str, str]] = {
    "400": (FIELD_ERRORS, "The request is invalid: a message per field or parameter."),
    "401": (ERROR, "No credentials, or an unknown token (header `WWW-Authenticate: Token`)."),
    "403": (ERROR, "The caller may not do this; the message says why."),
    "404": (ERROR, "There is no such object (or no such path)."),
    "406": (ERROR, "No representation matches the Accept header (the API answers JSON)."),
    "415": (ERROR, "The body's Content-Type is not JSON, form data or multipart."),
    "429": (ERROR, "Too many requests; wait the header `Retry-After`'s seconds."),
}


def _applicable(path: str, operation: dict[str, Any]) -> list[str]:
    codes = ["400", "406", "429"]
    if {} not in operation.get("security", [{}]):
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    if "requestBody" in operation:
        codes.append("415")
    return sorted(codes)


def _response(code: str) -> dict[str, Any]:
    ref, description = RESPONSES[code]
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ref}}},
    }
    if code == "429":
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        }
    return response


def _with_field_errors(response: dict[str, Any]) -> None:
    """A view's own 400 body, or the generic one."""
    for media in response.get("content", {}).values():
        schema = media.get("schema")
        if schema and schema != {"$ref": FIELD_ERRORS}:
            media["schema"] = {"anyOf": [schema, {"$ref": FIELD_ERRORS}]}


def _non_empty_strings(operation: dict[str, Any]) -> None:
    """A query parameter given empty is refused (config.query_parameters): say so."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] == "query" and schema.get("type") == "string" and "enum" not in schema:
            schema.setdefault("minLength", 1)


def error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in COMPONENTS.items():
        schemas.setdefault(name, component)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "400" in responses:
                _with_field_errors(responses["400"])
            for code in _applicable(path, operation):
                responses.setdefault(code, _response(code))
            operation["responses"] = dict(sorted(responses.items()))
            _non_empty_strings(operation)
    return result
