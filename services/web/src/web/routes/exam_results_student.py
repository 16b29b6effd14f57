"""A student's own results (adopted ones only, as the exams API gives them) and their retakes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import say
from web.routes.exam_common import school_exams
from web.routes.exam_results_words import final_and_exact, outcome, part_lines, retake_look

router = APIRouter()


def _student(ctx: Ctx) -> None:
    if not ctx.has("student"):
        raise ApiError(403, detail=say(ctx, "Deze pagina is voor studenten: hun eigen resultaten.",
                                       "This page is for students: their own results."))


def _attempts(ctx: Ctx, exam: dict[str, Any], definition: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [{"number": r["attempt_number"], "outcome": outcome(ctx, r), "code": r["outcome"],
             "grade": final_and_exact(ctx, r), "adopted_at": r.get("adopted_at"), "id": r["id"],
             "counts": r["id"] == exam.get("counting_result_id"), "lines": part_lines(ctx, r, definition),
             "attempt_id": r["attempt_id"]} for r in exam["attempts"]]


async def _retake(ctx: Ctx, mine: dict[str, Any], exam: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the student can expect: a retake opened (with its parts), possible, or not (and why)."""
    latest = mine.get("attempt_number") or 0
    adopted = exam["attempts"] if exam else []
    last = adopted[-1] if adopted else None
    if latest > (last["attempt_number"] if last else 1):
        parts = [p for p in mine.get("parts", []) if p["attempt_number"] == latest and p["state"] == "scheduled"]
        return {"opened": latest, "parts": parts, "outlook": None}
    if last is None or last["attempt_number"] != latest:
        return None  # no adopted result of the latest attempt: nothing to say about a retake yet
    return {"opened": None, "parts": [], "outlook": await retake_look(ctx, last["attempt_id"])}


@router.get("/my-results", summary="My adopted results per exam and attempt, and my retakes")
async def my_results(ctx: Ctx = Depends(in_school)) -> Response:
    _student(ctx)
    sid = ctx.school_id
    mine = await ctx.get("exams", f"/v1/schools/{sid}/me/exams")
    found, definitions = await asyncio.gather(
        ctx.get("exams", f"/v1/schools/{sid}/students/{mine['student_id']}/results"), school_exams(ctx))
    by_id = {e["id"]: e for e in definitions}
    results = {e["exam_id"]: e for e in found["exams"]}
    exams = []
    for e in mine["exams"]:
        exam = results.get(e["exam_id"])
        retake = await _retake(ctx, e, exam)
        if exam is None and retake is None:
            continue
        counting = None
        if exam and exam.get("counting_result_id"):
            counting = {"outcome": outcome(ctx, {"outcome": exam["outcome"], "label": exam["label"]}),
                        "code": exam["outcome"], "grade": final_and_exact(ctx, next(
                            r for r in exam["attempts"] if r["id"] == exam["counting_result_id"])),
                        "rule": say(ctx, "de hoogste telt", "the highest counts") if exam["counts"] == "highest"
                        else say(ctx, "de laatste telt", "the last one counts")}
        exams.append({"id": e["exam_id"], "name": e["name"], "code": e["code"], "counting": counting,
                      "attempts": _attempts(ctx, exam, by_id.get(e["exam_id"])) if exam else [], "retake": retake})
    return render(ctx, "exam_result_my.html", title=say(ctx, "Mijn resultaten", "My results"), exams=exams)
