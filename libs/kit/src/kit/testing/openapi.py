"""Checks of a service's OpenAPI document that every service's tests share."""

from __future__ import annotations

import re
from typing import Any


def answers_without_schema(spec: dict[str, Any], *, prefix: str = "/v1/") -> list[str]:
    """Operations under prefix whose success answer names no response model (a schema $ref, or a list of one).

    An answer without a body (a 204, a tus creation) needs none; a download is described by its media type.
    """
    missing = []
    for path, operations in spec["paths"].items():
        if not path.startswith(prefix):
            continue
        for method, operation in operations.items():
            success = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            if not success:
                missing.append(f"{method.upper()} {path}: no success answer")
            for code, answer in success.items():
                content = answer.get("content", {})
                if not content or any(media != "application/json" for media in content):
                    continue
                schema = content.get("application/json", {}).get("schema", {})
                if not (schema.get("$ref") or schema.get("items", {}).get("$ref")):
                    missing.append(f"{method.upper()} {path}: {code} without a schema")
    return missing


def undeclared_path_parameters(spec: dict[str, Any]) -> list[str]:
    """Operations whose path has a {parameter} that the operation does not declare."""
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            if declared != set(re.findall(r"{(\w+)}", path)):
                missing.append(f"{method.upper()} {path}")
    return missing


def unbounded_integers(spec: dict[str, Any]) -> list[str]:
    """Integer inputs (parameters and request bodies) without a maximum: a huge one is no BSON int (a 500 at the
    database, not a 422 at the field)."""
    schemas = spec.get("components", {}).get("schemas", {})
    found: list[str] = []

    def visit(schema: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if ref := schema.get("$ref"):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                visit(schemas.get(name, {}), where, seen | {name})
            return
        if schema.get("type") == "integer" and "maximum" not in schema and "exclusiveMaximum" not in schema:
            found.append(where)
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                visit(option, where, seen)
        for name, sub in schema.get("properties", {}).items():
            visit(sub, f"{where}.{name}", seen)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                visit(schema[key], f"{where}[]", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            op = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                visit(parameter.get("schema", {}), f"{op} {parameter['in']} {parameter['name']}", frozenset())
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                visit(content.get("schema", {}), f"{op} body ({media})", frozenset())
    return sorted(set(found))
