"""Streaming a request body into S3 multipart parts, with bounded memory.

At most one part is being filled while at most one earlier part is uploading (in a thread), so an
upload holds at most two parts in memory whatever the file's size, and the network read overlaps
the S3 write. The SHA-256 is updated part by part in order, in the same thread as the upload.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from evidence.models import SNIFF_BYTES
from evidence.storage import Multipart

Starter = Callable[[bytes], Awaitable[Multipart]]


class PartWriter:
    """Collects body chunks into parts of at least part_bytes and uploads them as they fill."""

    def __init__(
        self,
        start: Starter,
        part_bytes: int,
        *,
        first_number: int = 1,
        prefix: bytes = b"",
        head: bytes = b"",
        hash_all: bool = True,
    ) -> None:
        self._start = start
        self.multipart: Multipart | None = None
        self.part_bytes = part_bytes
        self.number = first_number
        self.buffer = bytearray(prefix)
        self.head = bytearray(head)
        self.etags: list[tuple[int, str, int]] = []
        self.sha256: Any = hashlib.sha256() if hash_all else None
        self._inflight: asyncio.Task[None] | None = None

    async def write(self, chunk: bytes) -> None:
        """Add a chunk; uploads a part when one is full."""
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self.buffer += chunk
        if len(self.buffer) >= self.part_bytes:
            data = bytes(self.buffer)
            self.buffer = bytearray()
            await self._send(data)

    async def finish(self, *, last: bool) -> bytes:
        """Wait for the parts in flight; with last, upload the rest as the final part, else return it."""
        rest = b""
        if last and (self.buffer or not self.etags):
            data = bytes(self.buffer)
            self.buffer = bytearray()
            await self._send(data)
        elif not last:
            rest = bytes(self.buffer)
            self.buffer = bytearray()
        await self._drain()
        return rest

    async def close(self) -> None:
        """Wait for (and swallow the outcome of) a part in flight, before aborting the upload."""
        if self._inflight is not None:
            await asyncio.gather(self._inflight, return_exceptions=True)
            self._inflight = None

    async def _drain(self) -> None:
        if self._inflight is not None:
            task, self._inflight = self._inflight, None
            await task

    async def _send(self, data: bytes) -> None:
        await self._drain()  # at most one part uploading: bounded memory, parts hashed in order
        if self.multipart is None:
            self.multipart = await self._start(bytes(self.head))
        multipart, number = self.multipart, self.number
        self.number += 1

        def upload() -> None:
            if self.sha256 is not None:
                self.sha256.update(data)
            etag = multipart.upload_part_sync(number, data)
            self.etags.append((number, etag, len(data)))

        self._inflight = asyncio.create_task(asyncio.to_thread(upload))
