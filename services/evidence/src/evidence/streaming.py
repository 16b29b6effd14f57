"""Streaming a request body into S3 multipart parts, with bounded memory per upload and per process.

At most `concurrency` parts of an upload are uploading (each in a thread) while one more is being filled, so
the network read overlaps the S3 writes (as the minio SDK's own put_object does with its parallel uploads).
Every part buffer comes from the process's BufferPool: all uploads of an instance together hold at most
UPLOAD_MEMORY_BYTES of parts, reused rather than allocated anew (an upload waits for a buffer when they are
all taken, which holds back its client's body). The SHA-256 is updated part by part strictly in order, in
a thread, beside the uploads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from evidence.models import SNIFF_BYTES
from evidence.storage import Multipart

Starter = Callable[[bytes], Awaitable[Multipart]]


class BufferPool:
    """Part buffers shared by every upload of the process: at most `capacity` of them, reused."""

    def __init__(self, part_bytes: int, budget_bytes: int) -> None:
        self.part_bytes = part_bytes
        self.capacity = max(2, budget_bytes // part_bytes)  # one being filled and one uploading, at least
        self._slots = asyncio.Semaphore(self.capacity)
        self._free: list[bytearray] = []

    async def take(self) -> bytearray:
        """A buffer of part_bytes, once one is free."""
        await self._slots.acquire()
        return self._free.pop() if self._free else bytearray(self.part_bytes)

    def give(self, buffer: bytearray) -> None:
        """Return a buffer nothing reads or writes any more."""
        self._free.append(buffer)
        self._slots.release()

    @property
    def in_use(self) -> int:
        """Buffers taken and not yet given back."""
        return self.capacity - self._slots._value


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[int, int], BufferPool]] = (
    weakref.WeakKeyDictionary())


def buffer_pool(part_bytes: int, budget_bytes: int) -> BufferPool:
    """The process's pool for this part size and budget (one per event loop: asyncio primitives are bound to one)."""
    pools = _pools.setdefault(asyncio.get_running_loop(), {})
    return pools.setdefault((part_bytes, budget_bytes), BufferPool(part_bytes, budget_bytes))


class _Holds:
    """A pooled part buffer read by threads: given back to the pool when the last of them is done with it."""

    def __init__(self, pool: BufferPool | None, buffer: bytes | bytearray, readers: int) -> None:
        self._pool = pool if isinstance(buffer, bytearray) else None
        self._buffer = buffer
        self._readers = readers
        self._loop = asyncio.get_running_loop()

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn in the calling (worker) thread; the buffer is released when it returns, however it ends."""
        try:
            return fn(*args)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop closed: the process is ending
                self._loop.call_soon_threadsafe(self.done)

    def done(self) -> None:
        """One reader finished (call in the event loop's thread)."""
        self._readers -= 1
        if self._readers == 0 and self._pool is not None:
            self._pool.give(self._buffer)  # type: ignore[arg-type]


class PartWriter:
    """Collects body chunks into parts of at least part_bytes and uploads them as they fill."""

    def __init__(
        self,
        start: Starter,
        pool: BufferPool,
        *,
        concurrency: int = 1,
        first_number: int = 1,
        prefix: bytes = b"",
        head: bytes = b"",
        hash_all: bool = True,
    ) -> None:
        self._start = start
        self.multipart: Multipart | None = None
        self.pool = pool
        self.part_bytes = pool.part_bytes
        self.concurrency = max(1, concurrency)
        self.number = first_number
        self.buffer = bytearray()  # the part being filled, a pool buffer (no joins, no copies)
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
                self.buffer = await self.pool.take()
            take = min(len(view), self.part_bytes - self.buffered)
            self.buffer[self.buffered:self.buffered + take] = view[:take]
            self.buffered += take
            view = view[take:]
            if self.buffered == self.part_bytes:
                full, self.buffer, self.buffered = self.buffer, bytearray(), 0
                await self._send(full)

    def _take(self) -> bytes:
        data = bytes(memoryview(self.buffer)[: self.buffered])  # the last, partial part: one copy
        self._give_back_buffer()
        return data

    def _give_back_buffer(self) -> None:
        if self.buffer:
            self.pool.give(self.buffer)
        self.buffer, self.buffered = bytearray(), 0

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
        self._give_back_buffer()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        self._jobs.clear()

    async def _drain(self) -> None:
        jobs, self._jobs = self._jobs, set()
        await asyncio.gather(*jobs)

    async def _send(self, data: bytes | bytearray) -> None:
        """Upload a part (a pool buffer, or the last part's own bytes) once one of the upload's slots is free."""
        try:
            while len(self._jobs) >= self.concurrency:  # bounded memory: wait for a slot
                done, _ = await asyncio.wait(self._jobs, return_when=asyncio.FIRST_COMPLETED)
                for job in done:
                    self._jobs.discard(job)
                    job.result()  # a failed part fails the upload at once
            if self.multipart is None:
                self.multipart = await self._start(bytes(self.head))
        except BaseException:
            if isinstance(data, bytearray):
                self.pool.give(data)  # never handed to a thread
            raise
        job = asyncio.create_task(self._part(self.multipart, self.number, data, self._last))
        self.number += 1
        self._jobs.add(job)
        self._last = job

    async def _part(self, multipart: Multipart, number: int, data: bytes | bytearray,
                    previous: asyncio.Task[None] | None) -> None:
        holds = _Holds(self.pool, data, 1 if self.sha256 is None else 2)
        upload = asyncio.create_task(asyncio.to_thread(holds.run, multipart.upload_part_sync, number, data))
        try:
            if self.sha256 is not None:
                hashing = False
                try:
                    if previous is not None:
                        await asyncio.wait([previous])  # hash in file order; its own failure is reported by it
                    hashing = True
                    await asyncio.to_thread(holds.run, self.sha256.update, data)
                finally:
                    if not hashing:
                        holds.done()  # no thread will read it for the hash
        finally:
            etag = await upload
        self.etags.append((number, etag, len(data)))
