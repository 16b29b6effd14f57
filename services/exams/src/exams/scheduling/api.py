"""HTTP routes of scheduling: parts into attempts, rescheduling, cancelling, the school's scheduling setting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from exams.assignments.api import RESPONSES, one
from exams.common import Doc, Events, Id, IfMatch, Name, Session, Strict, etag
from exams.scheduling import repository as repo
from exams.scheduling import service
from exams.scheduling.models import PartPlan
from kit.auth import Principal, Role, require_roles
from kit.commands import execute
from kit.deps import Database

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["scheduling"])
SCHEDULERS = require_roles(Role.SCHOOL_SUPERVISOR, Role.SCHOOL_ADMIN, Role.ASSESSOR)
ANY_ROLE = require_roles(*Role)


class PlanIn(Strict):
    """When, where and by whom (unset assessors: those named on the assignment)."""

    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = Field(default=None, description="Advisory: a past end never blocks anything")
    location: Name | None = None
    first_assessor_id: Id | None = None
    second_assessor_id: Id | None = None
    second_assessor_may_submit: bool = False


class PartIn(PlanIn):
    """One part's plan; `copy_from_above` takes every unset field from the part listed above it."""

    part_code: Id
    copy_from_above: bool = False


class ScheduleIn(Strict):
    """Schedule parts (or all parts) for one or many adopted assignments (all or none)."""

    assignment_ids: list[Id] = Field(min_length=1, max_length=500)
    parts: list[PartIn] = Field(default_factory=list, max_length=20)
    all_parts: PlanIn | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ScheduleIn:
        if bool(self.parts) == (self.all_parts is not None):
            raise ValueError("give either parts or all_parts")
        return self


class RescheduleIn(Strict):
    """New values for a scheduled part."""

    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    location: Name | None = None
    first_assessor_id: Id | None = None
    second_assessor_id: Id | None = None
    second_assessor_may_submit: bool | None = None


class ScheduleOut(BaseModel):
    """A scheduled (or cancelled) part of an attempt."""

    id: str
    assignment_id: str
    attempt_id: str
    attempt_number: int
    student_id: str
    exam_id: str
    exam_name: str
    part_id: str
    part_name: str
    starts_at: datetime
    ends_at: datetime | None
    location: str | None
    first_assessor_id: str
    second_assessor_id: str | None
    second_assessor_may_submit: bool
    state: str
    late: bool | None = Field(default=None, description="For a cancelled part: after the deregistration deadline")
    version: int


class AttemptOut(BaseModel):
    """A student's attempt at an exam with its scheduled parts."""

    id: str
    assignment_id: str
    student_id: str
    exam_id: str
    number: int = Field(description="1 for the first attempt, 2 for the first retake, ...")
    state: str
    first_scheduled_at: datetime | None
    assessed_at: datetime | None = Field(default=None, description="When its last scheduled part was finalized: "
                                                                    "from then on evidence takes no more files")
    parts: list[ScheduleOut]


class SettingsIn(Strict):
    """A school's scheduling setting."""

    assessors_may_schedule: bool


class SettingsOut(BaseModel):
    """A school's scheduling setting."""

    assessors_may_schedule: bool


def schedule_out(doc: Doc) -> ScheduleOut:
    """The API view of a scheduled part."""
    return ScheduleOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in ScheduleOut.model_fields and k != "id"})


def _plan(p: PlanIn, code: str = "") -> PartPlan:
    return PartPlan(code, p.starts_at, p.ends_at, p.location, p.first_assessor_id, p.second_assessor_id,
                    p.second_assessor_may_submit)


@router.post("/schedules", status_code=201, response_model=list[ScheduleOut], responses=RESPONSES,
             summary="Schedule parts (or all parts) of adopted assignments, for one student or many")
async def schedule(request: Request, db: Database, outbox: Events, school_id: str, body: ScheduleIn,
                   principal: Principal = Depends(SCHEDULERS)) -> Any:
    """The first scheduling of an assignment opens an attempt (numbered per student and exam)."""
    parts = [(_plan(p, p.part_code), p.copy_from_above) for p in body.parts]
    whole = _plan(body.all_parts) if body.all_parts else None

    async def work(session: Session) -> list[ScheduleOut]:
        docs = await service.schedule(db, session, outbox=outbox, principal=principal, school_id=school_id,
                                      assignment_ids=body.assignment_ids, parts=parts, all_parts=whole)
        return [schedule_out(d) for d in docs]

    return await execute(request, work, status_code=201)


@router.patch("/schedules/{schedule_id}", response_model=ScheduleOut, responses=RESPONSES,
              summary="Reschedule a part: moment, place, assessors (If-Match required)")
async def reschedule(request: Request, db: Database, outbox: Events, school_id: str, schedule_id: str,
                     body: RescheduleIn, expected: IfMatch, principal: Principal = Depends(SCHEDULERS)) -> Any:
    """The student and assessors learn of it through exams.part_rescheduled."""
    changes = body.model_dump(exclude_unset=True)
    return await one(request, lambda s: service.reschedule(
        db, s, outbox=outbox, principal=principal, school_id=school_id, schedule_id=schedule_id,
        expected_version=expected, changes=changes), schedule_out)


@router.post("/schedules/{schedule_id}/cancel", response_model=ScheduleOut, responses=RESPONSES,
             summary="Cancel (deregister) a part; after the deregistration deadline the attempt is lost")
async def cancel(request: Request, db: Database, outbox: Events, school_id: str, schedule_id: str,
                 expected: IfMatch, principal: Principal = Depends(SCHEDULERS)) -> Any:
    """A late cancellation forfeits the attempt and cancels its other parts; the next one is a new attempt."""
    return await one(request, lambda s: service.cancel(
        db, s, outbox=outbox, principal=principal, school_id=school_id, schedule_id=schedule_id,
        expected_version=expected), schedule_out)


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, summary="One scheduled part (ETag: its version)")
async def get_schedule(response: Response, db: Database, school_id: str, schedule_id: str,
                       principal: Principal = Depends(ANY_ROLE)) -> ScheduleOut:
    """For anyone who may read the student."""
    from exams.access import reader, require_readable
    from exams.common import not_found
    from exams.projections import repository as people

    doc = await repo.get_schedule(db, school_id, schedule_id)
    if doc is None:
        raise not_found("Dit ingeplande onderdeel", "scheduled part")
    require_readable(reader(principal, school_id), await people.get_student(db, school_id, doc["student_id"]))
    response.headers["ETag"] = etag(doc["version"])
    return schedule_out(doc)


@router.get("/attempts/{attempt_id}", response_model=AttemptOut, summary="An attempt with its scheduled parts")
async def get_attempt(db: Database, school_id: str, attempt_id: str,
                      principal: Principal = Depends(ANY_ROLE)) -> AttemptOut:
    """For anyone who may read the student."""
    attempt, parts = await service.readable_attempt(db, principal=principal, school_id=school_id,
                                                    attempt_id=attempt_id)
    return AttemptOut(id=attempt["_id"], parts=[schedule_out(p) for p in parts],
                      **{k: v for k, v in attempt.items() if k in AttemptOut.model_fields and k not in ("id", "parts")})


@router.put("/scheduling-settings", response_model=SettingsOut,
            summary="Whether assessors of the school may schedule (school admin)")
async def put_settings(request: Request, db: Database, school_id: str, body: SettingsIn,
                       _: Principal = Depends(require_roles(Role.SCHOOL_ADMIN))) -> Any:
    """Default: no."""
    return await execute(request, lambda s: service.set_settings(db, s, school_id=school_id,
                                                                 assessors_may_schedule=body.assessors_may_schedule))
