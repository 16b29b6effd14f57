"""HTTP routes of the views: overview matrix, assessor dashboard, my exams, a trainer's students."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from exams.access import reader
from exams.assignments.api import AssignmentOut, assignment_out
from exams.common import Id
from exams.scheduling.api import ScheduleOut, schedule_out
from exams.views import service
from exams.views.models import State
from kit.auth import Principal, Role, current_principal, require_roles
from kit.deps import Database

router = APIRouter(tags=["views"])
STAFF = require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD)


class OverviewExam(BaseModel):
    """A column of the overview."""

    id: str
    code: str
    name: str
    parts_total: int


class OverviewCell(BaseModel):
    """One student's standing at one exam."""

    exam_id: str
    state: State
    attempt_number: int | None = Field(description="1 for the first attempt, 2 for the first retake, ...")
    assignment_id: str | None
    assignment_state: str | None


class OverviewRow(BaseModel):
    """A student's row."""

    student_id: str
    student_code: str
    first_name: str
    last_name: str
    cells: list[OverviewCell]


class OverviewOut(BaseModel):
    """A page of the overview (students by student code; cursor = next_cursor)."""

    programme_id: str
    exams: list[OverviewExam]
    rows: list[OverviewRow]
    next_cursor: str | None


class DashboardOut(BaseModel):
    """An assessor's work."""

    open_actions: list[ScheduleOut] = Field(description="Started parts still to assess")
    planning: list[ScheduleOut] = Field(description="Scheduled parts not yet started")


class MyExam(BaseModel):
    """One of a student's exams."""

    exam_id: str
    code: str
    name: str
    state: State
    attempt_number: int | None
    assignment: AssignmentOut | None
    parts: list[ScheduleOut]


class MyExamsOut(BaseModel):
    """A student's own exams and assignments."""

    student_id: str
    exams: list[MyExam]


class TraineeAssignment(BaseModel):
    """An assignment as its workplace trainer sees it."""

    id: str
    exam_id: str
    exam_name: str
    state: str
    pending_approvals: list[str]
    awaiting_my_approval: bool


class TraineeOut(BaseModel):
    """A workplace trainer's student in one school."""

    school_id: str
    student_id: str
    student_code: str
    first_name: str
    last_name: str
    assignments: list[TraineeAssignment]
    planned_parts: list[ScheduleOut]


@router.get("/v1/schools/{school_id}/overview", response_model=OverviewOut,
            summary="Students x exams of a programme with the seven states and attempt numbers")
async def overview(db: Database, school_id: str, programme_id: Id, group_id: Id | None = None,
                   student_id: Id | None = None, cursor: str | None = Query(default=None, max_length=64),
                   limit: int = Query(default=50, ge=1, le=200), principal: Principal = Depends(STAFF)) -> Any:
    """Only the students the caller may read (a supervisor: linked ones; archived: only the admin)."""
    found = await service.overview(db, rights=reader(principal, school_id), programme_id=programme_id,
                                   group_id=group_id, student_id=student_id, after=cursor, limit=limit)
    # Built only of strings and numbers in OverviewOut's shape: skipping the model's second pass over a
    # page of hundreds of cells keeps the overview inside its latency budget.
    return JSONResponse(found)


@router.get("/v1/schools/{school_id}/dashboard", response_model=DashboardOut,
            summary="The assessor dashboard: open actions and planning")
async def dashboard(db: Database, school_id: str, exam_id: Id | None = None, student_id: Id | None = None,
                    limit: int = Query(default=100, ge=1, le=500),
                    principal: Principal = Depends(require_roles(Role.ASSESSOR))) -> Any:
    """The parts the caller assesses, filtered by exam and student."""
    found = await service.dashboard(db, principal=principal, school_id=school_id, exam_id=exam_id,
                                    student_id=student_id, limit=limit)
    return {k: [schedule_out(d) for d in v] for k, v in found.items()}


@router.get("/v1/schools/{school_id}/me/exams", response_model=MyExamsOut,
            summary="A student's own exams, assignments and scheduled parts")
async def my_exams(db: Database, school_id: str, principal: Principal = Depends(require_roles(Role.STUDENT))) -> Any:
    """Exams of the student's programmes, except those made unavailable for them."""
    found = await service.my_exams(db, principal=principal, school_id=school_id)
    for exam in found["exams"]:
        exam["assignment"] = assignment_out(exam["assignment"]) if exam["assignment"] else None
        exam["parts"] = [schedule_out(p) for p in exam["parts"]]
    return found


@router.get("/v1/me/students", response_model=list[TraineeOut],
            summary="A workplace trainer's students across every school, with assignments and planned parts")
async def my_students(db: Database, principal: Principal = Depends(current_principal)) -> Any:
    """One account sees its students of all schools where it is a workplace trainer."""
    found = await service.trainer_students(db, principal=principal)
    for student in found:
        student["planned_parts"] = [schedule_out(p) for p in student["planned_parts"]]
    return found


class PersonOut(BaseModel):
    """A staff member of the school, to name on an assignment or a schedule."""

    user_id: str
    display_name: str
    roles: list[str]


@router.get("/v1/schools/{school_id}/people", response_model=list[PersonOut],
            summary="The school's staff with their names, optionally holding one role (to pick assessors and others)")
async def people(db: Database, school_id: str,
                 role: Literal["school_admin", "school_supervisor", "assessor", "exam_board",
                               "workplace_trainer"] | None = None,
                 limit: int = Query(default=500, ge=1, le=2000), _: Principal = Depends(STAFF)) -> Any:
    """Names come from identity's user events; students are never listed."""
    from exams.projections import people as directory

    return await directory.directory(db, school_id, role, limit)


@router.get("/v1/schools/{school_id}/assignments/{assignment_id}/parts", response_model=list[ScheduleOut],
            summary="Every scheduled (or cancelled) part of an assignment, of all its attempts, by start")
async def assignment_parts(db: Database, school_id: str, assignment_id: str,
                           principal: Principal = Depends(require_roles(*Role))) -> Any:
    """For whoever may read the assignment."""
    from exams.assignments.service import readable
    from exams.scheduling import repository as schedules

    await readable(db, principal=principal, school_id=school_id, assignment_id=assignment_id)
    return [schedule_out(d) for d in await schedules.schedules_of_assignment(db, assignment_id)]
