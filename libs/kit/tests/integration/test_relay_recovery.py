"""The relay after a broker restart: a new producer session, nothing stuck, a bounded number of duplicates."""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import events_topic
from contracts.platform import ProbeSentV1
from kit.kafka import ensure_topics
from kit.local import servers
from kit.mongo import Client, run_in_transaction
from kit.outbox import Outbox, ensure_outbox_indexes
from kit.settings import KitSettings
from kit.testing.fixtures import start
from kit.testing.kafka import read_topic

DOWN_S = 10.0
BATCH = 50  # relay rows per round: small, so that a round is in flight when the broker dies


class Burst:
    """Stages probes as a service under load would: single events and, every fifth command, a batch row."""

    def __init__(self, client: Client, settings: KitSettings) -> None:
        self.client = client
        self.outbox = Outbox(client[settings.database], settings.service)
        self.staged: list[str] = []

    async def command(self) -> None:
        n = len(self.staged)

        async def work(session: AsyncClientSession) -> None:
            events = [ProbeSentV1(probe_id=f"p{n + i}", sent_at=datetime.now(UTC)) for i in range(4)]
            if n % 5 == 0:
                await self.outbox.stage_many(session, events)
            else:
                for event in events:
                    await self.outbox.stage(session, event)

        await run_in_transaction(self.client, work)
        self.staged += [f"p{n + i}" for i in range(4)]

    async def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.command()
            await asyncio.sleep(0.02)


async def sent_probe_ids(db) -> set[str]:  # type: ignore[no-untyped-def]
    rows = await db.outbox.find({"sent_at": {"$ne": None}}).to_list()
    events = [e for row in rows for e in (row["events"] if "events" in row else [row])]
    return {json.loads(e["payload"])["data"]["probe_id"] for e in events}


async def test_relay_recovers_from_a_broker_killed_and_restarted_mid_burst(
    kit_settings: KitSettings, mongo_client: Client, tmp_path: Path
) -> None:
    port = servers.free_port()
    broker = start(servers.kafka(port, tmp_path / "kafka"), tmp_path)
    bootstrap = f"127.0.0.1:{port}"
    settings = kit_settings.model_copy(update={"kafka_bootstrap": bootstrap})
    db = mongo_client[settings.database]
    topic = events_topic(settings.service)
    await ensure_outbox_indexes(db)
    await ensure_topics(settings, [topic])
    env = {**os.environ, "SERVICE": settings.service, "MONGO_URI": settings.mongo_uri.get_secret_value(),
           "KAFKA_BOOTSTRAP": bootstrap, "OTEL_SDK_DISABLED": "true", "OUTBOX_BATCH_SIZE": str(BATCH)}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "kit.testing.probe", "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    burst = Burst(mongo_client, settings)
    try:
        await burst.command()
        async with asyncio.timeout(60):  # the worker is up and relaying
            while not await db.outbox.count_documents({"sent_at": {"$ne": None}}):
                await asyncio.sleep(0.1)
        await burst.run_for(3.0)
        broker.kill()  # SIGKILL, mid-burst
        killed_at = len(burst.staged)
        await burst.run_for(DOWN_S)
        # Rows the relay marked sent were acknowledged before the kill (a round waits at most 5 s).
        acknowledged_before_kill = await sent_probe_ids(db)
        broker = start(servers.kafka(port, tmp_path / "kafka"), tmp_path)
        await burst.run_for(3.0)
        async with asyncio.timeout(60):  # no stuck rows
            while await db.outbox.count_documents({"sent_at": None}):
                await asyncio.sleep(0.5)
        assert worker.poll() is None, "the worker had to restart"
        records = await read_topic(bootstrap, topic, count=10**9, timeout_s=8)
    finally:
        worker.terminate()
        worker.wait(15)
        broker.stop()
    delivered = [json.loads(r.value)["data"]["probe_id"] for r in records]
    owed = [p for p in burst.staged if p not in acknowledged_before_kill]
    missing = sorted(set(owed) - set(delivered))
    lost_by_broker = len(acknowledged_before_kill - set(delivered))
    duplicates = len(delivered) - len(set(delivered))
    print(f"staged={len(burst.staged)} staged_before_kill={killed_at} delivered={len(set(delivered))} "
          f"duplicates={duplicates} lost_by_broker_after_ack={lost_by_broker} missing={len(missing)}")
    assert missing == []  # every event the broker had not acknowledged before the kill arrives after it
    assert duplicates <= BATCH * 4  # at most the rounds in flight around the restart, not a resend loop
    assert await db.outbox.count_documents({"sent_events": {"$exists": True}, "sent_at": None}) == 0
