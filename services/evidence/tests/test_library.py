"""The library: the school admin publishes manuals for roles; people see the ones for their roles."""

from __future__ import annotations

import httpx

from evidence.settings import EvidenceSettings
from kit.auth import Role
from kit.mongo import Client

from .conftest import World
from .test_rules import outbox_types


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


async def test_a_manual_is_replaced_and_withdrawn_kept_and_audited(client: httpx.AsyncClient, world: World,
                                                                   settings: EvidenceSettings,
                                                                   mongo_client: Client) -> None:
    admin = world.headers([Role.SCHOOL_ADMIN])
    base = f"/v1/schools/{world.school}/library"
    first = (await publish(client, world, "handleiding-v1.txt", ["student"])).json()
    second = await client.post(f"{base}?filename=handleiding-v2.txt&replaces={first['id']}",
                               content=b"Handleiding versie 2", headers=admin)
    assert second.status_code == 201, second.text
    assert second.json()["roles"] == ["student"]  # a replacement keeps the old manual's roles
    student = world.headers([Role.STUDENT])
    assert [f["filename"] for f in (await client.get(base, headers=student)).json()] == ["handleiding-v2.txt"]
    old = f"/v1/schools/{world.school}/files/{first['id']}"
    assert (await client.get(f"{old}/content", headers=student)).status_code == 404
    kept = (await client.get(old, headers=admin)).json()
    assert kept["status"] == "withdrawn" and kept["replaced_by"] == second.json()["id"]
    assert (await client.get(f"{old}/content", headers=admin)).text == "Handleiding handleiding-v1.txt"
    assert [t["action"] for t in (await client.get(f"{old}/audit", headers=admin)).json()] == ["uploaded", "replaced"]
    again = await client.post(f"{base}?filename=x.txt&replaces={first['id']}", content=b"x", headers=admin)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "replaces"

    withdrawn = await client.post(f"{base}/{second.json()['id']}/withdraw", headers=admin)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert (await client.get(base, headers=student)).json() == []
    everything = await client.get(f"{base}?include_withdrawn=true", headers=admin)
    assert sorted(f["filename"] for f in everything.json()) == ["handleiding-v1.txt", "handleiding-v2.txt"]
    assert (await client.post(f"{base}/{second.json()['id']}/withdraw", headers=admin)).status_code == 409
    assert await outbox_types(mongo_client, settings) == [
        "evidence.file_uploaded", "evidence.file_withdrawn", "evidence.file_uploaded", "evidence.file_withdrawn"]


async def test_only_the_school_admin_withdraws_manuals_and_only_manuals(client: httpx.AsyncClient,
                                                                       world: World) -> None:
    manual = (await publish(client, world, "m.txt", ["student"])).json()["id"]
    path = f"/v1/schools/{world.school}/library/{manual}/withdraw"
    for role in (Role.STUDENT, Role.SCHOOL_SUPERVISOR, Role.EXAM_BOARD):
        assert (await client.post(path, headers=world.headers([role]))).status_code == 403
    assert (await client.post(path, headers=world.headers([Role.SCHOOL_ADMIN], school="elsewhere"))).status_code \
        == 403
    student = await world.student()
    attempt = await world.attempt(student)
    evidence = (await client.post(f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=e.txt",
                                  content=b"bewijs", headers=student.headers)).json()["id"]
    not_a_manual = f"/v1/schools/{world.school}/library/{evidence}/withdraw"
    assert (await client.post(not_a_manual, headers=world.headers([Role.SCHOOL_ADMIN]))).status_code == 404
