"""The queries only the views make: rosters and the rows of one overview page."""

from __future__ import annotations

from exams.common import Doc
from exams.projections.roster import EVERYONE, Entry, roster
from kit.mongo import Db


async def reader_roster(db: Db, school_id: str, reader: str | None) -> list[Entry]:
    """The roster of a person (None: the whole school)."""
    return await roster(db, school_id, reader or EVERYONE)


async def page_rows(db: Db, school_id: str, *, first_code: str, last_code: str, narrow: dict[str, str],
                    student_ids: list[str] | None) -> list[Doc]:
    """The student rows (with their cells) of one page: a code range narrowed by an indexed equality, or by id."""
    if student_ids is not None:
        return await db.students.find({"school_id": school_id, "_id": {"$in": student_ids}}, ROW).to_list()
    query: Doc = {"school_id": school_id, **narrow}
    if "_id" not in narrow:
        query["student_code"] = {"$gte": first_code, "$lte": last_code}
    return await db.students.find(query, ROW).to_list()


ROW = {"student_code": 1, "first_name": 1, "last_name": 1, "cells": 1, "archived": 1}


async def student_cells(db: Db, school_id: str, student_id: str) -> Doc:
    """A student's stored cells (readmodel.cells_of reads them)."""
    return await db.students.find_one({"_id": student_id, "school_id": school_id}, {"cells": 1}) or {}
