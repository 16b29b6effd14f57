"""Rules from exams' events: uploads only in execution, withdrawal, locking on finalization; events out."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import httpx
from minio import Minio

from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1
from contracts.exams import AssessmentFinalizedV1
from contracts.identity import MembershipGrantedV1
from evidence.settings import EvidenceSettings
from kit.auth import Role
from kit.mongo import Client

from .conftest import World

PDF = b"%PDF-1.7\n" + os.urandom(1000)


async def upload(client: httpx.AsyncClient, world: World, attempt: str, headers: dict[str, str],
                 data: bytes = PDF) -> httpx.Response:
    return await client.post(f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=a.pdf",
                             content=data, headers=headers)


def finalized(world: World, attempt: str, student_id: str) -> AssessmentFinalizedV1:
    return AssessmentFinalizedV1(attempt_id=attempt, school_id=world.school, student_id=student_id,
                                 exam_id="exam-1", finalized_by="assessor-1", finalized_at=datetime.now(UTC))


async def outbox_types(mongo_client: Client, settings: EvidenceSettings) -> list[str]:
    rows = await mongo_client[settings.database].outbox.find().sort("_id", 1).to_list()
    return [row["type"] for row in rows]


async def test_withdrawn_evidence_is_hidden_kept_and_audited(client: httpx.AsyncClient, world: World, s3: Minio,
                                                             settings: EvidenceSettings,
                                                             mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    file_id = (await upload(client, world, attempt, student.headers)).json()["id"]
    base = f"/v1/schools/{world.school}"
    withdrawn = await client.post(f"{base}/files/{file_id}/withdraw", headers=student.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    listing = await client.get(f"{base}/attempts/{attempt}/evidence", headers=student.headers)
    assert listing.json() == []
    assert (await client.get(f"{base}/files/{file_id}/content", headers=student.headers)).status_code == 404
    admin = world.headers([Role.SCHOOL_ADMIN])
    kept = await client.get(f"{base}/attempts/{attempt}/evidence?include_withdrawn=true", headers=admin)
    assert [f["id"] for f in kept.json()] == [file_id]
    assert len(list(s3.list_objects(settings.s3_bucket, recursive=True))) == 1  # never deleted
    trail = await client.get(f"{base}/files/{file_id}/audit", headers=admin)
    assert [t["action"] for t in trail.json()] == ["uploaded", "withdrawn"]
    assert await outbox_types(mongo_client, settings) == ["evidence.file_uploaded", "evidence.file_withdrawn"]
    again = await client.post(f"{base}/files/{file_id}/withdraw", headers=student.headers)
    assert again.status_code == 409


async def test_finalized_assessment_locks_evidence(client: httpx.AsyncClient, world: World, s3: Minio,
                                                   settings: EvidenceSettings, mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    first = (await upload(client, world, attempt, student.headers)).json()["id"]
    second = (await upload(client, world, attempt, student.headers)).json()["id"]
    outcome = await world.feed(finalized(world, attempt, student.student_id), subject=attempt)
    assert outcome.status == "handled"
    base = f"/v1/schools/{world.school}"
    added = await upload(client, world, attempt, student.headers)
    assert added.status_code == 409
    assert "vergrendeld" in added.json()["detail"]  # Dutch by default
    assert (await client.post(f"{base}/files/{first}/withdraw", headers=student.headers)).status_code == 409
    replaced = await client.post(f"{base}/attempts/{attempt}/evidence?filename=b.pdf&replaces={first}",
                                 content=PDF, headers=student.headers)
    assert replaced.status_code == 409
    files = (await client.get(f"{base}/attempts/{attempt}/evidence", headers=student.headers)).json()
    assert {f["id"] for f in files} == {first, second} and all(f["locked"] for f in files)
    # S3 object lock (governance) on the bytes: SeaweedFS supports it.
    retention = s3.get_object_retention(settings.s3_bucket, f"schools/{world.school}/evidence/{first}")
    assert retention is not None and retention.mode == "GOVERNANCE"
    types = await outbox_types(mongo_client, settings)
    assert types.count("evidence.evidence_locked") == 1
    locked = await mongo_client[settings.database].outbox.find_one({"type": "evidence.evidence_locked"})
    assert '"file_ids"' in locked["payload"] and first in locked["payload"]
    # a replayed event (new event id) changes nothing and publishes nothing again
    assert (await world.feed(finalized(world, attempt, student.student_id))).status == "handled"
    assert (await outbox_types(mongo_client, settings)).count("evidence.evidence_locked") == 1


async def test_replacing_withdraws_the_old_item(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    old = (await upload(client, world, attempt, student.headers)).json()["id"]
    base = f"/v1/schools/{world.school}"
    new = await client.post(f"{base}/attempts/{attempt}/evidence?filename=b.pdf&replaces={old}", content=PDF,
                            headers=student.headers)
    assert new.status_code == 201
    files = (await client.get(f"{base}/attempts/{attempt}/evidence", headers=student.headers)).json()
    assert [f["id"] for f in files] == [new.json()["id"]]


async def test_who_may_see_a_students_evidence(client: httpx.AsyncClient, world: World) -> None:
    student = await world.student()
    assessor_id = uuid.uuid4().hex
    attempt = await world.attempt(student, assessor_id=assessor_id)
    file_id = (await upload(client, world, attempt, student.headers)).json()["id"]
    path = f"/v1/schools/{world.school}/files/{file_id}"
    supervisor_id = uuid.uuid4().hex
    supervisor = world.headers([Role.SCHOOL_SUPERVISOR], supervisor_id)
    assert (await client.get(path, headers=supervisor)).status_code == 404  # not linked yet
    link = PersonLinkedV1(student_id=student.student_id, school_id=world.school, user_id=supervisor_id,
                          relation="school_supervisor")
    assert (await world.feed(link)).status == "handled"
    assert (await world.feed(link)).status == "handled"  # a replay is harmless
    assert (await client.get(path, headers=supervisor)).status_code == 200
    assert (await client.get(path, headers=world.headers([Role.ASSESSOR], assessor_id))).status_code == 200
    assert (await client.get(path, headers=world.headers([Role.ASSESSOR]))).status_code == 404
    assert (await client.get(path, headers=world.headers([Role.EXAM_BOARD]))).status_code == 200
    assert (await client.get(path, headers=(await world.student()).headers)).status_code == 404
    other_school = world.headers([Role.SCHOOL_ADMIN], school="other-school")
    assert (await client.get(path, headers=other_school)).status_code == 403
    await world.feed(PersonUnlinkedV1(student_id=student.student_id, school_id=world.school, user_id=supervisor_id,
                                      relation="school_supervisor"))
    assert (await client.get(path, headers=supervisor)).status_code == 404


async def test_malformed_and_unusable_events_go_to_the_dead_letter_topic(world: World) -> None:
    bad = await world.feed(MembershipGrantedV1(user_id="u", school_id=world.school, role="student",
                                               roles=["student"]))
    assert bad.status == "dead_lettered" and "student_id" in (bad.reason or "")
    garbage = await world.feed(finalized(world, "a", "s"), raw=b"{not json")
    assert garbage.status == "dead_lettered"


async def test_a_file_completed_after_finalization_is_flagged_and_never_counts(
        client: httpx.AsyncClient, world: World, mongo_client: Client, settings: EvidenceSettings) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    before = (await upload(client, world, attempt, student.headers)).json()["id"]
    event = finalized(world, attempt, student.student_id)  # exams finalized now; evidence learns of it later
    slipped = await upload(client, world, attempt, student.headers)
    assert slipped.status_code == 201  # evidence could not know yet
    assert (await world.feed(event, subject=attempt)).status == "handled"
    base = f"/v1/schools/{world.school}"
    listed = {f["id"]: f for f in (await client.get(f"{base}/attempts/{attempt}/evidence",
                                                    headers=student.headers)).json()}
    assert listed[before]["status"] == "active" and listed[before]["flag"] is None
    late = listed[slipped.json()["id"]]
    assert (late["status"], late["flag"]) == ("late", "completed_after_finalization")
    own = await client.get(f"{base}/files/{late['id']}", headers={**student.headers})
    assert own.status_code == 200 and own.json()["finalized_at"] is not None
    locked = await mongo_client[settings.database].outbox.find_one({"type": "evidence.evidence_locked"})
    assert before in locked["payload"] and late["id"] not in locked["payload"]
    trail = await client.get(f"{base}/files/{late['id']}/audit", headers=world.headers([Role.SCHOOL_ADMIN]))
    assert [t["action"] for t in trail.json()] == ["uploaded", "flagged_late"]
    refused = await upload(client, world, attempt, {**student.headers, "Accept-Language": "en"})
    assert refused.status_code == 409 and "does not count" in refused.json()["detail"]
