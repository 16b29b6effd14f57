"""What the results pages share: outcomes and grades in words, and what the exam's rules allow for a retake."""

from __future__ import annotations

from typing import Any

from web.context import Ctx
from web.render import format_number
from web.routes.common import say

OUTCOMES = {"passed": ("Behaald", "Passed"), "failed": ("Niet behaald", "Failed"),
            "exempt": ("Vrijgesteld", "Exempt"), "fraud": ("Fraude: niet behaald", "Fraud: failed")}
LABELS = {"O": ("O (onvoldoende)", "O (fail)"), "V": ("V (voldoende)", "V (pass)"), "G": ("G (goed)", "G (good)")}
RESULT_STATES = {"awaiting_adoption": ("Wacht op vaststelling", "Awaiting adoption"),
                 "adopted": ("Vastgesteld", "Adopted")}
WITHOUT_GRADES = ("pass_fail", "fail_pass_good")


def results_count(ctx: Ctx, count: int | str) -> str:
    """'1 resultaat', '3 resultaten' (or '1 result', '3 results')."""
    one = str(count) == "1"
    return say(ctx, f"{count} resultaat" if one else f"{count} resultaten", f"{count} result" if one else
               f"{count} results")


def outcome(ctx: Ctx, result: dict[str, Any]) -> str:
    """The result's outcome in words (O/V/G where the exam uses that scale)."""
    label = str(result.get("label") or "")
    if label in LABELS:
        return say(ctx, *LABELS[label])
    code = str(result.get("outcome") or "")
    return say(ctx, *OUTCOMES.get(code, (code, code)))


def grade(ctx: Ctx, value: Any, scale: str = "grade_1_10") -> str:
    """A grade in the page's locale (one decimal, or whole on a whole scale); a dash where there is none."""
    if value is None or scale in WITHOUT_GRADES:
        return "—"
    number = float(value)
    whole = scale == "grade_1_10_whole" or (isinstance(value, int) and not isinstance(value, bool))
    return format_number(number, ctx.lang, 0 if whole else 1)


def final_and_exact(ctx: Ctx, result: dict[str, Any]) -> str:
    """'6 (6,4)': the transcript's final grade and the exact (truncated) grade; the label on scales without."""
    scale = str(result.get("scale") or "grade_1_10")
    if scale in WITHOUT_GRADES or result.get("grade") is None:
        return "—"
    final = grade(ctx, result.get("final_grade"), scale)
    exact = format_number(float(result["grade"]), ctx.lang, 1)
    return final if final == exact else f"{final} ({exact})"


def part_lines(ctx: Ctx, result: dict[str, Any], exam: dict[str, Any] | None) -> list[dict[str, str]]:
    """Each part's and core task's outcome and grade, named as the exam names them."""
    names = {p["code"]: p["name"] for p in (exam or {}).get("parts", [])}
    tasks = {t["code"]: t["name"] for t in (exam or {}).get("core_tasks", [])}
    scale = str(result.get("scale") or "grade_1_10")
    lines = [{"kind": say(ctx, "Onderdeel", "Part"), "name": names.get(p["part_id"], p["part_id"]),
              "outcome": say(ctx, *OUTCOMES.get(p["outcome"], (p["outcome"], p["outcome"]))),
              "grade": grade(ctx, p.get("grade"), scale), "code": p["outcome"]} for p in result.get("parts", [])]
    lines += [{"kind": say(ctx, "Kerntaak", "Core task"), "name": f"{tasks.get(t['code'], t['code'])} ({t['code']})",
               "outcome": say(ctx, *OUTCOMES.get(t["outcome"], (t["outcome"], t["outcome"]))),
               "grade": grade(ctx, t.get("grade"), scale), "code": t["outcome"]}
              for t in result.get("core_tasks", [])]
    return lines


async def retake_look(ctx: Ctx, attempt_id: str) -> dict[str, Any]:
    """The exams API's verdict on a retake after this attempt (its rules, in one place), in the page's words."""
    look = dict(await ctx.get("exams", f"/v1/schools/{ctx.school_id}/attempts/{attempt_id}/retake"))
    number = look["next_number"]
    if look["allowed"] and look.get("extra_attempt_case_id"):
        look["reason"] = say(ctx, f"Een herkansing (poging {number}) is mogelijk met de extra poging die de "
                                  "examencommissie toekende.", f"A retake (attempt {number}) is possible with the "
                                  "extra attempt the exam board granted.")
    elif look["allowed"]:
        look["reason"] = say(ctx, f"Een herkansing (poging {number}) is mogelijk.",
                             f"A retake (attempt {number}) is possible.")
    look["extra"] = look["beyond_limits"] and not look["allowed"]  # only the exam board's extra attempt helps
    return look
