"""Consumers under faults: a poison message on every partition, and a consumer SIGKILLed mid-handler."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from kit.testing.kafka import read_topic

pytestmark = pytest.mark.timeout(240, func_only=True)  # the suite starting is bounded on its own

TOPIC = "enrollment.events"
DELIVERY_DEADLINE_S = 90.0


def create_students(suite: Any, count: int, tag: str) -> set[str]:
    """Create students through the gateway, all accepted; their ids."""
    admin = suite.headers("admin@demo-roc.example")
    with httpx.Client(base_url=suite.stack.gateway_url, timeout=60) as http, ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda i: suite.new_student(http, admin, tag), range(count)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201][:3]
    return {r.json().get("student_id") or r.json()["id"] for r in responses}


async def poison_every_partition(bootstrap: str) -> list[tuple[int, int]]:
    """Write an undecodable record at the head of each partition; (partition, offset) of each."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(TOPIC))
        written = []
        for p in partitions:
            meta = await producer.send_and_wait(TOPIC, b"{not an envelope", key=b"poison", partition=p,
                                                headers=[("event_type", b"enrollment.student_created")])
            written.append((meta.partition, meta.offset))
        return written
    finally:
        await producer.stop()


def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_partition_flows_on(suite: Any) -> None:
    poisoned = asyncio.run(poison_every_partition(suite.kafka))
    students = create_students(suite, 12, "p")
    handled, took = suite.wait_handled(students, DELIVERY_DEADLINE_S)
    dead = asyncio.run(read_topic(suite.kafka, "identity.dlt", count=10**6, timeout_s=3))
    parked = {(int(h["dlt.original.partition"]), int(h["dlt.original.offset"]))
              for h in ({k: v.decode() for k, v in r.headers} for r in dead)
              if h.get("dlt.original.topic") == TOPIC}
    suite.report("poison on every partition", poison_sent=len(poisoned), dead_lettered=len(parked & set(poisoned)),
                 sent=len(students), delivered=len(handled), lost=len(students) - len(handled),
                 applied_twice=sum(1 for n in handled.values() if n > 1), delivered_s=round(took, 1))
    assert set(poisoned) <= parked, f"poison not on identity.dlt: {set(poisoned) - parked}"
    assert len(handled) == len(students), "events behind the poison were not handled"
    assert all(n == 1 for n in handled.values())
    errors = [dict(r.headers).get("dlt.error", b"").decode() for r in dead if r.key == b"poison"]
    assert errors and all(errors), "dead-lettered records must say why"



def dead_lettered(suite: Any, subjects: set[str]) -> int:
    """How many of these students' events identity parked on its dead-letter topic."""
    records = asyncio.run(read_topic(suite.kafka, "identity.dlt", count=10**6, timeout_s=3))
    subjects_seen = 0
    for record in records:
        try:
            envelope = json.loads(record.value)
        except ValueError:
            continue
        subjects_seen += isinstance(envelope, dict) and envelope.get("subject") in subjects
    return subjects_seen


def test_a_consumer_killed_mid_handler_applies_the_event_once_after_restart(suite: Any) -> None:
    students = create_students(suite, 60, "c")
    started = time.monotonic()
    while len(suite.handled_by_identity(students)) < 5:  # the consumer is busy working through the burst
        assert time.monotonic() - started < 60, "identity did not start handling the burst"
        time.sleep(0.05)
    suite.kill("identity-worker")
    at_kill = len(suite.handled_by_identity(students))
    suite.start("identity-worker")
    handled, took = suite.wait_handled(students, DELIVERY_DEADLINE_S)
    parked = dead_lettered(suite, students)
    records = [e for e in suite.events(TOPIC, students) if e["type"] == "enrollment.student_created"]
    with suite.mongo() as client:
        inbox = client["identity"]["inbox"].count_documents(
            {"_id": {"$in": [f"identity:{e['event_id']}" for e in records]}})
    suite.report("consumer SIGKILL mid-handler", sent=len(students), handled_before_kill=at_kill,
                 handled=len(handled), duplicated=sum(n - 1 for n in handled.values()),
                 lost=len(students) - len(handled), dead_lettered=parked, inbox_records=inbox,
                 handled_after_restart_s=round(took, 1))
    assert 0 < at_kill < len(students), "the consumer was not killed mid-burst"
    assert parked == 0, f"{parked} events of the burst were dead-lettered"
    assert len(handled) == len(students), (
        f"{len(students) - len(handled)} events not handled {DELIVERY_DEADLINE_S:.0f}s after the restart")
    assert all(n == 1 for n in handled.values()), "an event was applied more than once"
    assert inbox == len(students), "an event was handled without its inbox record"
