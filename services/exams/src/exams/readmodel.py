"""The overview's read model: one precomputed cell per student x exam, written in the commands' transactions.

The overview then reads a page of students and their cells by index instead of aggregating assignments,
attempts and schedules per request. What depends on the clock (started or not) is kept as the earliest
start and decided at read time (views.models.cell_state).
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from exams.common import Doc, Session
from kit.clock import now
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of the read model."""
    await db.cells.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("exam_id", ASCENDING)])


def cell_id(school_id: str, student_id: str, exam_id: str) -> str:
    """The id of the cell of a student and an exam."""
    return f"{school_id}:{student_id}:{exam_id}"


async def refresh(db: Db, session: Session, *, school_id: str, student_id: str, exam_id: str) -> Doc:
    """Recompute one cell from the student's latest assignment, current attempt and its scheduled parts."""
    assignment = await db.assignments.find_one(
        {"school_id": school_id, "student_id": student_id, "exam_id": exam_id, "state": {"$ne": "deleted"}},
        sort=[("created_at", DESCENDING)], session=session)
    attempt = await db.attempts.find_one({"school_id": school_id, "student_id": student_id, "exam_id": exam_id},
                                         sort=[("number", DESCENDING)], session=session)
    scheduled: list[Doc] = []
    if attempt is not None:
        scheduled = await db.schedules.find({"attempt_id": attempt["_id"], "state": "scheduled"},
                                            {"starts_at": 1}, session=session).to_list()
    cell = {
        "school_id": school_id, "student_id": student_id, "exam_id": exam_id,
        "assignment_id": assignment["_id"] if assignment else None,
        "assignment_state": assignment["state"] if assignment else None,
        "parts_total": assignment["parts_total"] if assignment else None,
        "attempt_id": attempt["_id"] if attempt else None,
        "attempt_number": attempt["number"] if attempt else None,
        "attempt_state": attempt["state"] if attempt else None,
        "parts_scheduled": len(scheduled),
        "first_start": min((s["starts_at"] for s in scheduled), default=None),
        "result": attempt.get("result") if attempt else None,
        "updated_at": now(),
    }
    await db.cells.replace_one({"_id": cell_id(school_id, student_id, exam_id)}, cell, upsert=True, session=session)
    return cell

