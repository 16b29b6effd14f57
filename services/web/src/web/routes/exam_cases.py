"""The exam board's cases: the list by deadline (overdue first), one case with its documents, and its decision."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from kit.numbers import whole_number
from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, Many, back, items, say
from web.routes.exam_cases_common import (
    KIND_OUTCOMES,
    KINDS,
    OUTCOME_FIELDS,
    OUTCOMES,
    exam_names,
    files_of,
    only,
    student_label,
    student_names,
    until_listed,
)
from web.routes.exam_common import as_moment, if_match, is_stale, localized, staff, stale_message

router = APIRouter(prefix="/cases")
PAGE = 50
Kind = Literal["inspection", "objection", "exemption", "accommodation", "extra_attempt", "fraud"]


@router.get("", summary="The board's cases by deadline, overdue first (a student: their own requests)")
async def case_list(ctx: Ctx = Depends(in_school), kind: Kind | Literal[""] = Query(default=""),
                    state: Literal["open", "decided", "all", ""] = Query(default=""),
                    student_id: str | None = Query(default=None, max_length=64),
                    cursor: str | None = Query(default=None, max_length=100)) -> Response:
    only(ctx, "exam_board", "student")
    board = ctx.has("exam_board")
    state = state or ("open" if board else "all")
    page, exams = await asyncio.gather(
        ctx.get("exams", f"/v1/schools/{ctx.school_id}/cases", kind=kind or None, state=state,
                student_id=student_id, cursor=cursor, limit=PAGE), exam_names(ctx))
    cases = items(page)
    students = await student_names(ctx, {c["student_id"] for c in cases}) if board else {}
    rows = [{**c, "kind_text": say(ctx, *KINDS[c["kind"]]), "exam": exams.get(c["exam_id"] or "", ""),
             "student": student_label(ctx, students.get(c["student_id"]), c["student_id"]),
             "outcome": say(ctx, *OUTCOMES[c["decision"]["outcome"]]) if c.get("decision") else ""} for c in cases]
    filters = {"kind": kind, "state": state, "student_id": student_id or ""}
    return render(ctx, "exam_cases.html", title=say(ctx, "Zaken van de examencommissie", "Exam board cases")
                  if board else say(ctx, "Mijn verzoeken", "My requests"), rows=rows, board=board, filters=filters,
                  kinds=KINDS, next_cursor=page.get("next_cursor"), cursor=cursor)


async def _case_page(ctx: Ctx, case_id: str, *, status: int = 200, error: ApiError | str | None = None,
                     typed: dict[str, Any] | None = None, stale: bool = False, uploaded: str = "") -> Response:
    sid = ctx.school_id
    case = await until_listed(lambda: ctx.get("exams", f"/v1/schools/{sid}/cases/{case_id}"),
                              lambda found: found["documents"], uploaded)
    board = ctx.has("exam_board")
    attempt, exam, documents, students, assessors = await asyncio.gather(
        _maybe(ctx, f"/v1/schools/{sid}/attempts/{case['attempt_id']}" if case["attempt_id"] else None),
        _maybe(ctx, f"/v1/schools/{sid}/exams/{case['exam_id']}" if case["exam_id"] else None),
        files_of(ctx, case["documents"]), student_names(ctx, {case["student_id"]} if board else set()),
        staff(ctx, "assessor"))  # a student gets no staff list
    deciding = board and case["state"] == "open" and not ctx.view_as
    return render(ctx, "exam_case.html", status=status, error=error, form=typed or {}, stale=stale, case=case,
                  attempt=attempt, exam=exam, documents=documents, board=board, deciding=deciding,
                  student=student_label(ctx, students.get(case["student_id"]), case["student_id"]) if board else "",
                  outcomes=KIND_OUTCOMES[case["kind"]], outcome_words=OUTCOMES, kinds=KINDS, assessors=assessors,
                  may_upload=case["state"] == "open" and not ctx.view_as, max_bytes=ctx.settings.max_file_bytes,
                  title=say(ctx, f"Zaak: {KINDS[case['kind']][0].lower()}", f"Case: {KINDS[case['kind']][1].lower()}"))


async def _maybe(ctx: Ctx, path: str | None) -> dict[str, Any] | None:
    """A related record for the page's facts; None when there is none or it is not readable."""
    if not path:
        return None
    try:
        return dict(await ctx.get("exams", path))
    except ApiError:
        return None


@router.get("/{case_id}", summary="One case: student, exam and attempt, reason, deadline, documents, decision")
async def case(case_id: str, ctx: Ctx = Depends(in_school),
               uploaded: str = Query(default="", max_length=64)) -> Response:
    only(ctx, "exam_board", "student")
    return await _case_page(ctx, case_id, uploaded=uploaded)


def decision_body(kind: str, outcome: str, note: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The decision as the exams API takes it: the outcome's own fields only, so a stray one is never sent."""
    body: dict[str, Any] = {"outcome": outcome, "note": note}
    for name in OUTCOME_FIELDS.get((kind, outcome), ()):
        if name == "result":
            grade = str(fields.get("result_grade") or "").strip().replace(",", ".")
            if grade or fields.get("result_outcome"):  # nothing given: the API says the result is required
                body["result"] = {"outcome": fields.get("result_outcome") or "", "grade": _number(grade)}
        elif name in ("part_ids", "core_tasks"):
            if fields.get(name):
                body[name] = list(fields[name])
        elif name == "measures":
            lines = [m.strip() for m in str(fields.get("measures") or "").splitlines() if m.strip()]
            if lines:
                body["measures"] = lines
        elif name in ("inspection_at", "starts_at"):
            moment = as_moment(str(fields.get(name) or ""))
            if moment:
                body[name] = moment
        elif str(fields.get(name) or "").strip():
            body[name] = str(fields[name]).strip()
    return body


def _number(text: str) -> float | str | None:
    """A typed grade as a number; text that is not one is sent on, so the API names the field."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


@router.post("/{case_id}/decision", summary="Decide the case (exam board, once); refusals shown at the field")
async def decide(case_id: str, ctx: Ctx = Depends(in_school), kind: Field = "", outcome: Field = "",
                 note: Field = "", version: Field = "", idempotency_key: Field = "", inspection_at: Field = "",
                 location: Field = "", new_assessor_id: Field = "", part_ids: Many = [],  # noqa: B006
                 starts_at: Field = "", result_outcome: Field = "", result_grade: Field = "",
                 core_tasks: Many = [], measures: Field = "", valid_until: Field = "",  # noqa: B006
                 excluded_until: Field = "", exclusion_scope: Field = "") -> Response:
    only(ctx, "exam_board")
    typed: dict[str, Any] = {"outcome": outcome, "note": note, "inspection_at": inspection_at, "location": location,
                             "new_assessor_id": new_assessor_id, "part_ids": part_ids, "starts_at": starts_at,
                             "result_outcome": result_outcome, "result_grade": result_grade,
                             "core_tasks": core_tasks, "measures": measures, "valid_until": valid_until,
                             "excluded_until": excluded_until, "exclusion_scope": exclusion_scope}
    if not outcome:
        return await _case_page(ctx, case_id, status=422, typed=typed, error=ApiError(422, errors=[{
            "field": "outcome", "reason": say(ctx, "Kies een uitkomst.", "Choose an outcome.")}]))
    body = decision_body(kind, outcome, note.strip(), typed)
    try:
        await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/cases/{case_id}/decision", json=body,
                       idem=idempotency_key or None,
                       headers=if_match(version) if whole_number(version) is not None else None)
    except ApiError as exc:
        if is_stale(exc):
            return await _case_page(ctx, case_id, status=409, typed=typed, error=stale_message(ctx), stale=True)
        return await _case_page(ctx, case_id, status=exc.status, typed=typed, error=localized(ctx, exc))
    return back(f"/cases/{case_id}?decided=1")

