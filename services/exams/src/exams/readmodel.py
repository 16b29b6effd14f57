"""The overview's read model: each student's cells (one per exam), precomputed in the commands' transactions.

A cell lives in the student's projection document (`cells.<exam_id>`), so a page of the overview is one
bounded read of student documents instead of an aggregation over assignments, attempts and schedules.
What depends on the clock (started or not) is kept as the earliest start and decided at read time
(views.models.cell_state).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pymongo import DESCENDING

from exams.common import Doc, Session
from kit.clock import now
from kit.mongo import Db

# A student's cells are stored as one JSON text {exam_id: [values in CELL order]}: the Python-speed database
# decodes one string per student instead of seventy fields, which is what keeps a page of the overview fast.
CELL = ("assignment_id", "assignment_state", "parts_total", "parts_scheduled", "first_start", "attempt_number",
        "result", "result_state")


def pack(cell: Doc) -> list[Any]:
    """The stored form of a cell (the first start as ISO 8601 text)."""
    values = [cell.get(k) for k in CELL]
    start = values[4]
    values[4] = start.isoformat() if isinstance(start, datetime) else start
    return values


def unpack(stored: Any) -> Doc | None:
    """A cell from its stored form."""
    if not stored:
        return None
    cell = dict(zip(CELL, stored, strict=False))
    if isinstance(cell["first_start"], str):
        cell["first_start"] = datetime.fromisoformat(cell["first_start"])
    return cell


def cells_of(student: Doc) -> dict[str, Any]:
    """A student document's stored cells by exam."""
    return dict(json.loads(student.get("cells") or "{}"))


async def ensure_indexes(db: Db) -> None:
    """The read model uses the students' indexes (projections.repository)."""


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
        "assignment_id": assignment["_id"] if assignment else None,
        "assignment_state": assignment["state"] if assignment else None,
        "parts_total": assignment["parts_total"] if assignment else None,
        "attempt_number": attempt["number"] if attempt else None,
        "parts_scheduled": len(scheduled),
        "first_start": min((s["starts_at"] for s in scheduled), default=None),
    }
    # The latest attempt's current result (a superseding one replaces it).
    result = await db.results.find_one({"attempt_id": attempt["_id"], "superseded_by": None},
                                       {"outcome": 1, "state": 1}, session=session) if attempt else None
    cell.update(_result_fields(result))
    cells = await _cells(db, session, school_id, student_id)
    cells[exam_id] = pack(cell)
    await _save(db, session, school_id, student_id, cells)
    return cell


def _result_fields(result: Doc | None) -> Doc:
    """A cell's result: passed (or exempt), failed (fraud is a fail), and whether it is adopted."""
    if result is None:
        return {"result": None, "result_state": None}
    return {"result": "passed" if result["outcome"] in ("passed", "exempt") else "failed",
            "result_state": result["state"]}


async def _cells(db: Db, session: Session, school_id: str, student_id: str) -> dict[str, Any]:
    student = await db.students.find_one({"_id": student_id, "school_id": school_id}, {"cells": 1},
                                         session=session)
    return cells_of(student or {})


async def _save(db: Db, session: Session, school_id: str, student_id: str, cells: dict[str, Any]) -> None:
    await db.students.update_one({"_id": student_id, "school_id": school_id},
                                 {"$set": {"cells": json.dumps(cells), "cells_updated_at": now()}},
                                 session=session)


async def set_result(db: Db, session: Session, *, school_id: str, student_id: str, exam_id: str,
                     attempt_number: int, result: Doc) -> None:
    """Put an attempt's new current result into its cell: the results worker's hot path, two operations instead
    of the six of a full refresh (which runs when the cell shows another attempt)."""
    cells = await _cells(db, session, school_id, student_id)
    cell = unpack(cells.get(exam_id))
    if cell is None or cell.get("attempt_number") != attempt_number:
        await refresh(db, session, school_id=school_id, student_id=student_id, exam_id=exam_id)
        return
    cells[exam_id] = pack({**cell, **_result_fields(result)})
    await _save(db, session, school_id, student_id, cells)
