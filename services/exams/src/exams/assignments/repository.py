"""Every query on assignments and the school's assignment bank."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

from exams.common import Doc, Session
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of assignments and the bank."""
    await db.assignments.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("exam_id", ASCENDING),
                                       ("created_at", DESCENDING)])
    await db.assignments.create_index([("school_id", ASCENDING), ("state", ASCENDING), ("_id", ASCENDING)])
    await db.assignments.create_index([("school_id", ASCENDING), ("people.adopter", ASCENDING),
                                       ("state", ASCENDING)])
    await db.bank.create_index([("school_id", ASCENDING), ("exam_id", ASCENDING), ("_id", ASCENDING)])


async def insert(db: Db, session: Session, doc: Doc) -> None:
    """Store a new assignment."""
    await db.assignments.insert_one(doc, session=session)


async def get(db: Db, school_id: str, assignment_id: str, session: Session | None = None) -> Doc | None:
    """One assignment of a school."""
    return await db.assignments.find_one({"_id": assignment_id, "school_id": school_id}, session=session)


async def replace(db: Db, session: Session, *, before: Doc, after: Doc) -> bool:
    """Write a new state of an assignment if nobody changed it since it was read (False otherwise)."""
    result = await db.assignments.replace_one({"_id": before["_id"], "version": before["version"]}, after,
                                              session=session)
    return result.matched_count == 1


async def active_for(db: Db, session: Session, *, school_id: str, student_id: str, exam_id: str) -> Doc | None:
    """The student's assignment for an exam that is not deleted."""
    return await db.assignments.find_one({"school_id": school_id, "student_id": student_id, "exam_id": exam_id,
                                          "state": {"$ne": "deleted"}}, session=session)


async def find(db: Db, *, school_id: str, student_ids: list[str] | None, filters: Doc, after: str | None,
               limit: int) -> list[Doc]:
    """A page of a school's assignments, by id, for some students (None: any student)."""
    query: dict[str, Any] = {"school_id": school_id, **filters}
    if student_ids is not None:
        query["student_id"] = {"$in": student_ids}
    if after:
        query["_id"] = {"$gt": after}
    return await db.assignments.find(query).sort("_id", ASCENDING).limit(limit).to_list()


async def awaiting_adoption(db: Db, session: Session, *, school_id: str, student_ids: list[str],
                            adopter_id: str) -> list[Doc]:
    """Locked assignments of these students that this adopter is named on."""
    return await db.assignments.find({"school_id": school_id, "student_id": {"$in": student_ids},
                                      "state": "locked", "people.adopter": adopter_id}, session=session).to_list()


async def of_students(db: Db, school_ids: list[str], student_ids: list[str]) -> list[Doc]:
    """The assignments (not deleted) of students, newest first."""
    query = {"school_id": {"$in": school_ids}, "student_id": {"$in": student_ids}, "state": {"$ne": "deleted"}}
    return await db.assignments.find(query).sort("created_at", DESCENDING).to_list()


# --- the bank ----------------------------------------------------------------------------------------

async def insert_bank(db: Db, session: Session, doc: Doc) -> None:
    """Store a bank assignment."""
    await db.bank.insert_one(doc, session=session)


async def get_bank(db: Db, school_id: str, bank_id: str, session: Session | None = None) -> Doc | None:
    """One bank assignment of a school."""
    return await db.bank.find_one({"_id": bank_id, "school_id": school_id}, session=session)


async def replace_bank(db: Db, session: Session, *, before: Doc, after: Doc) -> bool:
    """Write a new state of a bank assignment if unchanged since read."""
    result = await db.bank.replace_one({"_id": before["_id"], "version": before["version"]}, after, session=session)
    return result.matched_count == 1


async def add_bank_attachment(db: Db, session: Session, *, school_id: str, bank_id: str, file_id: str,
                              at: object) -> bool:
    """Attach a file evidence stored for a bank assignment (once; a new version); False if nothing changed."""
    result = await db.bank.update_one(
        {"_id": bank_id, "school_id": school_id, "uploaded_attachment_ids": {"$ne": file_id}},
        {"$push": {"uploaded_attachment_ids": file_id, "attachment_ids": file_id},
         "$inc": {"version": 1}, "$set": {"updated_at": at}}, session=session)
    return result.modified_count == 1


async def list_bank(db: Db, *, school_id: str, exam_id: str | None, after: str | None, limit: int) -> list[Doc]:
    """A page of the school's bank, by id."""
    query: Doc = {"school_id": school_id}
    if exam_id:
        query["exam_id"] = exam_id
    if after:
        query["_id"] = {"$gt": after}
    return await db.bank.find(query).sort("_id", ASCENDING).limit(limit).to_list()


async def mark_execution_started(db: Db, session: Session, *, assignment_id: str, at: object) -> None:
    """The first part of an assignment was scheduled: from now on it cannot be deleted."""
    await db.assignments.update_one({"_id": assignment_id, "execution_started_at": None},
                                    {"$set": {"execution_started_at": at}}, session=session)
