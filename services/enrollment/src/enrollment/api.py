"""HTTP routes of enrollment's students: create, list, read, edit, archive, links, bulk actions, export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import IO, Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from enrollment import service
from enrollment.export import export_students
from enrollment.files import XLSX_MEDIA_TYPE
from enrollment.models import Relation
from enrollment.schemas import BulkIn, BulkOut, LinkIn, StudentIn, StudentOut, StudentPage, StudentPatch, student_values
from kit.auth import Principal, Role, require_roles
from kit.commands import execute
from kit.deps import CurrentPrincipal, Database, ServiceOutbox
from kit.errors import wants_english

router = APIRouter(tags=["students"])
Doc = dict[str, Any]

STAFF = (Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD)
Admin = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN))]
AdminOrSupervisor = Annotated[Principal, Depends(require_roles(Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR))]
AnyRole = Annotated[Principal, Depends(require_roles(*Role))]
AnyStaff = Annotated[Principal, Depends(require_roles(*STAFF))]
Cursor = Annotated[str | None, Query(max_length=200, description="The previous page's next_cursor")]
PATH = "/v1/schools/{school_id}/students"


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
                                   description="Prefix of student code, first or last name; accents and case "
                                               "are ignored")) -> StudentFilters:
    return StudentFilters(archived=archived, programme_id=programme_id, group_id=group_id,
                          linked_user_id=linked_user_id, q=q)


Filters = Annotated[StudentFilters, Depends(_filters)]


@router.post(PATH, status_code=201, summary="Create a student", response_model=StudentOut)
async def create_student(school_id: str, body: StudentIn, request: Request, who: AdminOrSupervisor,
                         db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """Admin or supervisor: create a student; identity creates or links the account and invites them."""
    values = {**student_values(body), "programme_ids": body.programme_ids, "group_ids": body.group_ids}
    return await execute(request, lambda s: service.create_student(
        db, s, outbox, principal=who, school_id=school_id, values=values, invite=body.invite, language=body.language),
        status_code=201)


@router.get(PATH, summary="Search and filter students", response_model=StudentPage)
async def list_students(school_id: str, filters: Filters, who: AnyRole, db: Database, cursor: Cursor = None,
                        limit: int = Query(default=50, ge=1, le=200)) -> Doc:
    """The students the caller may see, filtered, by student code, one page at a time (cursor = next_cursor)."""
    return await service.list_students(db, principal=who, school_id=school_id, filters=filters.model_dump(),
                                       after=cursor, limit=limit)


@router.get(f"{PATH}/export.xlsx", summary="Export the filtered student list to Excel",
            response_class=StreamingResponse, responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
async def export(school_id: str, request: Request, filters: Filters, who: AnyStaff, db: Database,
                 language: Literal["nl", "en"] | None = Query(
                     default=None, description="Language of the sheet; default from Accept-Language, else Dutch"),
                 ) -> StreamingResponse:
    """The students the caller may see with these filters as .xlsx, with the names of their linked people."""
    lang = language or ("en" if wants_english(request) else "nl")
    out = await export_students(db, principal=who, school_id=school_id, filters=filters.model_dump(), language=lang)
    name = "students.xlsx" if lang == "en" else "studenten.xlsx"
    return StreamingResponse(_chunks(out), media_type=XLSX_MEDIA_TYPE,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _chunks(out: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await to_thread.run_sync(out.read, 1 << 16):
            yield chunk
    finally:
        out.close()


@router.get("/v1/me/students", summary="My linked students across every school", response_model=StudentPage)
async def my_students(who: CurrentPrincipal, db: Database, cursor: Cursor = None,
                      limit: int = Query(default=50, ge=1, le=200)) -> Doc:
    """The current students of any school the caller is linked to (e.g. a workplace trainer's)."""
    return await service.my_students(db, principal=who, after=cursor, limit=limit)


@router.get(f"{PATH}/{{student_id}}", summary="One student", response_model=StudentOut)
async def get_student(school_id: str, student_id: str, who: AnyRole, db: Database) -> Doc:
    """A student the caller may see."""
    return service.student_out(await service.visible_student(db, None, principal=who, school_id=school_id,
                                                             student_id=student_id))


@router.patch(f"{PATH}/{{student_id}}", summary="Edit a student", response_model=StudentOut)
async def update_student(school_id: str, student_id: str, body: StudentPatch, request: Request,
                         who: AdminOrSupervisor, db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """Admin, or a supervisor of a linked student: change the student's fields."""
    changes = student_values(body)
    return await execute(request, lambda s: service.update_student(
        db, s, outbox, principal=who, school_id=school_id, student_id=student_id, changes=changes))


def _state_route(path: str, summary: str, **state: bool) -> None:
    async def route(school_id: str, student_id: str, request: Request, who: Admin, db: Database,
                    outbox: ServiceOutbox) -> JSONResponse:
        return await execute(request, lambda s: service.set_state(
            db, s, outbox, principal=who, school_id=school_id, student_id=student_id, **state))

    route.__doc__ = f"School admin: {summary.lower()} (never deleted)."
    router.add_api_route(f"{PATH}/{{student_id}}/{path}", route, methods=["POST"], summary=summary,
                         name=f"student_{path}", response_model=StudentOut)


_state_route("archive", "Archive a student", archived=True)
_state_route("restore", "Restore an archived student", archived=False)
_state_route("deactivate", "Deactivate a student", active=False)
_state_route("activate", "Activate a student again", active=True)


@router.post(f"{PATH}/{{student_id}}/links", summary="Link a person", response_model=StudentOut)
async def link_person(school_id: str, student_id: str, body: LinkIn, request: Request, who: AdminOrSupervisor,
                      db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """Link a school supervisor, assessor or workplace trainer (who may be a user of another school)."""
    return await execute(request, lambda s: service.link_person(
        db, s, outbox, principal=who, school_id=school_id, student_id=student_id, relation=body.relation,
        user_id=body.user_id, email=body.email))


@router.delete(f"{PATH}/{{student_id}}/links/{{relation}}/{{user_id}}", summary="Unlink a person",
               response_model=StudentOut)
async def unlink_person(school_id: str, student_id: str, relation: Relation, user_id: str, request: Request,
                        who: AdminOrSupervisor, db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """Remove a person's link to a student."""
    return await execute(request, lambda s: service.unlink_person(
        db, s, outbox, principal=who, school_id=school_id, student_id=student_id, relation=relation, user_id=user_id))


@router.post(f"{PATH}/bulk", summary="Act on many students at once", response_model=BulkOut)
async def bulk_action(school_id: str, body: BulkIn, request: Request, who: AdminOrSupervisor,
                      db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """Link a programme, add to a group, link a person, mark an exam unavailable or enable the progress view."""
    return await execute(request, lambda s: service.bulk(
        db, s, outbox, principal=who, school_id=school_id, student_ids=body.student_ids, action=body.model_dump()))
