"""The consumer runner against the real broker and database: dedupe, retries, dead letters."""

import asyncio
import json

import pytest
from pydantic import Field
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event, register
from kit.consumer import ConsumerRunner, Unprocessable
from kit.kafka import create_producer, ensure_topics
from kit.mongo import Client
from kit.settings import KitSettings
from kit.testing.kafka import produce, read_topic


@register
class PointsAwardedV1(Event):
    """Test-only event: a handler adds points to a tally."""

    TYPE = "kittest.points_awarded"
    VERSION = 1
    points: int = Field(ge=0)
    behaviour: str = "ok"  # ok | fail_twice | fail_always | unprocessable


def envelope(points: int = 1, behaviour: str = "ok", event_type: str = PointsAwardedV1.TYPE) -> Envelope:
    env = Envelope.wrap(PointsAwardedV1(points=points, behaviour=behaviour), producer="kittest",
                        subject="tally", school_id="school-1")
    return env.model_copy(update={"type": event_type})


class Tally:
    """The handler under test: adds points in the handler's transaction, misbehaving on request."""

    def __init__(self, client: Client, settings: KitSettings) -> None:
        self.db = client[settings.database]
        self.calls = 0

    async def __call__(self, env: Envelope, data: PointsAwardedV1, session: AsyncClientSession) -> None:
        self.calls += 1
        await self.db.tally.update_one({"_id": "t"}, {"$inc": {"points": data.points}}, upsert=True,
                                       session=session)
        if data.behaviour == "fail_twice" and self.calls <= 2:
            raise ConnectionError("downstream hiccup")
        if data.behaviour == "fail_always":
            raise ValueError("never works")
        if data.behaviour == "unprocessable":
            raise Unprocessable("student unknown")

    async def points(self) -> int:
        doc = await self.db.tally.find_one({"_id": "t"})
        return doc["points"] if doc else 0


@pytest.fixture
async def setup(kit_settings: KitSettings, mongo_client: Client):
    group = f"{kit_settings.service}-g"
    topic = f"{kit_settings.service}.events"
    await ensure_topics(kit_settings, [topic, f"{group}.dlt"])
    tally = Tally(mongo_client, kit_settings)
    producer = create_producer(kit_settings)
    await producer.start()
    runner = ConsumerRunner(kit_settings, mongo_client, mongo_client[kit_settings.database], producer,
                            group=group, topics=[topic], handlers={PointsAwardedV1: tally},
                            backoff_s=0.01)
    yield runner, tally, topic
    await producer.stop()


async def run_until(runner: ConsumerRunner, condition, timeout_s: float = 20.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


async def test_a_duplicate_event_is_applied_once(setup, kit_settings: KitSettings) -> None:
    runner, tally, topic = setup
    env = envelope(points=5)
    await produce(kit_settings.kafka_bootstrap, topic, [(b"tally", env.to_bytes())] * 2
                  + [(b"tally", envelope(points=1).to_bytes())])
    await run_until(runner, lambda: _eq(tally.calls, 2))
    assert await tally.points() == 6


async def _eq(a: int, b: int) -> bool:
    return a == b


async def test_poison_messages_go_to_the_dead_letter_topic_and_consumption_goes_on(
    setup, kit_settings: KitSettings
) -> None:
    runner, tally, topic = setup
    bad_data = json.loads(envelope().model_dump_json())
    bad_data["data"]["points"] = -3
    await produce(kit_settings.kafka_bootstrap, topic, [
        (b"x", b"{not json"),
        (b"x", json.dumps(bad_data).encode()),
        (b"tally", envelope(points=2).to_bytes()),
    ])
    await run_until(runner, lambda: _points_at_least(tally, 2))
    parked = await read_topic(kit_settings.kafka_bootstrap, runner.dlt, count=2)
    assert [r.value for r in parked][0] == b"{not json"
    headers = [dict(r.headers) for r in parked]
    assert headers[0]["dlt.original.topic"] == topic.encode()
    assert {h["dlt.original.offset"] for h in headers} == {b"0", b"1"}
    assert headers[0]["dlt.error"].startswith(b"malformed envelope")
    assert b"points" in headers[1]["dlt.error"]


async def _points_at_least(tally: Tally, n: int) -> bool:
    return await tally.points() >= n


async def test_a_handler_failing_twice_then_succeeding_applies_once(setup, kit_settings: KitSettings) -> None:
    runner, tally, topic = setup
    await produce(kit_settings.kafka_bootstrap, topic, [(b"tally", envelope(7, "fail_twice").to_bytes())])
    await run_until(runner, lambda: _points_at_least(tally, 7))
    assert tally.calls == 3
    assert await tally.points() == 7  # the two failed attempts were rolled back


async def test_exhausted_retries_and_unprocessable_events_are_dead_lettered(
    setup, kit_settings: KitSettings
) -> None:
    runner, tally, topic = setup
    await produce(kit_settings.kafka_bootstrap, topic, [
        (b"tally", envelope(1, "fail_always").to_bytes()),
        (b"tally", envelope(1, "unprocessable").to_bytes()),
        (b"tally", envelope(4).to_bytes()),
    ])
    await run_until(runner, lambda: _points_at_least(tally, 4))
    parked = await read_topic(kit_settings.kafka_bootstrap, runner.dlt, count=2)
    reasons = [dict(r.headers)["dlt.error"].decode() for r in parked]
    assert reasons[0].startswith("failed after 4 attempts: ValueError")
    assert reasons[1] == "unprocessable: student unknown"
    assert tally.calls == 4 + 1 + 1
    assert await tally.points() == 4


async def test_unknown_event_types_and_versions_are_skipped(setup, kit_settings: KitSettings) -> None:
    runner, tally, topic = setup
    newer = envelope(3).model_copy(update={"version": 9})
    await produce(kit_settings.kafka_bootstrap, topic, [
        (b"tally", envelope(3, event_type="kittest.something_else").to_bytes()),
        (b"tally", newer.to_bytes()),
        (b"tally", envelope(1).to_bytes()),
    ])
    await run_until(runner, lambda: _points_at_least(tally, 1))
    assert tally.calls == 1
    assert await read_topic(kit_settings.kafka_bootstrap, runner.dlt, count=1, timeout_s=1) == []


async def test_offsets_are_committed_so_a_restart_does_not_replay(setup, kit_settings: KitSettings) -> None:
    runner, tally, topic = setup
    await produce(kit_settings.kafka_bootstrap, topic, [(b"tally", envelope(2).to_bytes())])
    await run_until(runner, lambda: _points_at_least(tally, 2))
    await produce(kit_settings.kafka_bootstrap, topic, [(b"tally", envelope(1).to_bytes())])
    await run_until(runner, lambda: _points_at_least(tally, 3))
    assert tally.calls == 2  # the first event was not handed to the handler again


async def test_an_event_locked_by_a_dead_workers_transaction_waits_for_it_and_is_applied_once(
    setup, kit_settings: KitSettings, mongo_client: Client
) -> None:
    """A worker killed mid-handler leaves its transaction open (the server reaps it after 60 s): wait, no DLT."""
    runner, tally, topic = setup
    env = envelope(points=4)
    db = mongo_client[kit_settings.database]
    dead = mongo_client.start_session()
    await dead.start_transaction()  # the killed worker's: it had written the inbox record, then died
    await db.inbox.insert_one({"_id": f"{runner.group}:{env.event_id}"}, session=dead)
    await db.tally.update_one({"_id": "t"}, {"$inc": {"points": 100}}, upsert=True, session=dead)
    await produce(kit_settings.kafka_bootstrap, topic, [(b"tally", env.to_bytes())])
    reaped_after_s = 3.0

    async def reap() -> None:  # what the server does once the dead transaction passes its lifetime
        await asyncio.sleep(reaped_after_s)
        await dead.abort_transaction()
        await dead.end_session()

    reaper = asyncio.create_task(reap())
    started = asyncio.get_running_loop().time()
    await run_until(runner, lambda: _points_at_least(tally, 4), timeout_s=30)
    await reaper
    assert asyncio.get_running_loop().time() - started >= reaped_after_s - 0.5
    assert await tally.points() == 4
    assert await read_topic(kit_settings.kafka_bootstrap, runner.dlt, count=1, timeout_s=1.0) == []
