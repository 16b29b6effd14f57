"""The enrollment service's worker: its outbox relay, its consumers, and resuming stopped import commits."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from contracts import events_topic
from enrollment.handlers import handlers
from enrollment.import_commit import resume_stopped
from enrollment.repository import prepare
from enrollment.settings import EnrollmentSettings
from kit.mongo import Db
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker

log = logging.getLogger(__name__)
CONSUMERS = [ConsumerSpec(group="enrollment", topics=[events_topic("identity")], handlers=handlers)]
_background: set[asyncio.Task[None]] = set()


def resume_imports(settings: EnrollmentSettings) -> Callable[[Db], Awaitable[None]]:
    """A startup hook that finishes, in the background, the import commits a stopped process left."""

    async def hook(db: Db) -> None:
        async def run() -> None:
            try:
                resumed = await resume_stopped(db, db.client, lease_s=settings.import_lease_s)
                if resumed:
                    log.info("stopped imports resumed", extra={"count": resumed})
            except Exception as exc:  # the next start tries again; a caller may also commit again
                log.warning("resuming imports failed", extra={"error": type(exc).__name__})

        task = asyncio.create_task(run())
        _background.add(task)
        task.add_done_callback(_background.discard)

    return hook


def main() -> None:
    """Entry point of the enrollment worker process."""
    settings = EnrollmentSettings()
    run_worker(settings, consumers=CONSUMERS, startup=[prepare, resume_imports(settings)])


if __name__ == "__main__":
    main()
