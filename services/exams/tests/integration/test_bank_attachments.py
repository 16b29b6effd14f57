"""Bank attachments end to end: exams announces the entry, evidence stores the bytes, exams lists the file.

Both services run on the real stand-in servers; the events travel as the relay would carry them (the staged
outbox payloads, handed to the other service's consumer runner).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from contracts import Envelope
from contracts.identity import MembershipGrantedV1
from evidence.app import create_app as create_evidence
from evidence.handlers import build_handlers as evidence_handlers
from evidence.settings import EvidenceSettings
from exams.settings import ExamsSettings
from kit.consumer import ConsumerRunner
from kit.kafka import create_producer, ensure_topics
from kit.mongo import Client, Db
from kit.outbox import row_events
from kit.testing.fixtures import S3Server
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer

from ..conftest import School


@dataclass
class Evidence:
    """The evidence API and its consumer, on a database of its own."""

    http: httpx.AsyncClient
    runner: ConsumerRunner
    db: Db


@pytest.fixture
async def evidence(settings: ExamsSettings, mongo_client: Client, issuer: TestIssuer,
                   s3_server: S3Server) -> AsyncIterator[Evidence]:
    config = EvidenceSettings(
        **settings.model_dump(include={"environment", "mongo_uri", "kafka_bootstrap", "kafka_partitions"}),
        service=f"{settings.service}-ev", auth_jwks_url=str(issuer.jwks_path), s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.credentials.access_key, s3_secret_key=s3_server.credentials.secret_key,
        s3_bucket=f"ev-{uuid.uuid4().hex[:12]}")
    await ensure_topics(config, [f"{config.service}.dlt"])
    producer = create_producer(config)
    await producer.start()
    db = mongo_client[config.database]
    runner = ConsumerRunner(config, mongo_client, db, producer, group=config.service, topics=["test.events"],
                            handlers=evidence_handlers(config)(db), backoff_s=0.01)
    try:
        async with service_client(create_evidence(config)) as http:
            yield Evidence(http, runner, db)
    finally:
        await producer.stop()
        await mongo_client.drop_database(config.database)


async def deliver(runner: ConsumerRunner, value: bytes) -> None:
    """One record to a consumer runner, as Kafka would hand it over."""
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord("test.events", 0, 0, 0, 0, b"s", value, None, 0,
                                                          len(value), [])
    outcome = await runner.process(record)
    assert outcome.status in ("handled", "duplicate"), outcome


async def relay(source: Db, event_type: str, runner: ConsumerRunner) -> list[dict[str, object]]:
    """Hand the events of one type staged in a service's outbox to another service's consumer (again: duplicates)."""
    rows = await source.outbox.find().sort("_id", 1).to_list()
    payloads = [e["payload"] for row in rows for e in row_events(row) if e["type"] == event_type]
    for payload in payloads:
        await deliver(runner, payload.encode())
    return [json.loads(p)["data"] for p in payloads]


async def test_an_admin_uploads_a_bank_attachment_and_it_shows_in_the_preview(school: School,
                                                                             evidence: Evidence) -> None:
    http, sid, world = school.world.http, school.school_id, school.world
    bank = await http.post(f"/v1/schools/{sid}/bank", headers=school.h("admin"), json={
        "exam_id": school.exam_id, "title": "Zorgplan", "text": "Voer het zorgplan uit.", "adopted": True})
    assert bank.status_code == 201, bank.text
    bank_id = bank.json()["id"]
    [saved] = await relay(world.db, "exams.bank_assignment_saved", evidence.runner)
    assert (saved["bank_assignment_id"], saved["school_id"], saved["version"]) == (bank_id, sid, 1)

    upload = await evidence.http.post(f"/v1/schools/{sid}/bank/{bank_id}/attachments?filename=zorgplan.txt",
                                      content=b"Stap 1: lees het dossier.", headers=school.h("admin"))
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["id"]
    for _ in range(2):  # a replayed event lists the file once
        await relay(evidence.db, "evidence.file_uploaded", world.runner)
    preview = await http.get(f"/v1/schools/{sid}/bank/{bank_id}", headers=school.h("assessor"))
    assert preview.status_code == 200
    assert preview.json()["attachment_ids"] == [file_id] and preview.json()["version"] == 2
    assert preview.headers["etag"] == '"2"'
    listed = await http.get(f"/v1/schools/{sid}/bank?exam_id={school.exam_id}", headers=school.h("supervisor"))
    assert [b["attachment_ids"] for b in listed.json()["items"]] == [[file_id]]
    got = await evidence.http.get(f"/v1/schools/{sid}/files/{file_id}/content", headers=school.h("assessor"))
    assert got.content == b"Stap 1: lees het dossier."

    # an assignment prepared from the bank entry carries the file, and its student may read it
    student = school.students[0]
    await deliver(evidence.runner, Envelope.wrap(MembershipGrantedV1(
        user_id=student.user_id, school_id=sid, role="student", roles=["student"], student_id=student.student_id),
        producer="identity", subject=student.user_id, school_id=sid).to_bytes())
    before = await evidence.http.get(f"/v1/schools/{sid}/files/{file_id}/content", headers=student.headers)
    assert before.status_code == 404
    [a] = await school.prepare([student], source="bank", bank_assignment_id=bank_id, adopter_id=None, title=None,
                               text=None)
    assert a["attachment_ids"] == [file_id]
    [prepared] = await relay(world.db, "exams.assignment_prepared", evidence.runner)
    assert prepared["attachment_ids"] == [file_id]
    after = await evidence.http.get(f"/v1/schools/{sid}/files/{file_id}/content", headers=student.headers)
    assert after.status_code == 200 and after.content == b"Stap 1: lees het dossier."


async def test_a_bank_entry_lists_only_files_uploaded_for_it(school: School, evidence: Evidence) -> None:
    http, sid = school.world.http, school.school_id
    forged = await http.post(f"/v1/schools/{sid}/bank", headers=school.h("supervisor"), json={
        "exam_id": school.exam_id, "title": "T", "text": "x", "attachment_ids": ["file_someone_elses"]})
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "attachment_ids"
    bank = await http.post(f"/v1/schools/{sid}/bank", headers=school.h("supervisor"),
                           json={"exam_id": school.exam_id, "title": "T", "text": "x"})
    bank_id = bank.json()["id"]
    await relay(school.world.db, "exams.bank_assignment_saved", evidence.runner)
    upload = await evidence.http.post(f"/v1/schools/{sid}/bank/{bank_id}/attachments?filename=a.txt",
                                      content=b"bijlage", headers=school.h("supervisor"))
    assert upload.status_code == 201, upload.text
    await relay(evidence.db, "evidence.file_uploaded", school.world.runner)
    path = f"/v1/schools/{sid}/bank/{bank_id}"
    foreign = await http.patch(path, headers={**school.h("supervisor"), "If-Match": '"2"'},
                               json={"attachment_ids": [upload.json()["id"], "file_someone_elses"]})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "attachment_ids"
    dropped = await http.patch(path, headers={**school.h("supervisor"), "If-Match": '"2"'},
                               json={"attachment_ids": []})
    assert dropped.status_code == 200 and dropped.json()["attachment_ids"] == []
    # an edit is announced again (evidence keeps knowing the entry); other schools' and roles' uploads are refused
    saved = await relay(school.world.db, "exams.bank_assignment_saved", evidence.runner)
    assert [s["version"] for s in saved] == [1, 3]
    other = school.world.issuer.headers(school.staff["admin"], {"sch_other": ["school_admin"]})
    elsewhere = await evidence.http.post(f"/v1/schools/sch_other/bank/{bank_id}/attachments?filename=a.txt",
                                         content=b"x", headers=other)
    assert elsewhere.status_code == 404
    trainer = await evidence.http.post(f"/v1/schools/{sid}/bank/{bank_id}/attachments?filename=a.txt",
                                       content=b"x", headers=school.h("trainer"))
    assert trainer.status_code == 403
    unknown = await evidence.http.post(f"/v1/schools/{sid}/bank/bnk_unknown/attachments?filename=a.txt",
                                       content=b"x", headers=school.h("admin"))
    assert unknown.status_code == 404
