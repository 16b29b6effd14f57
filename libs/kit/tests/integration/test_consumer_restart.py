"""A consumer killed with SIGKILL and restarted is consuming again within a bounded time."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from contracts import Envelope, events_topic
from contracts.platform import ProbeSentV1
from kit.kafka import ensure_topics
from kit.mongo import Client
from kit.settings import KitSettings
from kit.testing.kafka import produce
from kit.testing.probe import CONSUMER_GROUP

REJOIN_BOUND_S = 60.0


async def send_probes(bootstrap: str, source: str, n: int) -> None:
    envelopes = [Envelope.wrap(ProbeSentV1(probe_id=uuid.uuid4().hex, sent_at=datetime.now(UTC)), producer=source,
                               subject=f"s{i}", school_id=None) for i in range(n)]
    await produce(bootstrap, events_topic(source), [(e.subject.encode(), e.to_bytes()) for e in envelopes])


async def wait_for_count(db, count: int, timeout_s: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while await db.received.count_documents({}) < count:
            await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_a_consumer_killed_and_restarted_consumes_again_within_a_minute(
    kit_settings: KitSettings, mongo_client: Client, tmp_path: Path
) -> None:
    source = f"src{uuid.uuid4().hex[:8]}"
    await ensure_topics(kit_settings, [events_topic(source), f"{CONSUMER_GROUP}.dlt"])
    db = mongo_client[kit_settings.database]
    env = {**os.environ, "SERVICE": kit_settings.service, "MONGO_URI": kit_settings.mongo_uri.get_secret_value(),
           "KAFKA_BOOTSTRAP": kit_settings.kafka_bootstrap, "OTEL_SDK_DISABLED": "true"}
    log = (tmp_path / "consumer.log").open("wb")

    def consumer() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "kit.testing.probe", "consumer", source], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    first = consumer()
    try:
        await send_probes(kit_settings.kafka_bootstrap, source, 5)
        await wait_for_count(db, 5, 90)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker dies at once, leaving its group member behind
        first.wait()
    second = consumer()
    try:
        await send_probes(kit_settings.kafka_bootstrap, source, 5)
        took = await wait_for_count(db, 10, REJOIN_BOUND_S)
        print(f"handled again {took:.1f} s after the restart (process start included)")
    finally:
        second.terminate()
        second.wait(15)
    assert await db.received.count_documents({}) == 10
