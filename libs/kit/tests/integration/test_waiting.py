"""Waking on inserts through a change stream: quick for the watched collection, calm while others are written."""

from __future__ import annotations

import asyncio

from pymongo import monitoring

from kit.mongo import create_client
from kit.settings import KitSettings
from kit.waiting import WATCH_MIN_ROUND_S, wake_on_inserts


class GetMores(monitoring.CommandListener):
    """Counts the change stream's getMore commands."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "getMore":
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_watcher_wakes_on_its_inserts_and_does_not_spin_on_writes_elsewhere(kit_settings: KitSettings) -> None:
    listener = GetMores()
    watching = create_client(kit_settings, event_listeners=[listener])
    writer = create_client(kit_settings)
    db = watching[kit_settings.database]
    other = writer[f"{kit_settings.database}_other"]
    wake, stop = asyncio.Event(), asyncio.Event()
    await db.outbox.insert_one({"first": True})
    watcher = asyncio.create_task(wake_on_inserts(db.outbox, wake, stop, retry_s=1.0))
    try:
        await asyncio.sleep(0.5)  # the stream is open
        loop, before, writes = asyncio.get_running_loop(), listener.count, 300
        started = loop.time()
        for i in range(writes):  # another service's writes, as fast as they go
            await other.things.insert_one({"i": i})
        asked, took = listener.count - before, loop.time() - started
        assert asked <= took / WATCH_MIN_ROUND_S + 2, f"{asked} getMores in {took:.1f} s of {writes} writes elsewhere"
        assert not wake.is_set()
        started = loop.time()
        await writer[kit_settings.database].outbox.insert_one({"staged": True})
        await asyncio.wait_for(wake.wait(), 2.0)
        assert loop.time() - started < 0.5
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 10)
        await writer.drop_database(kit_settings.database)
        await writer.drop_database(f"{kit_settings.database}_other")
        await watching.close()
        await writer.close()
