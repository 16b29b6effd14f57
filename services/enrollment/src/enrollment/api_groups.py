"""HTTP routes of student groups: create, list, read, edit, archive, members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from enrollment import groups
from enrollment.api import Admin, AnyStaff, Cursor
from enrollment.schemas import GroupIn, GroupOut, GroupPage, GroupPatch, MembersIn, MembersOut
from kit.commands import execute
from kit.deps import Database, ServiceOutbox

router = APIRouter(tags=["groups"])
PATH = "/v1/schools/{school_id}/groups"


@router.post(PATH, status_code=201, summary="Create a group", response_model=GroupOut)
async def create_group(school_id: str, body: GroupIn, request: Request, _: Admin, db: Database,
                       outbox: ServiceOutbox) -> JSONResponse:
    """School admin: a new group (name unique in the school)."""
    return await execute(request, lambda s: groups.create_group(db, s, outbox, school_id=school_id,
                                                                values=body.model_dump()), status_code=201)


@router.get(PATH, summary="List groups", response_model=GroupPage)
async def list_groups(school_id: str, who: AnyStaff, db: Database,
                      archived: bool = Query(default=False, description="Archived groups only (school admin)"),
                      cursor: Cursor = None, limit: int = Query(default=100, ge=1, le=500)) -> dict[str, Any]:
    """The school's groups by name; archived ones are not listed unless the admin asks for them."""
    return await groups.list_groups(db, principal=who, school_id=school_id, archived=archived, after=cursor,
                                    limit=limit)


@router.get(f"{PATH}/{{group_id}}", summary="One group", response_model=GroupOut)
async def get_group(school_id: str, group_id: str, who: AnyStaff, db: Database) -> dict[str, Any]:
    """A group (an archived one only for the admin)."""
    return await groups.get_group(db, principal=who, school_id=school_id, group_id=group_id)


@router.patch(f"{PATH}/{{group_id}}", summary="Edit a group", response_model=GroupOut)
async def update_group(school_id: str, group_id: str, body: GroupPatch, request: Request, _: Admin,
                       db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """School admin: rename or describe a group."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name") is None:
        changes.pop("name", None)
    return await execute(request, lambda s: groups.change_group(db, s, outbox, school_id=school_id, group_id=group_id,
                                                                changes=changes))


@router.post(f"{PATH}/{{group_id}}/archive", summary="Archive a group", response_model=GroupOut)
async def archive_group(school_id: str, group_id: str, request: Request, _: Admin, db: Database,
                        outbox: ServiceOutbox) -> JSONResponse:
    """School admin: archive a group (no longer listed, still found by the admin)."""
    return await execute(request, lambda s: groups.change_group(db, s, outbox, school_id=school_id, group_id=group_id,
                                                                changes={"archived": True}))


@router.post(f"{PATH}/{{group_id}}/members", summary="Add and remove many students", response_model=MembersOut)
async def change_members(school_id: str, group_id: str, body: MembersIn, request: Request, _: Admin,
                         db: Database, outbox: ServiceOutbox) -> JSONResponse:
    """School admin: add and remove many students of a group at once."""
    return await execute(request, lambda s: groups.change_members(db, s, outbox, school_id=school_id, group_id=group_id,
                                                                  add=body.add, remove=body.remove))
