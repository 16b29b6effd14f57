"""The OpenAPI document states what every route answers."""

from __future__ import annotations

from .conftest import Env


async def test_every_route_declares_what_it_answers(env: Env) -> None:
    spec = (await env.http.get("/openapi.json")).json()
    missing = []
    for path, methods in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in methods.items():
            ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            content = ok.get("content", {})
            json_schema = content.get("application/json", {}).get("schema", {})
            binary = any(t != "application/json" for t in content)
            if not (json_schema.get("$ref") or binary):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
    student = spec["components"]["schemas"]["StudentOut"]["properties"]
    assert "start_year" in student and "cohort" in spec["components"]["schemas"]["ProgrammeOut"]["properties"]
