"""Students: search and filters, one student with their links, creating, archiving, bulk actions, export."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, Many, back, items, say

router = APIRouter(prefix="/students")
RELATIONS = {"school_supervisor": ("Praktijkbegeleider (school)", "School supervisor"),
             "assessor": ("Examinator", "Assessor"), "workplace_trainer": ("Praktijkopleider", "Workplace trainer")}
STAFF = ("school_admin", "school_supervisor", "assessor", "exam_board")


async def _choices(ctx: Ctx) -> tuple[list[Any], list[Any]]:
    """The school's programmes and (for staff) groups, for filters and bulk actions."""
    sid = ctx.school_id
    programmes_call = ctx.reference("enrollment", f"/v1/schools/{sid}/programmes")
    groups_call = ctx.reference("enrollment", f"/v1/schools/{sid}/groups", limit=500) if ctx.has(*STAFF) else None
    programmes, groups = await asyncio.gather(programmes_call, groups_call or asyncio.sleep(0, {"items": []}))
    return items(programmes), items(groups)


def _filters(q: str | None, programme_id: str | None, group_id: str | None, archived: bool) -> dict[str, Any]:
    return {"q": (q or "").strip() or None, "programme_id": programme_id or None, "group_id": group_id or None,
            "archived": "true" if archived else None}


async def _list_page(ctx: Ctx, request: Request, filters: dict[str, Any], cursor: str | None, *, status: int = 200,
                     error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response:
    page, (programmes, groups) = await asyncio.gather(
        ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/students", cursor=cursor, limit=50, **filters),
        _choices(ctx))
    names = {p["id"]: p["name"] for p in programmes}
    template = "students_table.html" if request.headers.get("hx-request") and not error else "students.html"
    return render(ctx, template, status=status, error=error, form=form,
                  title=say(ctx, "Studenten", "Students"), page=page, filters=filters, programmes=programmes,
                  groups=groups, programme_names=names, relations=RELATIONS, key=ctx.form_key(),
                  may_edit=ctx.has("school_admin", "school_supervisor"), admin=ctx.has("school_admin"))


@router.get("", summary="Search and filter students")
async def students(request: Request, ctx: Ctx = Depends(in_school), q: str | None = Query(default=None, max_length=100),
                   programme_id: str | None = Query(default=None, max_length=64),
                   group_id: str | None = Query(default=None, max_length=64), archived: bool = False,
                   cursor: str | None = Query(default=None, max_length=64)) -> Response:
    return await _list_page(ctx, request, _filters(q, programme_id, group_id, archived), cursor)


@router.get("/export.xlsx", summary="The filtered list as an Excel file")
async def export(ctx: Ctx = Depends(in_school), q: str | None = Query(default=None, max_length=100),
                 programme_id: str | None = Query(default=None, max_length=64),
                 group_id: str | None = Query(default=None, max_length=64), archived: bool = False) -> Response:
    params = {k: v for k, v in _filters(q, programme_id, group_id, archived).items() if v}
    response, body = await ctx.upstreams.stream("enrollment", f"/v1/schools/{ctx.school_id}/students/export.xlsx",
                                                token=await ctx.token(), language=ctx.lang, params=params)
    if response.status_code != 200:
        await response.aread()
        await response.aclose()
        raise ApiError.from_response(response)
    return StreamingResponse(body, media_type=response.headers.get("content-type"), headers={
        "Content-Disposition": response.headers.get("content-disposition", 'attachment; filename="studenten.xlsx"')})


@router.post("", summary="Create a student")
async def create(request: Request, ctx: Ctx = Depends(in_school), student_code: Field = "", first_name: Field = "",
                 last_name: Field = "", email: Field = "", programme_ids: Many = [],  # noqa: B006
                 invite: Field = "", idempotency_key: Field = "") -> Response:
    body = {"student_code": student_code.strip(), "first_name": first_name.strip(), "last_name": last_name.strip(),
            "email": email.strip(), "programme_ids": programme_ids, "invite": bool(invite), "language": ctx.lang}
    try:
        created = await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/students", json=body,
                                 idem=idempotency_key or None)
    except ApiError as exc:
        form = {"student_code": student_code, "first_name": first_name, "last_name": last_name, "email": email,
                "invite": invite}
        return await _list_page(ctx, request, _filters(None, None, None, False), None, status=exc.status,
                                error=exc, form=form)
    return back(f"/students/{created['id']}?created=1")


@router.post("/bulk", summary="One action on the selected students")
async def bulk(request: Request, ctx: Ctx = Depends(in_school), student_ids: Many = [],  # noqa: B006
               action: Field = "", group_id: Field = "", programme_id: Field = "", relation: Field = "",
               email: Field = "", return_to: Field = "/students") -> Response:
    body: dict[str, Any] = {"student_ids": student_ids, "action": action}
    if action == "add_to_group":
        body["group_id"] = group_id or None
    elif action == "link_programme":
        body["programme_id"] = programme_id or None
    elif action == "link_person":
        body.update(relation=relation or None, email=email.strip() or None)
    if not student_ids:
        error = ApiError(422, errors=[{"field": "student_ids", "reason": say(
            ctx, "Kies eerst een of meer studenten.", "Select one or more students first.")}])
        return await _list_page(ctx, request, _filters(None, None, None, False), None, status=422, error=error)
    try:
        result = await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/students/bulk", json=body)
    except ApiError as exc:
        return await _list_page(ctx, request, _filters(None, None, None, False), None, status=exc.status, error=exc,
                                form={"action": action, "email": email})
    changed = result.get("changed", result.get("count", len(student_ids)))
    target = return_to if return_to.startswith("/") and not return_to.startswith("//") else "/students"
    sep = "&" if "?" in target else "?"
    return back(f"{target}{sep}bulk={changed}")


async def _people_names(ctx: Ctx, ids: set[str]) -> dict[str, str]:
    """Display names of linked people the admin can look up (others see the link without a name)."""
    if not ctx.has("school_admin") or not ids:
        return {}

    async def one(uid: str) -> tuple[str, str]:
        try:
            member = await ctx.reference("identity", f"/v1/schools/{ctx.school_id}/users/{uid}")
            return uid, str(member["display_name"])
        except ApiError:
            return uid, ""

    return dict(await asyncio.gather(*(one(uid) for uid in sorted(ids))))


async def _student_page(ctx: Ctx, student_id: str, *, status: int = 200, error: ApiError | None = None,
                        form: dict[str, Any] | None = None) -> Response:
    student, (programmes, groups) = await asyncio.gather(
        ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/students/{student_id}"), _choices(ctx))
    names = await _people_names(ctx, {uid for ids in student["links"].values() for uid in ids})
    return render(ctx, "student.html", status=status, error=error, form=form,
                  title=f"{student['first_name']} {student['last_name']}", student=student,
                  programme_names={p["id"]: p["name"] for p in programmes},
                  group_names={g["id"]: g["name"] for g in groups}, people=names, relations=RELATIONS,
                  may_edit=ctx.has("school_admin", "school_supervisor"), admin=ctx.has("school_admin"),
                  may_view_as=ctx.has("school_admin", "school_supervisor"))


@router.get("/{student_id}", summary="One student")
async def student(student_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    return await _student_page(ctx, student_id)


@router.post("/{student_id}/links", summary="Link a supervisor, assessor or workplace trainer")
async def link(student_id: str, ctx: Ctx = Depends(in_school), relation: Field = "", email: Field = "") -> Response:
    try:
        await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/students/{student_id}/links",
                       json={"relation": relation, "email": email.strip()})
    except ApiError as exc:
        return await _student_page(ctx, student_id, status=exc.status, error=exc,
                                   form={"relation": relation, "email": email})
    return back(f"/students/{student_id}?linked=1")


@router.post("/{student_id}/links/{relation}/{user_id}/remove", summary="Remove a link")
async def unlink(student_id: str, relation: str, user_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    try:
        await ctx.call("enrollment", "DELETE",
                       f"/v1/schools/{ctx.school_id}/students/{student_id}/links/{relation}/{user_id}")
    except ApiError as exc:
        return await _student_page(ctx, student_id, status=exc.status, error=exc)
    return back(f"/students/{student_id}")


@router.post("/{student_id}/{state}", summary="Archive or restore a student")
async def set_state(student_id: str, state: str, ctx: Ctx = Depends(in_school)) -> Response:
    if state not in ("archive", "restore"):
        raise ApiError(404, detail=say(ctx, "Onbekende actie.", "Unknown action."))
    try:
        await ctx.call("enrollment", "POST", f"/v1/schools/{ctx.school_id}/students/{student_id}/{state}")
    except ApiError as exc:
        return await _student_page(ctx, student_id, status=exc.status, error=exc)
    return back(f"/students/{student_id}?{state}d=1")
