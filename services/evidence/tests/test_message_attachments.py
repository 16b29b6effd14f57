"""Message attachments: uploaded by a student or supervisor, readable by the message's recipients only."""

from __future__ import annotations

import hashlib
import os
import uuid

import httpx

from contracts.notifications import MessageSentV1
from evidence.settings import EvidenceSettings
from kit.auth import Role

from .conftest import World
from .test_tus import TUS, metadata, patch
from .test_upload import chunks


async def test_recipients_may_read_an_attachment_once_the_message_is_sent(
    client: httpx.AsyncClient, world: World
) -> None:
    student = await world.student()
    supervisor_id, stranger_id = uuid.uuid4().hex, uuid.uuid4().hex
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR], supervisor_id)
    stranger = world.headers([Role.SCHOOL_SUPERVISOR], stranger_id)
    base = f"/v1/schools/{world.school}"
    uploaded = await client.post(f"{base}/message-attachments?filename=planning.pdf",
                                 content=b"%PDF-1.4 planning", headers=student.headers)
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    content = f"{base}/files/{file_id}/content"
    assert (await client.get(content, headers=student.headers)).status_code == 200
    assert (await client.get(content, headers=supervisor)).status_code == 404  # not sent yet
    outcome = await world.feed(MessageSentV1(message_id="m1", school_id=world.school, sender_id=student.user_id,
                                             recipient_ids=[supervisor_id], attachment_ids=[file_id]))
    assert outcome.status == "handled"
    read = await client.get(content, headers=supervisor)
    assert read.status_code == 200 and read.content == b"%PDF-1.4 planning"
    assert (await client.get(content, headers=stranger)).status_code == 404


async def test_a_message_cannot_grant_someone_elses_file(client: httpx.AsyncClient, world: World) -> None:
    owner, other = await world.student(), await world.student()
    supervisor_id = uuid.uuid4().hex
    base = f"/v1/schools/{world.school}"
    file_id = (await client.post(f"{base}/message-attachments?filename=a.txt", content=b"private",
                                 headers=owner.headers)).json()["id"]
    await world.feed(MessageSentV1(message_id="m2", school_id=world.school, sender_id=other.user_id,
                                   recipient_ids=[supervisor_id], attachment_ids=[file_id]))
    read = await client.get(f"{base}/files/{file_id}/content",
                            headers=world.headers([Role.SCHOOL_SUPERVISOR], supervisor_id))
    assert read.status_code == 404


async def test_only_students_and_supervisors_of_the_school_upload_attachments(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"/v1/schools/{world.school}/message-attachments?filename=a.txt"
    assert (await client.post(path, content=b"x", headers=world.headers([Role.ASSESSOR]))).status_code == 403
    elsewhere = world.headers([Role.STUDENT], school="elsewhere")
    assert (await client.post(path, content=b"x", headers=elsewhere)).status_code == 403
    assert (await client.post(path, content=b"x")).status_code == 401


async def test_message_attachments_take_files_up_to_the_evidence_limit(
    client: httpx.AsyncClient, world: World, settings: EvidenceSettings
) -> None:
    """Not capped at the 1 MiB JSON body limit: a 5 MB attachment is stored whole; past the file limit is 413."""
    student = await world.student()
    path = f"/v1/schools/{world.school}/message-attachments?filename=verslag.pdf"
    five_mb = b"%PDF-1.4\n" + os.urandom(5_000_000)
    uploaded = await client.post(path, content=five_mb, headers=student.headers)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == len(five_mb)
    assert uploaded.json()["sha256"] == hashlib.sha256(five_mb).hexdigest()
    over = await client.post(path, content=chunks(bytes(settings.max_file_bytes + 1)), headers=student.headers)
    assert over.status_code == 413 and over.json()["max_bytes"] == settings.max_file_bytes


async def test_a_resumable_upload_becomes_a_message_attachment_the_recipient_reads(
    client: httpx.AsyncClient, world: World
) -> None:
    """tus with kind=message_attachment (the messages page's upload control); only students and supervisors."""
    student = await world.student()
    supervisor_id = uuid.uuid4().hex
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR], supervisor_id)
    base = f"/v1/schools/{world.school}"
    body = b"%PDF-1.4 verslag " + os.urandom(100_000)
    meta = metadata(filename="verslag.pdf", kind="message_attachment")
    for roles in ([Role.ASSESSOR], [Role.SCHOOL_ADMIN], [Role.EXAM_BOARD]):
        refused = await client.post(f"{base}/uploads", headers={
            **world.headers(roles), **TUS, "Upload-Length": str(len(body)), "Upload-Metadata": meta})
        assert refused.status_code == 403, roles
    elsewhere = await client.post(f"{base}/uploads", headers={
        **world.headers([Role.STUDENT], school="elsewhere"), **TUS, "Upload-Length": "5", "Upload-Metadata": meta})
    assert elsewhere.status_code == 403
    created = await client.post(f"{base}/uploads", headers={
        **student.headers, **TUS, "Upload-Length": str(len(body)), "Upload-Metadata": meta})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    first = await patch(client, location, student, 0, body[:40_000])
    assert first.status_code == 204 and first.headers["upload-offset"] == "40000"
    last = await patch(client, location, student, 40_000, body[40_000:])
    assert last.status_code == 204, last.text
    file_id = last.headers["x-file-id"]
    described = (await client.get(f"{base}/files/{file_id}", headers=student.headers)).json()
    assert described["kind"] == "message_attachment" and described["filename"] == "verslag.pdf"
    content = f"{base}/files/{file_id}/content"
    assert (await client.get(content, headers=supervisor)).status_code == 404  # not sent yet
    await world.feed(MessageSentV1(message_id="m3", school_id=world.school, sender_id=student.user_id,
                                   recipient_ids=[supervisor_id], attachment_ids=[file_id]))
    read = await client.get(content, headers=supervisor)
    assert read.status_code == 200 and read.content == body
