"""The transactional outbox: events are written with the state change and relayed to Kafka after."""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiokafka import AIOKafkaProducer
from bson import ObjectId
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from contracts import Envelope, Event, events_topic
from kit.kafka import ProducerSession
from kit.mongo import Db, is_duplicate_key
from kit.tracing import context_from_traceparent, current_traceparent, headers_from_context
from kit.waiting import WATCH_AWAIT_MS, sleep_unless_stopped, wait_any, wake_on_inserts

__all__ = ["FROM_EVENT", "OUTBOX", "WATCH_AWAIT_MS", "Outbox", "OutboxRelay", "ensure_outbox_indexes", "row_events"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer("kit.outbox")

OUTBOX = "outbox"
LEASES = "leases"
SENT_RETENTION = timedelta(days=7)
# Events per batch row: keeps a row far below Mongo's 16 MB document limit.
BATCH_ROW_EVENTS = 1000
# A failed relay round waits RETRY_MIN_S, doubling up to RETRY_MAX_S, so a broker that is away is not hammered.
RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0


class _FromEvent(enum.Enum):
    FROM_EVENT = "from the event"


# "Take it from the event": the default of stage()'s school_id, so that an explicit None still means none.
FROM_EVENT = _FromEvent.FROM_EVENT
SchoolArg = str | None | Literal[_FromEvent.FROM_EVENT]
# What stage_many takes: an event (subject and school from the event) or (event, subject, school_id).
Staged = Event | tuple[Event, str, str | None]


class Outbox:
    """Stages a service's events inside the caller's transaction.

    Build it once per process (the app's lifespan keeps it in `app.state.outbox`, the worker hands it to
    handler factories that take it); it holds no connection of its own, only the service's collection.
    """

    def __init__(self, db: Db, service: str) -> None:
        self.collection = db[OUTBOX]
        self.service = service
        self.topic = events_topic(service)

    def wrap(self, event: Event, subject: str | None = None, school_id: SchoolArg = FROM_EVENT) -> Envelope:
        """The envelope of an event; subject and school default to the ones the event carries."""
        return Envelope.wrap(
            event, producer=self.service, subject=subject if subject is not None else event.subject_id(),
            school_id=event.school_of() if school_id is FROM_EVENT else school_id,
        )

    async def stage(
        self, session: AsyncClientSession, event: Event, *, subject: str | None = None,
        school_id: SchoolArg = FROM_EVENT,
    ) -> Envelope:
        """Write an event to the outbox in session's transaction; returns its envelope.

        Subject and school come from the event (its SUBJECT field and school_id) unless given.
        """
        envelope = self.wrap(event, subject, school_id)
        await self.collection.insert_one({**self._frame(envelope), **_entry(envelope)}, session=session)
        return envelope

    async def stage_many(self, session: AsyncClientSession, events: Sequence[Staged]) -> list[Envelope]:
        """Write many events in order, as ONE outbox row, in session's transaction.

        Each item is an event (subject and school from the event) or (event, subject, school_id). One row
        per command rather than per event: the relay then marks one row sent, not thousands, which is
        what makes bulk commands (imports) affordable on a write-bound database.
        """
        envelopes = [self.wrap(*item) if isinstance(item, tuple) else self.wrap(item) for item in events]
        for start in range(0, len(envelopes), BATCH_ROW_EVENTS):
            chunk = envelopes[start:start + BATCH_ROW_EVENTS]
            await self.collection.insert_one(
                {**self._frame(chunk[0]), "events": [_entry(e) for e in chunk]}, session=session)
        return envelopes

    def _frame(self, envelope: Envelope) -> dict[str, Any]:
        return {
            # ObjectIds grow within a process, so sorting by _id keeps each subject's order.
            "_id": ObjectId(),
            "topic": self.topic,
            "traceparent": current_traceparent(),
            "created_at": envelope.occurred_at,
            "sent_at": None,
        }


def _entry(envelope: Envelope) -> dict[str, Any]:
    return {"event_id": str(envelope.event_id), "type": envelope.type, "key": envelope.subject,
            "payload": envelope.model_dump_json()}


def row_events(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The events an outbox row carries: one, or a batch staged by stage_many."""
    return list(row["events"]) if "events" in row else [row]


async def ensure_outbox_indexes(db: Db) -> None:
    """Indexes the relay queries by; sent rows expire after SENT_RETENTION."""
    await db[OUTBOX].create_index([("sent_at", ASCENDING), ("_id", ASCENDING)], name="pending")
    await db[OUTBOX].create_index(
        "sent_at", name="sent_ttl", expireAfterSeconds=int(SENT_RETENTION.total_seconds())
    )


class PublishIncomplete(Exception):
    """Some events of a relay round were not acknowledged; what was acknowledged is marked."""


@dataclass
class _Round:
    """What one relay round sent, per row: the events it owes and those acknowledged."""

    owed: dict[ObjectId, int] = field(default_factory=dict)
    acked: dict[ObjectId, list[str]] = field(default_factory=dict)
    error: BaseException | None = None

    def complete_rows(self) -> list[ObjectId]:
        return [row_id for row_id, owed in self.owed.items() if len(self.acked.get(row_id, ())) == owed]

    def partial_rows(self) -> dict[ObjectId, list[str]]:
        done = set(self.complete_rows())
        return {row_id: ids for row_id, ids in self.acked.items() if ids and row_id not in done}


def _ignore_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class OutboxRelay:
    """Publishes pending outbox rows in order and marks them sent; resumes after any crash.

    A round that Kafka does not fully acknowledge marks what got through (whole rows sent, and the
    acknowledged events of a batch row), replaces the producer, and backs off before sending the rest.
    """

    def __init__(
        self,
        db: Db,
        producer: AIOKafkaProducer | ProducerSession,
        *,
        batch_size: int = 500,
        idle_wait_s: float = 5.0,
        lease_ttl_s: float = 10.0,
        publish_timeout_s: float | None = None,
    ) -> None:
        self.db = db
        self.collection = db[OUTBOX]
        self.producers = ProducerSession.of(producer)
        self.batch_size = batch_size
        # The change stream wakes the relay on inserts; the idle round only renews the lease in time.
        self.idle_wait_s = min(idle_wait_s, lease_ttl_s / 2)
        self.lease_ttl = timedelta(seconds=lease_ttl_s)
        # A round ends within the lease it holds; unacknowledged events are sent again by a new producer.
        self.publish_timeout_s = publish_timeout_s or lease_ttl_s / 2
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until stop is set: publish what is pending, then wait for new rows."""
        watcher = asyncio.create_task(wake_on_inserts(self.collection, self._wake, stop, retry_s=self.idle_wait_s))
        delay = RETRY_MIN_S
        try:
            while not stop.is_set():
                try:
                    if not await self._hold_lease():
                        await sleep_unless_stopped(stop, self.lease_ttl.total_seconds() / 2)
                        continue
                    if await self.relay_once() == self.batch_size:
                        delay = RETRY_MIN_S
                        continue
                except Exception as exc:  # Mongo or Kafka unreachable: nothing is lost, try again later
                    log.warning("outbox publish failed, retrying",
                                extra={"error": type(exc.__cause__ or exc).__name__, "retry_in_s": round(delay, 1)})
                    await sleep_unless_stopped(stop, delay * (0.5 + random.random()))  # noqa: S311
                    delay = min(delay * 2, RETRY_MAX_S)
                    continue
                delay = RETRY_MIN_S
                self._wake.clear()
                await wait_any(stop, self._wake, self.idle_wait_s)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many rows were published.

        Raises PublishIncomplete when Kafka did not acknowledge all of it, after marking what it did.
        """
        rows = (
            await self.collection.find({"sent_at": None}).sort("_id", ASCENDING)
            .limit(self.batch_size).to_list()
        )
        if not rows:
            return 0
        sent = await self._publish(rows)
        await self._mark_sent(sent.complete_rows())
        await self._mark_partly_sent(sent.partial_rows())
        if sent.error is not None:
            raise PublishIncomplete(f"{len(sent.complete_rows())} of {len(rows)} rows sent") from sent.error
        return len(rows)

    async def _publish(self, rows: list[dict[str, Any]]) -> _Round:
        sent = _Round()
        producer = await self.producers.get()
        waiting: list[tuple[ObjectId, str, asyncio.Future[Any]]] = []
        try:
            for row in rows:
                already = set(row.get("sent_events", ()))
                todo = [event for event in row_events(row) if event["event_id"] not in already]
                sent.owed[row["_id"]] = len(todo)
                for event in todo:
                    waiting.append((row["_id"], event["event_id"], await self._send(producer, row, event)))
        except Exception as exc:  # the producer refused more records (e.g. broken, or its buffer timed out)
            sent.error = exc
        if waiting:
            await asyncio.wait([future for _, _, future in waiting], timeout=self.publish_timeout_s)
        for row_id, event_id, future in waiting:
            if future.done() and not future.cancelled() and future.exception() is None:
                sent.acked.setdefault(row_id, []).append(event_id)
                continue
            if not future.done():  # abandoned with its producer: its late failure needs no reader
                future.add_done_callback(_ignore_outcome)
            if sent.error is None:
                sent.error = (future.exception() if future.done() and not future.cancelled()
                              else TimeoutError("Kafka did not acknowledge in time"))
        if sent.error is not None:
            await self.producers.renew(producer)
        return sent

    async def _send(
        self, producer: AIOKafkaProducer, row: dict[str, Any], event: dict[str, Any]
    ) -> asyncio.Future[Any]:
        parent = context_from_traceparent(row.get("traceparent"))
        with tracer.start_as_current_span(
            f"publish {row['topic']}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": row["topic"],
                        "messaging.message.id": event["event_id"], "event.type": event["type"]},
        ):
            headers = [*headers_from_context(), ("event_type", event["type"].encode())]
            future: asyncio.Future[Any] = await producer.send(
                row["topic"], event["payload"].encode(), key=event["key"].encode(), headers=headers)
            return future

    async def _mark_sent(self, ids: list[ObjectId]) -> None:
        if ids:
            await self.collection.update_many({"_id": {"$in": ids}}, {"$set": {"sent_at": datetime.now(UTC)}})

    async def _mark_partly_sent(self, acked: dict[ObjectId, list[str]]) -> None:
        """Remember which events of a batch row got through, so that only the rest is sent again."""
        for row_id, event_ids in acked.items():
            await self.collection.update_one({"_id": row_id}, {"$addToSet": {"sent_events": {"$each": event_ids}}})

    async def _hold_lease(self) -> bool:
        """Take or renew the single-relay lease, so that scaled workers do not race each other."""
        now = datetime.now(UTC)
        try:
            await self.db[LEASES].find_one_and_update(
                {"_id": "outbox-relay", "$or": [{"owner": self.owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "until": now + self.lease_ttl}},
                upsert=True,
            )
        except PyMongoError as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True
