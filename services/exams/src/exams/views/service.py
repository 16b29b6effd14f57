"""Building the views from the projections, the read model and the lower sub-packages' repositories."""

from __future__ import annotations

from typing import Any

from exams.access import Reader, reader
from exams.assignments import repository as assignments
from exams.assignments.models import approvers, pending_roles
from exams.catalog import repository as catalog
from exams.catalog.service import exams_for_school
from exams.common import Doc, forbidden, not_found
from exams.projections import repository as people
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
    exams = await catalog.current_for_programmes(db, [programme_id])
    students = await people.readable_students(db, rights, programme_id=programme_id, group_id=group_id,
                                              student_id=student_id, after=after, limit=limit)
    ids = [s["_id"] for s in students]
    cells = {(c["student_id"], c["exam_id"]): c for c in await repo.cells_of(db, rights.school_id, ids)} if ids else {}
    at = now()
    rows = []
    for s in students:
        row_cells = []
        for e in exams:
            c = cells.get((s["_id"], e["exam_id"]))
            row_cells.append({"exam_id": e["exam_id"], "state": cell_state(c, at),
                              "attempt_number": c.get("attempt_number") if c else None,
                              "assignment_id": c.get("assignment_id") if c else None,
                              "assignment_state": c.get("assignment_state") if c else None})
        rows.append({"student_id": s["_id"], "student_code": s.get("student_code", ""),
                     "first_name": s.get("first_name", ""), "last_name": s.get("last_name", ""), "cells": row_cells})
    return {"programme_id": programme_id,
            "exams": [{"id": e["exam_id"], "code": e["code"], "name": e["name"], "parts_total": len(e["parts"])}
                      for e in exams],
            "rows": rows, "next_cursor": students[-1]["student_code"] if len(students) == limit else None}


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
    cells = {c["exam_id"]: c for c in await repo.cells_of(db, school_id, [student["_id"]])}
    mine = {a["exam_id"]: a for a in reversed(await assignments.of_students(db, [school_id], [student["_id"]]))}
    parts = await schedules.schedules_of_students(db, [school_id], [student["_id"]])
    at = now()
    return {"student_id": student["_id"], "exams": [{
        "exam_id": e["exam_id"], "code": e["code"], "name": e["name"], "state": cell_state(cells.get(e["exam_id"]), at),
        "attempt_number": (cells.get(e["exam_id"]) or {}).get("attempt_number"),
        "assignment": mine.get(e["exam_id"]),
        "parts": [p for p in parts if p["exam_id"] == e["exam_id"]]} for e in exams]}


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
