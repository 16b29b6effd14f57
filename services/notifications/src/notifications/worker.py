"""The notifications worker: outbox relay, the consumers of every service's events, and the e-mail sender."""

from __future__ import annotations

import asyncio

from contracts import events_topic
from kit.mongo import Db
from kit.worker import ConsumerSpec, WorkerTask, run_worker
from kit.worker import main as run_worker_main
from notifications import migrations
from notifications import repository as repo
from notifications.delivery import DeliveryLoop
from notifications.handlers import build_handlers
from notifications.settings import NotificationsSettings

SOURCES = ("identity", "enrollment", "exams", "evidence")


def consumers(settings: NotificationsSettings) -> list[ConsumerSpec]:
    """One consumer group (named after the service) reading every service that tells people something."""
    return [ConsumerSpec(group=settings.service, topics=[events_topic(s) for s in SOURCES],
                         handlers=build_handlers(settings))]


async def backfill_roles(db: Db) -> None:
    """Startup: who holds which role per school, for memberships granted before that was kept separately."""
    await migrations.backfill_school_roles(db)


def sender(settings: NotificationsSettings) -> WorkerTask:
    """The delivery loop, as a worker task: it sends what the handlers queued."""

    async def send(db: Db, stop: asyncio.Event) -> None:
        await DeliveryLoop(db, settings).run(stop)

    return send


async def run(settings: NotificationsSettings, stop: asyncio.Event) -> None:
    """Run the kit worker (relay + consumers) with the delivery loop until stop is set."""
    await run_worker(settings, stop, consumers=consumers(settings), startup=[repo.ensure_indexes, backfill_roles],
                     tasks=[sender(settings)])


def main() -> None:
    """Entry point of the notifications worker process (stops on SIGINT/SIGTERM)."""
    settings = NotificationsSettings()
    run_worker_main(settings, consumers=consumers(settings), startup=[repo.ensure_indexes, backfill_roles],
                    tasks=[sender(settings)])


if __name__ == "__main__":
    main()
