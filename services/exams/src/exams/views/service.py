"""Building the views from the projections, the read model and the lower sub-packages' repositories."""

from __future__ import annotations

from typing import Any

from exams.access import Reader, reader, related
from exams.assignments import repository as assignments
from exams.assignments.models import approvers, pending_roles
from exams.catalog import repository as catalog
from exams.catalog.service import exams_for_school
from exams.common import Doc, forbidden, not_found
from exams.projections import repository as people
from exams.readmodel import cells_of, unpack
from exams.scheduling import repository as schedules
from exams.views import repository as repo
from exams.views.models import cell_state
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Text
from kit.mongo import Db

NO_ACCESS = Text("Uw rollen in deze school geven geen toegang tot het overzicht.",
                 "Your roles in this school give no access to the overview.")


async def overview(db: Db, *, rights: Reader, programme_id: str, group_id: str | None, student_id: str | None,
                   after: str | None, limit: int) -> Doc:
    """A page of the students x exams matrix of a programme, for the students the caller may read."""
    if rights.nobody:
        raise forbidden(NO_ACCESS)
    if not await people.programme_enabled(db, rights.school_id, programme_id):
        raise not_found("Deze opleiding", "programme")
    exams = await catalog.columns_of_programme(db, programme_id)
    entries = await repo.reader_roster(db, rights.school_id, None if rights.everyone else rights.user_id)
    chosen = sorted((e.code, e.student_id) for e in entries
                    if programme_id in e.programme_ids and (not group_id or group_id in e.group_ids)
                    and (not student_id or e.student_id == student_id) and (rights.archived or not e.archived)
                    and (rights.everyone or related(rights, e.relations)))
    if after:
        code, _, sid = after.rpartition("/")
        chosen = [c for c in chosen if c > (code, sid)]
    page_keys = chosen[:limit]
    students = await _rows(db, rights, page_keys, group_id=group_id, programme_id=programme_id)
    at = now()
    rows = []
    for s in students:
        cells = cells_of(s)
        rows.append({"student_id": s["_id"], "student_code": s.get("student_code", ""),
                     "first_name": s.get("first_name", ""), "last_name": s.get("last_name", ""),
                     "cells": [_cell(e["exam_id"], unpack(cells.get(e["exam_id"])), at) for e in exams]})
    return {"programme_id": programme_id,
            "exams": [{"id": e["exam_id"], "code": e["code"], "name": e["name"], "parts_total": len(e["parts"])}
                      for e in exams],
            "rows": rows, "next_cursor": "/".join(page_keys[-1]) if len(chosen) > limit else None}


def _cell(exam_id: str, c: Doc | None, at: Any) -> Doc:
    return {"exam_id": exam_id, "state": cell_state(c, at), "attempt_number": c.get("attempt_number") if c else None,
            "assignment_id": c.get("assignment_id") if c else None,
            "assignment_state": c.get("assignment_state") if c else None}


async def _rows(db: Db, rights: Reader, page_keys: list[tuple[str, str]], *, group_id: str | None,
                programme_id: str) -> list[Doc]:
    """The page's student documents, by a code range narrowed by an indexed equality so it holds just the page."""
    if not page_keys:
        return []
    wanted = {sid for _, sid in page_keys}
    narrow: dict[str, str] = {}
    if len(page_keys) == 1:
        narrow = {"_id": page_keys[0][1]}
    elif group_id:
        narrow = {"group_ids": group_id}
    elif rights.everyone:
        narrow = {"programme_ids": programme_id}
    else:
        fields = [f for f, held in (("supervisor_ids", rights.supervised), ("trainer_ids", rights.trained),
                                    ("assessor_ids", rights.assessed)) if held]
        if len(fields) == 1 and not rights.assessed:
            narrow = {fields[0]: rights.user_id}
    docs = await repo.page_rows(db, rights.school_id, first_code=page_keys[0][0], last_code=page_keys[-1][0],
                                narrow=narrow, student_ids=None if narrow or rights.everyone else sorted(wanted))
    # The roster decided who may be read; it changes in the same transactions as the links it follows.
    found = [d for d in docs if d["_id"] in wanted and (rights.archived or not d.get("archived"))]
    return sorted(found, key=lambda d: (d.get("student_code", ""), d["_id"]))


async def dashboard(db: Db, *, principal: Principal, school_id: str, exam_id: str | None, student_id: str | None,
                    limit: int) -> Doc:
    """An assessor's open actions (started parts to assess) and planning (scheduled, not started)."""
    at = now()
    args: dict[str, Any] = {"school_id": school_id, "assessor_id": principal.subject, "at": at, "exam_id": exam_id,
                            "student_id": student_id, "limit": limit}
    return {"open_actions": await schedules.assessor_parts(db, started=True, **args),
            "planning": await schedules.assessor_parts(db, started=False, **args)}


async def my_exams(db: Db, *, principal: Principal, school_id: str) -> Doc:
    """A student's own exams: those of their programmes (less the unavailable ones) with assignment and parts."""
    student = await people.student_of_user(db, school_id, principal.subject)
    if student is None or student.get("archived"):
        raise not_found("Uw studentgegevens", "student record")
    unavailable = await people.unavailable_exam_ids(db, school_id, student["_id"])
    exams = [e for e in await exams_for_school(db, school_id=school_id, programme_id=None)
             if e["programme_id"] in student.get("programme_ids", []) and e["exam_id"] not in unavailable]
    cells = {k: _adopted_only(unpack(v))
             for k, v in cells_of(await repo.student_cells(db, school_id, student["_id"])).items()}
    mine = {a["exam_id"]: a for a in reversed(await assignments.of_students(db, [school_id], [student["_id"]]))}
    parts = await schedules.schedules_of_students(db, [school_id], [student["_id"]])
    at = now()
    return {"student_id": student["_id"], "exams": [{
        "exam_id": e["exam_id"], "code": e["code"], "name": e["name"], "state": cell_state(cells.get(e["exam_id"]), at),
        "attempt_number": (cells.get(e["exam_id"]) or {}).get("attempt_number"),
        "assignment": mine.get(e["exam_id"]),
        "parts": [p for p in parts if p["exam_id"] == e["exam_id"]]} for e in exams]}


def _adopted_only(cell: Doc | None) -> Doc | None:
    """A student sees passed or failed only once the exam board adopted the result."""
    if cell is not None and cell.get("result_state") != "adopted":
        return {**cell, "result": None}
    return cell


async def trainer_students(db: Db, *, principal: Principal) -> list[Doc]:
    """A workplace trainer's students in every school they train for, with assignments and planned parts."""
    schools = [s for s, roles in principal.schools.items() if Role.WORKPLACE_TRAINER in roles]
    if not schools:
        raise forbidden(Text("Alleen praktijkopleiders hebben dit overzicht.",
                             "Only workplace trainers have this view."))
    students = await people.trainer_students(db, principal.subject, schools)
    ids = [s["_id"] for s in students]
    found = await assignments.of_students(db, schools, ids) if ids else []
    parts = await schedules.schedules_of_students(db, schools, ids) if ids else []
    out = []
    for s in students:
        if not reader(principal, s["school_id"]).trained:
            continue
        own = [a for a in found if a["student_id"] == s["_id"]]
        out.append({"school_id": s["school_id"], "student_id": s["_id"], "student_code": s.get("student_code", ""),
                    "first_name": s.get("first_name", ""), "last_name": s.get("last_name", ""),
                    "assignments": [{"id": a["_id"], "exam_id": a["exam_id"], "exam_name": a["exam_name"],
                                     "state": a["state"], "pending_approvals": pending_roles(a),
                                     "awaiting_my_approval": approvers(a)["workplace_trainer"] == principal.subject
                                     and "workplace_trainer" in pending_roles(a) and a["state"] == "preparing"}
                                    for a in own],
                    "planned_parts": [p for p in parts if p["student_id"] == s["_id"]]})
    return out
