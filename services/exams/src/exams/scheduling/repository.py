"""Every query on attempts, scheduled parts and the schools' scheduling settings."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING

from exams.common import Doc, Session
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of attempts and schedules."""
    await db.attempts.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("exam_id", ASCENDING),
                                    ("number", ASCENDING)])
    await db.attempts.create_index([("assignment_id", ASCENDING), ("state", ASCENDING)])
    await db.schedules.create_index([("attempt_id", ASCENDING), ("state", ASCENDING)])
    await db.schedules.create_index([("assignment_id", ASCENDING), ("state", ASCENDING)])
    await db.schedules.create_index([("assessor_ids", ASCENDING), ("school_id", ASCENDING), ("state", ASCENDING),
                                     ("starts_at", ASCENDING)])
    await db.schedules.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("starts_at", ASCENDING)])


async def open_attempt(db: Db, session: Session, *, assignment_id: str) -> Doc | None:
    """The attempt of an assignment that is in execution."""
    # The latest one: an attempt with a result stays in execution (the board may order a new assessment of it).
    return await db.attempts.find_one({"assignment_id": assignment_id, "state": "in_execution"},
                                      sort=[("number", DESCENDING)], session=session)


async def attempts_of(db: Db, session: Session | None, *, school_id: str, student_id: str, exam_id: str) -> list[Doc]:
    """Every attempt of a student at an exam, first first."""
    return await db.attempts.find({"school_id": school_id, "student_id": student_id, "exam_id": exam_id},
                                  session=session).sort("number", ASCENDING).to_list()


async def insert_attempt(db: Db, session: Session, doc: Doc) -> None:
    """Store a new attempt."""
    await db.attempts.insert_one(doc, session=session)


async def get_attempt(db: Db, school_id: str, attempt_id: str, session: Session | None = None) -> Doc | None:
    """One attempt of a school."""
    return await db.attempts.find_one({"_id": attempt_id, "school_id": school_id}, session=session)


async def set_attempt(db: Db, session: Session, *, attempt_id: str, fields: Doc) -> None:
    """Change fields of an attempt."""
    await db.attempts.update_one({"_id": attempt_id}, {"$set": fields}, session=session)


async def scheduled_parts(db: Db, session: Session | None, *, attempt_id: str) -> list[Doc]:
    """The parts of an attempt that are scheduled (not cancelled), by start."""
    return await db.schedules.find({"attempt_id": attempt_id, "state": "scheduled"},
                                   session=session).sort("starts_at", ASCENDING).to_list()


async def insert_schedules(db: Db, session: Session, docs: list[Doc]) -> None:
    """Store scheduled parts."""
    if docs:
        await db.schedules.insert_many(docs, session=session)


async def get_schedule(db: Db, school_id: str, schedule_id: str, session: Session | None = None) -> Doc | None:
    """One scheduled part of a school."""
    return await db.schedules.find_one({"_id": schedule_id, "school_id": school_id}, session=session)


async def replace_schedule(db: Db, session: Session, *, before: Doc, after: Doc) -> bool:
    """Write a new state of a scheduled part if unchanged since read."""
    result = await db.schedules.replace_one({"_id": before["_id"], "version": before["version"]}, after,
                                            session=session)
    return result.matched_count == 1


async def mark_assessed(db: Db, session: Session, *, schedule_id: str, at: datetime) -> None:
    """The part's assessment is final: it leaves the assessors' open actions and can no longer change."""
    await db.schedules.update_one({"_id": schedule_id}, {"$set": {"assessed_at": at}}, session=session)


async def schedules_of_assignment(db: Db, assignment_id: str) -> list[Doc]:
    """Every scheduled or cancelled part of an assignment, by start."""
    return await db.schedules.find({"assignment_id": assignment_id}).sort("starts_at", ASCENDING).to_list()


async def assessor_parts(db: Db, *, school_id: str, assessor_id: str, started: bool, at: datetime,
                         exam_id: str | None, student_id: str | None, limit: int) -> list[Doc]:
    """An assessor's scheduled parts that started (open actions) or not yet (planning)."""
    query: Doc = {"assessor_ids": assessor_id, "school_id": school_id, "state": "scheduled",
                  "attempt_state": "in_execution", "starts_at": {"$lte": at} if started else {"$gt": at},
                  "assessed_at": None}
    if exam_id:
        query["exam_id"] = exam_id
    if student_id:
        query["student_id"] = student_id
    return await db.schedules.find(query).sort("starts_at", ASCENDING).limit(limit).to_list()


async def schedules_of_students(db: Db, school_ids: list[str], student_ids: list[str]) -> list[Doc]:
    """The scheduled parts of students, by start."""
    query = {"school_id": {"$in": school_ids}, "student_id": {"$in": student_ids}, "state": "scheduled"}
    return await db.schedules.find(query).sort("starts_at", ASCENDING).to_list()


async def school_settings(db: Db, school_id: str) -> Doc:
    """A school's scheduling settings (defaults when never set)."""
    doc = await db.school_settings.find_one({"_id": school_id})
    return {"assessors_may_schedule": False, **(doc or {})}


async def set_school_settings(db: Db, session: Session, *, school_id: str, fields: Doc) -> None:
    """Change a school's scheduling settings."""
    await db.school_settings.update_one({"_id": school_id}, {"$set": fields}, upsert=True, session=session)
