"""The start page per role, and in-app notifications."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response

from web.api import ApiError
from web.context import Ctx, in_school, signed_in
from web.render import render

router = APIRouter()


async def _quietly(work: Any, default: Any) -> Any:
    """A start-page panel that cannot be filled shows empty instead of breaking the page."""
    try:
        return await work
    except ApiError:
        return default


@router.get("/", summary="The start page")
async def start(ctx: Ctx = Depends(signed_in)) -> Response:
    if not ctx.school_id:
        if ctx.operator:
            return render(ctx, "start.html", title=_(ctx, "Start", "Home"), counts=None, notes=[], unread=0)
        if ctx.session.get("schools"):
            return RedirectResponse("/school", status_code=303)
        return render(ctx, "start.html", title=_(ctx, "Start", "Home"), counts=None, notes=[], unread=0)
    sid = ctx.school_id
    messaging = ctx.has("student", "school_supervisor") and not ctx.view_as
    counts_call = ctx.get("notifications", f"/v1/schools/{sid}/messages/unread-count") if messaging else None
    notes_call = ctx.get("notifications", f"/v1/schools/{sid}/notifications", limit=5)
    counts, notes = await asyncio.gather(
        _quietly(counts_call, None) if counts_call else asyncio.sleep(0, None),
        _quietly(notes_call, {"items": [], "unread_count": 0}))
    student = None
    if ctx.view_as:
        student = await _quietly(ctx.get("enrollment", f"/v1/schools/{sid}/students/{ctx.view_as['student_id']}"),
                                 None)
    return render(ctx, "start.html", title=_(ctx, "Start", "Home"), counts=counts, notes=notes["items"],
                  unread=notes.get("unread_count", 0), student=student)


@router.get("/alerts", summary="My notifications")
async def notifications(ctx: Ctx = Depends(in_school), cursor: str | None = Query(default=None, max_length=24),
                        unread_only: bool = False) -> Response:
    page = await ctx.get("notifications", f"/v1/schools/{ctx.school_id}/notifications", cursor=cursor,
                         limit=20, unread_only=unread_only or None)
    return render(ctx, "notifications.html", title=_(ctx, "Meldingen", "Notifications"), page=page,
                  unread_only=unread_only)


@router.post("/alerts/{notification_id}/read", summary="Mark a notification read")
async def read_one(notification_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    await ctx.call("notifications", "POST", f"/v1/schools/{ctx.school_id}/notifications/{notification_id}/read")
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/read-all", summary="Mark every notification read")
async def read_all(ctx: Ctx = Depends(in_school)) -> Response:
    await ctx.call("notifications", "POST", f"/v1/schools/{ctx.school_id}/notifications/read-all")
    return RedirectResponse("/alerts", status_code=303)


def _(ctx: Ctx, nl: str, en: str) -> str:
    return en if ctx.lang == "en" else nl
