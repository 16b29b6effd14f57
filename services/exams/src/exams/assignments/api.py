"""HTTP routes of assignments and the school's assignment bank."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from exams.access import reader
from exams.assignments import bank, service
from exams.assignments.service import PrepareSpec
from exams.catalog.models import Body, Title
from exams.common import Doc, Events, Id, IfMatch, Name, Session, Strict, etag, page
from kit.auth import Principal, Role, require_roles
from kit.commands import execute
from kit.deps import Database

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["assignments"])
PREPARERS = require_roles(Role.SCHOOL_SUPERVISOR, Role.SCHOOL_ADMIN)
APPROVERS = require_roles(Role.STUDENT, Role.SCHOOL_SUPERVISOR, Role.WORKPLACE_TRAINER)
BOARD = require_roles(Role.EXAM_BOARD)
ANY_ROLE = require_roles(*Role)
STAFF = require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD)
RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed in the assignment's state (problem+json says why)"},
    412: {"description": "If-Match names a version that is no longer current"},
}


class PrepareIn(Strict):
    """Prepare an assignment for students (ids and/or a group) from the provider, the bank or own text."""

    exam_id: Id
    student_ids: list[Id] = Field(default_factory=list, max_length=500)
    group_id: Id | None = None
    source: Literal["provider", "bank", "individual"] = "individual"
    provider_assignment_code: Id | None = None
    bank_assignment_id: Id | None = None
    title: Title | None = None
    text: Body | None = None
    cohort: int | None = Field(default=None, ge=2000, le=2100, description="The student's start year")
    location: Name | None = Field(default=None, description="Exam location (the company)")
    desired_end_date: date | None = Field(default=None, description="Advisory only, never blocks anything")
    first_assessor_id: Id
    second_assessor_id: Id | None = None
    adopter_id: Id | None = Field(default=None, description="Required unless a bank assignment marked adopted")
    workplace_trainer_id: Id | None = Field(default=None, description="Default: the student's linked trainer")
    attachment_ids: list[Id] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _who(self) -> PrepareIn:
        if not self.student_ids and not self.group_id:
            raise ValueError("name student_ids or a group_id")
        if self.second_assessor_id and self.second_assessor_id == self.first_assessor_id:
            raise ValueError("the second assessor must be another person than the first")
        return self


class EditIn(Strict):
    """Changes to an assignment: text until the lock; people (after the lock only by the school admin)."""

    title: Title | None = None
    text: Body | None = None
    cohort: int | None = Field(default=None, ge=2000, le=2100)
    location: Name | None = None
    desired_end_date: date | None = None
    school_supervisor: Id | None = None
    first_assessor_id: Id | None = None
    second_assessor_id: Id | None = None
    adopter_id: Id | None = None
    workplace_trainer_id: Id | None = None

    @model_validator(mode="after")
    def _required_people(self) -> EditIn:
        for name in ("school_supervisor", "first_assessor_id", "adopter_id", "workplace_trainer_id"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed, only replaced")
        return self


class ApproveIn(Strict):
    """The explicit confirmation that makes an approval a signature."""

    confirm: Literal[True] = Field(description="Must be true: I approve this exact version")


class AdoptGroupIn(Strict):
    """Adopt every awaiting assignment of a group that names the caller as adopter."""

    group_id: Id


class Approval(BaseModel):
    """A signature: who, in which role, when, and the hash of the version signed."""

    user_id: str
    role: str
    at: datetime
    content_hash: str
    version: int


class PeopleChange(BaseModel):
    """A recorded change of the people on an assignment."""

    by: str
    at: datetime
    before: dict[str, str | None]
    after: dict[str, str | None]


class AssignmentOut(BaseModel):
    """An exam assignment of a student."""

    id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_version: int
    exam_name: str
    source: str
    source_ref: str | None
    title: str
    text: str
    attachment_ids: list[str]
    cohort: int | None
    location: str | None
    desired_end_date: str | None
    people: dict[str, str | None]
    state: Literal["preparing", "locked", "adopted", "deleted"]
    preadopted: bool
    approvals: list[Approval]
    pending_approvals: list[str]
    content_hash: str
    people_changes: list[PeopleChange] = []
    late_attachment_ids: list[str] = Field(default=[], description="Files uploaded after the lock: not signed")
    names: dict[str, str] = Field(default={}, description="Display names of the people on it and who signed")
    student_name: str | None = None
    student_code: str | None = None
    student_user_id: str | None = Field(default=None, description="The student's account, which signs as student")
    adopted_by: str | None = None
    adopted_at: datetime | None = None
    execution_started_at: datetime | None = None
    version: int
    created_at: datetime


class AssignmentPage(BaseModel):
    """A page of assignments."""

    items: list[AssignmentOut]
    next_cursor: str | None


class BankIn(Strict):
    """A bank assignment for an exam."""

    exam_id: Id
    title: Title
    text: Body
    attachment_ids: list[Id] = Field(default_factory=list, max_length=50,
                                     description="Must be empty: upload attachments to the evidence service")
    adopted: bool = Field(default=False, description="Already adopted: assignments from it skip adoption")


class BankEditIn(Strict):
    """Changes to a bank assignment."""

    title: Title | None = None
    text: Body | None = None
    attachment_ids: list[Id] | None = Field(default=None, max_length=50,
                                            description="Keep these of the files uploaded for it (drop others)")
    adopted: bool | None = None


class BankOut(BaseModel):
    """A bank assignment (also its preview)."""

    id: str
    exam_id: str
    exam_name: str
    title: str
    text: str
    attachment_ids: list[str]
    adopted: bool
    version: int
    created_at: datetime


class BankPage(BaseModel):
    """A page of the bank."""

    items: list[BankOut]
    next_cursor: str | None


def assignment_out(doc: Doc) -> AssignmentOut:
    """The API view of an assignment."""
    from exams.assignments.models import content_hash, pending_roles

    fields = {k: v for k, v in doc.items() if k in AssignmentOut.model_fields and k != "id"}
    return AssignmentOut(id=doc["_id"], **fields, pending_approvals=pending_roles(doc), content_hash=content_hash(doc))


async def named(db: Database, outs: list[AssignmentOut]) -> list[AssignmentOut]:
    """The assignments with the names of their students, the people on them and who signed or changed them."""
    from exams.projections import people
    from exams.projections import repository as projections

    ids = [u for a in outs for u in (*a.people.values(), *(x.user_id for x in a.approvals),
                                     *(c.by for c in a.people_changes), a.adopted_by) if u]
    names = await people.names_of(db, ids)
    school_ids = {a.school_id for a in outs}
    students = {d["_id"]: d for sid in school_ids
                for d in await projections.get_students(db, sid, sorted({a.student_id for a in outs}))}
    for a in outs:
        student = students.get(a.student_id, {})
        a.student_name = " ".join(p for p in (student.get("first_name"), student.get("last_name")) if p) or None
        a.student_code = student.get("student_code")
        a.names = {u: names[u] for u in ids if u in names}
        if student.get("user_id") and a.student_name:
            a.names[student["user_id"]] = a.student_name
    return outs


def bank_out(doc: Doc) -> BankOut:
    """The API view of a bank assignment."""
    return BankOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in BankOut.model_fields and k != "id"})


async def one(request: Request, work: Callable[[Session], Awaitable[Doc]], out: Callable[[Doc], BaseModel],
              status_code: int = 200) -> JSONResponse:
    """Run a command on one versioned document and answer with it and its ETag."""
    async def run(session: Session) -> Any:
        return out(await work(session))

    response = await execute(request, run, status_code=status_code)
    version = _json_version(response)
    if version is not None:
        response.headers["ETag"] = etag(version)
    return response


def _json_version(response: JSONResponse) -> int | None:
    import json

    body = json.loads(bytes(response.body))
    return body.get("version") if isinstance(body, dict) else None


@router.post("/assignments", status_code=201, response_model=list[AssignmentOut], responses=RESPONSES,
             summary="Prepare an assignment for one student, a selection or a group (all or none)")
async def prepare(request: Request, db: Database, outbox: Events, school_id: str, body: PrepareIn,
                  principal: Principal = Depends(PREPARERS)) -> Any:
    """Every student must be linked to a supervisor, have an account, follow the exam's programme."""
    spec = PrepareSpec(**body.model_dump())

    async def work(session: Session) -> list[AssignmentOut]:
        docs = await service.prepare(db, session, outbox=outbox, principal=principal, school_id=school_id, spec=spec)
        return [assignment_out(d) for d in docs]

    return await execute(request, work, status_code=201)


@router.get("/assignments", response_model=AssignmentPage, summary="Assignments of the students the caller may see")
async def list_assignments(db: Database, school_id: str, student_id: Id | None = None, exam_id: Id | None = None,
                           state: Literal["preparing", "locked", "adopted", "deleted"] | None = None,
                           cursor: Id | None = None, limit: int = Query(default=50, ge=1, le=200),
                           principal: Principal = Depends(ANY_ROLE)) -> Any:
    """Filtered by student, exam and state; paged by cursor."""
    docs = await service.list_readable(db, rights=reader(principal, school_id), after=cursor, limit=limit,
                                       filters={"student_id": student_id, "exam_id": exam_id, "state": state})
    return page(await named(db, [assignment_out(d) for d in docs]), limit, lambda a: a.id)


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut, summary="One assignment (ETag: its version)")
async def get_assignment(response: Response, db: Database, school_id: str, assignment_id: str,
                         principal: Principal = Depends(ANY_ROLE)) -> AssignmentOut:
    """The assignment with its approvals (signatures) and recorded people changes."""
    doc = await service.readable(db, principal=principal, school_id=school_id, assignment_id=assignment_id)
    response.headers["ETag"] = etag(doc["version"])
    return (await named(db, [assignment_out(doc)]))[0]


@router.patch("/assignments/{assignment_id}", response_model=AssignmentOut, responses=RESPONSES,
              summary="Change text (until the lock) or people (after it: school admin only); If-Match required")
async def edit_assignment(request: Request, db: Database, outbox: Events, school_id: str, assignment_id: str,
                          body: EditIn, expected: IfMatch, principal: Principal = Depends(PREPARERS)) -> Any:
    """A change before the lock clears the approvals given so far: they signed another version."""
    given = body.model_dump(exclude_unset=True)
    text = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in given.items()
            if k in ("title", "text", "cohort", "location", "desired_end_date")}
    people = {k.removesuffix("_id"): v for k, v in given.items() if k not in text}
    return await one(request, lambda s: service.edit(
        db, s, outbox=outbox, principal=principal, school_id=school_id, assignment_id=assignment_id,
        expected_version=expected, text=text, people_changes=people), assignment_out)


@router.post("/assignments/{assignment_id}/approve", response_model=AssignmentOut, responses=RESPONSES,
             summary="Approve (sign) the assignment as the student, supervisor or workplace trainer named on it")
async def approve(request: Request, db: Database, outbox: Events, school_id: str, assignment_id: str,
                  body: ApproveIn, expected: IfMatch, principal: Principal = Depends(APPROVERS)) -> Any:
    """The last approval locks it; a bank assignment marked adopted is then adopted at once."""
    return await one(request, lambda s: service.approve(
        db, s, outbox=outbox, principal=principal, school_id=school_id, assignment_id=assignment_id,
        expected_version=expected), assignment_out)


@router.post("/assignments/{assignment_id}/adopt", response_model=AssignmentOut, responses=RESPONSES,
             summary="Adopt the assignment on behalf of the exam board (its named adopter)")
async def adopt(request: Request, db: Database, outbox: Events, school_id: str, assignment_id: str,
                expected: IfMatch, principal: Principal = Depends(BOARD)) -> Any:
    """Only after every approval."""
    return await one(request, lambda s: service.adopt(
        db, s, outbox=outbox, principal=principal, school_id=school_id, assignment_id=assignment_id,
        expected_version=expected), assignment_out)


@router.post("/assignments/adopt-group", response_model=list[AssignmentOut],
             summary="Adopt every awaiting assignment of a group that names the caller as adopter")
async def adopt_group(request: Request, db: Database, outbox: Events, school_id: str, body: AdoptGroupIn,
                      principal: Principal = Depends(BOARD)) -> Any:
    """Assignments still awaiting approvals are left as they are."""
    async def work(session: Session) -> list[AssignmentOut]:
        docs = await service.adopt_group(db, session, outbox=outbox, principal=principal, school_id=school_id,
                                         group_id=body.group_id)
        return [assignment_out(d) for d in docs]

    return await execute(request, work)


@router.delete("/assignments/{assignment_id}", response_model=AssignmentOut, responses=RESPONSES,
               summary="Delete a wrongly prepared assignment, before execution starts (it is kept, marked deleted)")
async def delete(request: Request, db: Database, outbox: Events, school_id: str, assignment_id: str,
                 expected: IfMatch, principal: Principal = Depends(PREPARERS)) -> Any:
    """Refused once a part is scheduled."""
    return await one(request, lambda s: service.delete(
        db, s, outbox=outbox, principal=principal, school_id=school_id, assignment_id=assignment_id,
        expected_version=expected), assignment_out)


@router.post("/bank", status_code=201, response_model=BankOut, tags=["assignment bank"],
             summary="Add an assignment to the school's bank (adopted: school admin only)")
async def create_bank(request: Request, db: Database, outbox: Events, school_id: str, body: BankIn,
                      principal: Principal = Depends(PREPARERS)) -> Any:
    """Attachments are uploaded afterwards to the evidence service (`POST /bank/{bank_id}/attachments` there)."""
    return await one(request, lambda s: bank.create(db, s, outbox=outbox, principal=principal, school_id=school_id,
                                                    **body.model_dump()), bank_out, 201)


@router.get("/bank", response_model=BankPage, tags=["assignment bank"], summary="The school's bank")
async def list_bank(db: Database, school_id: str, exam_id: Id | None = None, cursor: Id | None = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50, _: Principal = Depends(STAFF)) -> Any:
    """Filtered by exam, paged."""
    from exams.assignments import repository as repo

    docs = await repo.list_bank(db, school_id=school_id, exam_id=exam_id, after=cursor, limit=limit)
    return page([bank_out(d) for d in docs], limit, lambda b: b.id)


@router.get("/bank/{bank_id}", response_model=BankOut, tags=["assignment bank"],
            summary="Preview a bank assignment before selecting it")
async def get_bank(response: Response, db: Database, school_id: str, bank_id: str,
                   _: Principal = Depends(STAFF)) -> BankOut:
    """The full text and attachments."""
    doc = await bank.get(db, school_id=school_id, bank_id=bank_id)
    response.headers["ETag"] = etag(doc["version"])
    return bank_out(doc)


@router.patch("/bank/{bank_id}", response_model=BankOut, tags=["assignment bank"], responses=RESPONSES,
              summary="Change a bank assignment (marking it adopted: school admin only); If-Match required")
async def edit_bank(request: Request, db: Database, outbox: Events, school_id: str, bank_id: str, body: BankEditIn,
                    expected: IfMatch, principal: Principal = Depends(PREPARERS)) -> Any:
    """Assignments prepared from it earlier keep their copied text; attachment_ids may only drop uploaded files."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return await one(request, lambda s: bank.update(db, s, outbox=outbox, principal=principal, school_id=school_id,
                                                    bank_id=bank_id, expected_version=expected, changes=changes),
                     bank_out)
