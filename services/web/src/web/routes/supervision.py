"""Looking along with a student (read-only, audited by identity), a trainer's students, the upload token."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from web.api import ApiError
from web.context import Ctx, in_school, signed_in
from web.render import render
from web.routes.common import back, say

router = APIRouter()


@router.post("/view-as/stop", summary="Stop viewing as the student")
async def stop(ctx: Ctx = Depends(signed_in)) -> Response:
    student = ctx.view_as["student_id"] if ctx.view_as else None
    ctx.stop_view_as()
    return back(f"/students/{student}" if student else "/")


@router.post("/view-as/{student_id}", summary="View the pages as this student (read-only)")
async def view_as(student_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    sid = ctx.school_id
    student = await ctx.get("enrollment", f"/v1/schools/{sid}/students/{student_id}")
    token = await ctx.call("identity", "POST", f"/v1/schools/{sid}/students/{student_id}/view-as")
    ctx.request.state.view_as = {"at": token["access_token"], "exp": int(time.time()) + int(token["expires_in"]),
                                 "uid": ctx.session.get("uid"), "school": sid, "student_id": student_id,
                                 "name": f"{student['first_name']} {student['last_name']}"}
    ctx.request.state.view_as_dirty = True
    return back("/")


@router.get("/my-students", summary="My linked students across every school (e.g. a workplace trainer's)")
async def my_students(ctx: Ctx = Depends(signed_in),
                      cursor: str | None = Query(default=None, max_length=64)) -> Response:
    page = await ctx.get("enrollment", "/v1/me/students", cursor=cursor, limit=50)
    schools = {s["id"]: s["name"] for s in ctx.session.get("schools") or []}
    return render(ctx, "my_students.html", title=say(ctx, "Mijn studenten", "My students"), page=page,
                  schools=schools)


@router.post("/upload-token", summary="A short-lived access token for uploads straight to the evidence service")
async def upload_token(ctx: Ctx = Depends(in_school)) -> Response:
    if ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Meekijken is alleen lezen.", "Viewing as a student is read-only."))
    token = await ctx.token()
    left = max(0, int(float(ctx.session.get("exp", 0)) - time.time()))
    return JSONResponse({"token": token, "expires_in": left})
