"""Every endpoint refuses a caller from another school, and the role-bound ones a caller with the wrong role."""

from __future__ import annotations

import httpx
import pytest

from kit.auth import Role

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
    ("POST", "/library?filename=x&roles=student", [Role.STUDENT, Role.SCHOOL_SUPERVISOR]),
    ("GET", "/library", []),
    ("POST", "/uploads", [Role.ASSESSOR, Role.EXAM_BOARD, Role.WORKPLACE_TRAINER]),
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
