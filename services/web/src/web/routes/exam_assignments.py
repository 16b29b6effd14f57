"""Exam assignments: the list, one assignment with its signatures, editing, approving, adopting, deleting."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from web.api import ApiError
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import Field, back, items, number_or_text, say
from web.routes.exam_common import (
    ASSIGNMENT_STATES,
    PEOPLE,
    PREPARERS,
    SCHEDULERS,
    SIGNERS,
    SOURCES,
    groups,
    if_match,
    is_stale,
    localized,
    school_exams,
    staff,
    stale_message,
)

router = APIRouter(prefix="/assignments")
TEXT = ("title", "text", "location", "cohort", "desired_end_date")
PEOPLE_IDS = ("school_supervisor", "first_assessor_id", "second_assessor_id", "adopter_id", "workplace_trainer_id")


def _base(ctx: Ctx) -> str:
    return f"/v1/schools/{ctx.school_id}/assignments"


@router.get("", summary="The exam assignments of the students I may see")
async def assignments(ctx: Ctx = Depends(in_school), state: str | None = Query(default=None, max_length=20),
                      exam_id: str | None = Query(default=None, max_length=64),
                      cursor: str | None = Query(default=None, max_length=64)) -> Response:
    return await _list(ctx, state=state, exam_id=exam_id, cursor=cursor)


async def _list(ctx: Ctx, *, state: str | None, exam_id: str | None, cursor: str | None, status: int = 200,
                error: ApiError | None = None, notice: str | None = None) -> Response:
    state = state if state in ASSIGNMENT_STATES else None
    page, exams, group_list = await asyncio.gather(
        ctx.get("exams", _base(ctx), state=state, exam_id=exam_id, cursor=cursor, limit=50), school_exams(ctx),
        groups(ctx) if ctx.has("exam_board") else asyncio.sleep(0, []))
    return render(ctx, "exam_assignments.html", status=status, error=error, notice=notice,
                  title=say(ctx, "Examenopdrachten", "Exam assignments"), page=page, exams=exams, groups=group_list,
                  states=ASSIGNMENT_STATES, filters={"state": state or "", "exam_id": exam_id or ""},
                  may_prepare=ctx.has(*PREPARERS), may_schedule=ctx.has(*SCHEDULERS), board=ctx.has("exam_board"))


@router.post("/adopt-group", summary="Adopt every awaiting assignment of a group that names me as adopter")
async def adopt_group(ctx: Ctx = Depends(in_school), group_id: Field = "") -> Response:
    try:
        adopted = await ctx.call("exams", "POST", f"{_base(ctx)}/adopt-group", json={"group_id": group_id})
    except ApiError as exc:
        return await _list(ctx, state="locked", exam_id=None, cursor=None, status=exc.status, error=localized(ctx, exc))
    count = len(adopted) if isinstance(adopted, list) else 0
    notice = say(ctx, f"{count} opdracht(en) vastgesteld.", f"{count} assignment(s) adopted.") if count else say(
        ctx, "Er wachtte in deze groep geen opdracht op jouw vaststelling.",
        "No assignment of this group was awaiting your adoption.")
    return await _list(ctx, state=None, exam_id=None, cursor=None, notice=notice)


def _my_signer_roles(ctx: Ctx, a: dict[str, Any]) -> list[str]:
    """The approver roles the signed-in person still has to sign on this assignment."""
    uid = ctx.session.get("uid")
    mine = []
    if ctx.has("student") and "student" in a["pending_approvals"] and a.get("student_user_id") == uid:
        mine.append("student")
    for role in ("school_supervisor", "workplace_trainer"):
        if a["people"].get(role) == uid and role in a["pending_approvals"] and ctx.has(role):
            mine.append(role)
    return mine


async def _files(ctx: Ctx, ids: list[str]) -> list[dict[str, Any]]:
    async def one(file_id: str) -> dict[str, Any]:
        try:
            return dict(await ctx.get("evidence", f"/v1/schools/{ctx.school_id}/files/{file_id}"))
        except ApiError:
            return {"id": file_id, "filename": file_id, "unreadable": True}
    return list(await asyncio.gather(*(one(i) for i in ids)))


async def _page(ctx: Ctx, assignment_id: str, *, status: int = 200, error: ApiError | str | None = None,
                form: dict[str, Any] | None = None, stale: bool = False, notice: str | None = None) -> Response:
    base = f"{_base(ctx)}/{assignment_id}"
    a = await ctx.get("exams", base)
    parts, exam = await asyncio.gather(ctx.get("exams", f"{base}/parts"),
                                       _exam_or_none(ctx, a["exam_id"]))
    attachments, late = await asyncio.gather(_files(ctx, a["attachment_ids"]), _files(ctx, a["late_attachment_ids"]))
    uid = ctx.session.get("uid")
    preparer = ctx.has("school_admin") or (ctx.has("school_supervisor") and a["people"]["school_supervisor"] == uid)
    people_choice: dict[str, list[dict[str, Any]]] = {}
    can_edit = (a["state"] == "preparing" and preparer) or (a["state"] in ("locked", "adopted")
                                                            and ctx.has("school_admin"))
    if can_edit:
        assessors, board, trainers, supervisors = await asyncio.gather(
            staff(ctx, "assessor"), staff(ctx, "exam_board"), staff(ctx, "workplace_trainer"),
            staff(ctx, "school_supervisor"))
        people_choice = {"first_assessor": assessors, "second_assessor": assessors, "adopter": board,
                         "workplace_trainer": trainers, "school_supervisor": supervisors}
    values = form or {**{k: a.get(k) or "" for k in TEXT},
                      **{k: a["people"].get(k.removesuffix("_id")) or "" for k in PEOPLE_IDS}}
    return render(ctx, "exam_assignment.html", status=status, error=error, form=values, notice=notice,
                  title=a["title"], a=a, parts=items(parts), exam=exam, attachments=attachments,
                  late_attachments=late, states=ASSIGNMENT_STATES, signers=SIGNERS, people_words=PEOPLE,
                  sources=SOURCES, my_roles=_my_signer_roles(ctx, a), preparer=preparer, can_edit=can_edit,
                  text_editable=a["state"] == "preparing" and preparer, people_choice=people_choice, stale=stale,
                  may_adopt=a["state"] == "locked" and a["people"]["adopter"] == uid and ctx.has("exam_board"),
                  may_delete=preparer and a["state"] != "deleted" and not a.get("execution_started_at"),
                  may_schedule=a["state"] == "adopted" and ctx.has(*SCHEDULERS), uid=uid,
                  may_attach=a["state"] == "preparing" and ctx.has("school_supervisor") and not ctx.view_as,
                  max_bytes=ctx.settings.max_file_bytes)


async def _exam_or_none(ctx: Ctx, exam_id: str) -> dict[str, Any] | None:
    try:
        return dict(await ctx.get("exams", f"/v1/schools/{ctx.school_id}/exams/{exam_id}"))
    except ApiError:
        return None


@router.get("/{assignment_id}", summary="One assignment: text, people, signatures, attachments and parts")
async def assignment(assignment_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    q = ctx.request.query_params
    notice = None
    if q.get("saved"):
        notice = say(ctx, "Opgeslagen.", "Saved.")
    elif q.get("signed"):
        notice = say(ctx, "Je handtekening is opgeslagen.", "Your signature was stored.")
    elif q.get("attached"):
        notice = say(ctx, "Het bestand is ontvangen; het staat zo bij de bijlagen (vernieuw de pagina als het er nog "
                          "niet staat).", "The file was received; it appears among the attachments shortly (reload "
                          "the page if it is not there yet).")
    return await _page(ctx, assignment_id, notice=notice)


@router.post("/{assignment_id}/edit", summary="Change the text or the people (If-Match: the version shown)")
async def edit(assignment_id: str, ctx: Ctx = Depends(in_school), version: Field = "", title: Field = "",
               text: Field = "", location: Field = "", cohort: Field = "", desired_end_date: Field = "",
               school_supervisor: Field = "", first_assessor_id: Field = "", second_assessor_id: Field = "",
               adopter_id: Field = "", workplace_trainer_id: Field = "", text_editable: Field = "") -> Response:
    typed = {"title": title, "text": text, "location": location, "cohort": cohort,
             "desired_end_date": desired_end_date, "school_supervisor": school_supervisor,
             "first_assessor_id": first_assessor_id, "second_assessor_id": second_assessor_id,
             "adopter_id": adopter_id, "workplace_trainer_id": workplace_trainer_id}
    # Required people are sent only when chosen; an empty second assessor removes them.
    body: dict[str, Any] = {k: v or None for k, v in typed.items()
                            if k in PEOPLE_IDS and (v or k == "second_assessor_id")}
    if text_editable:
        body.update(title=title.strip() or None, text=text or None, location=location.strip() or None,
                    desired_end_date=desired_end_date or None)
        body["cohort"] = number_or_text(cohort)
    try:
        await ctx.call("exams", "PATCH", f"{_base(ctx)}/{assignment_id}", json=body, headers=if_match(version))
    except ApiError as exc:
        if is_stale(exc):
            return await _page(ctx, assignment_id, status=412, error=stale_message(ctx), form=typed, stale=True)
        return await _page(ctx, assignment_id, status=exc.status, error=localized(ctx, exc), form=typed)
    return back(f"/assignments/{assignment_id}?saved=1")


@router.get("/{assignment_id}/approve", summary="The confirmation step: which version is being signed")
async def approve_page(assignment_id: str, ctx: Ctx = Depends(in_school)) -> Response:
    return await _approve_page(ctx, assignment_id)


async def _approve_page(ctx: Ctx, assignment_id: str, *, status: int = 200, error: ApiError | str | None = None,
                        stale: bool = False) -> Response:
    a = await ctx.get("exams", f"{_base(ctx)}/{assignment_id}")
    attachments = await _files(ctx, a["attachment_ids"])
    mine = _my_signer_roles(ctx, a)
    if stale:  # the version shown is no longer current: say why, and sign nothing
        error = say(ctx, "De opdracht is gewijzigd sinds je hem opende: je hebt nog niets ondertekend. Lees de "
                         "nieuwe versie hieronder en teken opnieuw.",
                    "The assignment changed since you opened it: you have signed nothing yet. Read the new "
                    "version below and sign again.") if mine else say(
            ctx, "Je hebt deze opdracht al ondertekend (bijvoorbeeld in een ander venster); er is niets meer te doen.",
            "You already signed this assignment (in another window, for example); nothing is left to do.")
    return render(ctx, "exam_approve.html", status=status, error=error, a=a, attachments=attachments,
                  title=say(ctx, f"Versie {a['version']} ondertekenen", f"Sign version {a['version']}"),
                  my_roles=mine, signers=SIGNERS, people_words=PEOPLE, stale=stale)


@router.post("/{assignment_id}/approve", summary="Sign the version shown (explicit confirmation)")
async def approve(assignment_id: str, ctx: Ctx = Depends(in_school), version: Field = "",
                  confirm: Field = "") -> Response:
    if not confirm:
        error = ApiError(422, errors=[{"field": "confirm", "reason": say(
            ctx, "Vink aan dat je deze versie ondertekent.", "Tick the box to sign this version.")}])
        return await _approve_page(ctx, assignment_id, status=422, error=error)
    try:
        await ctx.call("exams", "POST", f"{_base(ctx)}/{assignment_id}/approve", json={"confirm": True},
                       headers=if_match(version))
    except ApiError as exc:
        if is_stale(exc):
            return await _approve_page(ctx, assignment_id, status=412, stale=True)
        return await _approve_page(ctx, assignment_id, status=exc.status, error=localized(ctx, exc))
    return back(f"/assignments/{assignment_id}?signed=1")


@router.post("/{assignment_id}/adopt", summary="Adopt on behalf of the exam board (the named adopter)")
async def adopt(assignment_id: str, ctx: Ctx = Depends(in_school), version: Field = "",
                confirm: Field = "") -> Response:
    if not confirm:
        error = ApiError(422, errors=[{"field": "confirm", "reason": say(
            ctx, "Vink aan dat je deze versie vaststelt.", "Tick the box to adopt this version.")}])
        return await _page(ctx, assignment_id, status=422, error=error)
    return await _command(ctx, assignment_id, "POST", "/adopt", version) or back(
        f"/assignments/{assignment_id}?saved=1")


@router.post("/{assignment_id}/delete", summary="Delete a wrongly prepared assignment (before execution)")
async def delete(assignment_id: str, ctx: Ctx = Depends(in_school), version: Field = "") -> Response:
    refused = await _command(ctx, assignment_id, "DELETE", "", version)
    return refused or await _list(ctx, state=None, exam_id=None, cursor=None,
                                  notice=say(ctx, "De opdracht is verwijderd (bewaard als verwijderd).",
                                             "The assignment was deleted (kept, marked deleted)."))


async def _command(ctx: Ctx, assignment_id: str, method: str, suffix: str, version: str) -> Response | None:
    """Send a command on the version shown; a refusal comes back as the assignment's page saying why."""
    try:
        await ctx.call("exams", method, f"{_base(ctx)}/{assignment_id}{suffix}", headers=if_match(version))
    except ApiError as exc:
        if is_stale(exc):
            return await _page(ctx, assignment_id, status=412, error=stale_message(ctx), stale=True)
        return await _page(ctx, assignment_id, status=exc.status, error=localized(ctx, exc))
    return None
