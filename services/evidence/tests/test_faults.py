"""Faults only a real socket makes: a client that disconnects in the middle of an upload."""

from __future__ import annotations

import asyncio
import os

from minio import Minio

from evidence.settings import EvidenceSettings
from kit.mongo import Client

from .conftest import MiB, World, bucket_objects, open_uploads


async def send_partially(address: str, path: str, headers: dict[str, str], length: int, sent: bytes,
                         until: object) -> None:
    """Send the head and part of a body, wait until the condition holds, then drop the connection."""
    host, port = address.split(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"PATCH {path} HTTP/1.1" if "uploads/" in path else f"POST {path} HTTP/1.1", f"Host: {address}",
             f"Content-Length: {length}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    writer.write("\r\n".join(lines).encode())
    writer.write(sent)
    await writer.drain()
    async with asyncio.timeout(20):
        while not await until():  # type: ignore[operator]
            await asyncio.sleep(0.05)
    writer.transport.abort()  # a dropped connection, not a polite close


async def test_disconnect_mid_upload_leaves_no_record_and_nothing_in_the_bucket(
        live: str, world: World, s3: Minio, settings: EvidenceSettings, mongo_client: Client) -> None:
    student = await world.student()
    attempt = await world.attempt(student)
    path = f"/v1/schools/{world.school}/attempts/{attempt}/evidence?filename=video.mp4"

    async def part_uploaded() -> bool:
        uploads = await asyncio.to_thread(open_uploads, s3, settings.s3_bucket)
        return bool(uploads) and bool(await asyncio.to_thread(
            lambda: list(s3._list_parts(settings.s3_bucket, uploads[0].object_name, uploads[0].upload_id).parts)))

    await send_partially(live, path, student.headers, 11 * MiB, os.urandom(7 * MiB), part_uploaded)
    async with asyncio.timeout(20):
        while await asyncio.to_thread(open_uploads, s3, settings.s3_bucket):
            await asyncio.sleep(0.1)
    assert bucket_objects(s3, settings.s3_bucket) == []
    db = mongo_client[settings.database]
    assert await db.files.count_documents({}) == 0
    assert await db.outbox.count_documents({}) == 0
