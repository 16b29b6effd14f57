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
