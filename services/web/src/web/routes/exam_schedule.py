"""Scheduling parts (or all parts) for one or many adopted assignments; rescheduling and cancelling a part."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from kit.clock import now
from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, say
from web.routes.exam_common import (
    SCHEDULERS,
    as_moment,
    if_match,
    is_stale,
    local_input,
    localized,
    staff,
    stale_message,
)

router = APIRouter()
PLAN = ("starts_at", "ends_at", "location", "first_assessor_id", "second_assessor_id")
PART_FIELD = re.compile(r"^(?:body\.)?parts\.(\d+)\.(.+)$")


def _scheduler(ctx: Ctx) -> None:
    if not ctx.has(*SCHEDULERS) or ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Alleen begeleiders, de beheerder en (als de school dat toestaat) "
                                            "examinatoren plannen examens in.",
                                       "Only supervisors, the school admin and (where the school allows it) assessors "
                                       "schedule exams."))


async def _form(ctx: Ctx, assignment_ids: list[str], *, status: int = 200, error: ApiError | None = None,
                form: dict[str, Any] | None = None) -> Response:
    sid = ctx.school_id
    chosen = list(dict.fromkeys(assignment_ids))[:200]
    found, assessors = await asyncio.gather(
        asyncio.gather(*(ctx.get("exams", f"/v1/schools/{sid}/assignments/{a}") for a in chosen)),
        staff(ctx, "assessor"))
    exam_ids = {a["exam_id"] for a in found}
    exam = await ctx.get("exams", f"/v1/schools/{sid}/exams/{found[0]['exam_id']}") if len(exam_ids) == 1 else None
    values: dict[str, Any] = {"mode": "all", **(form or {})}
    return render(ctx, "exam_schedule.html", status=status, error=error, form=values, assignments=found,
                  exam=exam, assessors=assessors, key=ctx.form_key(),
                  title=say(ctx, "Inplannen", "Schedule"))


@router.get("/schedule", summary="Schedule parts for the chosen adopted assignments")
async def schedule_form(ctx: Ctx = Depends(in_school),
                        assignment_ids: list[str] = Query(default=[], max_length=200)) -> Response:
    _scheduler(ctx)
    if not assignment_ids:
        return back("/assignments?state=adopted&choose=1")
    return await _form(ctx, assignment_ids)


def _plan(get: Any, prefix: str) -> dict[str, Any]:
    plan: dict[str, Any] = {"starts_at": as_moment(get(f"{prefix}starts_at")),
                            "ends_at": as_moment(get(f"{prefix}ends_at")),
                            "location": get(f"{prefix}location").strip() or None,
                            "first_assessor_id": get(f"{prefix}first_assessor_id") or None,
                            "second_assessor_id": get(f"{prefix}second_assessor_id") or None,
                            "second_assessor_may_submit": bool(get(f"{prefix}second_assessor_may_submit"))}
    return plan


def _moved(exc: ApiError, sent: list[int], mode: str) -> ApiError:
    """Name the row of the page: the API counts only the parts sent; in 'all' mode every part is the one plan."""
    errors = []
    for err in exc.errors:
        found = PART_FIELD.match(str(err.get("field") or ""))
        if found:
            index, rest = int(found.group(1)), found.group(2)
            row = sent[index] if index < len(sent) else index
            field = f"all_parts.{rest}" if mode == "all" else f"parts.{row}.{rest}"
            err = {**err, "field": field}
        errors.append(err)
    return ApiError(exc.status, exc.title, exc.detail, errors, exc.body)


@router.post("/schedule", summary="Schedule: all parts with one plan, or part by part (copy from the part above)")
async def schedule(ctx: Ctx = Depends(in_school)) -> Response:
    _scheduler(ctx)
    raw = await ctx.request.form()
    typed = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}

    def get(name: str) -> str:
        value = raw.get(name)
        return value if isinstance(value, str) else ""

    assignment_ids = [v for v in raw.getlist("assignment_ids") if isinstance(v, str)]
    mode = get("mode") or "all"
    body: dict[str, Any] = {"assignment_ids": assignment_ids}
    sent: list[int] = []
    if mode == "all":
        body["all_parts"] = _plan(get, "all_parts_")
    else:
        rows = sorted({int(m.group(1)) for k in raw if (m := re.match(r"^parts_(\d+)_part_code$", k))})
        body["parts"] = []
        for i in rows:
            if not get(f"parts_{i}_include"):
                continue
            sent.append(i)
            body["parts"].append({"part_code": get(f"parts_{i}_part_code"), **_plan(get, f"parts_{i}_"),
                                  "copy_from_above": bool(get(f"parts_{i}_copy_from_above"))})
    try:
        if mode != "all" and not body["parts"]:
            raise ApiError(422, errors=[{"field": "parts", "reason": say(
                ctx, "Kies een of meer onderdelen om in te plannen.", "Choose one or more parts to schedule.")}])
        created = await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/schedules", json=body,
                                 idem=get("idempotency_key") or None)
    except ApiError as exc:
        return await _form(ctx, assignment_ids, status=exc.status, error=localized(ctx, _moved(exc, sent, mode)),
                           form=typed)
    if len(set(assignment_ids)) == 1:
        return back(f"/assignments/{assignment_ids[0]}?saved=1")
    return back(f"/assignments?state=adopted&scheduled={len(created) if isinstance(created, list) else 0}")


async def _part(ctx: Ctx, schedule_id: str) -> dict[str, Any]:
    return dict(await ctx.get("exams", f"/v1/schools/{ctx.school_id}/schedules/{schedule_id}"))


async def _edit_page(ctx: Ctx, schedule_id: str, *, status: int = 200, error: ApiError | str | None = None,
                     form: dict[str, Any] | None = None, stale: bool = False) -> Response:
    part, assessors = await asyncio.gather(_part(ctx, schedule_id), staff(ctx, "assessor"))
    values = form or {"starts_at": local_input(part["starts_at"]), "ends_at": local_input(part["ends_at"]),
                      "location": part["location"] or "", "first_assessor_id": part["first_assessor_id"],
                      "second_assessor_id": part["second_assessor_id"] or "",
                      "second_assessor_may_submit": "1" if part["second_assessor_may_submit"] else ""}
    return render(ctx, "exam_reschedule.html", status=status, error=error, form=values, part=part,
                  assessors=assessors, stale=stale,
                  title=say(ctx, f"Verzetten: {part['part_name']}", f"Reschedule: {part['part_name']}"))


@router.get("/parts/{schedule_id}/edit", summary="Reschedule a part: moment, place, assessors")
async def reschedule_form(schedule_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    _scheduler(ctx)
    return await _edit_page(ctx, schedule_id)


@router.post("/parts/{schedule_id}/edit", summary="Save the new moment, place or assessors (If-Match)")
async def reschedule(schedule_id: str, ctx: Ctx = Depends(in_school), version: Field = "", starts_at: Field = "",
                     ends_at: Field = "", location: Field = "", first_assessor_id: Field = "",
                     second_assessor_id: Field = "", second_assessor_may_submit: Field = "",
                     assignment_id: Field = "") -> Response:
    _scheduler(ctx)
    typed = {"starts_at": starts_at, "ends_at": ends_at, "location": location, "first_assessor_id": first_assessor_id,
             "second_assessor_id": second_assessor_id, "second_assessor_may_submit": second_assessor_may_submit}
    body = {"starts_at": as_moment(starts_at), "ends_at": as_moment(ends_at), "location": location.strip() or None,
            "first_assessor_id": first_assessor_id or None, "second_assessor_id": second_assessor_id or None,
            "second_assessor_may_submit": bool(second_assessor_may_submit)}
    try:
        await ctx.call("exams", "PATCH", f"/v1/schools/{ctx.school_id}/schedules/{schedule_id}", json=body,
                       headers=if_match(version))
    except ApiError as exc:
        if is_stale(exc):
            return await _edit_page(ctx, schedule_id, status=412, error=stale_message(ctx), form=typed, stale=True)
        return await _edit_page(ctx, schedule_id, status=exc.status, error=localized(ctx, _renamed(exc)), form=typed)
    return back(f"/assignments/{assignment_id}?saved=1" if assignment_id else "/assignments")


def _renamed(exc: ApiError) -> ApiError:
    """The reschedule's moment errors are named `body.starts_at` or `body.ends_at`: the field names of the form."""
    return ApiError(exc.status, exc.title, exc.detail,
                    [{**e, "field": str(e.get("field") or "").removeprefix("body.")} for e in exc.errors], exc.body)


def consequence(part: dict[str, Any], rules: dict[str, Any], at: datetime) -> tuple[bool, datetime]:
    """Whether cancelling now is late (the attempt is lost) and the deregistration deadline."""
    starts = datetime.fromisoformat(str(part["starts_at"]).replace("Z", "+00:00"))
    deadline = starts - timedelta(days=int(rules.get("deregistration_days", 14)))
    return at > deadline, deadline


async def _cancel_page(ctx: Ctx, schedule_id: str, *, status: int = 200, error: ApiError | str | None = None,
                       stale: bool = False) -> Response:
    part = await _part(ctx, schedule_id)
    exam = await ctx.get("exams", f"/v1/schools/{ctx.school_id}/exams/{part['exam_id']}")
    late, deadline = consequence(part, exam.get("rules") or {}, now())
    return render(ctx, "exam_cancel.html", status=status, error=error, part=part, late=late, deadline=deadline,
                  stale=stale, title=say(ctx, f"Afmelden: {part['part_name']}", f"Cancel: {part['part_name']}"))


@router.get("/parts/{schedule_id}/cancel", summary="Cancel a part: the consequence is shown before confirming")
async def cancel_form(schedule_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    _scheduler(ctx)
    return await _cancel_page(ctx, schedule_id)


@router.post("/parts/{schedule_id}/cancel", summary="Cancel (deregister) the part, as confirmed")
async def cancel(schedule_id: str, ctx: Ctx = Depends(in_school), version: Field = "",
                 assignment_id: Field = "") -> Response:
    _scheduler(ctx)
    try:
        await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/schedules/{schedule_id}/cancel",
                       headers=if_match(version))
    except ApiError as exc:
        if is_stale(exc):
            return await _cancel_page(ctx, schedule_id, status=412, error=stale_message(ctx), stale=True)
        return await _cancel_page(ctx, schedule_id, status=exc.status, error=localized(ctx, exc))
    return back(f"/assignments/{assignment_id}?saved=1" if assignment_id else "/assignments")
