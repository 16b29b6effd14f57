"""The transactional outbox: events are written with the state change and relayed to Kafka after."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from bson import ObjectId
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from contracts import Envelope, Event, events_topic
from kit.mongo import Db, is_duplicate_key
from kit.tracing import context_from_traceparent, current_traceparent, headers_from_context
from kit.waiting import sleep_unless_stopped, wait_any

log = logging.getLogger(__name__)
tracer = trace.get_tracer("kit.outbox")

OUTBOX = "outbox"
LEASES = "leases"
SENT_RETENTION = timedelta(days=7)
WATCH_AWAIT_MS = 5000  # how long the server holds an empty change-stream getMore


class Outbox:
    """Stages a service's events inside the caller's transaction."""

    def __init__(self, db: Db, service: str) -> None:
        self.collection = db[OUTBOX]
        self.service = service
        self.topic = events_topic(service)

    async def stage(
        self, session: AsyncClientSession, event: Event, *, subject: str, school_id: str | None
    ) -> Envelope:
        """Write an event to the outbox in session's transaction; returns its envelope."""
        envelope = Envelope.wrap(event, producer=self.service, subject=subject, school_id=school_id)
        await self.collection.insert_one(self._row(envelope, subject), session=session)
        return envelope

    async def stage_many(
        self, session: AsyncClientSession, events: list[tuple[Event, str, str | None]]
    ) -> list[Envelope]:
        """Write many (event, subject, school_id) in order, as ONE outbox row, in session's transaction.

        One row per command rather than per event: the relay then marks one row sent, not thousands,
        which is what makes bulk commands (imports) affordable on a write-bound database.
        """
        envelopes = [Envelope.wrap(event, producer=self.service, subject=subject, school_id=school_id)
                     for event, subject, school_id in events]
        for start in range(0, len(envelopes), BATCH_ROW_EVENTS):
            chunk = envelopes[start:start + BATCH_ROW_EVENTS]
            await self.collection.insert_one(
                {**self._frame(chunk[0]), "events": [_entry(e) for e in chunk]}, session=session)
        return envelopes

    def _row(self, envelope: Envelope, subject: str) -> dict[str, Any]:
        return {**self._frame(envelope), **_entry(envelope)}

    def _frame(self, envelope: Envelope) -> dict[str, Any]:
        return {
            # ObjectIds grow within a process, so sorting by _id keeps each subject's order.
            "_id": ObjectId(),
            "topic": self.topic,
            "traceparent": current_traceparent(),
            "created_at": envelope.occurred_at,
            "sent_at": None,
        }


# Events per batch row: keeps a row far below Mongo's 16 MB document limit.
BATCH_ROW_EVENTS = 1000


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


class OutboxRelay:
    """Publishes pending outbox rows in order and marks them sent; resumes after any crash."""

    def __init__(
        self,
        db: Db,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        idle_wait_s: float = 5.0,
        lease_ttl_s: float = 10.0,
    ) -> None:
        self.db = db
        self.collection = db[OUTBOX]
        self.producer = producer
        self.batch_size = batch_size
        # The change stream wakes the relay on inserts; the idle round only renews the lease in time.
        self.idle_wait_s = min(idle_wait_s, lease_ttl_s / 2)
        self.lease_ttl = timedelta(seconds=lease_ttl_s)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until stop is set: publish what is pending, then wait for new rows."""
        watcher = asyncio.create_task(self._watch_inserts(stop))
        try:
            while not stop.is_set():
                try:
                    if not await self._hold_lease():
                        await sleep_unless_stopped(stop, self.lease_ttl.total_seconds() / 2)
                        continue
                    if await self.relay_once() == self.batch_size:
                        continue
                except Exception as exc:  # Mongo or Kafka unreachable: nothing is lost, try again
                    log.warning("outbox publish failed, retrying", extra={"error": type(exc).__name__})
                    await sleep_unless_stopped(stop, 1.0)
                    continue
                self._wake.clear()
                await wait_any(stop, self._wake, self.idle_wait_s)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        rows = (
            await self.collection.find({"sent_at": None}).sort("_id", ASCENDING)
            .limit(self.batch_size).to_list()
        )
        if not rows:
            return 0
        await self._publish(rows)
        await self._mark_sent([row["_id"] for row in rows])
        return len(rows)

    async def _publish(self, rows: list[dict[str, Any]]) -> None:
        futures = []
        for row in rows:
            parent = context_from_traceparent(row.get("traceparent"))
            for event in row_events(row):
                with tracer.start_as_current_span(
                    f"publish {row['topic']}",
                    context=parent,
                    kind=SpanKind.PRODUCER,
                    attributes={"messaging.system": "kafka", "messaging.destination.name": row["topic"],
                                "messaging.message.id": event["event_id"], "event.type": event["type"]},
                ):
                    headers = [*headers_from_context(), ("event_type", event["type"].encode())]
                    futures.append(
                        await self.producer.send(
                            row["topic"], event["payload"].encode(), key=event["key"].encode(), headers=headers
                        )
                    )
        await asyncio.gather(*futures)

    async def _mark_sent(self, ids: list[ObjectId]) -> None:
        await self.collection.update_many({"_id": {"$in": ids}}, {"$set": {"sent_at": datetime.now(UTC)}})

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

    async def _watch_inserts(self, stop: asyncio.Event) -> None:
        """Wake the relay on each outbox insert; polling covers the time the stream is down."""
        while not stop.is_set():
            try:
                pipeline = [{"$match": {"operationType": "insert"}}]
                async with await self.collection.watch(pipeline, max_await_time_ms=WATCH_AWAIT_MS) as stream:
                    while not stop.is_set():
                        if await stream.try_next() is not None:
                            self._wake.set()
            except PyMongoError as exc:
                log.info("outbox change stream unavailable, polling", extra={"error": type(exc).__name__})
                await sleep_unless_stopped(stop, self.idle_wait_s)
