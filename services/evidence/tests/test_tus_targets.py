"""Resumable uploads (tus) of an assessor's attachment to a part's assessment and of an exam-board case's
document: who may start one, and a part finalized or a case decided before the last PATCH keeps nothing."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from minio import Minio

from contracts.exams import ExamBoardCaseDecidedV1, PartAssessmentFinalizedV1
from evidence.settings import EvidenceSettings
from kit.auth import Role
from kit.mongo import Client

from .conftest import MiB, World, bucket_objects, open_uploads
from .test_bank_attachments import uploaded_events
from .test_case_documents import opened
from .test_rules import finalized
from .test_tus import TUS, metadata

REPORT = b"%PDF-1.7\n" + os.urandom(8 * MiB)  # more than one S3 part: the first PATCH leaves a part and a tail


async def start(client: httpx.AsyncClient, world: World, headers: dict[str, str], **meta: str) -> httpx.Response:
    return await client.post(f"/v1/schools/{world.school}/uploads", headers={
        **headers, **TUS, "Upload-Length": str(len(REPORT)),
        "Upload-Metadata": metadata(filename="beoordeling.pdf", **meta)})


async def send(client: httpx.AsyncClient, location: str, headers: dict[str, str], offset: int,
               data: bytes) -> httpx.Response:
    return await client.patch(location, content=data, headers={
        **headers, **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
        "Accept-Language": "en"})


async def in_two(client: httpx.AsyncClient, location: str, headers: dict[str, str]) -> httpx.Response:
    first = await send(client, location, headers, 0, REPORT[:6 * MiB])
    assert first.status_code == 204, first.text
    return await send(client, location, headers, 6 * MiB, REPORT[6 * MiB:])


def part_final(world: World, attempt: str, student_id: str, part_id: str = "p1") -> PartAssessmentFinalizedV1:
    return PartAssessmentFinalizedV1(
        schedule_id="sch-1", attempt_id=attempt, school_id=world.school, student_id=student_id, exam_id="exam-1",
        part_id=part_id, finalized_by="assessor-1", finalized_at=datetime.now(UTC), divergences=0)


async def test_an_assessor_attaches_a_file_to_a_part_resumably(
        client: httpx.AsyncClient, world: World, mongo_client: Client, settings: EvidenceSettings) -> None:
    student = await world.student()
    assessor_id = uuid.uuid4().hex
    attempt = await world.attempt(student, assessor_id=assessor_id)
    assessor = world.headers([Role.ASSESSOR], assessor_id)
    created = await start(client, world, assessor, attempt_id=attempt, part_id="p1")
    assert created.status_code == 201, created.text
    done = await in_two(client, created.headers["location"], assessor)
    assert done.status_code == 204, done.text
    file = (await client.get(f"/v1/schools/{world.school}/files/{done.headers['x-file-id']}",
                             headers=assessor)).json()
    assert (file["kind"], file["attempt_id"], file["part_id"]) == ("assessment_attachment", attempt, "p1")
    assert file["sha256"] == hashlib.sha256(REPORT).hexdigest() and file["filename"] == "beoordeling.pdf"
    events = await uploaded_events(mongo_client, settings)
    assert [(e["kind"], e["part_id"]) for e in events] == [("assessment_attachment", "p1")]
    # a student's attempt_id without part_id is still evidence
    evidence = await start(client, world, student.headers, attempt_id=attempt)
    assert evidence.status_code == 201
    done = await in_two(client, evidence.headers["location"], student.headers)
    file = (await client.get(f"/v1/schools/{world.school}/files/{done.headers['x-file-id']}",
                             headers=student.headers)).json()
    assert (file["kind"], file["part_id"]) == ("evidence", None)


async def test_only_an_assessor_of_an_open_part_starts_one(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student, assessor_id="assessor-1")
    other_assessor = {**world.headers([Role.ASSESSOR]), "Accept-Language": "en"}
    refused = await start(client, world, other_assessor, attempt_id=attempt, part_id="p1")
    assert refused.status_code == 403 and "Only the assessors of this exam attempt" in refused.json()["detail"]
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR])
    assert (await start(client, world, supervisor, attempt_id=attempt, part_id="p1")).status_code == 403
    elsewhere = world.headers([Role.ASSESSOR], "assessor-1", school="another-school")
    assert (await start(client, world, elsewhere, attempt_id=attempt, part_id="p1")).status_code == 403
    assessor = world.headers([Role.ASSESSOR], "assessor-1")
    assert (await start(client, world, assessor, attempt_id=attempt, part_id="p9")).status_code == 404
    await world.feed(part_final(world, attempt, student.student_id))
    final = await start(client, world, {**assessor, "Accept-Language": "en"}, attempt_id=attempt, part_id="p1")
    assert final.status_code == 409 and "final" in final.json()["detail"]
    assert final.headers["content-type"].startswith("application/problem+json")


async def test_a_part_finalized_before_the_last_patch_keeps_nothing(
        client: httpx.AsyncClient, world: World, s3: Minio, settings: EvidenceSettings,
        mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student, assessor_id="assessor-1")
    assessor = world.headers([Role.ASSESSOR], "assessor-1")
    location = (await start(client, world, assessor, attempt_id=attempt, part_id="p1")).headers["location"]
    assert (await send(client, location, assessor, 0, REPORT[:6 * MiB])).status_code == 204
    assert bucket_objects(s3, settings.s3_bucket) != []  # the tail of the first PATCH
    await world.feed(part_final(world, attempt, student.student_id))
    refused = await send(client, location, assessor, 6 * MiB, REPORT[6 * MiB:])
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "assessment of this part is final" in refused.json()["detail"]
    assert bucket_objects(s3, settings.s3_bucket) == [] and open_uploads(s3, settings.s3_bucket) == []
    db = mongo_client[settings.database]
    assert await db.files.count_documents({}) == 0
    assert (await db.uploads.find_one({}))["state"] == "refused"
    assert await uploaded_events(mongo_client, settings) == []


async def test_a_patch_is_refused_once_the_attempt_is_finalized(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student, assessor_id="assessor-1")
    assessor = world.headers([Role.ASSESSOR], "assessor-1")
    location = (await start(client, world, assessor, attempt_id=attempt, part_id="p1")).headers["location"]
    assert (await send(client, location, assessor, 0, REPORT[:MiB])).status_code == 204
    await world.feed(finalized(world, attempt, student.student_id))
    refused = await send(client, location, assessor, MiB, REPORT[MiB:])
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]


async def test_case_documents_by_the_student_and_the_board(
        client: httpx.AsyncClient, world: World, mongo_client: Client, settings: EvidenceSettings) -> None:
    student = await world.student()
    await opened(world, student.student_id)
    board = world.headers([Role.EXAM_BOARD])
    for headers in (student.headers, board):
        created = await start(client, world, headers, case_id="case-1")
        assert created.status_code == 201, created.text
        done = await in_two(client, created.headers["location"], headers)
        assert done.status_code == 204, done.text
        file = (await client.get(f"/v1/schools/{world.school}/files/{done.headers['x-file-id']}",
                                 headers=student.headers)).json()
        assert (file["kind"], file["case_id"], file["student_id"]) == ("case_document", "case-1",
                                                                      student.student_id)
    events = await uploaded_events(mongo_client, settings)
    assert [(e["kind"], e["case_id"]) for e in events] == [("case_document", "case-1")] * 2
    other = await world.student()
    assert (await start(client, world, other.headers, case_id="case-1")).status_code == 404
    assert (await start(client, world, world.headers([Role.ASSESSOR]), case_id="case-1")).status_code == 403


async def test_a_decided_case_takes_no_document(client: httpx.AsyncClient, world: World, s3: Minio,
                                                settings: EvidenceSettings, mongo_client: Client) -> None:
    student = await world.student()
    await opened(world, student.student_id)
    location = (await start(client, world, student.headers, case_id="case-1")).headers["location"]
    assert (await send(client, location, student.headers, 0, REPORT[:6 * MiB])).status_code == 204
    await world.feed(ExamBoardCaseDecidedV1(case_id="case-1", school_id=world.school, student_id=student.student_id,
                                            kind="exemption", decided_at=datetime.now(UTC)))
    refused = await send(client, location, student.headers, 6 * MiB, REPORT[6 * MiB:])
    assert refused.status_code == 409 and "decided" in refused.json()["detail"]
    assert bucket_objects(s3, settings.s3_bucket) == [] and open_uploads(s3, settings.s3_bucket) == []
    assert await mongo_client[settings.database].files.count_documents({}) == 0
    decided = await start(client, world, {**student.headers, "Accept-Language": "en"}, case_id="case-1")
    assert decided.status_code == 409 and "decided" in decided.json()["detail"]


async def test_a_plain_upload_that_outlives_the_part_or_the_case_keeps_nothing(
        client: httpx.AsyncClient, world: World, s3: Minio, settings: EvidenceSettings,
        mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student, assessor_id="assessor-1")
    await opened(world, student.student_id)
    decided = ExamBoardCaseDecidedV1(case_id="case-1", school_id=world.school, student_id=student.student_id,
                                     kind="exemption", decided_at=datetime.now(UTC))
    uploads = [
        (f"attempts/{attempt}/parts/p1/assessment-attachments", world.headers([Role.ASSESSOR], "assessor-1"),
         part_final(world, attempt, student.student_id), "assessment of this part is final"),
        ("cases/case-1/documents", student.headers, decided, "decided"),
    ]
    for path, headers, event, said in uploads:
        async def body(closing: Any = event) -> AsyncIterator[bytes]:
            yield REPORT[:6 * MiB]  # checked and streaming: the part is finalized (the case decided) meanwhile
            await world.feed(closing)
            yield REPORT[6 * MiB:]

        refused = await client.post(f"/v1/schools/{world.school}/{path}?filename=verslag.pdf", content=body(),
                                    headers={**headers, "Accept-Language": "en"})
        assert refused.status_code == 409, refused.text
        assert said in refused.json()["detail"]
    assert bucket_objects(s3, settings.s3_bucket) == [] and open_uploads(s3, settings.s3_bucket) == []
    assert await mongo_client[settings.database].files.count_documents({}) == 0
