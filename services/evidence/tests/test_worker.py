"""The worker for real: events from Kafka build the projections, and the outbox reaches Kafka."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import httpx

from contracts import Envelope, events_topic
from contracts.exams import ExamPartScheduledV1
from contracts.identity import MembershipGrantedV1
from evidence.settings import EvidenceSettings
from evidence.worker import consumers
from kit.auth import Role
from kit.kafka import ensure_topics
from kit.testing.kafka import produce, read_topic
from kit.testing.tokens import TestIssuer
from kit.worker import run_worker


async def test_events_from_kafka_open_the_attempt_and_uploads_are_published(
        client: httpx.AsyncClient, settings: EvidenceSettings, issuer: TestIssuer) -> None:
    school, user_id, student_id, attempt_id = (uuid.uuid4().hex for _ in range(4))
    await ensure_topics(settings, [events_topic("identity"), events_topic("exams"), events_topic("enrollment")])
    events = [
        ("identity", MembershipGrantedV1(user_id=user_id, school_id=school, role="student", roles=["student"],
                                         student_id=student_id)),
        ("exams", ExamPartScheduledV1(attempt_id=attempt_id, attempt_number=1, school_id=school,
                                      student_id=student_id, exam_id="e", exam_name="Examen", part_id="p",
                                      part_name="Deel", starts_at=datetime.now(UTC), first_assessor_id="a")),
    ]
    for topic, event in events:
        envelope = Envelope.wrap(event, producer=topic, subject=student_id, school_id=school)
        await produce(settings.kafka_bootstrap, events_topic(topic), [(student_id.encode(), envelope.to_bytes())])
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop, consumers=consumers(settings)))
    try:
        headers = issuer.headers(user_id, {school: [Role.STUDENT]})
        url = f"/v1/schools/{school}/attempts/{attempt_id}/evidence?filename=a.txt"
        async with asyncio.timeout(60):
            while (response := await client.post(url, content=b"bewijs", headers=headers)).status_code != 201:
                assert response.status_code in (403, 404), response.text
                await asyncio.sleep(0.3)
        records = await read_topic(settings.kafka_bootstrap, events_topic(settings.service), count=1, timeout_s=30)
        published = json.loads(records[0].value or b"{}")
        assert published["type"] == "evidence.file_uploaded"
        assert published["data"]["file_id"] == response.json()["id"]
        assert published["data"]["attempt_id"] == attempt_id
    finally:
        stop.set()
        await worker
