"""The notifications worker: outbox relay, the consumers of every service's events, and the e-mail sender."""

from __future__ import annotations

import asyncio
import signal

from contracts import events_topic
from kit.logs import configure_logging
from kit.mongo import create_client
from kit.tracing import setup_tracing, shutdown_tracing
from kit.worker import ConsumerSpec, run_worker
from notifications import repository as repo
from notifications.delivery import DeliveryLoop
from notifications.handlers import build_handlers
from notifications.settings import NotificationsSettings

SOURCES = ("identity", "enrollment", "exams", "evidence")


def consumers(settings: NotificationsSettings) -> list[ConsumerSpec]:
    """One consumer group (named after the service) reading every service that tells people something."""
    return [ConsumerSpec(group=settings.service, topics=[events_topic(s) for s in SOURCES],
                         handlers=build_handlers(settings))]


async def run(settings: NotificationsSettings, stop: asyncio.Event) -> None:
    """Run the kit worker (relay + consumers) and the delivery loop until stop is set."""
    client = create_client(settings)
    try:
        sender = DeliveryLoop(client[settings.database], settings)
        await asyncio.gather(
            run_worker(settings, stop, consumers=consumers(settings), startup=[repo.ensure_indexes]),
            sender.run(stop),
        )
    finally:
        await client.close()


def main() -> None:
    """Entry point of the notifications worker process (stops on SIGINT/SIGTERM)."""
    settings = NotificationsSettings()
    configure_logging(settings.service, settings.log_level)
    setup_tracing(settings.service)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    try:
        asyncio.run(serve())
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
