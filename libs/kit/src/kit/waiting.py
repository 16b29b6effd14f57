"""Waiting in long-running loops: sleeps that a stop request ends at once, and wake-ups on new documents."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

log = logging.getLogger(__name__)

WATCH_AWAIT_MS = 5000  # how long the server holds an empty change-stream getMore
# The local stand-in answers every waiting change-stream getMore at once, empty, on a write to any collection:
# asking again at once would spin at the rate of every write in the server (hundreds a second under load, for
# each watcher). An empty answer is followed by the next ask no sooner than WATCH_MIN_ROUND_S after the last;
# an insert is still seen within that time.
WATCH_MIN_ROUND_S = 0.025


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less when stop is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Wait until stop or wake is set, at most `seconds`."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def wake_on_inserts(
    collection: AsyncCollection[dict[str, Any]], wake: asyncio.Event, stop: asyncio.Event, *, retry_s: float
) -> None:
    """Set `wake` on each insert into collection until stop is set (an upsert that inserts counts).

    The loop it wakes keeps its own polling round, which covers the time the change stream is down
    (e.g. while the database restarts); the stream is opened again every `retry_s` meanwhile.
    """
    pipeline = [{"$match": {"operationType": "insert"}}]
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            async with await collection.watch(pipeline, max_await_time_ms=WATCH_AWAIT_MS) as stream:
                while not stop.is_set():
                    asked = loop.time()
                    if await stream.try_next() is not None:
                        wake.set()
                    elif (rest := asked + WATCH_MIN_ROUND_S - loop.time()) > 0:
                        await sleep_unless_stopped(stop, rest)
        except Exception as exc:
            log.info("change stream unavailable, polling",
                     extra={"collection": collection.name, "error": type(exc).__name__})
            await sleep_unless_stopped(stop, retry_s)
