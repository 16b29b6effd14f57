"""The consumer runner: inbox dedupe, handler transaction, retries, dead-letter topic."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from contracts import Envelope, Event, dead_letter_topic, lookup
from kit.kafka import ProducerSession
from kit.logs import event_id_var, school_id_var
from kit.membership import InstanceSlot, claim_instance
from kit.mongo import Client, Db, is_duplicate_key, is_passing_failure, run_in_transaction
from kit.settings import KitSettings
from kit.tracing import context_from_headers
from kit.waiting import sleep_unless_stopped

log = logging.getLogger(__name__)
tracer = trace.get_tracer("kit.consumer")

INBOX = "inbox"
FETCH_WAIT_MS = 100
# Idle consumers check for new records every REST_MIN_S, backing off by doubling up to REST_SHARE of the time
# since their last records and at most REST_MAX_S: an event waits for the next check at most a quarter of the
# quiet before it (or REST_MIN_S), so a steady stream and a chain of hops stay quick, and only after a long
# quiet up to REST_MAX_S, which keeps an idle suite under 5 % of a core. A rest ends after REST_LIMIT_S so the
# consumer polls well within max_poll_interval_ms and stays in its group.
REST_MIN_S = 0.01
REST_SHARE = 0.25
REST_MAX_S = 1.0
REST_LIMIT_S = 30.0
# A handler that fails because the database does (down, or a document locked by the open transaction of a
# worker killed mid-handler, which the server reaps after 60 s) is no fault of the message: it is retried,
# not dead-lettered, backing off to PASSING_MAX_S; after PASSING_LIMIT_S the error ends the consumer's
# round, which starts again from the last committed offset.
PASSING_MIN_S = 0.2
PASSING_MAX_S = 5.0
PASSING_LIMIT_S = 150.0

Handler = Callable[[Envelope, Any, AsyncClientSession], Awaitable[None]]


class Unprocessable(Exception):
    """Raised by a handler for a message that can never succeed: it goes to the DLT without retries."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message."""

    status: str  # handled | duplicate | skipped | dead_lettered
    reason: str | None = None


class ConsumerRunner:
    """Consumes topics for one group and applies each event exactly once to the service's database."""

    def __init__(
        self,
        settings: KitSettings,
        client: Client,
        db: Db,
        producer: AIOKafkaProducer | ProducerSession,
        *,
        group: str,
        topics: list[str],
        handlers: Mapping[type[Event], Handler],
        max_attempts: int = 4,
        backoff_s: float = 0.2,
    ) -> None:
        self.settings = settings
        self.client = client
        self.db = db
        self.producer = ProducerSession.of(producer)
        self.group = group
        self.topics = topics
        self.handlers = {(cls.TYPE, cls.VERSION): handler for cls, handler in handlers.items()}
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.dlt = dead_letter_topic(group)
        self._stop = asyncio.Event()  # run()'s, so a retry waiting for the database ends when the worker stops
        self._last_records = 0.0  # loop time of the last batch; quiet counts across rests

    def _consumer(self, slot: InstanceSlot) -> AIOKafkaConsumer:
        session_ms = self.settings.kafka_session_timeout_ms
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.group,
            # Static membership: a restarted worker replaces its old member instead of waiting for it to expire.
            group_instance_id=slot.instance_id,
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(session_ms // 3, 500),
            client_id=f"{self.settings.service}-{self.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=200,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until stop is set, reconnecting after broker or database outages."""
        self._stop = stop
        slot = claim_instance(self.group, self.settings.kafka_bootstrap, self.settings.kafka_group_instance_id)
        try:
            while not stop.is_set():
                consumer = self._consumer(slot)
                try:
                    await consumer.start()
                    await self._loop(consumer, stop)
                except (KafkaError, PyMongoError, OSError) as exc:
                    log.warning("consumer interrupted, restarting", extra={"group": self.group,
                                                                           "error": type(exc).__name__})
                    await sleep_unless_stopped(stop, 1.0)
                finally:
                    await consumer.stop()
        finally:
            slot.release()

    async def _loop(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        wait_ms = FETCH_WAIT_MS
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=wait_ms)
            if not batches:
                # After a rest that found nothing, only poll (keeps the group membership), do not fetch-wait.
                wait_ms = FETCH_WAIT_MS if await self._rest(consumer, stop) else 0
                continue
            wait_ms = FETCH_WAIT_MS
            self._last_records = asyncio.get_running_loop().time()
            for tp, records in batches.items():
                for record in records:
                    await self.process(record)
                try:
                    await consumer.commit({tp: records[-1].offset + 1})
                except CommitFailedError:
                    # A rebalance moved the partition; the next owner replays and the inbox dedupes.
                    log.info("commit failed after rebalance", extra={"group": self.group})

    async def _rest(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> bool:
        """Stop fetching until a partition has records again (True), checking end offsets with back-off.

        A broker that answers an empty fetch at once instead of holding it for fetch_max_wait_ms (the
        local stand-in does) would otherwise keep the fetcher spinning at hundreds of requests a second.
        """
        parts = consumer.assignment()
        if not parts:
            await sleep_unless_stopped(stop, REST_MAX_S)
            return False
        consumer.pause(*parts)
        try:
            loop = asyncio.get_running_loop()
            delay = REST_MIN_S
            deadline = loop.time() + REST_LIMIT_S
            while not stop.is_set() and loop.time() < deadline:
                await sleep_unless_stopped(stop, delay)
                if consumer.assignment() != parts:
                    return True  # a rebalance: fetch what the new assignment holds
                ends = await consumer.end_offsets(list(parts))
                for tp in parts:
                    if ends[tp] > await consumer.position(tp):
                        return True
                delay = next_rest(delay, loop.time() - self._last_records)
            return False
        finally:
            consumer.resume(*(consumer.assignment() & parts))

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Handle one record; returns only when it is handled, skipped or parked in the DLT."""
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except ValidationError as exc:
            return await self._dead_letter(record, f"malformed envelope: {_first_error(exc)}")
        handler = self.handlers.get((envelope.type, envelope.version))
        model = lookup(envelope.type, envelope.version)
        if handler is None or model is None:
            return Outcome("skipped", "no handler for this type and version")
        try:
            data = model.model_validate(envelope.data)
        except ValidationError as exc:
            return await self._dead_letter(record, f"invalid data: {_first_error(exc)}")

        event_token = event_id_var.set(str(envelope.event_id))
        school_token = school_id_var.set(envelope.school_id)
        try:
            with tracer.start_as_current_span(
                f"process {record.topic}",
                context=context_from_headers(record.headers),
                kind=SpanKind.CONSUMER,
                attributes={"messaging.system": "kafka", "messaging.consumer.group.name": self.group,
                            "messaging.message.id": str(envelope.event_id), "event.type": envelope.type},
            ) as span:
                outcome = await self._handle_with_retries(record, envelope, data, handler)
                if outcome.status == "dead_lettered":
                    span.set_status(Status(StatusCode.ERROR, outcome.reason))
                return outcome
        finally:
            event_id_var.reset(event_token)
            school_id_var.reset(school_token)

    async def _handle_with_retries(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, data: Event, handler: Handler
    ) -> Outcome:
        inbox_id = f"{self.group}:{envelope.event_id}"

        async def work(session: AsyncClientSession) -> None:
            await self.db[INBOX].insert_one(
                {"_id": inbox_id, "type": envelope.type, "topic": record.topic,
                 "partition": record.partition, "offset": record.offset, "at": datetime.now(UTC)},
                session=session,
            )
            await handler(envelope, data, session)

        attempt, waited, delay = 0, 0.0, PASSING_MIN_S
        while True:
            try:
                await run_in_transaction(self.client, work)
                return Outcome("handled")
            except Unprocessable as exc:
                return await self._dead_letter(record, f"unprocessable: {exc}")
            except Exception as exc:
                if is_duplicate_key(exc) and await self.db[INBOX].find_one({"_id": inbox_id}):
                    return Outcome("duplicate")
                if is_passing_failure(exc):
                    if waited >= PASSING_LIMIT_S or self._stop.is_set():
                        raise  # not committed: the record comes again
                    log.info("database unavailable to the handler, retrying",
                             extra={"event_type": envelope.type, "error": type(exc).__name__})
                    await sleep_unless_stopped(self._stop, delay)
                    waited, delay = waited + delay, min(delay * 2, PASSING_MAX_S)
                    continue
                attempt += 1
                if attempt == self.max_attempts:
                    return await self._dead_letter(
                        record, f"failed after {attempt} attempts: {type(exc).__name__}: {exc}"
                    )
                log.info("handler failed, retrying",
                         extra={"attempt": attempt, "event_type": envelope.type, "error": type(exc).__name__})
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> Outcome:
        headers = [
            *(record.headers or ()),
            ("dlt.original.topic", record.topic.encode()),
            ("dlt.original.partition", str(record.partition).encode()),
            ("dlt.original.offset", str(record.offset).encode()),
            ("dlt.group", self.group.encode()),
            ("dlt.error", reason[:1000].encode()),
        ]
        await self.producer.send_and_wait(self.dlt, record.value, key=record.key, headers=headers)
        log.warning("message dead-lettered", extra={"topic": record.topic, "partition": record.partition,
                                                    "offset": record.offset, "group": self.group})
        return Outcome("dead_lettered", reason)


def next_rest(delay: float, quiet_s: float) -> float:
    """How long a resting consumer sleeps next: double the last, within a share of the quiet and REST_MAX_S."""
    return max(REST_MIN_S, min(delay * 2, REST_SHARE * quiet_s, REST_MAX_S))


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(part) for part in err["loc"]) or "message"
    return f"{where}: {err['msg']}"
