"""Kafka clients with the suite's guarantees, and topic provisioning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from kit.settings import KitSettings

log = logging.getLogger(__name__)


def create_producer(settings: KitSettings) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica (acks=all)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"{settings.service}-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        request_timeout_ms=10_000,
    )


async def ensure_topics(settings: KitSettings, topics: Iterable[str]) -> None:
    """Create the topics that do not exist yet (safe to call from every instance)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, settings.kafka_partitions, settings.kafka_replication)
            for name in sorted(set(topics) - existing)
        ]
        if not missing:
            return
        try:
            await admin.create_topics(missing)
        except TopicAlreadyExistsError:
            pass  # another instance created it in the meantime
        log.info("created topics", extra={"count": len(missing)})
    finally:
        await admin.close()


class ProducerSession:
    """The process's idempotent producer, replaced by a new producer session after a failure.

    An idempotent producer numbers its records per partition; once a batch fails for good (e.g. a
    broker restarted and forgot the producer: OutOfOrderSequenceNumber), every later batch of that
    producer fails too. A new producer gets a new producer id from the broker and starts at sequence 0.
    """

    def __init__(self, factory: Callable[[], AIOKafkaProducer] | None = None, *,
                 producer: AIOKafkaProducer | None = None) -> None:
        self._factory = factory
        self._current = producer
        self._lock = asyncio.Lock()
        self.renewals = 0

    @classmethod
    def of(cls, producer: AIOKafkaProducer | ProducerSession) -> ProducerSession:
        """A session for a producer the caller owns (it cannot be renewed), or the session itself."""
        return producer if isinstance(producer, ProducerSession) else cls(producer=producer)

    async def get(self) -> AIOKafkaProducer:
        """The current producer, starting a new one when the last was dropped (raises while Kafka is down)."""
        async with self._lock:
            if self._current is None:
                if self._factory is None:
                    raise KafkaConnectionError("the producer was closed and cannot be renewed")
                candidate = self._factory()
                try:
                    await candidate.start()
                except BaseException:
                    await candidate.stop()
                    raise
                self._current = candidate
            return self._current

    async def renew(self, failed: AIOKafkaProducer) -> None:
        """Drop `failed` (when it is still the current producer); the next get() starts a new session."""
        async with self._lock:
            if self._factory is None or self._current is not failed:
                return
            self._current = None
            self.renewals += 1
        log.warning("kafka producer replaced after a failure", extra={"renewals": self.renewals})
        await close_producer(failed)

    async def send_and_wait(self, topic: str, value: bytes | None, *, key: bytes | None = None,
                            headers: list[tuple[str, bytes]] | None = None) -> None:
        """Send one record and wait for its acknowledgement; a failure renews the producer and is raised."""
        producer = await self.get()
        try:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
        except Exception:
            await self.renew(producer)
            raise

    async def stop(self) -> None:
        """Stop the current producer (flushing what it holds, within a bound)."""
        async with self._lock:
            current, self._current = self._current, None
        if current is not None:
            await close_producer(current)


async def close_producer(producer: AIOKafkaProducer, timeout_s: float = 5.0) -> None:
    """Stop a producer; if its batches cannot be flushed in time (Kafka away), abandon them.

    Abandoning loses nothing: the outbox keeps every row that was not acknowledged and sends it again.
    """
    stopping = asyncio.ensure_future(producer.stop())
    done, _ = await asyncio.wait({stopping}, timeout=timeout_s)
    if not done:
        # aiokafka's stop() waits for every pending batch, and an idempotent producer never expires them:
        # end its sender first, then fail what it still holds, so that stop() can finish.
        sender_task = producer._sender.sender_task
        if sender_task is not None and not sender_task.done():
            sender_task.cancel()
            await asyncio.wait({sender_task}, timeout=timeout_s)
        accumulator = producer._message_accumulator
        # A batch re-queued after a send error keeps the callback that removes it from this set once it
        # completes; put it back in the set, so that failing it does not raise inside that callback.
        for queued in accumulator._batches.values():
            accumulator._pending_batches.update(queued)
        accumulator.fail_all(KafkaConnectionError("producer abandoned"))
        await asyncio.wait({stopping}, timeout=timeout_s)
    if stopping.done() and not stopping.cancelled() and stopping.exception() is not None:
        log.info("producer stopped with an error", extra={"error": type(stopping.exception()).__name__})
