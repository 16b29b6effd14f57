"""Student import throughput: a generated 5,000-row .xlsx through all four steps, committed, events published.

Runs the enrollment API in-process against throwaway stand-in servers (Mongo, Kafka) and the enrollment
worker as its own process, which relays the outbox to Kafka. The clock runs from the upload until every
staged event of the import has been published.
Last line: import_rows=<n> seconds=<s>
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from openpyxl import Workbook
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, events_topic
from contracts.identity import MembershipGrantedV1, UserCreatedV1
from enrollment.app import create_app
from enrollment.handlers import handlers
from enrollment.settings import EnrollmentSettings
from kit.auth import Role
from kit.mongo import create_client, run_in_transaction
from kit.testing.bench import backbone
from kit.testing.outbox import staged_events
from kit.testing.service import service_client
from kit.testing.tokens import TestIssuer

ROWS = 5000
SCHOOL = "sch-bench"
SUPERVISORS = 20
GROUPS = 25


def make_xlsx() -> bytes:
    """A school's export as it might come from its student information system."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    sheet.append(["Studentnummer", "Roepnaam", "Achternaam", "E-mailadres", "Geslacht", "Geboortedatum",
                  "Crebo", "Klas", "Praktijkbegeleider"])
    born = date(2005, 1, 1)
    for i in range(ROWS):
        sheet.append([100000 + i, f"Voornaam{i}", f"Achternaam {i}", f"student{i}@student.example.nl",
                      "MVX"[i % 3], (born + timedelta(days=i % 700)).strftime("%d-%m-%Y"), "25604",
                      f"VIG3-{i % GROUPS:02d}", f"begeleider{i % SUPERVISORS}@school.example.nl"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def seed(settings: EnrollmentSettings) -> None:
    """The supervisors identity would have told enrollment about."""
    client = create_client(settings)
    db = client[settings.database]
    table = handlers(db)
    try:
        for n in range(SUPERVISORS):
            user = f"u-sup-{n}"
            for event in (UserCreatedV1(user_id=user, email=f"begeleider{n}@school.example.nl", display_name=user),
                          MembershipGrantedV1(user_id=user, school_id=SCHOOL, role="school_supervisor",
                                              roles=["school_supervisor"])):
                envelope = Envelope.wrap(event, producer="identity", subject=user, school_id=SCHOOL)

                async def work(session: AsyncClientSession, event=event, envelope=envelope) -> None:  # type: ignore[no-untyped-def]
                    await table[type(event)](envelope, event, session)

                await run_in_transaction(client, work)
    finally:
        await client.close()


async def run(mongo_uri: str, bootstrap: str, base: Path) -> tuple[float, dict[str, float], dict[str, int]]:
    """Time the four steps and the publishing of the events."""
    (base / "jwks").mkdir()
    issuer = TestIssuer(base / "jwks")
    settings = EnrollmentSettings(mongo_uri=mongo_uri, kafka_bootstrap=bootstrap, auth_jwks_url=str(issuer.jwks_path),
                                  mongo_db="enrollment_bench", log_level="WARNING")
    env = {**os.environ, "MONGO_URI": mongo_uri, "KAFKA_BOOTSTRAP": bootstrap, "MONGO_DB": "enrollment_bench",
           "AUTH_JWKS_URL": str(issuer.jwks_path), "LOG_LEVEL": "WARNING", "OTEL_TRACES_EXPORTER": "none"}
    with (base / "worker.log").open("wb") as worker_log:
        worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "enrollment.worker", env=env,
                                                      stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        content = make_xlsx()
        await seed(settings)
        admin = issuer.headers("u-admin", {SCHOOL: [Role.SCHOOL_ADMIN]})
        operator = issuer.headers("op", {}, operator=True)
        steps: dict[str, float] = {}
        async with service_client(create_app(settings), timeout_s=60) as http:
            http.timeout = 300
            r = await http.post("/v1/programmes", json={"crebo": "25604", "name": "Verzorgende-IG", "level": 3,
                                                        "cohort": 2024}, headers=operator)
            r.raise_for_status()
            pid = r.json()["id"]
            (await http.put(f"/v1/schools/{SCHOOL}/programmes/{pid}", json={}, headers=admin)).raise_for_status()
            db = http._transport.app.state.db  # type: ignore[attr-defined]
            began = lap = time.perf_counter()

            def step(name: str) -> None:
                nonlocal lap
                now = time.perf_counter()
                steps[name] = now - lap
                lap = now

            r = await http.post(f"/v1/schools/{SCHOOL}/imports?invite=true", content=content, headers=admin)
            r.raise_for_status()
            job = r.json()
            step("upload")
            r = await http.put(f"/v1/schools/{SCHOOL}/imports/{job['id']}/mapping",
                               json={"columns": job["suggested_mapping"]}, headers=admin)
            r.raise_for_status()
            step("columns")
            r = await http.put(f"/v1/schools/{SCHOOL}/imports/{job['id']}/values", json={}, headers=admin)
            r.raise_for_status()
            step("values")
            r = await http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/preview", headers=admin)
            r.raise_for_status()
            preview = r.json()["preview"]
            assert preview["valid"] == ROWS, preview
            step("preview")
            r = await http.post(f"/v1/schools/{SCHOOL}/imports/{job['id']}/commit", headers=admin)
            r.raise_for_status()
            result = r.json()["result"]
            assert result["created"] == ROWS, result
            step("commit")
            while await db.outbox.count_documents({"sent_at": None}) > 0:
                await asyncio.sleep(0.1)
            step("published")
            elapsed = time.perf_counter() - began
            counts = {"students": await db.students.count_documents({}),
                      "events_staged": len(await staged_events(db)),
                      "events_on_topic": await topic_size(bootstrap, events_topic("enrollment"))}
        return elapsed, steps, counts
    finally:
        worker.terminate()
        await asyncio.wait_for(worker.wait(), 10)


async def topic_size(bootstrap: str, topic: str) -> int:
    """How many records the topic holds (sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def main() -> None:
    """Start throwaway servers, run the import, print the figures."""
    with backbone("bench-import-") as backing:
        elapsed, steps, counts = await run(backing.mongo_uri, backing.kafka_bootstrap, backing.base)
    print("steps: " + " ".join(f"{name}={seconds:.2f}s" for name, seconds in steps.items()))
    print(f"students={counts['students']} events_staged={counts['events_staged']} "
          f"events_on_topic={counts['events_on_topic']}")
    print(f"import_rows={ROWS} seconds={elapsed:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
