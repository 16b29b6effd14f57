"""Every query of the exam board: cases, the school calendar, and the results, assessments and schedules a
decision reads or supersedes (results and assessments are only ever superseded here, never edited)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING

from exams.common import Doc, Session
from exams.scheduling.models import IN_EXECUTION
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of cases (the board's list by deadline, a student's own) and of what decisions look up."""
    await db.cases.create_index([("school_id", ASCENDING), ("state", ASCENDING), ("deadline", ASCENDING),
                                 ("_id", ASCENDING)])
    await db.cases.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("deadline", ASCENDING),
                                 ("_id", ASCENDING)])
    await db.cases.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("kind", ASCENDING),
                                 ("state", ASCENDING)])
    await db.results.create_index([("attempt_id", ASCENDING), ("superseded_by", ASCENDING)])
    await db.assessments.create_index([("attempt_id", ASCENDING)])


# --- cases --------------------------------------------------------------------------------------------

async def insert_case(db: Db, session: Session, doc: Doc) -> None:
    """Store a new case."""
    await db.cases.insert_one(doc, session=session)


async def get_case(db: Db, school_id: str, case_id: str, session: Session | None = None) -> Doc | None:
    """One case of a school."""
    return await db.cases.find_one({"_id": case_id, "school_id": school_id}, session=session)


async def replace_case(db: Db, session: Session, *, before: Doc, after: Doc) -> bool:
    """Write a new state of a case if unchanged since read."""
    result = await db.cases.replace_one({"_id": before["_id"], "version": before["version"]}, after, session=session)
    return result.matched_count == 1


async def open_case_like(db: Db, session: Session, *, school_id: str, student_id: str, kind: str,
                         exam_id: str | None, attempt_id: str | None) -> Doc | None:
    """An open case of the same kind about the same student, exam and attempt."""
    return await db.cases.find_one({"school_id": school_id, "student_id": student_id, "kind": kind,
                                    "state": "open", "exam_id": exam_id, "attempt_id": attempt_id}, session=session)


async def list_cases(db: Db, *, school_id: str, student_id: str | None, state: str | None, kind: str | None,
                     after: tuple[datetime, str] | None, limit: int) -> list[Doc]:
    """Cases by deadline (earliest, so overdue, first), then id; a page after the cursor."""
    query: Doc = {"school_id": school_id}
    if student_id is not None:
        query["student_id"] = student_id
    if state is not None:
        query["state"] = state
    if kind is not None:
        query["kind"] = kind
    if after is not None:
        query["$or"] = [{"deadline": {"$gt": after[0]}}, {"deadline": after[0], "_id": {"$gt": after[1]}}]
    cursor = db.cases.find(query).sort([("deadline", ASCENDING), ("_id", ASCENDING)]).limit(limit)
    return await cursor.to_list()


# --- the school calendar ------------------------------------------------------------------------------

async def calendar(db: Db, school_id: str, session: Session | None = None) -> Doc | None:
    """A school's calendar (None when never set: no holidays)."""
    return await db.school_calendars.find_one({"_id": school_id}, session=session)


async def save_calendar(db: Db, session: Session, *, school_id: str, version: int, fields: Doc) -> bool:
    """Write a calendar if still at `version` (0: none yet); False when someone else changed it meanwhile."""
    if version == 0:
        existing = await db.school_calendars.find_one({"_id": school_id}, {"_id": 1}, session=session)
        if existing is not None:
            return False
        await db.school_calendars.insert_one({"_id": school_id, **fields, "version": 1}, session=session)
        return True
    result = await db.school_calendars.update_one({"_id": school_id, "version": version},
                                                  {"$set": {**fields, "version": version + 1}}, session=session)
    return result.matched_count == 1


async def exclusions(db: Db, session: Session | None, *, school_id: str, student_id: str, at: datetime) -> list[Doc]:
    """A student's fraud decisions whose exclusion from exams still runs at `at`."""
    return await db.cases.find({"school_id": school_id, "student_id": student_id, "kind": "fraud",
                                "state": "decided", "decision.outcome": "fraud",
                                "decision.excluded_until": {"$gte": at}}, session=session).to_list()


# --- what decisions read and supersede ----------------------------------------------------------------

async def current_result(db: Db, school_id: str, attempt_id: str, session: Session | None = None) -> Doc | None:
    """The result of an attempt that is not superseded (the newest, should there be several)."""
    return await db.results.find_one({"school_id": school_id, "attempt_id": attempt_id, "superseded_by": None},
                                     sort=[("computed_at", DESCENDING)], session=session)


async def insert_superseding_result(db: Db, session: Session, *, old: Doc, new: Doc) -> bool:
    """Insert a result and mark the one it supersedes (kept as it was otherwise); False if already superseded."""
    marked = await db.results.update_one({"_id": old["_id"], "superseded_by": None},
                                         {"$set": {"superseded_by": new["_id"]}}, session=session)
    if marked.modified_count != 1:
        return False
    await db.results.insert_one(new, session=session)
    return True


async def final_assessments(db: Db, session: Session, *, attempt_id: str) -> list[Doc]:
    """The finalized, not superseded assessments of an attempt (one per scheduled part)."""
    return await db.assessments.find({"attempt_id": attempt_id, "state": "final", "superseded_by": None},
                                     session=session).to_list()


async def supersede_assessment(db: Db, session: Session, *, assessment_id: str, by: str) -> None:
    """Mark an assessment superseded by a new one (its scores stay as they were)."""
    await db.assessments.update_one({"_id": assessment_id, "superseded_by": None},
                                    {"$set": {"superseded_by": by}}, session=session)


async def supersede_schedule(db: Db, session: Session, *, schedule: Doc, by: str, at: datetime) -> bool:
    """Take a scheduled part out of its attempt in favour of a new one; False when it changed meanwhile."""
    result = await db.schedules.update_one(
        {"_id": schedule["_id"], "version": schedule["version"]},
        {"$set": {"state": "superseded", "superseded_by": by, "updated_at": at},
         "$inc": {"version": 1}}, session=session)
    return result.matched_count == 1


async def reopen_attempt_for_assessment(db: Db, session: Session, *, attempt_id: str, case_id: str) -> None:
    """The attempt is assessed anew: in execution again, not assessed until the new assessment is finalized."""
    await db.attempts.update_one({"_id": attempt_id}, {"$set": {"state": IN_EXECUTION, "assessed_at": None,
                                                                "reassessment_case_id": case_id}}, session=session)


async def started_attempts(db: Db, session: Session, *, school_id: str, student_id: str, exam_id: str) -> list[Doc]:
    """A student's attempts at an exam that have a first scheduled moment."""
    return await db.attempts.find({"school_id": school_id, "student_id": student_id, "exam_id": exam_id,
                                   "first_scheduled_at": {"$ne": None}}, session=session).to_list()


async def add_document(db: Db, session: Session, *, school_id: str, case_id: str, file_id: str, at: datetime) -> None:
    """Evidence stored a document for a case: list it (a replay adds nothing)."""
    await db.cases.update_one({"_id": case_id, "school_id": school_id, "documents": {"$ne": file_id}},
                              {"$push": {"documents": file_id}, "$inc": {"version": 1}, "$set": {"updated_at": at}},
                              session=session)
