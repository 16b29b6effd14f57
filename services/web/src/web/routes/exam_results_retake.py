"""An attempt's result as staff see it, with the retake a supervisor or the school admin opens from there."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, say
from web.routes.exam_common import SCHEDULERS, localized
from web.routes.exam_results_words import RESULT_STATES, final_and_exact, outcome, part_lines, retake_look

router = APIRouter(prefix="/results/attempts")
READERS = ("school_admin", "exam_board", "school_supervisor", "assessor")
RETAKERS = ("school_supervisor", "school_admin")
RULE = ("Een herkansing kan alleen na een vastgesteld, niet behaald resultaat (of een vervallen poging) van de "
        "laatste poging, binnen het maximum aantal pogingen en de termijn van het examen, en niet zolang de student "
        "na fraude is uitgesloten; buiten het maximum of de termijn alleen met een extra poging die de "
        "examencommissie toekent.",
        "A retake is only possible after an adopted, failed result (or a lost attempt) of the latest attempt, "
        "within the exam's maximum attempts and window, and not while the student is excluded after fraud; beyond "
        "the maximum or the window only with an extra attempt the exam board grants.")


def _reader(ctx: Ctx) -> None:
    if not ctx.has(*READERS) or ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Resultaten van een poging zijn hier voor de school: beheerder, "
                                            "examencommissie, begeleiders en examinatoren.",
                                       "An attempt's results are shown here to the school's admin, exam board, "
                                       "supervisors and assessors."))


async def _or_none(call: Any) -> Any:
    """An answer, or None when there is none (404) — e.g. no result yet."""
    try:
        return await call
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def _page(ctx: Ctx, attempt_id: str, *, status: int = 200, error: ApiError | str | None = None,
                notice: str | None = None) -> Response:
    sid = ctx.school_id
    attempt = await ctx.get("exams", f"/v1/schools/{sid}/attempts/{attempt_id}")
    found, assignment, exam, look = await asyncio.gather(
        _or_none(ctx.get("exams", f"/v1/schools/{sid}/attempts/{attempt_id}/result")),
        ctx.get("exams", f"/v1/schools/{sid}/assignments/{attempt['assignment_id']}"),
        _or_none(ctx.get("exams", f"/v1/schools/{sid}/exams/{attempt['exam_id']}")), retake_look(ctx, attempt_id))
    result = found["result"] if found else None
    rules = (exam or {}).get("rules") or {}
    shown = None
    if result:
        shown = {"outcome": outcome(ctx, result), "code": result["outcome"], "grade": final_and_exact(ctx, result),
                 "lines": part_lines(ctx, result, exam), "state": say(ctx, *RESULT_STATES[result["state"]])}
    older = [{"outcome": outcome(ctx, r), "grade": final_and_exact(ctx, r), "computed_at": r["computed_at"],
              "reason": r.get("reason")} for r in (found or {}).get("superseded", [])]
    return render(ctx, "exam_result_attempt.html", status=status, error=error, notice=notice,
                  title=say(ctx, f"Resultaat van poging {attempt['number']}", f"Result of attempt {attempt['number']}"),
                  attempt=attempt, assignment=assignment, exam=exam, result=result, shown=shown, older=older,
                  look=look, rules=rules, rule=say(ctx, *RULE), may_retake=ctx.has(*RETAKERS),
                  may_schedule=ctx.has(*SCHEDULERS), latest=look["next_number"] - 1, key=ctx.form_key())


@router.get("/{attempt_id}", summary="An attempt's result (either state) and whether a retake may follow")
async def attempt_result(attempt_id: str, ctx: Ctx = Depends(in_school),
                         retake: int = Query(default=0, ge=0, le=100)) -> Response:
    _reader(ctx)
    notice = say(ctx, f"Herkansing geopend: poging {retake}. De student krijgt een e-mail; plan nu de onderdelen in.",
                 f"Retake opened: attempt {retake}. The student gets an e-mail; now schedule the parts.") if retake \
        else None
    return await _page(ctx, attempt_id, notice=notice)


@router.post("/{attempt_id}/retake", summary="Open a retake after this (failed or lost) attempt, as confirmed")
async def open_retake(attempt_id: str, ctx: Ctx = Depends(in_school), confirm: Field = "",
                      idempotency_key: Field = "") -> Response:
    _reader(ctx)
    if not ctx.has(*RETAKERS):
        raise ApiError(403, detail=say(ctx, "Alleen de begeleider van de student of de beheerder opent een herkansing.",
                                       "Only the student's supervisor or the school admin opens a retake."))
    if not confirm:
        return await _page(ctx, attempt_id, status=422, error=ApiError(422, errors=[{"field": "confirm", "reason": say(
            ctx, "Vink aan dat je de herkansing opent.", "Tick the box to open the retake.")}]))
    try:
        opened = await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/attempts/{attempt_id}/retake",
                                json={}, idem=idempotency_key[:200] or ctx.form_key())
    except ApiError as exc:
        why = localized(ctx, exc).message() or str(exc.status)
        return await _page(ctx, attempt_id, status=exc.status, error=say(
            ctx, f"Geen herkansing geopend: {why} ", f"No retake opened: {why} ") + say(ctx, *RULE))
    return back(f"/results/attempts/{attempt_id}?retake={int(opened.get('number') or 0)}")
