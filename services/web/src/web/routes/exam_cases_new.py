"""Opening a case: the exam board for any current student of the school; a student's request from their attempt
(inspection, objection) or their exam (exemption)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, items, say
from web.routes.exam_cases_common import KINDS, STUDENT_KINDS, exam_names, only, student_label
from web.routes.exam_common import localized

router = APIRouter()


async def attempts_of(ctx: Ctx, student_id: str) -> list[dict[str, Any]]:
    """A student's attempts (exam, number) from their assignments' scheduled parts, newest first."""
    sid = ctx.school_id
    assignments = items(await ctx.get("exams", f"/v1/schools/{sid}/assignments", student_id=student_id, limit=100))
    parts = await asyncio.gather(*(ctx.get("exams", f"/v1/schools/{sid}/assignments/{a['id']}/parts")
                                   for a in assignments if a["state"] == "adopted"))
    found: dict[str, dict[str, Any]] = {}
    for listed in parts:
        for p in items(listed):
            found.setdefault(p["attempt_id"], {"id": p["attempt_id"], "number": p["attempt_number"],
                                               "exam_id": p["exam_id"], "exam_name": p["exam_name"]})
    return sorted(found.values(), key=lambda a: (a["exam_name"], -a["number"]))


async def _board_form(ctx: Ctx, *, student_id: str, q: str, status: int = 200, error: ApiError | None = None,
                      typed: dict[str, Any] | None = None) -> Response:
    sid = ctx.school_id
    matches: list[dict[str, Any]] = []
    student: dict[str, Any] | None = None
    if q.strip() and not student_id:
        matches = items(await ctx.get("enrollment", f"/v1/schools/{sid}/students", q=q.strip(), limit=20))
        if len(matches) == 1:
            student_id = matches[0]["id"]
    attempts: list[dict[str, Any]] = []
    if student_id:
        student, attempts = await asyncio.gather(ctx.get("enrollment", f"/v1/schools/{sid}/students/{student_id}"),
                                                 attempts_of(ctx, student_id))
    exams = await exam_names(ctx)
    return render(ctx, "exam_case_new.html", status=status, error=error, form=typed or {}, q=q, matches=matches,
                  student=student, student_text=student_label(ctx, student, student_id) if student else "",
                  attempt_choices=[(a["id"], f'{a["exam_name"]} — {say(ctx, "poging", "attempt")} {a["number"]}')
                                   for a in attempts], exams=sorted(exams.items(), key=lambda e: e[1]), kinds=KINDS,
                  key=ctx.form_key(), title=say(ctx, "Zaak openen", "Open a case"))


@router.get("/cases/new", summary="The board opens a case: find the student, then kind, exam or attempt, reason")
async def new_case(ctx: Ctx = Depends(in_school), q: str = Query(default="", max_length=100),
                   student_id: str = Query(default="", max_length=64),
                   kind: str = Query(default="", max_length=20)) -> Response:
    only(ctx, "exam_board")
    return await _board_form(ctx, student_id=student_id, q=q, typed={"kind": kind})


@router.post("/cases/new", summary="Open the case (exam board)")
async def open_case(ctx: Ctx = Depends(in_school), student_id: Field = "", kind: Field = "", exam_id: Field = "",
                    attempt_id: Field = "", reason: Field = "", idempotency_key: Field = "") -> Response:
    only(ctx, "exam_board")
    typed = {"kind": kind, "exam_id": exam_id, "attempt_id": attempt_id, "reason": reason}
    body = {"kind": kind, "student_id": student_id or None, "exam_id": exam_id or None,
            "attempt_id": attempt_id or None, "reason": reason.strip()}
    try:
        opened = await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/cases", json=body,
                                idem=idempotency_key or None)
    except ApiError as exc:
        return await _board_form(ctx, student_id=student_id, q="", status=exc.status, error=_at(ctx, exc, "kind"),
                                 typed=typed)
    return back(f"/cases/{opened['id']}?opened=1")


def _at(ctx: Ctx, exc: ApiError, field: str) -> ApiError:
    """A refusal without a field (too late, already a case, no adopted result) is shown at the form's field."""
    exc = localized(ctx, exc)
    if exc.errors or exc.status == 403:
        return exc
    return ApiError(exc.status, exc.title, exc.detail, [{"field": field, "reason": exc.message()}], exc.body)


async def _request_form(ctx: Ctx, attempt_id: str, *, status: int = 200, error: ApiError | None = None,
                        typed: dict[str, Any] | None = None) -> Response:
    attempt = await ctx.get("exams", f"/v1/schools/{ctx.school_id}/attempts/{attempt_id}")
    exams = await exam_names(ctx)
    return render(ctx, "exam_case_request.html", status=status, error=error, form=typed or {}, attempt=attempt,
                  exam_name=exams.get(attempt["exam_id"], ""), kinds=KINDS, student_kinds=STUDENT_KINDS,
                  key=ctx.form_key(), too_late=bool(error and error.status == 409),
                  title=say(ctx, "Inzage of bezwaar aanvragen", "Request an inspection or object"))


@router.get("/my-exams/attempts/{attempt_id}/request", summary="A student asks for inspection or objects")
async def request_form(attempt_id: str, ctx: Ctx = Depends(in_school),
                       kind: str = Query(default="", max_length=20)) -> Response:
    only(ctx, "student")
    return await _request_form(ctx, attempt_id, typed={"kind": kind})


@router.post("/my-exams/attempts/{attempt_id}/request", summary="File the request (within its term)")
async def file_request(attempt_id: str, ctx: Ctx = Depends(in_school), kind: Field = "", reason: Field = "",
                       idempotency_key: Field = "") -> Response:
    only(ctx, "student")
    typed = {"kind": kind, "reason": reason}
    if kind not in STUDENT_KINDS:
        return await _request_form(ctx, attempt_id, status=422, typed=typed, error=ApiError(422, errors=[{
            "field": "kind", "reason": say(ctx, "Kies inzage of bezwaar.", "Choose inspection or objection.")}]))
    try:
        opened = await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/cases", idem=idempotency_key or None,
                                json={"kind": kind, "attempt_id": attempt_id, "reason": reason.strip()})
    except ApiError as exc:
        return await _request_form(ctx, attempt_id, status=exc.status, error=_at(ctx, exc, "kind"), typed=typed)
    return back(f"/cases/{opened['id']}?opened=1")


async def _exemption_form(ctx: Ctx, exam_id: str, *, status: int = 200, error: ApiError | None = None,
                          typed: dict[str, Any] | None = None) -> Response:
    exams = await exam_names(ctx)
    if exam_id not in exams:
        raise ApiError(404, detail=say(ctx, "Dit examen is er niet voor jou.", "This exam is not one of yours."))
    return render(ctx, "exam_case_exemption.html", status=status, error=error, form=typed or {}, exam_id=exam_id,
                  exam_name=exams[exam_id], key=ctx.form_key(),
                  title=say(ctx, "Vrijstelling aanvragen", "Request an exemption"))


@router.get("/my-exams/exams/{exam_id}/exemption", summary="A student asks for an exemption from (part of) an exam")
async def exemption_form(exam_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    only(ctx, "student")
    return await _exemption_form(ctx, exam_id)


@router.post("/my-exams/exams/{exam_id}/exemption", summary="File the exemption request; documents follow on its page")
async def file_exemption(exam_id: str, ctx: Ctx = Depends(in_school), reason: Field = "",
                         idempotency_key: Field = "") -> Response:
    only(ctx, "student")
    try:
        opened = await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/cases", idem=idempotency_key or None,
                                json={"kind": "exemption", "exam_id": exam_id, "reason": reason.strip()})
    except ApiError as exc:
        # the term or an open request: said at the explanation
        return await _exemption_form(ctx, exam_id, status=exc.status, error=_at(ctx, exc, "reason"),
                                     typed={"reason": reason})
    return back(f"/cases/{opened['id']}?opened=1")
