"""The worker entry point of every service: the outbox relay plus the service's consumers."""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts import Event, dead_letter_topic, events_topic
from kit.consumer import ConsumerRunner, Handler
from kit.kafka import ProducerSession, create_producer, ensure_topics
from kit.logs import configure_logging
from kit.mongo import Client, Db, create_client
from kit.outbox import Outbox, OutboxRelay, ensure_outbox_indexes
from kit.settings import KitSettings
from kit.tracing import setup_tracing, shutdown_tracing
from kit.waiting import sleep_unless_stopped

log = logging.getLogger(__name__)

WorkerHook = Callable[[Db], Awaitable[None]]
# A service's own long-running loop (e.g. an e-mail sender), run beside the relay until stop is set.
WorkerTask = Callable[[Db, asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of the service: what it reads and which handler takes each event class."""

    group: str
    topics: Sequence[str]
    # Built with the service's database, so handlers can reach their repositories; a factory that takes
    # a second parameter also gets the service's one Outbox, for handlers that publish events themselves.
    handlers: Callable[[Db], Mapping[type[Event], Handler]] | Callable[[Db, Outbox], Mapping[type[Event], Handler]]

    def build(self, db: Db, outbox: Outbox) -> Mapping[type[Event], Handler]:
        """The handlers, from a factory taking (db) or (db, outbox)."""
        if len(inspect.signature(self.handlers).parameters) >= 2:
            return self.handlers(db, outbox)  # type: ignore[call-arg]
        return self.handlers(db)  # type: ignore[call-arg]


async def _retry(what: str, action: Callable[[], Awaitable[None]], stop: asyncio.Event) -> bool:
    """Repeat action until it succeeds or stop is set; True when it succeeded."""
    delay = 0.5
    while not stop.is_set():
        try:
            await action()
            return True
        except Exception as exc:
            log.warning(f"{what} failed, retrying", extra={"error": type(exc).__name__})
            await sleep_unless_stopped(stop, delay)
            delay = min(delay * 2, 10.0)
    return False


async def run_worker(
    settings: KitSettings,
    stop: asyncio.Event,
    *,
    consumers: Sequence[ConsumerSpec] = (),
    startup: Sequence[WorkerHook] = (),
    tasks: Sequence[WorkerTask] = (),
    client: Client | None = None,
) -> None:
    """Run the relay, consumers and tasks until stop is set, waiting for Mongo and Kafka when they are down."""
    client = client or create_client(settings)
    db = client[settings.database]
    outbox = Outbox(db, settings.service)
    producers = ProducerSession(lambda: create_producer(settings))
    try:
        for hook in (ensure_outbox_indexes, *startup):
            if not await _retry("startup step", lambda hook=hook: hook(db), stop):  # type: ignore[misc]
                return
        topics = {events_topic(settings.service)}
        for spec in consumers:
            topics.update(spec.topics)
            topics.add(dead_letter_topic(spec.group))
        if not await _retry("creating topics", lambda: ensure_topics(settings, topics), stop):
            return

        async def start_producer() -> None:
            await producers.get()

        if not await _retry("connecting to Kafka", start_producer, stop):
            return
        running = [asyncio.create_task(OutboxRelay(
            db, producers, batch_size=settings.outbox_batch_size, lease_ttl_s=settings.outbox_lease_s
        ).run(stop), name="relay")]
        for spec in consumers:
            runner = ConsumerRunner(settings, client, db, producers, group=spec.group,
                                    topics=list(spec.topics), handlers=spec.build(db, outbox))
            running.append(asyncio.create_task(runner.run(stop), name=spec.group))
        running += [asyncio.create_task(task(db, stop)) for task in tasks]
        log.info("worker running", extra={"count": len(running)})
        await asyncio.gather(*running)
    finally:
        await producers.stop()
        await client.close()


def main(
    settings: KitSettings,
    *,
    consumers: Sequence[ConsumerSpec] = (),
    startup: Sequence[WorkerHook] = (),
    tasks: Sequence[WorkerTask] = (),
) -> None:
    """Process entry point: run the worker until SIGINT or SIGTERM."""
    configure_logging(settings.service, settings.log_level)
    setup_tracing(settings.service)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop, consumers=consumers, startup=startup, tasks=tasks)

    try:
        asyncio.run(run())
    finally:
        shutdown_tracing()
