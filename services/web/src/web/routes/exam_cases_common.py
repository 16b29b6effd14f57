"""What the exam board's pages share: the words for case kinds and outcomes, and names behind ids."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from web.api import ApiError
from web.context import Ctx
from web.routes.common import say

KINDS = {
    "inspection": ("Inzage", "Inspection"),
    "objection": ("Bezwaar", "Objection"),
    "exemption": ("Vrijstelling", "Exemption"),
    "accommodation": ("Aangepaste examinering", "Accommodation"),
    "extra_attempt": ("Extra examenkans", "Extra attempt"),
    "fraud": ("Onregelmatigheid of fraude", "Irregularity or fraud"),
}
OUTCOMES = {
    "granted": ("Toegekend", "Granted"),
    "refused": ("Afgewezen", "Refused"),
    "new_assessment": ("Nieuwe beoordeling door een andere examinator", "New assessment by another assessor"),
    "amended": ("Resultaat aangepast", "Result amended"),
    "fraud": ("Fraude vastgesteld (resultaat: onvoldoende)", "Fraud established (result: fail)"),
    "dismissed": ("Geen fraude: zaak ongegrond", "No fraud: case dismissed"),
}
# The outcomes each kind takes and the decision fields each outcome sends (as the exams API accepts them).
KIND_OUTCOMES = {
    "inspection": ("granted", "refused"),
    "objection": ("new_assessment", "amended", "refused"),
    "exemption": ("granted", "refused"),
    "accommodation": ("granted", "refused"),
    "extra_attempt": ("granted", "refused"),
    "fraud": ("fraud", "dismissed"),
}
OUTCOME_FIELDS = {
    ("inspection", "granted"): ("inspection_at", "location"),
    ("objection", "new_assessment"): ("new_assessor_id", "part_ids", "starts_at"),
    ("objection", "amended"): ("result",),
    ("exemption", "granted"): ("core_tasks", "valid_until"),
    ("accommodation", "granted"): ("measures", "valid_until"),
    ("fraud", "fraud"): ("excluded_until", "exclusion_scope"),
}
STUDENT_KINDS = ("inspection", "objection")  # what a student asks for from their attempt
BOARD_ROLES = ("exam_board",)
AUDITORS = ("exam_board", "school_admin")


def only(ctx: Ctx, *roles: str) -> None:
    """The page is for these roles in this school (the API checks again)."""
    if not ctx.has(*roles):
        raise ApiError(403, detail=say(ctx, "Deze pagina is niet voor jouw rol in deze school.",
                                       "This page is not for your role in this school."))


async def files_of(ctx: Ctx, ids: list[str]) -> list[dict[str, Any]]:
    """The evidence service's metadata of files (name, size, flag), in the given order; unreadable ones named so."""
    async def one(file_id: str) -> dict[str, Any]:
        try:
            return dict(await ctx.get("evidence", f"/v1/schools/{ctx.school_id}/files/{file_id}"))
        except ApiError:
            return {"id": file_id, "filename": say(ctx, "bestand (niet te lezen)", "file (not readable)"),
                    "size": 0, "unreadable": True}
    return list(await asyncio.gather(*(one(i) for i in ids[:100])))


async def student_names(ctx: Ctx, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Students by id (name and code) for staff; an unknown or archived one maps to an empty record."""
    if not ctx.has("school_admin", "school_supervisor", "assessor", "exam_board"):
        return {}

    async def one(student_id: str) -> tuple[str, dict[str, Any]]:
        try:
            return student_id, dict(await ctx.get("enrollment", f"/v1/schools/{ctx.school_id}/students/{student_id}"))
        except ApiError:
            return student_id, {}
    return dict(await asyncio.gather(*(one(i) for i in sorted(ids)[:100])))


def student_label(ctx: Ctx, student: dict[str, Any] | None, student_id: str) -> str:
    """'Jan de Vries (100001)', or a neutral word when the name is not readable."""
    if not student:
        return say(ctx, "student", "student") + f" {student_id[-6:]}"
    name = f"{student.get('first_name', '')} {student.get('last_name', '')}".strip()
    return f"{name} ({student['student_code']})" if student.get("student_code") else name


async def exam_names(ctx: Ctx) -> dict[str, str]:
    """The school's exams by id (current versions), for labels."""
    try:
        found = await ctx.reference("exams", f"/v1/schools/{ctx.school_id}/exams")
    except ApiError:
        return {}
    return {e["id"]: e["name"] for e in found}


LISTED_WAITS_S = (0.2, 0.3, 0.5, 1.0, 1.0, 1.0, 2.0)  # exams lists a stored file once evidence's event arrives


async def until_listed(read: Callable[[], Awaitable[dict[str, Any]]], listed: Callable[[dict[str, Any]], list[str]],
                       file_id: str) -> dict[str, Any]:
    """Read again, briefly, until a file just stored is listed (so the page after an upload shows it)."""
    found = await read()
    for wait in LISTED_WAITS_S if file_id else ():
        if file_id in listed(found):
            break
        await asyncio.sleep(wait)
        found = await read()
    return found
