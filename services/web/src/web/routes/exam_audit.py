"""The audit trail for the exam board and the school admin: a student's records and the school chain's verification."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from kit.numbers import INT_MAX
from web.context import Ctx, in_school
from web.render import render
from web.routes.common import items, say
from web.routes.exam_cases_common import AUDITORS, KINDS, OUTCOMES, exam_names, only, student_label
from web.routes.exam_common import SIGNERS, staff

router = APIRouter(prefix="/audit")
RECORDS = {
    "assignment_approved": ("Opdracht ondertekend", "Assignment signed"),
    "assignment_adopted": ("Opdracht vastgesteld", "Assignment adopted"),
    "part_assessment_finalized": ("Beoordeling van een onderdeel ingediend", "Assessment of a part submitted"),
    "assessment_finalized": ("Beoordeling van de poging afgerond", "Assessment of the attempt completed"),
    "result_adopted": ("Resultaat vastgesteld", "Result adopted"),
    "board_case_opened": ("Zaak geopend", "Case opened"),
    "board_case_decided": ("Besluit van de examencommissie", "Exam board decision"),
    "retake_opened": ("Herkansing geopend", "Retake opened"),
}
BREAKS = (  # the chain's English reasons, in Dutch
    ("is missing", "er ontbreekt een record (gat in de nummering)"),
    ("prev_hash does not match", "de verwijzing naar het vorige record klopt niet"),
    ("content does not match its hash", "de inhoud van het record is gewijzigd na het vastleggen"),
    ("the chain ends at record", "de keten is korter dan vastgelegd: records aan het eind ontbreken"),
)


def break_reason(ctx: Ctx, reason: str) -> str:
    """The verifier's reason in the page's language."""
    if ctx.lang == "en":
        return reason
    return next((nl for key, nl in BREAKS if key in reason), reason)


def record_rows(ctx: Ctx, records: list[dict[str, Any]], names: dict[str, str],
                exams: dict[str, str]) -> list[dict[str, Any]]:
    """Each record's words: what happened, who did it, what it concerned."""
    rows = []
    for r in records:
        kind = r["type"].rsplit(".", 1)[-1]
        data = r.get("data") or {}
        details = []
        if data.get("exam_id") in exams:
            details.append(exams[data["exam_id"]])
        if data.get("attempt_number"):
            details.append(say(ctx, "poging", "attempt") + f" {data['attempt_number']}")
        if data.get("role") in SIGNERS:
            details.append(say(ctx, "als", "as") + " " + say(ctx, *SIGNERS[data["role"]]).lower())
        if data.get("kind") in KINDS:
            details.append(say(ctx, *KINDS[data["kind"]]))
        if data.get("outcome") in OUTCOMES and kind == "board_case_decided":
            details.append(say(ctx, *OUTCOMES[data["outcome"]]))
        elif data.get("outcome"):
            details.append({"passed": say(ctx, "behaald", "passed"), "failed": say(ctx, "niet behaald", "failed"),
                            "fraud": say(ctx, "fraude", "fraud")}.get(data["outcome"], str(data["outcome"])))
        actor = r.get("actor")
        if not actor:
            who = "—"
        elif actor in names:
            who = names[actor]
        elif data.get("role") in SIGNERS:  # students are never listed with the staff: say the role they signed in
            who = say(ctx, "de", "the") + " " + say(ctx, *SIGNERS[data["role"]]).lower()
        else:
            who = say(ctx, "de student", "the student") if kind == "board_case_opened" else \
                say(ctx, "onbekende naam", "unknown name")
        rows.append({"seq": r["seq"], "at": r["occurred_at"], "what": say(ctx, *RECORDS.get(kind, (kind, kind))),
                     "who": who, "details": " · ".join(details), "hash": r["hash"]})
    return rows


async def _verdict(ctx: Ctx) -> dict[str, Any]:
    verdict = dict(await ctx.get("exams", f"/v1/schools/{ctx.school_id}/audit/verify"))
    if verdict.get("first_broken"):
        verdict["first_broken"] = {**verdict["first_broken"],
                                   "reason_text": break_reason(ctx, verdict["first_broken"]["reason"])}
    return verdict


@router.get("", summary="The school chain's verification, and finding a student's trail")
async def school(ctx: Ctx = Depends(in_school), q: str = Query(default="", max_length=100)) -> Response:
    only(ctx, *AUDITORS)
    verdict = await _verdict(ctx)
    matches = items(await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/students", q=q.strip(), limit=20)) \
        if q.strip() else []
    return render(ctx, "exam_audit.html", title=say(ctx, "Audittrail", "Audit trail"), verdict=verdict, q=q,
                  matches=matches, student=None, rows=[], next_cursor=None)


@router.get("/students/{student_id}", summary="A student's audit trail, with the school chain's verification")
async def student_trail(student_id: str, ctx: Ctx = Depends(in_school),
                        cursor: int = Query(default=0, ge=0, le=INT_MAX)) -> Response:
    only(ctx, *AUDITORS)
    sid = ctx.school_id
    trail, verdict, student, people, trainers, exams = await asyncio.gather(
        ctx.get("exams", f"/v1/schools/{sid}/students/{student_id}/audit", cursor=cursor or None, limit=100),
        _verdict(ctx), ctx.get("enrollment", f"/v1/schools/{sid}/students/{student_id}"), staff(ctx),
        staff(ctx, "workplace_trainer"), exam_names(ctx))
    names = {p["user_id"]: p.get("display_name") or p["user_id"] for p in people + trainers}
    label = student_label(ctx, student, student_id)
    return render(ctx, "exam_audit.html", title=say(ctx, f"Audittrail: {label}", f"Audit trail: {label}"),
                  verdict=verdict, q="", matches=[], student=student, student_id=student_id,
                  rows=record_rows(ctx, items(trail), names, exams), next_cursor=trail.get("next_cursor"))
