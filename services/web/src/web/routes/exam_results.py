"""The exam board adopts results: the list awaiting adoption (by group and exam), one by one or a whole group."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from kit.numbers import whole_number
from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, items, say
from web.routes.exam_common import groups, localized, school_exams
from web.routes.exam_results_words import RESULT_STATES, final_and_exact, outcome, part_lines, results_count

router = APIRouter(prefix="/results")
PAGE = 50
GROUP_MAX = 200  # what the confirmation counts and lists; a larger group is said to have "more than" that


def require_board(ctx: Ctx) -> None:
    """Only the exam board adopts results (the API checks again, also the school)."""
    if not ctx.has("exam_board") or ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Alleen de examencommissie stelt resultaten vast.",
                                       "Only the exam board adopts results."))


def _base(ctx: Ctx) -> str:
    return f"/v1/schools/{ctx.school_id}/results"


def rows(ctx: Ctx, found: list[dict[str, Any]], exams: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result as the page shows it: whose, which exam and attempt, outcome, grades, parts and core tasks."""
    return [{"id": r["id"], "attempt_id": r["attempt_id"], "student": r.get("student_name") or say(
                ctx, "onbekende student", "unknown student"), "code": r.get("student_code") or "",
             "exam": r.get("exam_name") or "", "attempt": r["attempt_number"], "outcome": outcome(ctx, r),
             "outcome_code": r["outcome"], "grade": final_and_exact(ctx, r), "computed_at": r["computed_at"],
             "adopted_at": r.get("adopted_at"), "state": r["state"],
             "lines": part_lines(ctx, r, exams.get(r["exam_id"]))}
            for r in found]


async def _list(ctx: Ctx, *, group_id: str, exam_id: str, state: str, cursor: str | None, status: int = 200,
                error: ApiError | str | None = None, notice: str | None = None) -> Response:
    state = state if state in RESULT_STATES else "awaiting_adoption"
    found, exam_list, group_list = await asyncio.gather(
        ctx.get("exams", _base(ctx), state=state, group_id=group_id or None, exam_id=exam_id or None, cursor=cursor,
                limit=PAGE), school_exams(ctx), groups(ctx))
    exams = {e["id"]: e for e in exam_list}
    filters = {"group_id": group_id, "exam_id": exam_id, "state": state}
    return render(ctx, "exam_results.html", status=status, error=error, notice=notice, form=filters,
                  title=say(ctx, "Resultaten vaststellen", "Adopt results"), rows=rows(ctx, items(found), exams),
                  next_cursor=found.get("next_cursor"), cursor=cursor, groups=group_list, exams=exam_list,
                  states=RESULT_STATES, filters=filters, key=ctx.form_key())


@router.get("", summary="Results awaiting adoption (or adopted), filtered by group and exam")
async def results(ctx: Ctx = Depends(in_school), group_id: str = Query(default="", max_length=64),
                  exam_id: str = Query(default="", max_length=64), state: str = Query(default="", max_length=20),
                  cursor: str | None = Query(default=None, max_length=64),
                  adopted: int = Query(default=0, ge=0, le=100_000)) -> Response:
    require_board(ctx)
    notice = None
    if adopted:
        notice = say(ctx, f"{results_count(ctx, adopted)} vastgesteld; de student ziet het eigen resultaat nu.",
                     f"{results_count(ctx, adopted)} adopted; each student can see their own result now.")
    return await _list(ctx, group_id=group_id, exam_id=exam_id, state=state, cursor=cursor, notice=notice)


@router.post("/{result_id}/adopt", summary="Adopt one result on behalf of the exam board")
async def adopt(result_id: str, ctx: Ctx = Depends(in_school), group_id: Field = "", exam_id: Field = "",
                student: Field = "", idempotency_key: Field = "") -> Response:
    require_board(ctx)
    try:
        await ctx.call("exams", "POST", f"{_base(ctx)}/{result_id}/adopt",
                       idem=idempotency_key[:200] or ctx.form_key())  # the page's key: a double click adopts once
    except ApiError as exc:
        whose = f" ({student})" if student else ""
        message = say(ctx, f"Niet vastgesteld{whose}: ", f"Not adopted{whose}: ") + (localized(ctx, exc).message()
                                                                                    or str(exc.status))
        return await _list(ctx, group_id=group_id, exam_id=exam_id, state="awaiting_adoption", cursor=None,
                           status=exc.status, error=message)
    return back("/results?" + urlencode({"adopted": 1, "group_id": group_id, "exam_id": exam_id}))


async def _awaiting(ctx: Ctx, group_id: str, exam_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The group's results awaiting adoption (at most GROUP_MAX) and whether there are more."""
    found = await ctx.get("exams", _base(ctx), state="awaiting_adoption", group_id=group_id, exam_id=exam_id or None,
                          limit=GROUP_MAX)
    return items(found), bool(found.get("next_cursor"))


async def _confirm_page(ctx: Ctx, group_id: str, exam_id: str, *, status: int = 200,
                        error: ApiError | str | None = None) -> Response:
    if not group_id:
        return await _list(ctx, group_id="", exam_id=exam_id, state="awaiting_adoption", cursor=None, status=422,
                           error=ApiError(422, errors=[{"field": "group_id", "reason": say(
                               ctx, "Kies de groep waarvan je de resultaten vaststelt.",
                               "Choose the group whose results you adopt.")}]))
    (waiting, more), exam_list, group_list = await asyncio.gather(_awaiting(ctx, group_id, exam_id),
                                                                  school_exams(ctx), groups(ctx))
    exams = {e["id"]: e for e in exam_list}
    group = next((g for g in group_list if g["id"] == group_id), None)
    return render(ctx, "exam_result_group.html", status=status, error=error,
                  title=say(ctx, "Resultaten van een groep vaststellen", "Adopt a group's results"),
                  rows=rows(ctx, waiting, exams), more=more, count=len(waiting), group=group, group_id=group_id,
                  counted=results_count(ctx, len(waiting)), key=ctx.form_key(),
                  exam=exams.get(exam_id), exam_id=exam_id)


@router.get("/adopt-group", summary="Before adopting a group's results: how many, and whose")
async def adopt_group_page(ctx: Ctx = Depends(in_school), group_id: str = Query(default="", max_length=64),
                           exam_id: str = Query(default="", max_length=64)) -> Response:
    require_board(ctx)
    return await _confirm_page(ctx, group_id, exam_id)


@router.post("/adopt-group", summary="Adopt every result of the group awaiting adoption, as confirmed")
async def adopt_group(ctx: Ctx = Depends(in_school), group_id: Field = "", exam_id: Field = "", confirm: Field = "",
                      expected: Field = "", idempotency_key: Field = "") -> Response:
    require_board(ctx)
    if not confirm:
        return await _confirm_page(ctx, group_id, exam_id, status=422, error=ApiError(422, errors=[{
            "field": "confirm", "reason": say(ctx, "Vink aan dat je deze resultaten vaststelt.",
                                              "Tick the box to adopt these results.")}]))
    try:
        adopted = await ctx.call("exams", "POST", f"{_base(ctx)}/adopt-group",
                                 idem=idempotency_key[:200] or ctx.form_key(),
                                 json={"group_id": group_id, "exam_id": exam_id or None})
    except ApiError as exc:
        return await _confirm_page(ctx, group_id, exam_id, status=exc.status, error=localized(ctx, exc))
    count = len(adopted) if isinstance(adopted, list) else 0
    if not count:
        return await _list(ctx, group_id=group_id, exam_id=exam_id, state="awaiting_adoption", cursor=None,
                           notice=say(ctx, "Er wachtte in deze groep geen resultaat meer op vaststelling.",
                                      "No result of this group was awaiting adoption any more."))
    if whole_number(expected) not in (None, count):  # someone adopted or a result arrived in between
        notice = say(ctx, f"{results_count(ctx, count)} vastgesteld (de bevestiging noemde er {expected}: intussen "
                          "veranderde er iets).", f"{results_count(ctx, count)} adopted (the confirmation said "
                          f"{expected}: something changed in between).")
        return await _list(ctx, group_id=group_id, exam_id=exam_id, state="adopted", cursor=None, notice=notice)
    return back("/results?" + urlencode({"adopted": count, "group_id": group_id, "exam_id": exam_id,
                                         "state": "adopted"}))
