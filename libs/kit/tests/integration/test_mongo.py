"""The transaction helper against the real Mongo stand-in."""

import asyncio

import pytest
from pymongo.asynchronous.client_session import AsyncClientSession

from kit.mongo import Client, is_duplicate_key, run_in_transaction
from kit.settings import KitSettings


async def test_a_transaction_commits_all_or_nothing(mongo_client: Client, kit_settings: KitSettings) -> None:
    db = mongo_client[kit_settings.database]

    async def write_two(session: AsyncClientSession) -> None:
        await db.a.insert_one({"_id": 1}, session=session)
        await db.b.insert_one({"_id": 1}, session=session)

    await run_in_transaction(mongo_client, write_two)

    async def write_then_fail(session: AsyncClientSession) -> None:
        await db.a.insert_one({"_id": 2}, session=session)
        raise RuntimeError("business rule broken")

    with pytest.raises(RuntimeError):
        await run_in_transaction(mongo_client, write_then_fail)
    assert await db.a.count_documents({}) == 1
    assert await db.b.count_documents({}) == 1


async def test_concurrent_conflicting_transactions_are_retried_until_all_apply(
    mongo_client: Client, kit_settings: KitSettings
) -> None:
    db = mongo_client[kit_settings.database]
    await db.counters.insert_one({"_id": "c", "n": 0})
    attempts = 0

    async def increment(session: AsyncClientSession) -> None:
        nonlocal attempts
        attempts += 1
        doc = await db.counters.find_one({"_id": "c"}, session=session)
        await asyncio.sleep(0.01)  # widen the window so the transactions really overlap
        await db.counters.update_one({"_id": "c"}, {"$set": {"n": doc["n"] + 1}}, session=session)

    await asyncio.gather(*(run_in_transaction(mongo_client, increment, max_attempts=50) for _ in range(8)))
    assert (await db.counters.find_one({"_id": "c"}))["n"] == 8
    assert attempts > 8  # some of them did conflict and were retried


async def test_duplicate_keys_are_recognised(mongo_client: Client, kit_settings: KitSettings) -> None:
    db = mongo_client[kit_settings.database]
    await db.a.insert_one({"_id": 1})
    with pytest.raises(Exception) as caught:
        await db.a.insert_one({"_id": 1})
    assert is_duplicate_key(caught.value)
