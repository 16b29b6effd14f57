"""What the results pages share: outcomes and grades in words, and what the exam's rules allow for a retake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from web.context import Ctx
from web.render import as_datetime, format_number
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


@dataclass(frozen=True)
class Outlook:
    """Whether a retake may be opened after an attempt, as the exam's rules say, and why (not)."""

    allowed: bool
    reason: tuple[str, str]
    next_number: int
    max_attempts: int | None
    window_ends: datetime | None
    extra: bool = False  # beyond the maximum or the window: only an extra attempt of the exam board opens it


def window_end(rules: dict[str, Any], first_scheduled_at: Any) -> datetime | None:
    """The end of the attempt window: the first scheduled moment plus the exam's days (default 365)."""
    first = as_datetime(first_scheduled_at)
    return first + timedelta(days=int(rules.get("attempt_window_days") or 365)) if first else None


def retake_outlook(rules: dict[str, Any], *, number: int, latest_number: int, result: dict[str, Any] | None,
                   forfeited: bool, first_scheduled_at: Any, at: datetime) -> Outlook:
    """What the exams API will decide on a retake after attempt `number` (it decides again when asked)."""
    maximum = rules.get("max_attempts", 3)
    ends = window_end(rules, first_scheduled_at)

    def outlook(allowed: bool, nl: str, en: str, extra: bool = False) -> Outlook:
        return Outlook(allowed, (nl, en), latest_number + 1, maximum, ends, extra)

    if latest_number > number:
        return outlook(False, f"Er is al een latere poging ({latest_number}); een herkansing volgt op de laatste.",
                       f"There is a later attempt ({latest_number}); a retake follows the latest one.")
    if result is not None and result.get("outcome") in ("passed", "exempt"):
        return outlook(False, "Dit examen is behaald: herkansen kan alleen zolang het niet behaald is.",
                       "This exam was passed: a retake is only possible while it is not.")
    if not forfeited and result is None:
        return outlook(False, f"Poging {number} loopt nog: er is nog geen resultaat.",
                       f"Attempt {number} is still running: there is no result yet.")
    if not forfeited and result is not None and result.get("state") != "adopted":
        return outlook(False, f"Het resultaat van poging {number} is nog niet vastgesteld door de examencommissie.",
                       f"The result of attempt {number} has not been adopted by the exam board yet.")
    if maximum is not None and latest_number >= int(maximum):
        return outlook(False, f"Het maximum van {maximum} pogingen is bereikt: alleen met een extra poging die de "
                              "examencommissie toekent.", f"The maximum of {maximum} attempts is reached: only with "
                              "an extra attempt granted by the exam board.", extra=True)
    if ends is not None and at > ends:
        return outlook(False, "De termijn voor pogingen is verstreken: alleen met een extra poging die de "
                              "examencommissie toekent.", "The attempt window has passed: only with an extra "
                              "attempt granted by the exam board.", extra=True)
    return outlook(True, f"Een herkansing (poging {latest_number + 1}) is mogelijk.",
                   f"A retake (attempt {latest_number + 1}) is possible.")
