"""Every query on results, and the reads results makes of assessments and exam-board cases."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING

from exams.common import Doc, Session
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of results, and of the assessments and cases results reads."""
    await db.results.create_index([("attempt_id", ASCENDING), ("superseded_by", ASCENDING)])
    await db.results.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("exam_id", ASCENDING)])
    await db.results.create_index([("school_id", ASCENDING), ("state", ASCENDING), ("superseded_by", ASCENDING),
                                   ("_id", ASCENDING)])
    await db.assessments.create_index([("attempt_id", ASCENDING), ("state", ASCENDING)])
    await db.cases.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("kind", ASCENDING)])


async def current_of_attempt(db: Db, attempt_id: str, session: Session | None = None) -> Doc | None:
    """The current (not superseded) result of an attempt."""
    return await db.results.find_one({"attempt_id": attempt_id, "superseded_by": None}, session=session)


async def of_attempt(db: Db, attempt_id: str) -> list[Doc]:
    """Every result of an attempt, superseded ones included, oldest first."""
    return await db.results.find({"attempt_id": attempt_id}).sort("computed_at", ASCENDING).to_list()


async def get(db: Db, school_id: str, result_id: str, session: Session | None = None) -> Doc | None:
    """One result of a school."""
    return await db.results.find_one({"_id": result_id, "school_id": school_id}, session=session)


async def insert(db: Db, session: Session, doc: Doc) -> None:
    """Store a computed result."""
    await db.results.insert_one(doc, session=session)


async def mark_superseded(db: Db, session: Session, *, result_id: str, by: str) -> None:
    """Point an older result to the one that replaces it (its grades stay as they were)."""
    await db.results.update_one({"_id": result_id}, {"$set": {"superseded_by": by}}, session=session)


async def adopt(db: Db, session: Session, *, result_id: str, by: str, at: datetime) -> bool:
    """Adopt a current result awaiting adoption; False when it no longer is."""
    found = await db.results.update_one(
        {"_id": result_id, "state": "awaiting_adoption", "superseded_by": None},
        {"$set": {"state": "adopted", "adopted_by": by, "adopted_at": at}}, session=session)
    return found.modified_count == 1


async def of_student(db: Db, school_id: str, student_id: str, exam_id: str | None = None,
                     session: Session | None = None) -> list[Doc]:
    """Every result of a student (optionally at one exam), superseded ones included, by attempt."""
    query: Doc = {"school_id": school_id, "student_id": student_id}
    if exam_id:
        query["exam_id"] = exam_id
    return await db.results.find(query, session=session).sort(
        [("exam_id", ASCENDING), ("attempt_number", ASCENDING), ("computed_at", ASCENDING)]).to_list()


async def find_current(db: Db, *, school_id: str, state: str | None, student_ids: list[str] | None,
                       exam_id: str | None, after: str | None, limit: int, session: Session | None = None) -> list[Doc]:
    """A page of a school's current results, by id."""
    query: Doc = {"school_id": school_id, "superseded_by": None}
    if state:
        query["state"] = state
    if student_ids is not None:
        query["student_id"] = {"$in": student_ids}
    if exam_id:
        query["exam_id"] = exam_id
    if after:
        query["_id"] = {"$gt": after}
    return await db.results.find(query, session=session).sort("_id", ASCENDING).limit(limit).to_list()


async def final_assessments(db: Db, attempt_id: str, session: Session) -> list[Doc]:
    """The final, not superseded assessments of an attempt's parts (written by assessment)."""
    return await db.assessments.find({"attempt_id": attempt_id, "state": "final", "superseded_by": None},
                                     session=session).to_list()


async def granted_cases(db: Db, session: Session | None, *, school_id: str, student_id: str, kind: str) -> list[Doc]:
    """A student's exam-board cases of a kind that were decided "granted" (written by the board)."""
    return await db.cases.find({"school_id": school_id, "student_id": student_id, "kind": kind,
                                "state": "decided", "decision.outcome": "granted"}, session=session).to_list()


async def use_extra_attempt(db: Db, session: Session, *, case_id: str, attempt_id: str) -> bool:
    """Mark a granted extra attempt used by a new attempt (the one write results makes on cases)."""
    found = await db.cases.update_one(
        {"_id": case_id, "$or": [{"decision.used_by_attempt_id": None},
                                 {"decision.used_by_attempt_id": {"$exists": False}}]},
        {"$set": {"decision.used_by_attempt_id": attempt_id}}, session=session)
    return found.modified_count == 1
