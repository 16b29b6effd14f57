"""Fixtures for the notifications tests: settings on the session's servers, the real worker, the sink."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import Envelope, Event, events_topic, producer_of
from contracts.identity import MembershipGrantedV1, UserCreatedV1
from kit.kafka import ensure_topics
from kit.mongo import create_client
from kit.settings import KitSettings
from kit.testing.fixtures import SmtpServer
from kit.testing.kafka import produce
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer
from notifications.app import create_app
from notifications.settings import NotificationsSettings
from notifications.worker import SOURCES, run


@pytest.fixture
async def settings(
    kit_settings: KitSettings, issuer: TestIssuer, smtp_server: SmtpServer
) -> AsyncIterator[NotificationsSettings]:
    """Settings with this test's own database and consumer group, fast retries; the database is dropped after
    every process using it stopped (this fixture is set up first, so torn down last)."""
    settings = NotificationsSettings(
        **kit_settings.model_dump(exclude={"auth_jwks_url"}), auth_jwks_url=str(issuer.jwks_path),
        smtp_port=smtp_server.port, public_url="https://exam.example", delivery_backoff_s=0.05,
        delivery_poll_s=0.2, delivery_max_attempts=3,
    )
    yield settings
    dropper = create_client(settings)
    await dropper.drop_database(settings.database)
    await dropper.close()


@dataclass
class Sink:
    """Reads what the SMTP sink accepted."""

    server: SmtpServer

    def all(self) -> list[EmailMessage]:
        """Every message the sink holds."""
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
                for p in sorted(Path(self.server.directory).glob("*.eml"))]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages for one address."""
        return [m for m in self.all() if m["X-Sink-Rcpt-To"] == address]

    async def wait_for(self, address: str, count: int = 1, timeout_s: float = 20.0) -> list[EmailMessage]:
        """Wait until `count` messages for the address arrived."""
        deadline = time.monotonic() + timeout_s
        while len(found := self.to(address)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} e-mails to {address}")
            await asyncio.sleep(0.05)
        return found


@pytest.fixture
def sink(smtp_server: SmtpServer) -> Sink:
    """The session's SMTP sink."""
    return Sink(smtp_server)


@dataclass
class World:
    """Publishes events as the other services would, and waits for the worker's effects."""

    settings: NotificationsSettings
    school_id: str = field(default_factory=lambda: f"school-{uuid.uuid4().hex[:8]}")

    async def publish(self, *events: Event | Envelope, school_id: str | None = None) -> list[Envelope]:
        """Publish events (or ready envelopes) on their producers' topics."""
        envelopes = []
        for item in events:
            env = item if isinstance(item, Envelope) else Envelope.wrap(
                item, producer=producer_of(item.TYPE), subject=uuid.uuid4().hex,
                school_id=school_id or self.school_id)
            await produce(self.settings.kafka_bootstrap, events_topic(env.producer), [(env.subject.encode(),
                                                                                        env.to_bytes())])
            envelopes.append(env)
        return envelopes

    async def person(self, *, email_address: str | None = None, name: str = "Sam de Vries", language: str = "nl",
                     roles: list[str] | None = None, student_id: str | None = None) -> str:
        """A user with a membership in the school, as identity announces them; returns the user id."""
        user_id = uuid.uuid4().hex
        await self.publish(
            UserCreatedV1(user_id=user_id, email=email_address or f"{user_id[:10]}@example.nl", display_name=name,
                          language=language),  # type: ignore[arg-type]
            MembershipGrantedV1(user_id=user_id, school_id=self.school_id, role=(roles or ["student"])[0],
                                roles=roles or ["student"], student_id=student_id))
        return user_id

    async def wait(self, condition: Callable[[Any], Awaitable[bool]], timeout_s: float = 20.0) -> None:
        """Wait until condition(db) holds."""
        client = create_client(self.settings)
        try:
            db = client[self.settings.database]
            deadline = time.monotonic() + timeout_s
            while not await condition(db):
                if time.monotonic() > deadline:
                    raise TimeoutError("condition not met")
                await asyncio.sleep(0.05)
        finally:
            await client.close()

    async def wait_people(self, *user_ids: str) -> None:
        """Wait until the worker knows these people (and their memberships)."""
        async def known(db: Any) -> bool:
            n = await db.people.count_documents({"_id": {"$in": list(user_ids)}, "email": {"$exists": True},
                                                  f"schools.{self.school_id}": {"$exists": True}})
            return bool(n == len(user_ids))
        await self.wait(known)


@asynccontextmanager
async def running_worker(settings: NotificationsSettings) -> AsyncIterator[World]:
    """The real notifications worker (consumers + delivery loop) running in this test's event loop."""
    await ensure_topics(settings, [events_topic(s) for s in SOURCES])
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    try:
        yield World(settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def worker(settings: NotificationsSettings) -> AsyncIterator[World]:
    """The worker on the session's SMTP sink."""
    async with running_worker(settings) as world:
        yield world


@pytest.fixture
def start_worker() -> Callable[[NotificationsSettings], Any]:
    """Start the worker with other settings (e.g. another SMTP server): `async with start_worker(s) as world`."""
    return running_worker


@pytest.fixture
async def api(settings: NotificationsSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The notifications API in-process."""
    async with service_client(create_app(settings)) as client:
        yield client
