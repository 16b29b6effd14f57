"""Every operation's OpenAPI lists the problem+json answers kit itself may give, so clients and fuzzers know them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kit.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "correlation_id": {"type": ["string", "null"]},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# status -> (description, when it applies to an operation)
COMMON = {
    400: "The request could not be read (malformed body, header or parameter)",
    401: "Not signed in: the access token is missing, expired or invalid",
    403: "Signed in, but this school or role may not do this",
    404: "No such resource (or not visible to the caller)",
    413: "The request body is larger than allowed",
    422: "The request is invalid; `errors` names each field and the reason",
    429: "Too many requests; try again after Retry-After",
    503: "A dependency (database, broker, storage) is unreachable; try again after Retry-After",
}
EXEMPT_PATHS = {"/healthz", "/readyz"}


def _applies(status: int, path: str, operation: dict[str, Any]) -> bool:
    secured = bool(operation.get("security"))
    has_input = bool(operation.get("parameters") or operation.get("requestBody"))
    return {
        400: has_input,
        401: secured,
        403: secured,
        404: "{" in path,
        413: "requestBody" in operation,
        422: has_input,
        429: True,
        503: True,
    }[status]


def add_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the common problem+json responses to every operation of an OpenAPI document (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        if path in EXEMPT_PATHS:
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in COMMON.items():
                if not _applies(status, path, operation):
                    continue
                documented = responses.setdefault(str(status), {"description": description})
                content = documented.get("content")
                # kit answers these as problem+json; a body the service documented itself (e.g. OAuth's JSON
                # errors) stays, FastAPI's default HTTPValidationError does not (kit never sends it)
                if not content or "HTTPValidationError" in str(content):
                    documented["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    return schema


def document_problem_responses(app: FastAPI) -> None:
    """Make app.openapi() list the common problem+json responses on every operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problem_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
