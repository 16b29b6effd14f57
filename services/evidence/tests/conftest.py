"""Fixtures for the evidence service: the app on the real stand-in servers, and events fed to its handlers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from minio import Minio

from contracts import Envelope, Event
from contracts.exams import ExamPartScheduledV1
from contracts.identity import MembershipGrantedV1
from evidence.app import create_app
from evidence.handlers import build_handlers
from evidence.settings import EvidenceSettings
from evidence.storage import create_s3
from kit.auth import Role
from kit.consumer import ConsumerRunner, Outcome
from kit.kafka import create_producer, ensure_topics
from kit.mongo import Client
from kit.settings import KitSettings
from kit.testing.fixtures import S3Server
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer

MiB = 1024 * 1024


@pytest.fixture
def settings(kit_settings: KitSettings, s3_server: S3Server, issuer: TestIssuer) -> EvidenceSettings:
    """Evidence settings on this test's database and bucket; a small limit keeps tests fast."""
    return EvidenceSettings(
        **kit_settings.model_dump(exclude={"service", "auth_jwks_url"}),
        service=kit_settings.service,
        auth_jwks_url=str(issuer.jwks_path),
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.credentials.access_key,
        s3_secret_key=s3_server.credentials.secret_key,
        s3_bucket=f"ev-{uuid.uuid4().hex[:12]}",
        max_file_bytes=12 * MiB,
        part_bytes=5 * MiB,
    )


@pytest.fixture
def s3(settings: EvidenceSettings) -> Minio:
    """A minio client to look into the bucket."""
    return create_s3(settings)


@pytest.fixture
async def client(settings: EvidenceSettings, mongo_client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The evidence API, started with its lifespan."""
    async with service_client(create_app(settings)) as http:
        yield http


@dataclass
class Student:
    """A student of a school, known to the service through identity's membership event."""

    user_id: str
    student_id: str
    headers: dict[str, str]


class World:
    """Feeds events to the service's real handlers (through the consumer runner) and makes people."""

    def __init__(self, runner: ConsumerRunner, issuer: TestIssuer) -> None:
        self.runner = runner
        self.issuer = issuer
        self.school = f"school-{uuid.uuid4().hex[:8]}"
        self.offset = 0

    async def feed(self, event: Event, subject: str = "s", raw: bytes | None = None) -> Outcome:
        """Hand one event to the handlers as the consumer would."""
        value = raw if raw is not None else Envelope.wrap(event, producer=event.TYPE.split(".")[0], subject=subject,
                                                         school_id=self.school).to_bytes()
        self.offset += 1
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "test.events", 0, self.offset, 0, 0, subject.encode(), value, None, 0, len(value), [])
        return await self.runner.process(record)

    def headers(self, roles: list[Role], user_id: str | None = None, school: str | None = None) -> dict[str, str]:
        """An Authorization header for a user with roles in the school."""
        return self.issuer.headers(user_id or uuid.uuid4().hex, {school or self.school: roles})

    async def student(self) -> Student:
        """A student user, linked to their student record by identity's event."""
        user_id, student_id = uuid.uuid4().hex, uuid.uuid4().hex
        await self.feed(MembershipGrantedV1(user_id=user_id, school_id=self.school, role="student",
                                            roles=["student"], student_id=student_id))
        return Student(user_id, student_id, self.headers([Role.STUDENT], user_id))

    async def attempt(self, student: Student, assessor_id: str = "assessor-1") -> str:
        """An attempt of the student in execution (a part was scheduled)."""
        attempt_id = uuid.uuid4().hex
        await self.feed(ExamPartScheduledV1(
            attempt_id=attempt_id, attempt_number=1, school_id=self.school, student_id=student.student_id,
            exam_id="exam-1", exam_name="Examen", part_id="p1", part_name="Deel 1",
            starts_at=datetime.now(UTC), first_assessor_id=assessor_id))
        return attempt_id


@pytest.fixture
async def world(settings: EvidenceSettings, mongo_client: Client, issuer: TestIssuer,
                s3: Minio) -> AsyncIterator[World]:
    """Projections fed through the real consumer runner into this test's database."""
    await ensure_topics(settings, [f"{settings.service}.dlt"])
    producer = create_producer(settings)
    await producer.start()
    db = mongo_client[settings.database]
    runner = ConsumerRunner(settings, mongo_client, db, producer, group=settings.service, topics=["test.events"],
                            handlers=build_handlers(settings, s3)(db), backoff_s=0.01)
    yield World(runner, issuer)
    await producer.stop()


def bucket_objects(s3: Minio, bucket: str) -> list[str]:
    """Every object left in the bucket."""
    return [o.object_name or "" for o in s3.list_objects(bucket, recursive=True)]


def open_uploads(s3: Minio, bucket: str) -> list[Any]:
    """Multipart uploads still open in the bucket."""
    return list(s3._list_multipart_uploads(bucket).uploads)


@pytest.fixture
async def live(settings: EvidenceSettings, mongo_client: Client) -> AsyncIterator[str]:
    """The evidence API on a real uvicorn server (for faults only a socket can make)."""
    import asyncio

    import uvicorn

    from kit.local.servers import free_port

    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    await asyncio.wait_for(app.state.started.wait(), 30)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task
