"""Fixtures of the exam-board tests: attempts with final assessments and adopted results (as the assess and
results parts store them), and the audit consumer fed with what exams staged in its outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from exams.audit.handlers import build_handlers as audit_handlers
from exams.settings import ExamsSettings
from kit.consumer import ConsumerRunner, Outcome
from kit.kafka import create_producer
from kit.mongo import Client
from kit.testing.outbox import staged_events

School = Any


async def assessed(school: School, student: Any = None, *, adopted_at: datetime | None = None,
                   grade: float = 4.8, outcome: str = "failed") -> dict[str, Any]:
    """An adopted, scheduled attempt whose parts were assessed and finalized, with its adopted result."""
    student = student or school.students[0]
    assignment = await school.adopted(student)
    parts = await school.schedule(assignment, starts_at=datetime.now(UTC) - timedelta(days=3))
    db, at = school.world.db, datetime.now(UTC)
    stored = await db.assignments.find_one({"_id": assignment["id"]}, {"exam_version_id": 1}) or {}
    version_id = stored.get("exam_version_id")
    for part in parts:
        await db.assessments.insert_one({
            "_id": part["id"], "school_id": school.school_id, "attempt_id": part["attempt_id"],
            "student_id": student.student_id, "exam_id": school.exam_id,
            "exam_version_id": version_id,
            "part_id": part["part_id"], "forms": {}, "state": "final",
            "final": {"scores": {}, "justifications": {}, "finalized_by": part["first_assessor_id"],
                      "finalized_role": "first", "finalized_at": at, "divergences": [], "divergence_note": None},
            "superseded_by": None})
    result = {"_id": f"res_{parts[0]['attempt_id']}", "school_id": school.school_id,
              "attempt_id": parts[0]["attempt_id"], "attempt_number": 1, "student_id": student.student_id,
              "exam_id": school.exam_id, "exam_version_id": version_id,
              "exam_name": "Proeve PVB1",
              "parts": [{"part_id": p["part_id"], "outcome": outcome, "grade": grade} for p in parts],
              "core_tasks": [{"code": "B1-K1", "outcome": outcome, "grade": grade}], "grade": grade,
              "final_grade": round(grade), "outcome": outcome, "state": "adopted", "computed_at": at,
              "adopted_at": adopted_at or at, "adopted_by": school.staff["board"], "supersedes": None,
              "superseded_by": None, "reason": None, "case_id": None}
    await db.results.insert_one(result)
    return {"assignment": assignment, "parts": parts, "attempt_id": parts[0]["attempt_id"], "result": result,
            "student": student}


class Auditor:
    """The exams worker's audit consumer, fed with the envelopes exams staged (as the relay would publish them)."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner
        self.offset = 0

    def record_of(self, envelope: dict[str, Any]) -> ConsumerRecord[bytes, bytes]:
        """One envelope as the Kafka record the consumer would get."""
        value = json.dumps(envelope).encode()
        self.offset += 1
        return ConsumerRecord("exams.events", 0, self.offset, 0, 0, envelope["subject"].encode(), value, None, 0,
                              len(value), [])

    async def catch_up(self, db: Any) -> list[Outcome]:
        """Hand every staged envelope to the audit consumer, in order."""
        return [await self.runner.process(self.record_of(e)) for e in await staged_events(db)]


@pytest.fixture
async def auditor(settings: ExamsSettings, mongo_client: Client) -> AsyncIterator[Auditor]:
    """The audit consumer on this test's database."""
    producer = create_producer(settings)
    await producer.start()
    db = mongo_client[settings.database]
    try:
        yield Auditor(ConsumerRunner(settings, mongo_client, db, producer, group=f"{settings.service}-audit",
                                     topics=["exams.events"], handlers=audit_handlers(db), backoff_s=0.01))
    finally:
        await producer.stop()


@pytest.fixture
def make_assessed() -> Any:
    """The function making an assessed attempt with an adopted result (see `assessed`)."""
    return assessed
