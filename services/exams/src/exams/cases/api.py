"""HTTP routes of the exam board: cases and their decisions, and the school calendar of working days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from contracts.values import PlainText
from exams.assignments.api import RESPONSES, one
from exams.cases import models, service
from exams.cases import repository as repo
from exams.common import Doc, Events, Id, IfMatch, Name, Strict, etag
from kit.auth import Principal, Role, require_roles
from kit.clock import now
from kit.deps import Database

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["exam board"])
OPENERS = require_roles(Role.EXAM_BOARD, Role.STUDENT)
BOARD = require_roles(Role.EXAM_BOARD)
ANY_ROLE = require_roles(*Role)
ADMIN = require_roles(Role.SCHOOL_ADMIN)
CaseKind = Literal["inspection", "objection", "exemption", "accommodation", "extra_attempt", "fraud"]
Note = Annotated[PlainText, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Measure = Annotated[Name, StringConstraints(max_length=200)]
# A deadline in ms since 1970 (13 digits reach the year 2286, within what a datetime holds) and a case id.
Cursor = Annotated[str, StringConstraints(pattern=r"^\d{1,13}:[A-Za-z0-9_.-]{1,64}$")]


class CaseIn(Strict):
    """Open a case: a student's request (inspection, objection, exemption) or the board's own."""

    kind: CaseKind
    student_id: Id | None = Field(default=None, description="Required for the board; a student files for themselves")
    exam_id: Id | None = None
    attempt_id: Id | None = Field(default=None, description="Required for inspection, objection and fraud")
    reason: Note = Field(description="The request's motivation, or what the board was told")


class AmendIn(Strict):
    """The result a decision puts in place of the current one (which is kept, marked superseded)."""

    outcome: Literal["passed", "failed"]
    grade: float | None = Field(default=None, ge=1.0, le=10.0, description="Truncated to one decimal")


class DecisionIn(Strict):
    """A decision: the outcome (valid ones depend on the kind), its motivation, and the outcome's own fields."""

    outcome: Literal["granted", "refused", "new_assessment", "amended", "fraud", "dismissed"]
    note: Note = Field(description="The motivation of the decision")
    inspection_at: AwareDatetime | None = Field(default=None, description="inspection granted: when")
    location: Name | None = Field(default=None, description="inspection granted: where")
    new_assessor_id: Id | None = Field(default=None, description="objection new_assessment: the new assessor")
    part_ids: list[Id] | None = Field(default=None, max_length=20,
                                      description="objection new_assessment: the parts to assess anew (default all)")
    starts_at: AwareDatetime | None = Field(default=None, description="objection new_assessment: from when")
    result: AmendIn | None = Field(default=None, description="objection amended: the amended result")
    core_tasks: list[Id] | None = Field(default=None, max_length=50, description="exemption granted: the core tasks")
    measures: list[Measure] | None = Field(default=None, max_length=20,
                                           description="accommodation granted: e.g. extra time 30 minutes, quiet room")
    valid_until: date | None = Field(default=None, description="exemption (default 5 years) or accommodation granted")
    excluded_until: date | None = Field(default=None, description="fraud: excluded from exams until and including "
                                        "this school day (within twelve months; none: no exclusion)")
    exclusion_scope: Literal["exam", "all"] | None = Field(default=None, description="fraud: excluded from this "
                                                           "exam (default) or from every exam of the school")


class CaseOut(BaseModel):
    """A case with its deadline and, once decided, the decision."""

    id: str
    kind: str
    state: Literal["open", "decided"]
    student_id: str
    exam_id: str | None
    attempt_id: str | None
    reason: str
    opened_by: str
    opened_at: datetime
    deadline: datetime = Field(description="The end of the last working day the board has to decide")
    overdue: bool
    documents: list[str] = Field(description="Files uploaded for the case to the evidence service")
    decision: dict[str, Any] | None
    version: int


class CasePage(BaseModel):
    """A page of cases by deadline, overdue ones first."""

    items: list[CaseOut]
    next_cursor: str | None


class HolidayIn(Strict):
    """A holiday or a single free day (end = start when left out)."""

    start: date
    end: date | None = None
    name: Name


class CalendarIn(Strict):
    """The school's holidays, replacing the previous list."""

    holidays: list[HolidayIn] = Field(max_length=500)


class HolidayOut(BaseModel):
    """A holiday."""

    start: date
    end: date
    name: str


class CalendarOut(BaseModel):
    """The school's holidays: they do not count as working days."""

    holidays: list[HolidayOut]
    version: int


def case_out(doc: Doc, at: datetime | None = None) -> CaseOut:
    """The API view of a case."""
    decision = doc["decision"]
    return CaseOut(id=doc["_id"], overdue=models.is_overdue(doc, at or now()),
                   decision=decision,
                   **{k: v for k, v in doc.items() if k in CaseOut.model_fields and k not in ("id", "decision")})


def _cursor(case: CaseOut) -> str:
    return f"{int(case.deadline.timestamp() * 1000)}:{case.id}"


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    ms, _, case_id = cursor.partition(":")
    return datetime.fromtimestamp(int(ms) / 1000, UTC), case_id


@router.post("/cases", status_code=201, response_model=CaseOut, responses=RESPONSES,
             summary="Open a case (students: inspection, objection, exemption for themselves; the board: any)")
async def open_case(request: Request, db: Database, outbox: Events, school_id: str, body: CaseIn,
                    principal: Principal = Depends(OPENERS)) -> Any:
    """The deadline is counted in working days (weekends and the school's holidays excluded)."""
    return await one(request, lambda s: service.open_case(
        db, s, outbox=outbox, principal=principal, school_id=school_id, kind=body.kind, student_id=body.student_id,
        exam_id=body.exam_id, attempt_id=body.attempt_id, reason=body.reason), case_out, status_code=201)


@router.get("/cases", response_model=CasePage,
            summary="The board's cases of the school, or a student's own, by deadline (overdue first)")
async def list_cases(db: Database, school_id: str, state: Literal["open", "decided", "all"] = "open",
                     kind: CaseKind | None = None, student_id: Id | None = None, cursor: Cursor | None = None,
                     limit: int = Query(default=50, ge=1, le=200), principal: Principal = Depends(OPENERS)) -> Any:
    """Open ones unless `state` says otherwise; paged by cursor; `overdue` marks open cases past their deadline."""
    docs = await service.cases(db, principal=principal, school_id=school_id, student_id=student_id,
                               state=None if state == "all" else state,
                               kind=kind, after=_after(cursor), limit=limit)
    at = now()
    items = [case_out(d, at) for d in docs]
    return CasePage(items=items, next_cursor=_cursor(items[-1]) if len(items) == limit else None)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case (the board, or the student it is about)")
async def get_case(response: Response, db: Database, school_id: str, case_id: str,
                   principal: Principal = Depends(OPENERS)) -> CaseOut:
    """ETag: the case's version."""
    doc = await service.readable_case(db, principal=principal, school_id=school_id, case_id=case_id)
    response.headers["ETag"] = etag(doc["version"])
    return case_out(doc)


@router.post("/cases/{case_id}/decision", response_model=CaseOut, responses=RESPONSES,
             summary="Decide a case once (the exam board); its effects take place in the same step")
async def decide(request: Request, db: Database, outbox: Events, school_id: str, case_id: str, body: DecisionIn,
                 expected: IfMatch, principal: Principal = Depends(BOARD)) -> Any:
    """An amended result or fraud inserts a superseding result; a new assessment schedules the parts anew."""
    details = body.model_dump(exclude={"outcome", "note"}, exclude_none=True)
    if body.result is not None:
        details["result"] = body.result.model_dump()
    return await one(request, lambda s: service.decide(
        db, s, outbox=outbox, principal=principal, school_id=school_id, case_id=case_id, expected_version=expected,
        outcome=body.outcome, note=body.note, details=details), case_out)


@router.get("/calendar", response_model=CalendarOut, summary="The school's holidays (not working days)")
async def get_calendar(response: Response, db: Database, school_id: str,
                       _: Principal = Depends(ANY_ROLE)) -> CalendarOut:
    """Everyone in the school may read it: deadlines are counted with it."""
    doc = await repo.calendar(db, school_id) or {"holidays": [], "version": 0}
    response.headers["ETag"] = etag(doc["version"])
    return CalendarOut(holidays=[HolidayOut(**h) for h in doc["holidays"]], version=doc["version"])


@router.put("/calendar", response_model=CalendarOut, responses=RESPONSES,
            summary="Replace the school's holidays (school admin; If-Match with the version seen)")
async def put_calendar(request: Request, db: Database, school_id: str, body: CalendarIn, expected: IfMatch,
                       principal: Principal = Depends(ADMIN)) -> Any:
    """Dates within 2000-2100, end not before start, at most 92 days each, no overlaps, at most 200."""
    entries = [(h.start, h.end or h.start, h.name) for h in body.holidays]

    async def work(session: Any) -> Doc:
        saved = await service.save_calendar(db, session, principal=principal, school_id=school_id,
                                            expected_version=expected, holidays_in=entries)
        return {"holidays": saved["holidays"], "version": saved["version"]}

    return await one(request, work, lambda d: CalendarOut(holidays=[HolidayOut(**h) for h in d["holidays"]],
                                                          version=d["version"]))


