"""HTTP routes of enrollment: catalog, programmes per school, students, links, groups, bulk actions, export."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pymongo.asynchronous.client_session import AsyncClientSession

from enrollment import repository as repo
from enrollment import service
from enrollment.files import XLSX_MEDIA_TYPE, write_xlsx
from enrollment.models import Relation, may_edit, student_filter
from kit.auth import Principal, Role, current_principal, require_operator, require_roles
from kit.commands import execute
from kit.errors import Problem
from kit.mongo import Db

router = APIRouter()
Doc = dict[str, Any]

ALL_ROLES = tuple(Role)
STAFF = (Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD)
ADMIN = require_roles(Role.SCHOOL_ADMIN)
ADMIN_OR_SUPERVISOR = require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR)
ANY_ROLE = require_roles(*ALL_ROLES)
ANY_STAFF = require_roles(*STAFF)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


def _db(request: Request) -> Db:
    db: Db = request.app.state.db
    return db


def _command(request: Request, work: Callable[[AsyncClientSession], Awaitable[Any]],
             status_code: int = 200) -> Awaitable[JSONResponse]:
    return execute(request, work, status_code=status_code)


def _page(items: list[Doc], limit: int) -> Doc:
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


# --- catalog and programmes per school ------------------------------------------------------------

class ProgrammeIn(Strict):
    """A catalog programme: crebo, name, level, qualification-file cohort and kind."""

    crebo: str = Field(pattern=r"^\d{5}$")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    level: int = Field(ge=1, le=4)
    cohort: int = Field(ge=2000, le=2100, description="Start year of the qualification file")
    kind: Literal["qualification", "elective"] = "qualification"


@router.post("/v1/programmes", status_code=201, tags=["programmes"], summary="Publish a catalog programme")
async def publish_programme(body: ProgrammeIn, request: Request,
                            _: Principal = Depends(require_operator)) -> JSONResponse:
    """Operator: publish (or correct) a programme for all schools."""
    return await _command(request, lambda s: service.publish_programme(_db(request), s, body.model_dump()), 201)


@router.get("/v1/programmes", tags=["programmes"], summary="The programme catalog")
async def list_catalog(request: Request, crebo: str | None = Query(default=None, max_length=10),
                       _: Principal = Depends(current_principal)) -> Doc:
    """Every published programme (optionally of one crebo)."""
    return {"items": [service.programme_out(p) for p in await repo.list_programmes(_db(request), crebo)]}


class SchoolProgrammeIn(Strict):
    """Whether the school uses a programme, and the staff who work for it."""

    enabled: bool = True
    staff_ids: list[Id] = Field(default_factory=list, max_length=500)


@router.put("/v1/schools/{school_id}/programmes/{programme_id}", tags=["programmes"],
            summary="Enable a programme for the school and link its staff")
async def set_school_programme(school_id: str, programme_id: str, body: SchoolProgrammeIn, request: Request,
                               _: Principal = Depends(ADMIN)) -> JSONResponse:
    """School admin: enable or disable a catalog programme, with the staff linked to it."""
    return await _command(request, lambda s: service.set_school_programme(
        _db(request), s, school_id, programme_id, body.enabled, body.staff_ids))


@router.get("/v1/schools/{school_id}/programmes", tags=["programmes"], summary="The school's programmes")
async def school_programmes(school_id: str, request: Request, _: Principal = Depends(ANY_ROLE)) -> Doc:
    """The programmes the school enabled, with their staff."""
    links = await repo.school_programmes(_db(request), school_id, True)
    catalog = await repo.programmes_by_id(_db(request), [p["programme_id"] for p in links])
    return {"items": [{**service.programme_out(catalog[p["programme_id"]]), "enabled": True,
                       "staff_ids": p.get("staff_ids", [])} for p in links if p["programme_id"] in catalog]}


# --- students -------------------------------------------------------------------------------------

class StudentIn(Strict):
    """A new student."""

    student_code: Code
    first_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    email: Email
    gender: Literal["male", "female", "other"] | None = None
    date_of_birth: date | None = None
    programme_ids: list[Id] = Field(default_factory=list, max_length=50)
    group_ids: list[Id] = Field(default_factory=list, max_length=100)
    invite: bool = Field(default=True, description="E-mail the student a login code right away")
    language: Literal["nl", "en"] = "nl"


class StudentPatch(Strict):
    """Changes to a student's own fields."""

    student_code: Code | None = None
    first_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)] | None = None
    email: Email | None = None
    gender: Literal["male", "female", "other"] | None = None
    date_of_birth: date | None = None
    programme_ids: list[Id] | None = Field(default=None, max_length=50)


def _student_values(body: BaseModel) -> Doc:
    values = body.model_dump(exclude_unset=True, exclude={"invite", "language"})
    if values.get("date_of_birth"):
        values["date_of_birth"] = values["date_of_birth"].isoformat()
    return values


@router.post("/v1/schools/{school_id}/students", status_code=201, tags=["students"], summary="Create a student")
async def create_student(school_id: str, body: StudentIn, request: Request,
                         who: Principal = Depends(ADMIN_OR_SUPERVISOR)) -> JSONResponse:
    """Admin or supervisor: create a student; identity creates or links the account and invites them."""
    creator = None if Role.SCHOOL_ADMIN in who.roles_in(school_id) else who.subject
    values = {**_student_values(body), "programme_ids": body.programme_ids, "group_ids": body.group_ids}
    return await _command(request, lambda s: service.create_student(
        _db(request), s, school_id, values, invite=body.invite, language=body.language,
        creator_supervisor=creator), 201)


def _list_query(who: Principal, school_id: str, *, archived: bool, programme_id: str | None, group_id: str | None,
                linked_user_id: str | None, q: str | None) -> Doc:
    query = student_filter(who, school_id, archived=archived)
    if query is None:
        raise Problem(403, "forbidden", detail="Your roles in this school do not allow this.")
    if programme_id:
        query["programme_ids"] = programme_id
    if group_id:
        query["group_ids"] = group_id
    if linked_user_id:
        query["linked_user_ids"] = linked_user_id
        query.setdefault("viewer_ids", linked_user_id)
    if q:
        # $elemMatch: both bounds must hold for the same term of the array
        query["terms"] = {"$elemMatch": {"$gte": q.lower(), "$lt": q.lower() + "\uffff"}}
    return query


class StudentFilters(BaseModel):
    """Filters of the student list and export."""

    archived: bool = False
    programme_id: str | None = None
    group_id: str | None = None
    linked_user_id: str | None = None
    q: str | None = None


def _filters(archived: bool = Query(default=False, description="Archived students only (school admin)"),
             programme_id: str | None = Query(default=None, max_length=64),
             group_id: str | None = Query(default=None, max_length=64),
             linked_user_id: str | None = Query(default=None, max_length=64),
             q: str | None = Query(default=None, max_length=100,
                                   description="Prefix of code, name or e-mail")) -> StudentFilters:
    return StudentFilters(archived=archived, programme_id=programme_id, group_id=group_id,
                          linked_user_id=linked_user_id, q=q)


@router.get("/v1/schools/{school_id}/students", tags=["students"], summary="Search and filter students")
async def list_students(school_id: str, request: Request, filters: StudentFilters = Depends(_filters),
                        cursor: str | None = Query(default=None, max_length=64),
                        limit: int = Query(default=50, ge=1, le=200),
                        who: Principal = Depends(ANY_ROLE)) -> Doc:
    """The students the caller may see, filtered, one page at a time (cursor = next_cursor)."""
    query = _list_query(who, school_id, **filters.model_dump())
    docs = await repo.find_students(_db(request), query, after=cursor, limit=limit)
    return _page([service.student_out(d) for d in docs], limit)


EXPORT_HEADERS = ["Studentnummer", "Voornaam", "Achternaam", "E-mail", "Geslacht", "Geboortedatum",
                  "Opleidingen", "Groepen", "Praktijkbegeleiders", "Actief", "Gearchiveerd"]


@router.get("/v1/schools/{school_id}/students/export.xlsx", tags=["students"],
            summary="Export the filtered student list to Excel",
            response_class=StreamingResponse, responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
async def export_students(school_id: str, request: Request, filters: StudentFilters = Depends(_filters),
                          who: Principal = Depends(ANY_STAFF)) -> StreamingResponse:
    """The students the caller may see with these filters as .xlsx (formulas neutralised)."""
    db = _db(request)
    query = _list_query(who, school_id, **filters.model_dump())
    programmes = {p["_id"]: p for p in await repo.list_programmes(db, None)}
    groups = {g["_id"]: g["name"] for g in (await repo.groups_by_name(db, school_id)).values()}
    rows: list[list[Any]] = []
    async for d in repo.iter_students(db, query):
        rows.append([d["student_code"], d["first_name"], d["last_name"], d["email"], d.get("gender") or "",
                     d.get("date_of_birth") or "",
                     ", ".join(f"{programmes[p]['crebo']} {programmes[p]['name']}" for p in d["programme_ids"]
                               if p in programmes),
                     ", ".join(groups.get(g, g) for g in d["group_ids"]), len(d["supervisor_ids"]),
                     "ja" if d["active"] else "nee", "ja" if d["archived"] else "nee"])
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    await asyncio.to_thread(write_xlsx, EXPORT_HEADERS, rows, out)
    out.seek(0)

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(out.read, 1 << 16):
                yield chunk
        finally:
            out.close()

    return StreamingResponse(body(), media_type=XLSX_MEDIA_TYPE,
                             headers={"Content-Disposition": 'attachment; filename="studenten.xlsx"'})


@router.get("/v1/me/students", tags=["students"], summary="My linked students across every school")
async def my_students(request: Request, cursor: str | None = Query(default=None, max_length=64),
                      limit: int = Query(default=50, ge=1, le=200),
                      who: Principal = Depends(current_principal)) -> Doc:
    """The current students of any school the caller is linked to (e.g. a workplace trainer's)."""
    docs = await repo.linked_students(_db(request), who.subject, after=cursor, limit=limit)
    return _page([service.student_out(d) for d in docs], limit)


async def _visible(request: Request, who: Principal, school_id: str, student_id: str,
                   session: AsyncClientSession | None = None) -> Doc:
    doc = await repo.get_student(_db(request), school_id, student_id, session)
    if doc is None:
        raise service.not_found("student")
    query = student_filter(who, school_id, archived=doc["archived"])
    if query is None or not _matches(doc, query):
        raise service.not_found("student")
    return doc


def _matches(doc: Doc, query: Doc) -> bool:
    """Whether a student document is within a visibility filter of student_filter."""
    def holds(key: str, value: Any) -> bool:
        have = doc.get(key)
        return have == value or (isinstance(have, list) and value in have)

    if not all(holds(k, v) for k, v in query.items() if k != "$or"):
        return False
    scopes = query.get("$or")
    return scopes is None or any(holds(k, v) for s in scopes for k, v in s.items())


async def _editable(request: Request, who: Principal, school_id: str, student_id: str,
                    session: AsyncClientSession) -> Doc:
    doc = await _visible(request, who, school_id, student_id, session)
    if not may_edit(who, doc):
        raise Problem(403, "forbidden", detail="You may not change this student.")
    return doc


@router.get("/v1/schools/{school_id}/students/{student_id}", tags=["students"], summary="One student")
async def get_student(school_id: str, student_id: str, request: Request,
                      who: Principal = Depends(ANY_ROLE)) -> Doc:
    """A student the caller may see."""
    return service.student_out(await _visible(request, who, school_id, student_id))


@router.patch("/v1/schools/{school_id}/students/{student_id}", tags=["students"], summary="Edit a student")
async def update_student(school_id: str, student_id: str, body: StudentPatch, request: Request,
                         who: Principal = Depends(ADMIN_OR_SUPERVISOR)) -> JSONResponse:
    """Admin, or a supervisor of a linked student: change the student's fields."""
    changes = {k: v for k, v in _student_values(body).items() if v is not None or k in ("gender", "date_of_birth")}

    async def work(session: AsyncClientSession) -> Doc:
        doc = await _editable(request, who, school_id, student_id, session)
        return await service.update_student(_db(request), session, doc, changes)

    return await _command(request, work)


def _state_route(path: str, summary: str, **state: bool) -> None:
    async def route(school_id: str, student_id: str, request: Request,
                    who: Principal = Depends(ADMIN)) -> JSONResponse:
        async def work(session: AsyncClientSession) -> Doc:
            doc = await _visible(request, who, school_id, student_id, session)
            return await service.set_state(_db(request), session, doc, **state)

        return await _command(request, work)

    route.__doc__ = f"School admin: {summary.lower()} (never deleted)."
    router.add_api_route(f"/v1/schools/{{school_id}}/students/{{student_id}}/{path}", route, methods=["POST"],
                         tags=["students"], summary=summary, name=f"student_{path}")


_state_route("archive", "Archive a student", archived=True)
_state_route("restore", "Restore an archived student", archived=False)
_state_route("deactivate", "Deactivate a student", active=False)
_state_route("activate", "Activate a student again", active=True)


class LinkIn(Strict):
    """A person to link, by user id or by e-mail."""

    relation: Relation
    user_id: Id | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _someone(self) -> LinkIn:
        if not self.user_id and not self.email:
            raise ValueError("give user_id or email")
        return self


@router.post("/v1/schools/{school_id}/students/{student_id}/links", tags=["students"], summary="Link a person")
async def link_person(school_id: str, student_id: str, body: LinkIn, request: Request,
                      who: Principal = Depends(ADMIN_OR_SUPERVISOR)) -> JSONResponse:
    """Link a school supervisor, assessor or workplace trainer (who may be a user of another school)."""
    async def work(session: AsyncClientSession) -> Doc:
        doc = await _editable(request, who, school_id, student_id, session)
        user_id = await service.resolve_person(_db(request), session, school_id, body.relation, body.user_id,
                                               body.email)
        return await service.link_person(_db(request), session, doc, body.relation, user_id)

    return await _command(request, work)


@router.delete("/v1/schools/{school_id}/students/{student_id}/links/{relation}/{user_id}", tags=["students"],
               summary="Unlink a person")
async def unlink_person(school_id: str, student_id: str, relation: Relation, user_id: str, request: Request,
                        who: Principal = Depends(ADMIN_OR_SUPERVISOR)) -> JSONResponse:
    """Remove a person's link to a student."""
    async def work(session: AsyncClientSession) -> Doc:
        doc = await _editable(request, who, school_id, student_id, session)
        return await service.unlink_person(_db(request), session, doc, relation, user_id)

    return await _command(request, work)


class BulkIn(Strict):
    """One action on a selection of students."""

    student_ids: list[Id] = Field(min_length=1, max_length=1000)
    action: Literal["link_programme", "add_to_group", "link_person", "mark_exam_unavailable",
                    "enable_progress_view"]
    programme_id: Id | None = None
    group_id: Id | None = None
    relation: Relation | None = None
    user_id: Id | None = None
    email: Email | None = None
    exam_id: Id | None = None

    @model_validator(mode="after")
    def _arguments(self) -> BulkIn:
        needed = {"link_programme": ["programme_id"], "add_to_group": ["group_id"], "link_person": ["relation"],
                  "mark_exam_unavailable": ["exam_id"], "enable_progress_view": []}[self.action]
        missing = [name for name in needed if getattr(self, name) is None]
        if self.action == "link_person" and not (self.user_id or self.email):
            missing.append("user_id")
        if missing:
            raise ValueError(f"{self.action} needs {', '.join(missing)}")
        return self


@router.post("/v1/schools/{school_id}/students/bulk", tags=["students"], summary="Act on many students at once")
async def bulk_action(school_id: str, body: BulkIn, request: Request,
                      who: Principal = Depends(ADMIN_OR_SUPERVISOR)) -> JSONResponse:
    """Link a programme, add to a group, link a person, mark an exam unavailable or enable the progress view."""
    ids = list(dict.fromkeys(body.student_ids))

    async def work(session: AsyncClientSession) -> Doc:
        students = await repo.students_by_ids(_db(request), school_id, ids, session)
        editable = [d for d in students if may_edit(who, d)]
        if len(editable) != len(ids):
            found = {d["_id"] for d in editable}
            raise Problem(422, "validation", detail="Some selected students cannot be changed by you.",
                          errors=[{"field": "student_ids", "reason": f"unknown or not yours: {i}"}
                                  for i in ids if i not in found][:50])
        return await service.bulk(_db(request), session, school_id, editable, body.model_dump())

    return await _command(request, work)


# --- groups ---------------------------------------------------------------------------------------

class GroupIn(Strict):
    """A student group."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    category: Annotated[str, StringConstraints(max_length=60)] | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None


class GroupPatch(Strict):
    """Changes to a group."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    category: Annotated[str, StringConstraints(max_length=60)] | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None


class MembersIn(Strict):
    """Students to add to and remove from a group."""

    add: list[Id] = Field(default_factory=list, max_length=1000)
    remove: list[Id] = Field(default_factory=list, max_length=1000)


@router.post("/v1/schools/{school_id}/groups", status_code=201, tags=["groups"], summary="Create a group")
async def create_group(school_id: str, body: GroupIn, request: Request,
                       _: Principal = Depends(ADMIN)) -> JSONResponse:
    """School admin: a new group (name unique in the school)."""
    return await _command(request, lambda s: service.create_group(_db(request), s, school_id, body.model_dump()),
                          201)


@router.get("/v1/schools/{school_id}/groups", tags=["groups"], summary="List groups")
async def list_groups(school_id: str, request: Request,
                      archived: bool = Query(default=False, description="Archived groups only (school admin)"),
                      cursor: str | None = Query(default=None, max_length=64),
                      limit: int = Query(default=100, ge=1, le=500),
                      who: Principal = Depends(ANY_STAFF)) -> Doc:
    """The school's groups; archived ones are not listed unless the admin asks for them."""
    if archived and Role.SCHOOL_ADMIN not in who.roles_in(school_id):
        raise Problem(403, "forbidden", detail="Only the school admin sees archived groups.")
    docs = await repo.list_groups(_db(request), school_id, archived, cursor, limit)
    return _page([service.group_out(g) for g in docs], limit)


@router.get("/v1/schools/{school_id}/groups/{group_id}", tags=["groups"], summary="One group")
async def get_group(school_id: str, group_id: str, request: Request, who: Principal = Depends(ANY_STAFF)) -> Doc:
    """A group (an archived one only for the admin)."""
    doc = await repo.get_group(_db(request), school_id, group_id)
    if doc is None or (doc["archived"] and Role.SCHOOL_ADMIN not in who.roles_in(school_id)):
        raise service.not_found("group")
    return service.group_out(doc)


@router.patch("/v1/schools/{school_id}/groups/{group_id}", tags=["groups"], summary="Edit a group")
async def update_group(school_id: str, group_id: str, body: GroupPatch, request: Request,
                       _: Principal = Depends(ADMIN)) -> JSONResponse:
    """School admin: rename or describe a group."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is None:
        changes.pop("name", None)
    return await _command(request, lambda s: service.change_group(_db(request), s, school_id, group_id, changes))


@router.post("/v1/schools/{school_id}/groups/{group_id}/archive", tags=["groups"], summary="Archive a group")
async def archive_group(school_id: str, group_id: str, request: Request,
                        _: Principal = Depends(ADMIN)) -> JSONResponse:
    """School admin: archive a group (no longer listed, still found by the admin)."""
    return await _command(request, lambda s: service.change_group(_db(request), s, school_id, group_id,
                                                                  {"archived": True}))


@router.post("/v1/schools/{school_id}/groups/{group_id}/members", tags=["groups"],
             summary="Add and remove many students")
async def change_members(school_id: str, group_id: str, body: MembersIn, request: Request,
                         _: Principal = Depends(ADMIN)) -> JSONResponse:
    """School admin: add and remove many students of a group at once."""
    return await _command(request, lambda s: service.change_members(
        _db(request), s, school_id, group_id, list(dict.fromkeys(body.add)), list(dict.fromkeys(body.remove))))

