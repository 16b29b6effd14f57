"""SMTP failures against a real SMTP server that refuses: retries with backoff, then a visible failed state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from contracts.exams import ResultAvailableV1
from kit.auth import Role
from kit.local.servers import free_port
from kit.testing.tokens import TestIssuer
from notifications.settings import NotificationsSettings


@dataclass
class RefusingHandler:
    """Answers DATA with `reply` for the first `refusals` messages to each recipient, then accepts."""

    reply: str
    refusals: int = 1_000_000
    # Other tests' events reach this worker too (shared topics), so count per recipient.
    seen_by: dict[str, int] = field(default_factory=dict)
    accepted_by: dict[str, int] = field(default_factory=dict)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        rcpt = envelope.rcpt_tos[0]
        self.seen_by[rcpt] = self.seen_by.get(rcpt, 0) + 1
        if self.seen_by[rcpt] <= self.refusals:
            return self.reply
        self.accepted_by[rcpt] = self.accepted_by.get(rcpt, 0) + 1
        return "250 OK"


@pytest.fixture
async def refusing_smtp() -> AsyncIterator[tuple[int, list[RefusingHandler]]]:
    """A real SMTP server on a free port; the test sets its handler's behaviour."""
    port = free_port()
    handlers: list[RefusingHandler] = [RefusingHandler("250 OK", refusals=0)]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handlers[0]), "127.0.0.1", port)
    yield port, handlers
    server.close()
    await server.wait_closed()


async def _result_for_new_student(world) -> str:
    student_id = uuid.uuid4().hex
    user = await world.person(student_id=student_id)
    await world.wait_people(user)
    await world.publish(ResultAvailableV1(attempt_id="att", school_id=world.school_id, student_id=student_id,
                                          exam_id="e", exam_name="PvB"))
    return user


async def _delivery_of(world, user: str, statuses: set[str]) -> dict:
    found: dict = {}

    async def settled(db) -> bool:
        doc = await db.deliveries.find_one({"user_id": user})
        if doc is not None and doc["status"] in statuses:
            found.update(doc)
            return True
        return False

    await world.wait(settled)
    return found


@pytest.mark.parametrize("reply", ["451 4.3.0 Mailbox busy, try later", "421 4.7.0 Service not available"])
async def test_transient_refusals_are_retried_then_fail_visibly(
    settings: NotificationsSettings, refusing_smtp, start_worker, reply: str,
    api: httpx.AsyncClient, issuer: TestIssuer,
) -> None:
    port, handlers = refusing_smtp
    handlers[0].reply = reply
    handlers[0].refusals = 1_000_000
    async with start_worker(settings.model_copy(update={"smtp_port": port})) as world:
        user = await _result_for_new_student(world)
        failed = await _delivery_of(world, user, {"failed"})
    assert failed["attempts"] == settings.delivery_max_attempts == 3
    assert handlers[0].seen_by[f"{user[:10]}@example.nl"] == 3
    assert failed["last_error"] == f"server replied {reply[:3]} (attempt 3)"
    assert "text" not in failed and "to" not in failed  # content is not kept after giving up
    log = await api.get(f"/v1/schools/{world.school_id}/deliveries", params={"status": "failed"},
                        headers=issuer.headers("admin", {world.school_id: [Role.SCHOOL_ADMIN]}))
    [row] = log.json()["items"]
    assert row["status"] == "failed" and row["attempts"] == 3 and row["kind"] == "result_available"


async def test_a_permanent_refusal_fails_at_once(settings: NotificationsSettings, refusing_smtp,
                                                start_worker) -> None:
    port, handlers = refusing_smtp
    handlers[0].reply = "550 5.1.1 No such mailbox"
    handlers[0].refusals = 1_000_000
    async with start_worker(settings.model_copy(update={"smtp_port": port})) as world:
        user = await _result_for_new_student(world)
        failed = await _delivery_of(world, user, {"failed"})
    assert failed["attempts"] == 1 and handlers[0].seen_by[f"{user[:10]}@example.nl"] == 1
    assert failed["last_error"] == "server replied 550 (attempt 1)"


async def test_a_refusal_then_acceptance_sends_once(settings: NotificationsSettings, refusing_smtp,
                                                   start_worker) -> None:
    port, handlers = refusing_smtp
    handlers[0].reply = "451 4.3.0 try later"
    handlers[0].refusals = 1
    async with start_worker(settings.model_copy(update={"smtp_port": port})) as world:
        user = await _result_for_new_student(world)
        sent = await _delivery_of(world, user, {"sent"})
    assert sent["attempts"] == 2 and handlers[0].accepted_by[f"{user[:10]}@example.nl"] == 1
    assert handlers[0].seen_by[f"{user[:10]}@example.nl"] == 2
    assert sent["last_error"] is None and sent["sent_at"] is not None


async def test_an_unreachable_server_is_retried_then_fails(settings: NotificationsSettings, start_worker) -> None:
    async with start_worker(settings.model_copy(update={"smtp_port": free_port()})) as world:
        user = await _result_for_new_student(world)
        failed = await _delivery_of(world, user, {"failed"})
    assert failed["attempts"] == 3
    assert failed["last_error"].startswith("SMTPConnect")
