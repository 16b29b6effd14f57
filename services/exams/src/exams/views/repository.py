"""The queries only the views make: the overview's cells of a page of students."""

from __future__ import annotations

from exams.common import Doc
from kit.mongo import Db

CELL_FIELDS = {"_id": 0, "student_id": 1, "exam_id": 1, "assignment_id": 1, "assignment_state": 1, "parts_total": 1,
               "parts_scheduled": 1, "first_start": 1, "attempt_number": 1, "result": 1}


async def cells_of(db: Db, school_id: str, student_ids: list[str], exam_ids: list[str] | None = None) -> list[Doc]:
    """The cells of a page of students (optionally of some exams)."""
    query: Doc = {"school_id": school_id, "student_id": {"$in": student_ids}}
    if exam_ids is not None:
        query["exam_id"] = {"$in": exam_ids}
    return await db.cells.find(query, CELL_FIELDS).to_list()
