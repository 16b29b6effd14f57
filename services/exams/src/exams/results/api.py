"""HTTP routes of results: an attempt's result, a student's results, adoption by the exam board, retakes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from exams.assignments.api import RESPONSES
from exams.common import Doc, Events, Id, Session, Strict, page
from exams.projections import repository as projections
from exams.results import retakes, service
from kit.auth import Principal, Role, require_roles
from kit.clock import now
from kit.commands import execute
from kit.deps import Database
from kit.errors import wants_english

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["results"])
READERS = require_roles(Role.SCHOOL_ADMIN, Role.EXAM_BOARD, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.STUDENT)
BOARD = require_roles(Role.EXAM_BOARD)
BOARD_OR_ADMIN = require_roles(Role.EXAM_BOARD, Role.SCHOOL_ADMIN)
RETAKERS = require_roles(Role.SCHOOL_SUPERVISOR, Role.SCHOOL_ADMIN)
Outcome = Literal["passed", "failed", "exempt"]


class PartResultOut(BaseModel):
    """A part's result (grade None on the pass/fail and O/V/G scales, or when it has no 1-5 criteria)."""

    part_id: str
    outcome: Outcome
    grade: float | None


class CoreTaskResultOut(BaseModel):
    """A core task's result."""

    code: str
    outcome: Outcome
    grade: float | None


class ResultOut(BaseModel):
    """An attempt's result as computed from its final assessments and the exam's rules."""

    id: str
    attempt_id: str
    attempt_number: int
    student_id: str
    exam_id: str
    exam_version_id: str
    exam_name: str
    scale: str = Field(description="grade_1_10, grade_1_10_whole, pass_fail or fail_pass_good")
    counts: str = Field(description="Which result counts when there are several attempts: last or highest")
    parts: list[PartResultOut]
    core_tasks: list[CoreTaskResultOut]
    grade: float | None = Field(description="Truncated to one decimal (5.45 -> 5.4)")
    final_grade: float | int | None = Field(description="On the transcript: whole (half up) or one decimal")
    outcome: Literal["passed", "failed", "exempt", "fraud"]
    label: str = Field(description="passed/failed/exempt/fraud, or O/V/G on the fail_pass_good scale")
    state: Literal["awaiting_adoption", "adopted"]
    computed_at: datetime
    adopted_at: datetime | None
    adopted_by: str | None
    exempt_core_tasks: list[str] = Field(default_factory=list)
    supersedes: str | None = None
    superseded_by: str | None = None
    reason: str | None = None
    case_id: str | None = None
    student_name: str | None = Field(default=None, description="In the board's list only: the student's name")
    student_code: str | None = Field(default=None, description="In the board's list only: the student code")


class AttemptResultOut(BaseModel):
    """The current result of an attempt and the results it superseded (kept, never changed)."""

    result: ResultOut
    superseded: list[ResultOut]


class ExamResultsOut(BaseModel):
    """A student's results at one exam and the one that counts."""

    exam_id: str
    exam_name: str
    counts: str = Field(description="The exam's rule: the last or the highest result counts")
    counting_result_id: str | None
    outcome: str | None
    final_grade: float | int | None
    label: str | None
    attempts: list[ResultOut] = Field(description="The current result of each attempt, first attempt first")


class StudentResultsOut(BaseModel):
    """A student's results per exam (the student sees adopted results only)."""

    student_id: str
    exams: list[ExamResultsOut]


class ResultsPage(BaseModel):
    """A page of current results (cursor = next_cursor)."""

    items: list[ResultOut]
    next_cursor: str | None


class AdoptGroupIn(Strict):
    """Adopt every current result awaiting adoption of a group's students (optionally of one exam)."""

    group_id: Id
    exam_id: Id | None = None


class RetakeIn(Strict):
    """Open a retake; beyond the maximum or the window it takes a granted extra attempt of the exam board."""

    case_id: Id | None = Field(default=None, description="The extra-attempt decision to use (default: any unused)")


class RetakeOut(BaseModel):
    """The new attempt; its parts still need scheduling."""

    id: str
    assignment_id: str
    student_id: str
    exam_id: str
    number: int = Field(description="1 for the first attempt, 2 for the first retake, ...")
    state: str
    previous_attempt_id: str
    case_id: str | None


class RetakeOutlookOut(BaseModel):
    """Whether a retake may follow an attempt now, and why not (the rules the retake itself applies)."""

    attempt_id: str
    allowed: bool
    reason: str | None = Field(description="Why not, in the caller's language (Accept-Language); None when allowed")
    next_number: int = Field(description="The number the retake would get")
    max_attempts: int | None
    window_ends: datetime | None = Field(description="The end of the exam's attempt window (None before the first "
                                                     "attempt was scheduled)")
    beyond_limits: bool = Field(description="Beyond the maximum or the window: only an extra attempt the exam "
                                            "board grants opens it")
    extra_attempt_case_id: str | None = Field(description="The granted extra attempt it would use")


def result_out(doc: Doc) -> ResultOut:
    """The API view of a result."""
    return ResultOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in ResultOut.model_fields and k != "id"})


@router.get("/attempts/{attempt_id}/result", response_model=AttemptResultOut,
            summary="An attempt's result (the student: only once adopted by the exam board)")
async def attempt_result(db: Database, school_id: str, attempt_id: str,
                         principal: Principal = Depends(READERS)) -> Any:
    """Staff who may read the student see it awaiting adoption too; workplace trainers see no results."""
    current, older = await service.attempt_result(db, principal=principal, school_id=school_id, attempt_id=attempt_id)
    return AttemptResultOut(result=result_out(current), superseded=[result_out(r) for r in older])


@router.get("/students/{student_id}/results", response_model=StudentResultsOut,
            summary="A student's results per exam, saying which result counts")
async def student_results(db: Database, school_id: str, student_id: str,
                          principal: Principal = Depends(READERS)) -> Any:
    """The student sees their own adopted results only."""
    exams = await service.student_results(db, principal=principal, school_id=school_id, student_id=student_id)
    for exam in exams:
        exam["attempts"] = [result_out(r) for r in exam["attempts"]]
    return {"student_id": student_id, "exams": exams}


@router.get("/results", response_model=ResultsPage, summary="The school's current results, e.g. those to adopt")
async def list_results(db: Database, school_id: str,
                       state: Literal["awaiting_adoption", "adopted"] | None = None, group_id: Id | None = None,
                       exam_id: Id | None = None, student_id: Id | None = None, cursor: Id | None = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       principal: Principal = Depends(BOARD_OR_ADMIN)) -> Any:
    """For the exam board and the school admin, by result id."""
    docs = await service.list_results(db, principal=principal, school_id=school_id, state=state, group_id=group_id,
                                      exam_id=exam_id, student_id=student_id, after=cursor, limit=limit)
    students = {s["_id"]: s for s in await projections.get_students(db, school_id, sorted({d["student_id"]
                                                                                           for d in docs}))}
    outs = [result_out(d) for d in docs]
    for out in outs:  # the board adopts per student: it needs to see whose result it is
        student = students.get(out.student_id, {})
        out.student_name = " ".join(p for p in (student.get("first_name"), student.get("last_name")) if p) or None
        out.student_code = student.get("student_code")
    return page(outs, limit, lambda r: r.id)


@router.post("/results/{result_id}/adopt", response_model=ResultOut, responses=RESPONSES,
             summary="Adopt a result on behalf of the exam board; the student can then see it")
async def adopt(request: Request, db: Database, outbox: Events, school_id: str, result_id: str,
                principal: Principal = Depends(BOARD)) -> Any:
    """Adopting twice, or a superseded result, is refused (409)."""
    async def work(session: Session) -> ResultOut:
        return result_out(await service.adopt(db, session, outbox=outbox, principal=principal, school_id=school_id,
                                              result_id=result_id))

    return await execute(request, work)


@router.post("/results/adopt-group", response_model=list[ResultOut],
             summary="Adopt every result awaiting adoption of a group's students (optionally one exam)")
async def adopt_group(request: Request, db: Database, outbox: Events, school_id: str, body: AdoptGroupIn,
                      principal: Principal = Depends(BOARD)) -> Any:
    """All or none; results already adopted are left as they are."""
    async def work(session: Session) -> list[ResultOut]:
        docs = await service.adopt_group(db, session, outbox=outbox, principal=principal, school_id=school_id,
                                         group_id=body.group_id, exam_id=body.exam_id)
        return [result_out(d) for d in docs]

    return await execute(request, work)


@router.get("/attempts/{attempt_id}/retake", response_model=RetakeOutlookOut,
            summary="Whether a retake may follow this attempt now, and why not (whoever may read the student)")
async def retake_outlook(request: Request, db: Database, school_id: str, attempt_id: str,
                         principal: Principal = Depends(READERS)) -> Any:
    """What opening the retake would meet now; the retake decides again when it is opened."""
    look = await retakes.outlook(db, None, principal=principal, school_id=school_id, attempt_id=attempt_id,
                                 at=now())
    return RetakeOutlookOut(
        attempt_id=attempt_id, allowed=look.refusal is None,
        reason=look.refusal.pick(wants_english(request)) if look.refusal else None,
        next_number=look.latest["number"] + 1, max_attempts=look.rules.get("max_attempts"),
        window_ends=look.window_ends, beyond_limits=look.beyond_limits,
        extra_attempt_case_id=look.extra_attempt["_id"] if look.extra_attempt else None)


@router.post("/attempts/{attempt_id}/retake", status_code=201, response_model=RetakeOut, responses=RESPONSES,
             summary="Open a retake after a failed attempt (linked supervisor or school admin)")
async def retake(request: Request, db: Database, outbox: Events, school_id: str, attempt_id: str,
                 body: RetakeIn | None = None, principal: Principal = Depends(RETAKERS)) -> Any:
    """Within the exam's maximum attempts and window; beyond them only with a granted extra attempt."""
    case_id = body.case_id if body else None

    async def work(session: Session) -> RetakeOut:
        doc = await retakes.open_retake(db, session, outbox=outbox, principal=principal, school_id=school_id,
                                        attempt_id=attempt_id, case_id=case_id)
        return RetakeOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in RetakeOut.model_fields and k != "id"})

    return await execute(request, work, status_code=201)
