"""Notification latency: an exam part scheduled -> the e-mails accepted by the SMTP sink.

This measures notifications' own share: from the published ExamPartScheduledV1 event (the moment exams'
relay publishes it), not from the scheduling API call (bench-events measures API -> relay -> consumer).
It runs the notifications worker as a real process on throwaway stand-in servers (Mongo, Kafka, the SMTP
sink), makes the recipients known through identity's events first, then publishes EVENTS scheduling events
at a steady pace; each one mails the student and the first assessor. A received e-mail is matched to its
event by its X-Notification-Id header (the delivery id, "<event id>:<user id>"); its acceptance time is the
sink's file time.
Last line: notify_p95_ms=<x>
"""

from __future__ import annotations

import asyncio
import email.policy
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path

from aiokafka import AIOKafkaProducer

from contracts import Envelope, Event, events_topic
from contracts.exams import ExamPartScheduledV1
from contracts.identity import MembershipGrantedV1, UserCreatedV1
from kit.local import servers
from kit.mongo import create_client
from kit.settings import KitSettings
from kit.testing.bench import backbone, percentiles
from kit.testing.fixtures import start

EVENTS = int(os.environ.get("BENCH_NOTIFY_EVENTS", "200"))
WARMUP = 20
TIMEOUT_S = 120
INTERVAL_S = float(os.environ.get("BENCH_NOTIFY_INTERVAL_S", "0.2"))  # 5 schedulings (10 e-mails) per second
STUDENTS = 40
ASSESSORS = 5
SCHOOL = "school-bench"


async def publish(producer: AIOKafkaProducer, event: Event, subject: str) -> Envelope:
    """Publish one event on its producer's topic, as that service's relay does."""
    envelope = Envelope.wrap(event, producer=event.TYPE.split(".")[0], subject=subject, school_id=SCHOOL)
    await producer.send_and_wait(events_topic(envelope.producer), envelope.to_bytes(), key=subject.encode())
    return envelope


def received(mail_dir: Path, seen: dict[str, float]) -> None:
    """Add every new e-mail's delivery id and acceptance time (the sink writes the file on acceptance)."""
    parser = BytesHeaderParser(policy=email.policy.default)
    for path in mail_dir.glob("*.eml"):
        if path.name in seen:
            continue
        with path.open("rb") as fh:
            headers = parser.parse(fh)
        delivery_id = headers["X-Notification-Id"]
        if delivery_id is None:
            continue  # still being written; read it again next round
        seen[path.name] = path.stat().st_mtime
        seen[f"id:{str(delivery_id).strip()}"] = path.stat().st_mtime


async def wait_mails(mail_dir: Path, seen: dict[str, float], ids: list[str], timeout_s: float = TIMEOUT_S) -> None:
    """Wait until every delivery id arrived at the sink."""
    deadline = time.monotonic() + timeout_s
    while True:
        received(mail_dir, seen)
        missing = [i for i in ids if f"id:{i}" not in seen]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(missing)} of {len(ids)} e-mails did not arrive")
        await asyncio.sleep(0.02)


def scheduling(student_id: str, assessor: str) -> ExamPartScheduledV1:
    """One exam part scheduled for a student with one assessor."""
    return ExamPartScheduledV1(
        attempt_id=uuid.uuid4().hex, attempt_number=1, school_id=SCHOOL, student_id=student_id,
        exam_id="exam-bench", exam_name="PvB Kerntaak 1", part_id="part-1", part_name="Observatie",
        starts_at=datetime.now(UTC) + timedelta(days=7), location="Bakkerij Jansen",
        first_assessor_id=assessor)


async def measure(mongo_uri: str, bootstrap: str, smtp_port: int, mail_dir: Path, logs: Path) -> list[float]:
    """Latencies (ms) from publishing each scheduling event to the sink accepting each of its e-mails."""
    env = {**os.environ, "MONGO_URI": mongo_uri, "KAFKA_BOOTSTRAP": bootstrap, "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(smtp_port), "PUBLIC_URL": "http://127.0.0.1:8080", "OTEL_TRACES_EXPORTER": "none",
           "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none", "LOG_LEVEL": "WARNING"}
    log = (Path(tempfile.gettempdir()) / "bench-notify-worker.log").open("wb")  # kept for a look after a failure
    worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "notifications.worker", env=env,
                                                  stdout=log, stderr=asyncio.subprocess.STDOUT)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=1)
    client = create_client(KitSettings(mongo_uri=mongo_uri))
    try:
        await producer.start()
        students = [(uuid.uuid4().hex, uuid.uuid4().hex) for _ in range(STUDENTS)]  # (student_id, user_id)
        assessors = [uuid.uuid4().hex for _ in range(ASSESSORS)]
        for student_id, user in students:
            await publish(producer, UserCreatedV1(user_id=user, email=f"{user[:8]}@student.example",
                                                  display_name="Student"), user)
            await publish(producer, MembershipGrantedV1(user_id=user, school_id=SCHOOL, role="student",
                                                        roles=["student"], student_id=student_id), user)
        for user in assessors:
            await publish(producer, UserCreatedV1(user_id=user, email=f"{user[:8]}@school.example",
                                                  display_name="Examinator"), user)
        people = client["notifications"]["people"]
        deadline = time.monotonic() + 120
        while await people.count_documents({"email": {"$exists": True}}) < STUDENTS + ASSESSORS or \
                await client["notifications"]["students"].count_documents({}) < STUDENTS:
            if time.monotonic() > deadline:
                raise TimeoutError("the worker did not learn the recipients")
            await asyncio.sleep(0.1)

        seen: dict[str, float] = {}
        published: dict[str, float] = {}
        expected: list[str] = []
        for n in range(WARMUP + EVENTS):
            student_id, user = students[n % STUDENTS]
            assessor = assessors[n % ASSESSORS]
            event = scheduling(student_id, assessor)
            sent_at = time.time()
            envelope = await publish(producer, event, event.attempt_id)
            ids = [f"{envelope.event_id}:{user}", f"{envelope.event_id}:{assessor}"]
            if n >= WARMUP:
                for delivery_id in ids:
                    published[delivery_id] = sent_at
                expected.extend(ids)
            else:
                await wait_mails(mail_dir, seen, ids)
            await asyncio.sleep(INTERVAL_S)
        await wait_mails(mail_dir, seen, expected)
        docs = {d["_id"]: d async for d in client["notifications"]["deliveries"].find({"_id": {"$in": expected}})}
        queued = [(docs[i]["created_at"].timestamp() - published[i]) * 1000 for i in expected]
        sending = [(seen[f"id:{i}"] - docs[i]["created_at"].timestamp()) * 1000 for i in expected]
        print(f"stages (p50 / p95): published -> queued by the handler {statistics.median(queued):.1f} / "
              f"{percentiles(queued)[1]:.1f} ms; queued -> accepted by SMTP {statistics.median(sending):.1f} / "
              f"{percentiles(sending)[1]:.1f} ms")
        return [(seen[f"id:{i}"] - published[i]) * 1000 for i in expected]
    finally:
        await producer.stop()
        await client.close()
        worker.terminate()
        await asyncio.wait_for(worker.wait(), 15)
        log.close()


async def main() -> None:
    """Start throwaway servers and the worker, measure, print the figures."""
    with backbone("bench-notify-") as backing:
        smtp_port, smtp_http = servers.free_ports(2)
        smtp = start(servers.smtp(smtp_port, smtp_http, backing.base / "mail"), backing.base)
        try:
            latencies = await measure(backing.mongo_uri, backing.kafka_bootstrap, smtp_port, backing.base / "mail",
                                      backing.base)
        finally:
            smtp.stop()
    p50, p95, p99 = percentiles(latencies)
    print(f"{datetime.now():%Y-%m-%d %H:%M} notify over {EVENTS} ExamPartScheduledV1 events "
          f"({1 / INTERVAL_S:.0f}/s, {len(latencies)} e-mails to student + assessor), {sys.platform}")
    print("measured from the published event (notifications' share; bench-events measures API -> consumer) "
          "to the SMTP sink accepting the e-mail, through the notifications worker as a real process")
    print(f"p50={p50:.1f} ms p95={p95:.1f} ms p99={p99:.1f} ms max={max(latencies):.1f} ms")
    print(f"notify_p95_ms={p95:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
