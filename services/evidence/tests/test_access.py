"""Every endpoint refuses a caller from another school, and the role-bound ones a caller with the wrong role."""

from __future__ import annotations

import base64

import httpx
import pytest

from kit.auth import Role
from kit.testing.openapi import answers_without_schema, unbounded_integers, undeclared_path_parameters

from .conftest import World

TUS = {"Tus-Resumable": "1.0.0"}

# (method, path under /v1/schools/{school}, roles that may not call it at all)
ENDPOINTS = [
    ("POST", "/attempts/a1/evidence?filename=x", [Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.SCHOOL_ADMIN]),
    ("GET", "/attempts/a1/evidence", []),
    ("POST", "/files/f1/withdraw", [Role.SCHOOL_ADMIN, Role.ASSESSOR]),
    ("GET", "/files/f1", []),
    ("GET", "/files/f1/audit", [Role.STUDENT, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR]),
    ("GET", "/files/f1/content", []),
    ("GET", "/files/f1/url", []),
    ("POST", "/assignments/as1/attachments?filename=x", [Role.STUDENT, Role.ASSESSOR, Role.SCHOOL_ADMIN]),
    ("POST", "/bank/b1/attachments?filename=x", [Role.STUDENT, Role.ASSESSOR, Role.EXAM_BOARD, Role.WORKPLACE_TRAINER]),
    ("POST", "/library?filename=x&roles=student", [Role.STUDENT, Role.SCHOOL_SUPERVISOR]),
    ("GET", "/library", []),
    ("POST", "/attempts/a1/parts/p1/assessment-attachments?filename=x",
     [Role.STUDENT, Role.SCHOOL_SUPERVISOR, Role.SCHOOL_ADMIN, Role.EXAM_BOARD, Role.WORKPLACE_TRAINER]),
    ("POST", "/cases/c1/documents?filename=x",
     [Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.SCHOOL_ADMIN, Role.WORKPLACE_TRAINER]),
    ("POST", "/uploads", [Role.WORKPLACE_TRAINER]),  # assessors (part files) and the board (case documents) too
    ("HEAD", "/uploads/u1", []),
    ("PATCH", "/uploads/u1", []),
    ("DELETE", "/uploads/u1", []),
]


@pytest.mark.parametrize(("method", "path", "wrong_roles"), ENDPOINTS)
async def test_wrong_school_and_wrong_role_are_refused(client: httpx.AsyncClient, world: World, method: str,
                                                       path: str, wrong_roles: list[Role]) -> None:
    url = f"/v1/schools/{world.school}{path}"
    every_role = world.headers(list(Role), school="another-school")
    response = await client.request(method, url, content=b"x", headers={**every_role, **TUS})
    assert response.status_code == 403
    for role in wrong_roles:
        response = await client.request(method, url, content=b"x", headers={**world.headers([role]), **TUS})
        assert response.status_code == 403, (role, response.text)
    assert (await client.request(method, url, content=b"x", headers=TUS)).status_code == 401


async def test_the_openapi_declares_every_path_parameter_and_a_response_model(client: httpx.AsyncClient) -> None:
    """OPTIONS /uploads names school_id like every other route; every JSON answer has a schema."""
    spec = (await client.get("/openapi.json")).json()
    assert undeclared_path_parameters(spec) == [] and answers_without_schema(spec) == []
    assert unbounded_integers(spec) == []
    assert "school_id" in {p["name"] for p in spec["paths"]["/v1/schools/{school_id}/uploads"]["options"]["parameters"]}


async def test_control_characters_are_refused_in_text_fields(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    replaced = await client.post(f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=a.txt"
                                 f"&replaces=f%0E1", content=b"x", headers=student.headers)
    assert replaced.status_code == 422 and replaced.json()["errors"][0]["field"] == "replaces"
    hostile = (attempt + "\x0e").encode()
    meta = f"attempt_id {base64.b64encode(hostile).decode()}"
    tus = await client.post(f"/v1/schools/{world.school}/uploads", headers={
        **student.headers, **TUS, "Upload-Length": "10", "Upload-Metadata": meta})
    assert tus.status_code == 400 and tus.json()["errors"][0]["field"] == "Upload-Metadata"
    # a file name is cleaned instead: it comes from the uploader's file system
    named = await client.post(f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=ver%0Eslag.txt",
                              content=b"x", headers=student.headers)
    assert named.status_code == 201 and named.json()["filename"] == "verslag.txt"
