"""Groups: the list, a group's students with bulk removal, creating and archiving."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, Many, back, say

router = APIRouter(prefix="/groups")


async def _list(ctx: Ctx, archived: bool, *, status: int = 200, error: ApiError | None = None,
                form: dict[str, str] | None = None) -> Response:
    page = await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/groups", archived="true" if archived else None,
                         limit=500)
    return render(ctx, "groups.html", status=status, error=error, form=form, title=say(ctx, "Groepen", "Groups"),
                  page=page, archived=archived, key=ctx.form_key(), admin=ctx.has("school_admin"))


@router.get("", summary="The school's groups")
async def groups(ctx: Ctx = Depends(in_school), archived: bool = False) -> Response:
    return await _list(ctx, archived)


@router.post("", summary="Create a group")
async def create(ctx: Ctx = Depends(in_school), name: Field = "", category: Field = "", description: Field = "",
                 idempotency_key: Field = "") -> Response:
    body = {"name": name.strip(), "category": category.strip() or None, "description": description.strip() or None}
    try:
        created = await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/groups", json=body,
                                 idem=idempotency_key or None)
    except ApiError as exc:
        return await _list(ctx, False, status=exc.status, error=exc,
                           form={"name": name, "category": category, "description": description})
    return back(f"/groups/{created['id']}?created=1")


async def _group(ctx: Ctx, group_id: str, cursor: str | None, *, status: int = 200,
                 error: ApiError | None = None) -> Response:
    group, members = await asyncio.gather(
        ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/groups/{group_id}"),
        ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/students", group_id=group_id, cursor=cursor, limit=100))
    return render(ctx, "group.html", status=status, error=error, title=group["name"], group=group, page=members,
                  admin=ctx.has("school_admin"))


@router.get("/{group_id}", summary="One group and its students")
async def group(group_id: str, ctx: Ctx = Depends(in_school),
                cursor: str | None = Query(default=None, max_length=64)) -> Response:
    return await _group(ctx, group_id, cursor)


@router.post("/{group_id}/remove", summary="Take the selected students out of the group")
async def remove(group_id: str, ctx: Ctx = Depends(in_school), student_ids: Many = []) -> Response:  # noqa: B006
    if not student_ids:
        return await _group(ctx, group_id, None, status=422, error=ApiError(422, errors=[{
            "field": "student_ids", "reason": say(ctx, "Kies eerst een of meer studenten.",
                                                  "Select one or more students first.")}]))
    try:
        await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/groups/{group_id}/members",
                       json={"remove": student_ids})
    except ApiError as exc:
        return await _group(ctx, group_id, None, status=exc.status, error=exc)
    return back(f"/groups/{group_id}?removed={len(student_ids)}")


@router.post("/{group_id}/archive", summary="Archive the group")
async def archive(group_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    try:
        await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/groups/{group_id}/archive")
    except ApiError as exc:
        return await _group(ctx, group_id, None, status=exc.status, error=exc)
    return back("/groups?archived_one=1")
