"""Downloads: streamed with Range for video seeking, or by a short-lived presigned URL."""

from __future__ import annotations

import os

import httpx

from contracts.exams import AssignmentPreparedV1
from kit.auth import Role

from .conftest import MiB, World

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(6 * MiB)


async def stored_video(client: httpx.AsyncClient, world: World) -> tuple[str, dict[str, str]]:
    student = await world.student()
    attempt = await world.attempt(student)
    response = await client.post(f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=clip.mp4",
                                 content=MP4, headers=student.headers)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "video/mp4"
    return response.json()["id"], student.headers


async def test_range_requests_seek_in_a_video(client: httpx.AsyncClient, world: World) -> None:
    file_id, headers = await stored_video(client, world)
    path = f"/v1/schools/{world.school}/files/{file_id}/content"
    part = await client.get(path, headers={**headers, "Range": "bytes=5242000-5242999"})
    assert part.status_code == 206
    assert part.content == MP4[5242000:5243000]
    assert part.headers["content-range"] == f"bytes 5242000-5242999/{len(MP4)}"
    assert part.headers["content-type"] == "video/mp4"
    tail = await client.get(path, headers={**headers, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == MP4[-10:]
    rest = await client.get(path, headers={**headers, "Range": f"bytes={len(MP4) - 3}-"})
    assert rest.content == MP4[-3:]
    outside = await client.get(path, headers={**headers, "Range": f"bytes={len(MP4)}-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(MP4)}"
    whole = await client.get(path, headers=headers)
    assert whole.status_code == 200 and whole.content == MP4 and whole.headers["accept-ranges"] == "bytes"


async def test_presigned_url_downloads_the_bytes_and_expires_soon(client: httpx.AsyncClient, world: World) -> None:
    file_id, headers = await stored_video(client, world)
    answer = await client.get(f"/v1/schools/{world.school}/files/{file_id}/url", headers=headers)
    assert answer.status_code == 200
    assert "X-Amz-Expires=300" in answer.json()["url"]
    async with httpx.AsyncClient() as plain:
        fetched = await plain.get(answer.json()["url"], headers={"Range": "bytes=0-99"})
        assert fetched.status_code == 206 and fetched.content == MP4[:100]
        assert "clip.mp4" in fetched.headers["content-disposition"]
        tampered = await plain.get(answer.json()["url"].replace("type=video", "type=text"))
        assert tampered.status_code == 403
    stranger = world.headers([Role.SCHOOL_SUPERVISOR])
    assert (await client.get(f"/v1/schools/{world.school}/files/{file_id}/url", headers=stranger)).status_code == 404


async def test_supervisor_attaches_files_to_assignments_of_linked_students(client: httpx.AsyncClient,
                                                                           world: World) -> None:
    from contracts.enrollment import PersonLinkedV1

    student = await world.student()
    supervisor_id = "sup-" + world.school
    await world.feed(PersonLinkedV1(student_id=student.student_id, school_id=world.school, user_id=supervisor_id,
                                    relation="school_supervisor"))
    await world.feed(AssignmentPreparedV1(assignment_id="as-1", school_id=world.school,
                                          student_id=student.student_id, exam_id="e", exam_name="Examen",
                                          approver_ids=[]))
    path = f"/v1/schools/{world.school}/assignments/as-1/attachments?filename=opdracht.txt"
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR], supervisor_id)
    response = await client.post(path, content=b"Opdracht: bouw een muur.", headers=supervisor)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "assignment_attachment"
    assert response.json()["content_type"] == "text/plain"
    got = await client.get(f"/v1/schools/{world.school}/files/{response.json()['id']}/content",
                           headers=student.headers)
    assert got.text == "Opdracht: bouw een muur."
    assert (await client.post(path, content=b"x", headers=world.headers([Role.SCHOOL_SUPERVISOR]))).status_code == 404
    assert (await client.post(path, content=b"x", headers=student.headers)).status_code == 403
    other_school = world.headers([Role.SCHOOL_SUPERVISOR], supervisor_id, school="elsewhere")
    assert (await client.post(path, content=b"x", headers=other_school)).status_code == 403


async def test_presigned_download_is_an_attachment_of_the_stored_type(client: httpx.AsyncClient,
                                                                      world: World) -> None:
    """SeaweedFS answers a presigned download as a download of the stored name and type (nosniff is added by the
    gateway, which S3 overrides cannot do: tests/e2e/test_evidence_journeys.py)."""
    student = await world.student()
    attempt = await world.attempt(student)
    html = b"<html><script>alert(1)</script></html>"
    stored = await client.post(f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=verslag%20mei.html",
                               content=html, headers=student.headers)
    assert stored.status_code == 201, stored.text
    answer = await client.get(f"/v1/schools/{world.school}/files/{stored.json()['id']}/url", headers=student.headers)
    async with httpx.AsyncClient() as plain:
        fetched = await plain.get(answer.json()["url"])
    assert fetched.status_code == 200 and fetched.content == html
    assert fetched.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''verslag%20mei.html" in fetched.headers["content-disposition"]
    assert fetched.headers["content-type"].startswith("text/plain")
