"""The views people work from: the overview matrix, the assessor dashboard, a student's own exams and evidence."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import items, say
from web.routes.exam_common import ASSIGNMENT_STATES, EXAM_STATES, PART_STATES, PREPARERS, SIGNERS, groups

router = APIRouter()
STAFF = ("school_admin", "school_supervisor", "assessor", "exam_board")
PAGE = 50


def _only(ctx: Ctx, *roles: str) -> None:
    if not ctx.has(*roles):
        raise ApiError(403, detail=say(ctx, "Deze pagina is niet voor jouw rol in deze school.",
                                       "This page is not for your role in this school."))


@router.get("/overview", summary="Students x exams of a programme: the seven states and attempt numbers")
async def overview(ctx: Ctx = Depends(in_school), programme_id: str | None = Query(default=None, max_length=64),
                   group_id: str | None = Query(default=None, max_length=64),
                   student: str | None = Query(default=None, max_length=100),
                   student_id: str | None = Query(default=None, max_length=64),
                   cursor: str | None = Query(default=None, max_length=64)) -> Response:
    _only(ctx, *STAFF)
    sid = ctx.school_id
    programmes, group_list = await asyncio.gather(ctx.reference("enrollment", f"/v1/schools/{sid}/programmes"),
                                                  groups(ctx))
    programmes = items(programmes)
    programme_id = programme_id or (programmes[0]["id"] if programmes else None)
    matches: list[dict[str, Any]] = []
    if student and not student_id:
        found = await ctx.get("enrollment", f"/v1/schools/{sid}/students", q=student.strip(),
                              programme_id=programme_id, limit=20)
        matches = items(found)
        if len(matches) == 1:
            student_id = matches[0]["id"]
    data: dict[str, Any] = {"exams": [], "rows": [], "next_cursor": None}
    if programme_id and not (student and not student_id):
        data = await ctx.get("exams", f"/v1/schools/{sid}/overview", programme_id=programme_id, group_id=group_id,
                             student_id=student_id, cursor=cursor, limit=PAGE)
    rows = _matrix(ctx, data)
    filters = {"programme_id": programme_id or "", "group_id": group_id or "", "student": student or "",
               "student_id": student_id or ""}
    return render(ctx, "exam_overview.html", title=say(ctx, "Examenoverzicht", "Exam overview"), data=data, rows=rows,
                  programmes=programmes, groups=group_list, filters=filters, matches=matches, cursor=cursor,
                  states=EXAM_STATES, may_prepare=ctx.has(*PREPARERS))


SUB = {"preparing": ("opdracht in voorbereiding", "assignment being prepared"),
       "locked": ("wacht op vaststelling", "awaiting adoption"),
       "deleted": ("opdracht verwijderd", "assignment deleted")}


def _matrix(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each cell's words, link and note, worked out once here: a page has up to 50 x the exams' cells."""
    words = {code: say(ctx, *pair) for code, pair in EXAM_STATES.items()}
    attempt = say(ctx, "poging", "attempt")
    subs = {code: say(ctx, *pair) for code, pair in SUB.items()}
    prepare = ctx.has(*PREPARERS)
    rows = []
    for row in data["rows"]:
        cells = []
        for c in row["cells"]:
            href = f"/assignments/{c['assignment_id']}" if c["assignment_id"] else (
                f"/assignments/new?exam_id={c['exam_id']}&student_ids={row['student_id']}" if prepare else None)
            note = c["assignment_state"] if c["state"] == "not_scheduled" else None
            cells.append({"state": c["state"], "text": words.get(c["state"], c["state"]), "href": href,
                          "attempt": f" · {attempt} {c['attempt_number']}" if c["attempt_number"] else "",
                          "sub": subs.get(note or "")})
        rows.append({"name": f"{row['first_name']} {row['last_name']}", "code": row["student_code"], "cells": cells})
    return rows


async def _assignments(ctx: Ctx, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The assignments behind a set of parts (for the students' names), read in parallel."""
    async def one(assignment_id: str) -> tuple[str, dict[str, Any]]:
        try:
            return assignment_id, dict(await ctx.get("exams", f"/v1/schools/{ctx.school_id}/assignments/"
                                                              f"{assignment_id}"))
        except ApiError:
            return assignment_id, {}
    return dict(await asyncio.gather(*(one(i) for i in sorted(ids)[:100])))


@router.get("/dashboard", summary="The assessor's open actions and planning")
async def dashboard(ctx: Ctx = Depends(in_school), exam_id: str | None = Query(default=None, max_length=64),
                    student_id: str | None = Query(default=None, max_length=64)) -> Response:
    _only(ctx, "assessor")
    sid = ctx.school_id
    found, exams = await asyncio.gather(
        ctx.get("exams", f"/v1/schools/{sid}/dashboard", exam_id=exam_id, student_id=student_id),
        ctx.reference("exams", f"/v1/schools/{sid}/exams"))
    parts = found["open_actions"] + found["planning"]
    assignments = await _assignments(ctx, {p["assignment_id"] for p in parts})
    students = {a["student_id"]: a.get("student_name") or a.get("student_code") or ""
                for a in assignments.values() if a}
    return render(ctx, "exam_dashboard.html", title=say(ctx, "Beoordelen", "Assessing"), found=found,
                  assignments=assignments, exams=exams, students=students, uid=ctx.session.get("uid"),
                  filters={"exam_id": exam_id or "", "student_id": student_id or ""})


@router.get("/my-exams", summary="A student's own exams: state, schedule, attempt and assignment")
async def my_exams(ctx: Ctx = Depends(in_school)) -> Response:
    _only(ctx, "student")
    mine = await ctx.get("exams", f"/v1/schools/{ctx.school_id}/me/exams")
    return render(ctx, "exam_my.html", title=say(ctx, "Mijn examens", "My exams"), mine=mine, states=EXAM_STATES,
                  assignment_states=ASSIGNMENT_STATES, part_states=PART_STATES, signers=SIGNERS)


@router.get("/my-exams/attempts/{attempt_id}", summary="One attempt: its parts and my evidence, with the upload")
async def attempt(attempt_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    _only(ctx, "student")
    sid = ctx.school_id
    found, files = await asyncio.gather(ctx.get("exams", f"/v1/schools/{sid}/attempts/{attempt_id}"),
                                        ctx.get("evidence", f"/v1/schools/{sid}/attempts/{attempt_id}/evidence"))
    mine = await ctx.get("exams", f"/v1/schools/{sid}/me/exams")
    exam = next((e for e in mine["exams"] if e["exam_id"] == found["exam_id"]), None)
    return render(ctx, "exam_attempt.html", title=say(ctx, f"Poging {found['number']}", f"Attempt {found['number']}"),
                  attempt=found, files=items(files), exam=exam, part_states=PART_STATES,
                  may_upload=found["state"] == "in_execution" and not found.get("assessed_at") and not ctx.view_as,
                  closed="forfeited" if found["state"] != "in_execution" else
                  ("assessed" if found.get("assessed_at") else ""),
                  max_bytes=ctx.settings.max_file_bytes)
