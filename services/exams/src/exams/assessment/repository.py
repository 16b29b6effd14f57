"""Every query on assessments, and what assessment reads of cases and results (owned by the exam board's code)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING

from exams.common import Doc, Session
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of assessments (and the reads of cases and results they rely on)."""
    await db.assessments.create_index([("attempt_id", ASCENDING), ("state", ASCENDING)])
    await db.cases.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("kind", ASCENDING)])
    await db.results.create_index([("attempt_id", ASCENDING), ("state", ASCENDING)])


async def get(db: Db, schedule_id: str, session: Session | None = None) -> Doc | None:
    """The assessment of one scheduled part (its id is the schedule's)."""
    return await db.assessments.find_one({"_id": schedule_id}, session=session)


async def of_attempt(db: Db, attempt_id: str, session: Session | None = None) -> list[Doc]:
    """Every assessment of an attempt's parts."""
    return await db.assessments.find({"attempt_id": attempt_id}, session=session).to_list()


async def create(db: Db, session: Session, doc: Doc) -> None:
    """Store a part's first assessment document (no form yet) unless it exists; two assessors saving their first
    draft at once conflict (and one retries) instead of failing on a duplicate id."""
    fields = {k: v for k, v in doc.items() if k != "_id"}
    await db.assessments.update_one({"_id": doc["_id"]}, {"$setOnInsert": fields}, upsert=True, session=session)


async def save_form(db: Db, session: Session, *, schedule_id: str, user_id: str, expected: int,
                    form: Doc) -> bool:
    """Write one assessor's form if it is still at the version they saw and the assessment is open."""
    guard: Doc = {"_id": schedule_id, "state": "open"}
    guard[f"forms.{user_id}.version"] = expected if expected else {"$exists": False}
    result = await db.assessments.update_one(guard, {"$set": {f"forms.{user_id}": form},
                                                     "$inc": {"version": 1}}, session=session)
    return result.modified_count == 1


async def add_attachment(db: Db, session: Session, *, schedule_id: str, user_id: str, file_id: str,
                         at: datetime) -> bool:
    """List a file evidence stored on an assessor's open form (once); False when nothing changed."""
    path = f"forms.{user_id}"
    result = await db.assessments.update_one(
        {"_id": schedule_id, "state": "open", f"{path}.attachment_ids": {"$ne": file_id}},
        {"$push": {f"{path}.attachment_ids": file_id}, "$inc": {f"{path}.version": 1, "version": 1},
         "$set": {f"{path}.saved_at": at}}, session=session)
    return result.modified_count == 1


async def finalize(db: Db, session: Session, *, schedule_id: str, version: int, final: Doc) -> bool:
    """Make the assessment final if nobody changed it since it was read; False otherwise."""
    result = await db.assessments.update_one(
        {"_id": schedule_id, "state": "open", "version": version},
        {"$set": {"state": "final", "final": final}, "$inc": {"version": 1}}, session=session)
    return result.modified_count == 1


async def schedule_of_part(db: Db, session: Session, *, attempt_id: str, part_id: str) -> Doc | None:
    """The scheduled (not cancelled) part of an attempt with this code."""
    return await db.schedules.find_one({"attempt_id": attempt_id, "part_id": part_id, "state": "scheduled"},
                                       session=session)


async def granted_accommodations(db: Db, *, school_id: str, student_id: str) -> list[Doc]:
    """The exam board's decided accommodation cases of a student (validity is judged by the caller)."""
    return await db.cases.find({"school_id": school_id, "student_id": student_id, "kind": "accommodation",
                                "state": "decided"}).to_list()


async def adopted_result(db: Db, *, school_id: str, attempt_id: str) -> Doc | None:
    """The attempt's current adopted result (not superseded), if any."""
    return await db.results.find_one({"school_id": school_id, "attempt_id": attempt_id, "state": "adopted",
                                      "superseded_by": None})
