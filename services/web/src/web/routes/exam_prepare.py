"""Preparing an assignment for one student, a selection or a group: exam, source with its preview, people."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, Many, back, items, number_or_text, say
from web.routes.exam_common import PREPARERS, SOURCES, groups, localized, school_exams, staff

router = APIRouter(prefix="/assignments")


def _preparer(ctx: Ctx) -> None:
    if not ctx.has(*PREPARERS) or ctx.view_as:
        raise ApiError(403, detail=say(ctx, "Alleen begeleiders en de beheerder zetten examenopdrachten klaar.",
                                       "Only supervisors and the school admin prepare exam assignments."))


async def _form(ctx: Ctx, exam_id: str | None, *, q: str | None = None, status: int = 200,
                error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response:
    exams = await school_exams(ctx)
    exam = next((e for e in exams if e["id"] == exam_id), None)
    values: dict[str, Any] = {"source": "individual", "student_ids": [], **(form or {})}
    context: dict[str, Any] = {"exam": exam, "exams": exams, "sources": SOURCES, "q": q or "", "key": ctx.form_key()}
    if exam is not None:
        sid = ctx.school_id
        students, bank, group_list, assessors, board, trainers = await asyncio.gather(
            ctx.get("enrollment", f"/v1/schools/{sid}/students", programme_id=exam["programme_id"], q=q, limit=200),
            ctx.get("exams", f"/v1/schools/{sid}/bank", exam_id=exam["id"], limit=200), groups(ctx),
            staff(ctx, "assessor"), staff(ctx, "exam_board"), staff(ctx, "workplace_trainer"))
        refused = {str(e.get("student_id")): str(e.get("reason") or "") for e in (error.errors if error else [])
                   if e.get("student_id")}
        if refused and error is not None:  # name the students, not their ids, in the summary at the top
            names = {s["id"]: f"{s['first_name']} {s['last_name']}" for s in items(students)}
            error = ApiError(error.status, error.title, say(ctx, "Niet klaargezet, voor niemand: ",
                                                            "Not prepared, for nobody: ") + "; ".join(
                f"{names.get(sid, sid)} {reason}" for sid, reason in refused.items()), error.errors, error.body)
        context.update(students=items(students), more_students=bool(students.get("next_cursor")),
                       bank=items(bank), groups=group_list, assessors=assessors, board=board, trainers=trainers,
                       refused=refused)
    return render(ctx, "exam_prepare.html", status=status, error=error, form=values,
                  title=say(ctx, "Opdracht klaarzetten", "Prepare an assignment"), **context)


@router.get("/new", summary="Prepare an assignment: choose the exam, then the students, the source and the people")
async def new(ctx: Ctx = Depends(in_school), exam_id: str | None = Query(default=None, max_length=64),
              q: str | None = Query(default=None, max_length=100),
              student_ids: list[str] = Query(default=[], max_length=200)) -> Response:
    _preparer(ctx)
    return await _form(ctx, exam_id, q=q, form={"student_ids": student_ids})


@router.post("/new", summary="Prepare the assignment for the chosen students or group (all or none)")
async def prepare(ctx: Ctx = Depends(in_school), exam_id: Field = "", student_ids: Many = [],  # noqa: B006
                  group_id: Field = "", source: Field = "individual", provider_assignment_code: Field = "",
                  bank_assignment_id: Field = "", title: Field = "", text: Field = "", cohort: Field = "",
                  location: Field = "", desired_end_date: Field = "", first_assessor_id: Field = "",
                  second_assessor_id: Field = "", adopter_id: Field = "", workplace_trainer_id: Field = "",
                  idempotency_key: Field = "") -> Response:
    _preparer(ctx)
    typed = {"student_ids": student_ids, "group_id": group_id, "source": source,
             "provider_assignment_code": provider_assignment_code, "bank_assignment_id": bank_assignment_id,
             "title": title, "text": text, "cohort": cohort, "location": location,
             "desired_end_date": desired_end_date, "first_assessor_id": first_assessor_id,
             "second_assessor_id": second_assessor_id, "adopter_id": adopter_id,
             "workplace_trainer_id": workplace_trainer_id}
    body: dict[str, Any] = {"exam_id": exam_id, "student_ids": student_ids, "group_id": group_id or None,
                            "source": source, "cohort": number_or_text(cohort), "location": location.strip() or None,
                            "desired_end_date": desired_end_date or None, "first_assessor_id": first_assessor_id,
                            "second_assessor_id": second_assessor_id or None, "adopter_id": adopter_id or None,
                            "workplace_trainer_id": workplace_trainer_id or None}
    if source == "provider":
        body["provider_assignment_code"] = provider_assignment_code or None
    elif source == "bank":
        body["bank_assignment_id"] = bank_assignment_id or None
    else:
        body.update(title=title.strip() or None, text=text or None)
    missing = []
    if not student_ids and not group_id:
        missing.append({"field": "student_ids", "reason": say(ctx, "Kies een of meer studenten, of een groep.",
                                                               "Choose one or more students, or a group.")})
    try:
        if missing:
            raise ApiError(422, errors=missing)
        created = await ctx.call("exams", "POST", f"/v1/schools/{ctx.school_id}/assignments", json=body,
                                 idem=idempotency_key or None)
    except ApiError as exc:
        return await _form(ctx, exam_id, status=exc.status, error=localized(ctx, exc), form=typed)
    if isinstance(created, list) and len(created) == 1:
        return back(f"/assignments/{created[0]['id']}?saved=1")
    return back(f"/assignments?exam_id={exam_id}&prepared={len(created) if isinstance(created, list) else 0}")
