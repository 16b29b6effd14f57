"""The library: the school admin publishes manuals for roles; people see the ones for their roles."""

from __future__ import annotations

import httpx

from kit.auth import Role

from .conftest import World


async def publish(client: httpx.AsyncClient, world: World, name: str, roles: list[str]) -> httpx.Response:
    query = "&".join(f"roles={r}" for r in roles)
    return await client.post(f"/v1/schools/{world.school}/library?filename={name}&{query}",
                             content=f"Handleiding {name}".encode(), headers=world.headers([Role.SCHOOL_ADMIN]))


async def test_people_see_the_manuals_for_their_roles(client: httpx.AsyncClient, world: World) -> None:
    for_students = await publish(client, world, "student.txt", ["student"])
    assert for_students.status_code == 201, for_students.text
    assert for_students.json()["retention_class"] == "reference"
    for_assessors = await publish(client, world, "beoordelaar.txt", ["assessor", "school_supervisor"])
    base = f"/v1/schools/{world.school}/library"
    student = await client.get(base, headers=world.headers([Role.STUDENT]))
    assert [f["filename"] for f in student.json()] == ["student.txt"]
    assessor = await client.get(base, headers=world.headers([Role.ASSESSOR]))
    assert [f["filename"] for f in assessor.json()] == ["beoordelaar.txt"]
    admin = await client.get(base, headers=world.headers([Role.SCHOOL_ADMIN]))
    assert len(admin.json()) == 2
    manual = f"/v1/schools/{world.school}/files/{for_assessors.json()['id']}/content"
    assert (await client.get(manual, headers=world.headers([Role.STUDENT]))).status_code == 404
    assert (await client.get(manual, headers=world.headers([Role.ASSESSOR]))).text == "Handleiding beoordelaar.txt"


async def test_only_school_admins_publish_and_roles_must_be_valid(client: httpx.AsyncClient, world: World) -> None:
    path = f"/v1/schools/{world.school}/library?filename=x.txt&roles=student"
    assert (await client.post(path, content=b"x", headers=world.headers([Role.SCHOOL_SUPERVISOR]))).status_code == 403
    elsewhere = world.headers([Role.SCHOOL_ADMIN], school="elsewhere")
    assert (await client.post(path, content=b"x", headers=elsewhere)).status_code == 403
    bad = await publish(client, world, "x.txt", ["wizard"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "roles"
    assert (await publish(client, world, "x.txt", [])).status_code == 422
    other = await client.get(f"/v1/schools/{world.school}/library", headers=elsewhere)
    assert other.status_code == 403
