"""The assessor's form of one scheduled part: scores per criterion, justifications, drafts (also saved by
themselves), the finalize overview with both assessors' scores and divergences, and the form as PDF."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from kit.numbers import whole_number
from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, say
from web.routes.exam_cases_common import files_of, until_listed
from web.routes.exam_common import localized

router = APIRouter(prefix="/assess")


def _base(ctx: Ctx, schedule_id: str) -> str:
    return f"/v1/schools/{ctx.school_id}/schedules/{schedule_id}/assessment"


def _mine(a: dict[str, Any]) -> dict[str, Any]:
    """The caller's own form (empty before the first save)."""
    role = a.get("my_role")
    return (a["forms"].get(role) if role else None) or {"scores": {}, "justifications": {}, "version": 0}


def _is_stale(exc: ApiError) -> bool:
    return exc.status in (409, 412) and str(exc.body.get("type", "")).endswith(("stale_form", "stale_version"))


async def _form(ctx: Ctx, schedule_id: str, *, status: int = 200, error: ApiError | str | None = None,
                typed: dict[str, str] | None = None, stale: bool = False, attached: str = "") -> Response:
    a = await until_listed(lambda: ctx.get("exams", _base(ctx, schedule_id)),
                           lambda found: _mine(found).get("attachment_ids") or [], attached)
    mine = _mine(a)
    attachments = await files_of(ctx, _attachment_ids(a, mine))
    values = typed if typed is not None else {
        **{f"scores_{k}": v for k, v in mine["scores"].items()},
        **{f"justifications_{k}": v for k, v in mine["justifications"].items()}}
    other = {"first": "second", "second": "first"}.get(a.get("my_role") or "", "")
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in a["criteria"]:
        groups.setdefault(c["work_process"], []).append(c)
    return render(ctx, "exam_assess.html", status=status, error=error, form=values, a=a, mine=mine, groups=groups,
                  other=a["forms"].get(other) if other else None, stale=stale, attachments=attachments,
                  max_bytes=ctx.settings.max_file_bytes,
                  title=say(ctx, f"Beoordelen: {a['part_name']}", f"Assess: {a['part_name']}"))


def _attachment_ids(a: dict[str, Any], mine: dict[str, Any]) -> list[str]:
    """The files on the form: the submitted ones once final; else mine, or both assessors' for a reader."""
    if a.get("final"):
        return list(a["final"].get("attachment_ids") or [])
    if a.get("my_role"):
        return list(mine.get("attachment_ids") or [])
    return [i for f in a["forms"].values() if f for i in f.get("attachment_ids") or []]


@router.get("/{schedule_id}", summary="The assessment form of a scheduled part, with its attachments")
async def form(schedule_id: str, ctx: Ctx = Depends(in_school),
               attached: str = Query(default="", max_length=64)) -> Response:
    return await _form(ctx, schedule_id, attached=attached)


@router.post("/{schedule_id}", summary="Save my draft (the page also saves it by itself while typing)")
async def save(schedule_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    raw = await ctx.request.form()
    typed = {k: v for k, v in raw.items() if isinstance(v, str) and k not in ("csrf_token", "version")}
    version = raw.get("version")
    body = {"version": whole_number(version if isinstance(version, str) else None) or 0,
            "scores": {k.removeprefix("scores_"): v for k, v in typed.items() if k.startswith("scores_") and v},
            "justifications": {k.removeprefix("justifications_"): v for k, v in typed.items()
                               if k.startswith("justifications_") and v.strip()}}
    autosave = ctx.request.headers.get("x-autosave") == "1"
    try:
        saved = await ctx.call("exams", "PUT", f"{_base(ctx, schedule_id)}/forms/me", json=body)
    except ApiError as exc:
        exc = localized(ctx, exc)
        stale = _is_stale(exc)
        if autosave:
            return JSONResponse({"message": say(ctx, "Niet automatisch opgeslagen: ", "Not saved automatically: ")
                                 + (exc.message() or ""), "stale": stale}, status_code=exc.status)
        message: ApiError | str = say(ctx, "Iemand anders (of een ander venster) heeft jouw formulier intussen "
                                           "opgeslagen, dus dit is niet opgeslagen. Je invoer staat hieronder nog; "
                                           "laad de nieuwe versie om verder te gaan.",
                                      "Your form was saved meanwhile by another window, so this was not saved. "
                                      "Your input is still below; load the new version to continue.") if stale else exc
        return await _form(ctx, schedule_id, status=exc.status, error=message, typed=typed, stale=stale)
    if autosave:
        return JSONResponse({"version": _mine(saved)["version"],
                             "message": say(ctx, "Concept automatisch opgeslagen.", "Draft saved automatically.")})
    return back(f"/assess/{schedule_id}?saved=1")


async def _overview(ctx: Ctx, schedule_id: str, *, status: int = 200, error: ApiError | str | None = None,
                    note: str = "") -> Response:
    a, o = await asyncio.gather(ctx.get("exams", _base(ctx, schedule_id)),
                                ctx.get("exams", f"{_base(ctx, schedule_id)}/finalize"))
    return render(ctx, "exam_finalize.html", status=status, error=error, form={"divergence_note": note}, a=a, o=o,
                  title=say(ctx, f"Afronden: {a['part_name']}", f"Finalize: {a['part_name']}"))


@router.get("/{schedule_id}/finalize", summary="Before finalizing: both assessors' scores, gaps and divergences")
async def overview(schedule_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    return await _overview(ctx, schedule_id)


@router.post("/{schedule_id}/finalize", summary="Finalize the part's assessment, as confirmed (irreversible)")
async def finalize(schedule_id: str, ctx: Ctx = Depends(in_school), confirm: Field = "", divergence_note: Field = "",
                   version: Field = "") -> Response:
    if not confirm:
        return await _overview(ctx, schedule_id, status=422, note=divergence_note, error=ApiError(422, errors=[{
            "field": "confirm", "reason": say(ctx, "Vink aan dat je zeker bent.", "Tick the box if you are sure.")}]))
    body: dict[str, Any] = {"confirm": True, "divergence_note": divergence_note.strip() or None}
    if (seen := whole_number(version)) is not None:
        body["version"] = seen
    try:
        await ctx.call("exams", "POST", f"{_base(ctx, schedule_id)}/finalize", json=body)
    except ApiError as exc:
        return await _overview(ctx, schedule_id, status=exc.status, error=localized(ctx, exc), note=divergence_note)
    return back(f"/assess/{schedule_id}?final=1")


@router.get("/attempts/{attempt_id}/pdf", summary="The attempt's assessment form as a PDF")
async def pdf(attempt_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    response, body = await ctx.upstreams.stream("exams", f"/v1/schools/{ctx.school_id}/attempts/{attempt_id}/"
                                                "assessment.pdf", token=await ctx.token(), language=ctx.lang)
    if response.status_code != 200:
        await response.aread()
        await response.aclose()
        raise ApiError.from_response(response)
    return StreamingResponse(body, media_type="application/pdf", headers={
        "Content-Disposition": response.headers.get("content-disposition", 'attachment; filename="beoordeling.pdf"'),
        "X-Content-Type-Options": "nosniff"})
