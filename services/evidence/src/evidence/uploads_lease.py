"""Leases on work in progress: an upload is held only while its process lives and renews the lease.

A request streaming an upload renews its lease every RENEW_EVERY_S; a process killed mid-upload stops
renewing, so within LEASE its upload is free again: another instance may resume a tus upload, and the
sweeper may clean up what a plain upload left in S3. A long upload on a slow link is never taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from kit.clock import now

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)
RENEW_EVERY_S = 4.0

Renew = Callable[[datetime], Awaitable[bool]]


def lease_until() -> datetime:
    """When a lease taken or renewed now runs out."""
    return now() + LEASE


@contextlib.asynccontextmanager
async def renewed(renew: Renew) -> AsyncIterator[None]:
    """Renew a lease (renew(until) -> False once it is lost) while the block runs."""

    async def keep() -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            try:
                if not await renew(lease_until()):
                    return  # taken over: the holder finds out when it records its result
            except Exception as exc:  # the database away for a moment: the next round tries again
                log.warning("renewing an upload lease failed", extra={"error": type(exc).__name__})

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
