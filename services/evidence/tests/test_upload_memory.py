"""Memory of uploads: all uploads of an instance share a bounded pool of part buffers, always given back."""

from __future__ import annotations

import asyncio
import hashlib
import os

import httpx
import pytest

from evidence.app import create_app
from evidence.settings import EvidenceSettings
from evidence.streaming import buffer_pool
from kit.auth import Role
from kit.mongo import Client
from kit.testing.service import service_client

from .conftest import MiB, World
from .test_upload import chunks


@pytest.fixture
def small_pool(settings: EvidenceSettings) -> EvidenceSettings:
    """Room for two part buffers in the whole instance."""
    return settings.model_copy(update={"upload_memory_bytes": 2 * settings.part_bytes})


async def test_concurrent_uploads_never_hold_more_part_buffers_than_the_pool_has(
        small_pool: EvidenceSettings, world: World, mongo_client: Client) -> None:
    admin = world.headers([Role.SCHOOL_ADMIN])
    files = [os.urandom(11 * MiB) for _ in range(4)]  # three parts each
    pool = None
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            if pool is not None:
                peak = max(peak, pool.in_use)
            await asyncio.sleep(0)

    async with service_client(create_app(small_pool)) as http:
        pool = buffer_pool(small_pool.part_bytes, small_pool.upload_memory_bytes)
        watcher = asyncio.create_task(watch())
        answers = await asyncio.gather(*(
            http.post(f"/v1/schools/{world.school}/library?filename=m{i}.bin&roles=student",
                      content=chunks(data), headers=admin) for i, data in enumerate(files)))
        watcher.cancel()
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert [a.json()["sha256"] for a in answers] == [hashlib.sha256(d).hexdigest() for d in files]
    assert peak == pool.capacity == 2
    assert pool.in_use == 0


async def test_a_failed_upload_gives_its_buffers_back(client: httpx.AsyncClient, world: World,
                                                       settings: EvidenceSettings) -> None:
    admin = world.headers([Role.SCHOOL_ADMIN])
    path = f"/v1/schools/{world.school}/library?filename=m.bin&roles=student"
    too_short = await client.post(path, content=os.urandom(7 * MiB),
                                  headers={**admin, "Content-Length": str(9 * MiB)})
    assert too_short.status_code in (400, 422), too_short.text
    over = await client.post(path, content=chunks(os.urandom(13 * MiB)), headers=admin)
    assert over.status_code == 413
    assert buffer_pool(settings.part_bytes, settings.upload_memory_bytes).in_use == 0
