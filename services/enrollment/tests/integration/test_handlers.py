"""Identity's events reach enrollment's projections through Kafka: idempotent, and poison goes to the DLT."""

from __future__ import annotations

import asyncio
import time

from contracts import Envelope, dead_letter_topic
from contracts.identity import MembershipGrantedV1, MembershipRevokedV1, SchoolCreatedV1, UserCreatedV1, UserUpdatedV1
from enrollment.handlers import handlers
from kit.consumer import ConsumerRunner
from kit.kafka import create_producer, ensure_topics
from kit.testing.kafka import produce, read_topic

from .conftest import SCHOOL, Env


async def eventually(check, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


def record(event, subject: str = "u-1") -> tuple[bytes, bytes]:
    envelope = Envelope.wrap(event, producer="identity", subject=subject, school_id=SCHOOL)
    return subject.encode(), envelope.model_dump_json().encode()


async def test_identity_events_build_the_projections_once_and_poison_is_dead_lettered(env: Env) -> None:
    settings = env.settings
    topic, group = f"{settings.service}.identity", f"{settings.service}-g"
    await ensure_topics(settings, [topic, dead_letter_topic(group)])
    student = (await env.http.post(f"/v1/schools/{SCHOOL}/students", headers=env.admin, json={
        "student_code": "1", "first_name": "A", "last_name": "B", "email": "a@b.nl"})).json()
    producer = create_producer(settings)
    await producer.start()
    runner = ConsumerRunner(settings, env.client, env.db, producer, group=group, topics=[topic],
                            handlers=handlers(env.db), backoff_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        granted = record(MembershipGrantedV1(user_id="u-1", school_id=SCHOOL, role="student", roles=["student"],
                                             student_code="1", student_id=student["id"]))
        await produce(settings.kafka_bootstrap, topic, [
            record(SchoolCreatedV1(school_id=SCHOOL, name="ROC Midden")),
            record(UserCreatedV1(user_id="u-1", email="A@B.nl", display_name="A B")),
            record(UserUpdatedV1(user_id="u-1", email="new@b.nl", display_name="A B", active=True)),
            granted, granted,  # a replay
            record(MembershipGrantedV1(user_id="u-1", school_id=SCHOOL, role="student", roles=["student"],
                                       student_id="stu-unknown")),
            (b"u-1", b'{"not": "an envelope"}'),
            record(MembershipRevokedV1(user_id="u-2", school_id=SCHOOL, role="assessor", roles=[])),
        ])

        async def settled() -> bool:
            return await env.db.memberships.count_documents({}) == 2

        await eventually(settled)
        assert (await env.db.schools.find_one({"_id": SCHOOL}))["name"] == "ROC Midden"
        assert (await env.db.users.find_one({"_id": "u-1"}))["email"] == "new@b.nl"
        doc = await env.db.students.find_one({"_id": student["id"]})
        assert doc["user_id"] == "u-1" and doc["viewer_ids"] == ["u-1"]
        assert (await env.db.memberships.find_one({"user_id": "u-2"}))["roles"] == []
        dead = await read_topic(settings.kafka_bootstrap, dead_letter_topic(group), count=2)
        reasons = sorted(dict(r.headers)["dlt.error"].decode() for r in dead)
        assert reasons[0].startswith("malformed envelope")
        assert "no student stu-unknown" in reasons[1]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await producer.stop()
