"""Event backbone latency: API transaction commit in one process -> handled transaction in another.

Runs the probe service (kit.testing.probe) as three real processes on throwaway stand-in servers:
the API stages a ProbeSentV1 in the same transaction as its record, the worker relays the outbox
to Kafka, and a receiver in another "service" handles it in its own transaction (inbox + record).
Beside it, a raw aiokafka produce -> consume baseline on the same broker, at the same pace.
Last line: events_p95_ms=<x> raw_p95_ms=<y>
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from kit.mongo import create_client
from kit.settings import KitSettings
from kit.testing.bench import backbone, percentiles
from kit.testing.probe import start_pipeline

EVENTS = 500
WARMUP = 30
INTERVAL_S = 0.02  # 50 commands per second: a latency measurement, not a throughput one


async def measure_events(mongo_uri: str, bootstrap: str, logs: Path) -> list[float]:
    """Commit-to-handled latencies of EVENTS probes through the real processes."""
    pipeline = start_pipeline(mongo_uri, bootstrap, logs, {"OTEL_TRACES_EXPORTER": "none"})
    client = create_client(KitSettings(mongo_uri=mongo_uri))
    received = client[pipeline.receiver_db].received
    try:
        async with httpx.AsyncClient(base_url=pipeline.api_url, timeout=10) as http:
            for _ in range(WARMUP):
                (await http.post("/v1/probes", json={"note": "warm-up"})).raise_for_status()
            await wait_count(received, WARMUP)
            await received.delete_many({})
            for _ in range(EVENTS):
                (await http.post("/v1/probes", json={"note": "bench"})).raise_for_status()
                await asyncio.sleep(INTERVAL_S)
        await wait_count(received, EVENTS)
        docs = await received.find({}).to_list()
        return [(d["handled_at"] - d["sent_at"]).total_seconds() * 1000 for d in docs]
    finally:
        pipeline.stop()
        await client.drop_database(pipeline.source_db)
        await client.drop_database(pipeline.receiver_db)
        await client.close()


async def wait_count(collection, n: int, timeout_s: float = 120) -> None:  # type: ignore[no-untyped-def]
    """Wait until the collection holds n documents."""
    deadline = time.monotonic() + timeout_s
    while await collection.count_documents({}) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await collection.count_documents({})} of {n} arrived")
        await asyncio.sleep(0.1)


async def measure_raw(bootstrap: str) -> list[float]:
    """Produce -> consume latencies of plain aiokafka at the same pace (acks=all, idempotent)."""
    topic = f"bench-raw-{int(time.time())}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=1)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic, auto_offset_reset="earliest")
    await producer.start()
    await producer.send_and_wait(topic, b"0")  # creates the topic
    await consumer.start()
    latencies: list[float] = []

    async def consume() -> None:
        while len(latencies) < EVENTS:
            for batch in (await consumer.getmany(timeout_ms=100)).values():
                now = time.time()
                latencies.extend((now - float(r.value)) * 1000 for r in batch if r.value != b"0")

    reader = asyncio.create_task(consume())
    try:
        for _ in range(EVENTS):
            await producer.send_and_wait(topic, repr(time.time()).encode())
            await asyncio.sleep(INTERVAL_S)
        await asyncio.wait_for(reader, 60)
    finally:
        await producer.stop()
        await consumer.stop()
    return latencies[:EVENTS]


async def main() -> None:
    """Start throwaway servers, measure both paths, print the figures."""
    with backbone("bench-events-") as backing:
        events = await measure_events(backing.mongo_uri, backing.kafka_bootstrap, backing.base)
        raw = await measure_raw(backing.kafka_bootstrap)
    e50, e95, e99 = percentiles(events)
    r50, r95, r99 = percentiles(raw)
    print(f"{datetime.now():%Y-%m-%d %H:%M} events over {EVENTS} probes, {1 / INTERVAL_S:.0f}/s, "
          f"{sys.platform}, {len(events)} handled")
    print(f"outbox path (API commit -> handled in another process): p50={e50:.1f} ms p95={e95:.1f} ms "
          f"p99={e99:.1f} ms max={max(events):.1f} ms")
    print(f"raw aiokafka (produce -> consume):                      p50={r50:.1f} ms p95={r95:.1f} ms "
          f"p99={r99:.1f} ms max={max(raw):.1f} ms")
    print(f"events_p95_ms={e95:.1f} raw_p95_ms={r95:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
