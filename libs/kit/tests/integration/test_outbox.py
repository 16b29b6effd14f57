"""The transactional outbox and its relay: nothing lost, nothing applied twice, after crashes too."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event, events_topic
from contracts.platform import ProbeSentV1
from kit.consumer import ConsumerRunner
from kit.kafka import create_producer, ensure_topics
from kit.mongo import Client, run_in_transaction
from kit.outbox import Outbox, OutboxRelay, ensure_outbox_indexes
from kit.settings import KitSettings
from kit.testing.kafka import read_topic
from kit.testing.outbox import staged_events


class Crash(Exception):
    """Stands for the relay process dying at a chosen point."""


class DiesBeforePublish(OutboxRelay):
    async def _publish(self, rows: list[dict[str, Any]]) -> None:
        raise Crash


class DiesBeforeMarkingSent(OutboxRelay):
    async def _mark_sent(self, ids: list[Any]) -> None:
        raise Crash


async def stage_probes(client: Client, settings: KitSettings, n: int, *, fail: bool = False) -> list[str]:
    db = client[settings.database]
    outbox = Outbox(db, settings.service)
    ids: list[str] = []

    async def work(session: AsyncClientSession) -> None:
        for i in range(n):
            env = await outbox.stage(session, ProbeSentV1(probe_id=f"p{i}", sent_at=datetime.now(UTC)),
                                     subject=f"p{i % 3}", school_id="school-1")
            ids.append(str(env.event_id))
        if fail:
            raise RuntimeError("command refused after staging")

    await run_in_transaction(client, work)
    return ids


async def relay_all(settings: KitSettings, client: Client, relay_cls: type[OutboxRelay] = OutboxRelay) -> None:
    producer = create_producer(settings)
    await producer.start()
    try:
        await relay_cls(client[settings.database], producer).relay_once()
    finally:
        await producer.stop()


async def apply_exactly_once(settings: KitSettings, client: Client, records: list[ConsumerRecord]) -> list[str]:
    """Run the records through a real consumer runner; returns the event ids its handler applied."""
    db = client[settings.database]
    applied: list[str] = []

    async def handler(envelope: Envelope, data: Event, session: AsyncClientSession) -> None:
        applied.append(str(envelope.event_id))
        await db.applied.insert_one({"_id": str(envelope.event_id)}, session=session)

    producer = create_producer(settings)
    await producer.start()
    try:
        runner = ConsumerRunner(settings, client, db, producer, group="downstream",
                                topics=[events_topic(settings.service)], handlers={ProbeSentV1: handler})
        for record in records:
            await runner.process(record)
    finally:
        await producer.stop()
    return applied


@pytest.fixture
async def topic(kit_settings: KitSettings, mongo_client: Client) -> str:
    await ensure_outbox_indexes(mongo_client[kit_settings.database])
    name = events_topic(kit_settings.service)
    await ensure_topics(kit_settings, [name, "downstream.dlt"])
    return name


async def test_relayed_events_keep_their_envelope_key_and_order(
    kit_settings: KitSettings, mongo_client: Client, topic: str
) -> None:
    ids = await stage_probes(mongo_client, kit_settings, 9)
    await relay_all(kit_settings, mongo_client)
    records = await read_topic(kit_settings.kafka_bootstrap, topic, count=9)
    assert sorted(str(Envelope.from_bytes(r.value).event_id) for r in records) == sorted(ids)
    for subject in ("p0", "p1", "p2"):
        same_key = [Envelope.from_bytes(r.value) for r in records if r.key == subject.encode()]
        assert [e.data["probe_id"] for e in same_key] == sorted((e.data["probe_id"] for e in same_key),
                                                                 key=lambda p: int(p[1:]))
    assert all(dict(r.headers)["event_type"] == b"platform.probe_sent" for r in records)
    pending = await mongo_client[kit_settings.database].outbox.count_documents({"sent_at": None})
    assert pending == 0


async def test_a_rolled_back_command_publishes_nothing(
    kit_settings: KitSettings, mongo_client: Client, topic: str
) -> None:
    with pytest.raises(RuntimeError):
        await stage_probes(mongo_client, kit_settings, 3, fail=True)
    await relay_all(kit_settings, mongo_client)
    assert await read_topic(kit_settings.kafka_bootstrap, topic, count=1, timeout_s=2) == []


async def test_relay_dying_between_commit_and_publish_loses_nothing(
    kit_settings: KitSettings, mongo_client: Client, topic: str
) -> None:
    ids = await stage_probes(mongo_client, kit_settings, 5)
    with pytest.raises(Crash):
        await relay_all(kit_settings, mongo_client, DiesBeforePublish)
    await relay_all(kit_settings, mongo_client)  # the restarted relay
    records = await read_topic(kit_settings.kafka_bootstrap, topic, count=5)
    assert sorted(await apply_exactly_once(kit_settings, mongo_client, records)) == sorted(ids)


async def test_relay_dying_between_publish_and_mark_sent_is_deduplicated_downstream(
    kit_settings: KitSettings, mongo_client: Client, topic: str
) -> None:
    ids = await stage_probes(mongo_client, kit_settings, 5)
    with pytest.raises(Crash):
        await relay_all(kit_settings, mongo_client, DiesBeforeMarkingSent)
    await relay_all(kit_settings, mongo_client)  # publishes the same five again
    records = await read_topic(kit_settings.kafka_bootstrap, topic, count=10)
    assert len(records) == 10
    applied = await apply_exactly_once(kit_settings, mongo_client, records)
    assert sorted(applied) == sorted(ids)
    assert await mongo_client[kit_settings.database].applied.count_documents({}) == 5


async def test_relay_process_killed_mid_stream_resumes_without_losing_events(
    kit_settings: KitSettings, mongo_client: Client, topic: str, tmp_path: Any
) -> None:
    ids = await stage_probes(mongo_client, kit_settings, 400)
    env = {**os.environ, "SERVICE": kit_settings.service, "MONGO_URI": kit_settings.mongo_uri.get_secret_value(),
           "KAFKA_BOOTSTRAP": kit_settings.kafka_bootstrap, "OTEL_SDK_DISABLED": "true",
           "OUTBOX_BATCH_SIZE": "10", "OUTBOX_LEASE_S": "2"}
    cmd = [sys.executable, "-c", "from kit.worker import main; from kit.settings import KitSettings; "
                                 "main(KitSettings())"]
    log = (tmp_path / "relay.log").open("wb")
    first = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    db = mongo_client[kit_settings.database]
    for _ in range(200):  # kill it as soon as it has published part of the backlog
        if await db.outbox.count_documents({"sent_at": {"$ne": None}}) > 0:
            break
        await asyncio.sleep(0.05)
    first.kill()
    first.wait()
    sent_before_restart = await db.outbox.count_documents({"sent_at": {"$ne": None}})
    assert 0 < sent_before_restart < 400  # the kill really came mid-stream
    second = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    try:
        for _ in range(300):
            if await db.outbox.count_documents({"sent_at": None}) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        second.terminate()
        second.wait(10)
    records = await read_topic(kit_settings.kafka_bootstrap, topic, count=400)
    assert len(records) >= 400
    assert sorted(await apply_exactly_once(kit_settings, mongo_client, records)) == sorted(ids)


async def test_stage_many_writes_a_batch_in_order_with_the_transaction(kit_settings: KitSettings,
                                                                       mongo_client: Client) -> None:
    db = mongo_client[kit_settings.database]
    await ensure_outbox_indexes(db)
    outbox = Outbox(db, kit_settings.service)
    events = [(ProbeSentV1(probe_id=f"b{i}", sent_at=datetime.now(UTC)), f"s{i % 2}", "school-1") for i in range(5)]

    async def refused(session: AsyncClientSession) -> None:
        await outbox.stage_many(session, events)
        raise RuntimeError("command refused after staging")

    with pytest.raises(RuntimeError):
        await run_in_transaction(mongo_client, refused)
    assert await db.outbox.count_documents({}) == 0

    async def work(session: AsyncClientSession) -> list[Envelope]:
        return await outbox.stage_many(session, events)

    envelopes = await run_in_transaction(mongo_client, work)
    assert await db.outbox.count_documents({}) == 1  # one row for the command, whatever its size
    staged = await staged_events(db)
    assert [e["event_id"] for e in staged] == [str(e.event_id) for e in envelopes]
    assert [e["subject"] for e in staged] == ["s0", "s1", "s0", "s1", "s0"]
    await ensure_topics(kit_settings, [events_topic(kit_settings.service)])
    await relay_all(kit_settings, mongo_client)
    records = await read_topic(kit_settings.kafka_bootstrap, events_topic(kit_settings.service), count=5)
    by_key = {k: [Envelope.from_bytes(r.value).data["probe_id"] for r in records if r.key == k] for k in (b"s0", b"s1")}
    assert by_key == {b"s0": ["b0", "b2", "b4"], b"s1": ["b1", "b3"]}  # each subject's order kept
    assert await db.outbox.count_documents({"sent_at": None}) == 0


async def test_subject_and_school_come_from_the_event_unless_given(kit_settings: KitSettings,
                                                                   mongo_client: Client) -> None:
    from contracts.enrollment import GroupMembersChangedV1
    from contracts.identity import UserUpdatedV1

    db = mongo_client[kit_settings.database]
    outbox = Outbox(db, kit_settings.service)
    members = GroupMembersChangedV1(group_id="grp-1", school_id="sch-1", added=["stu-1"])
    user = UserUpdatedV1(user_id="usr-1", email="a@example.nl", display_name="A")

    async def work(session: AsyncClientSession) -> list[Envelope]:
        return [
            await outbox.stage(session, members),
            await outbox.stage(session, members, subject="stu-1", school_id=None),
            await outbox.stage(session, user, school_id="sch-2"),
            *await outbox.stage_many(session, [members, (user, "usr-1", None)]),
        ]

    envelopes = await run_in_transaction(mongo_client, work)
    assert [(e.subject, e.school_id) for e in envelopes] == [
        ("grp-1", "sch-1"), ("stu-1", None), ("usr-1", "sch-2"), ("grp-1", "sch-1"), ("usr-1", None)]
    staged = await staged_events(db)
    assert [(e["subject"], e["school_id"]) for e in staged] == [(e.subject, e.school_id) for e in envelopes]
