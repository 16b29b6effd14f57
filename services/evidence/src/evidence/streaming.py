"""Streaming a request body into S3 multipart parts, with bounded memory.

At most `concurrency` parts are uploading (each in a thread) while one more is being filled, so an upload
holds at most concurrency + 1 parts in memory whatever the file's size, and the network read overlaps
the S3 writes (as the minio SDK's own put_object does with its parallel uploads). The SHA-256 is updated
part by part strictly in order, in a thread, beside the uploads.
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
        concurrency: int = 1,
        first_number: int = 1,
        prefix: bytes = b"",
        head: bytes = b"",
        hash_all: bool = True,
    ) -> None:
        self._start = start
        self.multipart: Multipart | None = None
        self.part_bytes = part_bytes
        self.concurrency = max(1, concurrency)
        self.number = first_number
        self.buffer = bytearray()  # the part being filled, allocated once per part (no joins, no copies)
        self.buffered = 0
        self.head = bytearray(head)
        self.etags: list[tuple[int, str, int]] = []
        self.sha256: Any = hashlib.sha256() if hash_all else None
        self._jobs: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None
        self._prefix = prefix

    async def write(self, chunk: bytes) -> None:
        """Add a chunk; uploads a part when one is full."""
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        await self._fill(chunk)

    async def _fill(self, chunk: bytes) -> None:
        if self._prefix:  # a resumed upload's tail goes first (it is not new to the head)
            prefix, self._prefix = self._prefix, b""
            await self._fill(prefix)
        view = memoryview(chunk)
        while view:
            if not self.buffer:
                self.buffer = bytearray(self.part_bytes)
            take = min(len(view), self.part_bytes - self.buffered)
            self.buffer[self.buffered:self.buffered + take] = view[:take]
            self.buffered += take
            view = view[take:]
            if self.buffered == self.part_bytes:
                full, self.buffer, self.buffered = self.buffer, bytearray(), 0
                await self._send(full)

    def _take(self) -> bytes:
        data = bytes(memoryview(self.buffer)[: self.buffered])  # the last, partial part: one copy
        self.buffer, self.buffered = bytearray(), 0
        return data

    async def finish(self, *, last: bool) -> bytes:
        """Wait for the parts in flight; with last, upload the rest as the final part, else return it."""
        await self._fill(b"")
        rest = b""
        if last and (self.buffered or self.number == 1):  # an upload has at least one part
            await self._send(self._take())
        elif not last:
            rest = self._take()
        await self._drain()
        self.etags.sort()
        return rest

    async def close(self) -> None:
        """Wait for (and swallow the outcome of) the parts in flight, before aborting the upload."""
        await asyncio.gather(*self._jobs, return_exceptions=True)
        self._jobs.clear()

    async def _drain(self) -> None:
        jobs, self._jobs = self._jobs, set()
        await asyncio.gather(*jobs)

    async def _send(self, data: bytes | bytearray) -> None:
        while len(self._jobs) >= self.concurrency:  # bounded memory: wait for a slot
            done, _ = await asyncio.wait(self._jobs, return_when=asyncio.FIRST_COMPLETED)
            for job in done:
                self._jobs.discard(job)
                job.result()  # a failed part fails the upload at once
        if self.multipart is None:
            self.multipart = await self._start(bytes(self.head))
        job = asyncio.create_task(self._part(self.multipart, self.number, data, self._last))
        self.number += 1
        self._jobs.add(job)
        self._last = job

    async def _part(self, multipart: Multipart, number: int, data: bytes | bytearray,
                    previous: asyncio.Task[None] | None) -> None:
        upload = asyncio.create_task(asyncio.to_thread(multipart.upload_part_sync, number, data))
        try:
            if self.sha256 is not None:
                if previous is not None:
                    await asyncio.wait([previous])  # hash in file order; its own failure is reported by it
                await asyncio.to_thread(self.sha256.update, data)
        finally:
            etag = await upload
        self.etags.append((number, etag, len(data)))
