"""Reading and writing topics directly, for tests that check what crossed the broker."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def read_topic(
    bootstrap: str, topic: str, *, count: int, timeout_s: float = 15.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic from the start until `count` records arrived (or the timeout passed)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def produce(bootstrap: str, topic: str, items: list[tuple[bytes | None, bytes]],
                  headers: list[tuple[str, bytes]] | None = None) -> None:
    """Write raw (key, value) records to a topic, as a foreign or buggy producer might."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, value, key=key, headers=headers or [])
                               for key, value in items])
    finally:
        await producer.stop()
