"""The OpenAPI document states what every route answers."""

from __future__ import annotations

from kit.testing.openapi import answers_without_schema, unbounded_integers

from .conftest import Env


async def test_every_route_declares_what_it_answers(env: Env) -> None:
    spec = (await env.http.get("/openapi.json")).json()
    assert answers_without_schema(spec) == [] and unbounded_integers(spec) == []
    student = spec["components"]["schemas"]["StudentOut"]["properties"]
    assert "start_year" in student and "cohort" in spec["components"]["schemas"]["ProgrammeOut"]["properties"]
