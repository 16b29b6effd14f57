"""The evidence service's worker: its outbox relay, its consumers and the expired-upload sweeper."""

from __future__ import annotations

import asyncio
import logging

from contracts import events_topic
from evidence.handlers import build_handlers
from evidence.repository import ensure_indexes
from evidence.settings import EvidenceSettings
from evidence.storage import create_s3
from evidence.tus import sweep_expired
from evidence.uploads_inflight import sweep_abandoned
from kit.mongo import Db
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker

log = logging.getLogger(__name__)
_background: set[asyncio.Task[None]] = set()


def consumers(settings: EvidenceSettings) -> list[ConsumerSpec]:
    """What the evidence worker consumes."""
    return [ConsumerSpec(
        group=settings.service,
        topics=[events_topic("exams"), events_topic("enrollment"), events_topic("identity"),
                events_topic("notifications")],
        handlers=build_handlers(settings),
    )]


async def sweep_forever(db: Db, settings: EvidenceSettings) -> None:
    """Clean up expired resumable uploads and plain ones whose process died, now and then (cancelled at exit)."""
    s3 = create_s3(settings)
    while True:
        for sweep in (sweep_expired, sweep_abandoned):
            try:
                await sweep(db, s3, settings.s3_bucket)
            except Exception as exc:  # S3 or Mongo away: try again next round
                log.warning("sweeping uploads failed", extra={"sweep": sweep.__name__, "error": type(exc).__name__})
        await asyncio.sleep(settings.sweep_interval_s)


def main() -> None:
    """Entry point of the evidence worker process."""
    settings = EvidenceSettings()

    async def start_sweeper(db: Db) -> None:
        task = asyncio.create_task(sweep_forever(db, settings))
        _background.add(task)

    run_worker(settings, consumers=consumers(settings), startup=[ensure_indexes, start_sweeper])


if __name__ == "__main__":
    main()
