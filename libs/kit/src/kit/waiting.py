"""Sleeping in long-running loops so that a stop request ends the sleep at once."""

from __future__ import annotations

import asyncio


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
