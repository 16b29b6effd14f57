"""Exam-board case rules as pure functions: the kinds, who opens them, their deadlines, valid decisions. No I/O."""

from __future__ import annotations

import math
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from contracts.exams import ExamBoardCaseDecidedV1, ExamBoardCaseOpenedV1
from exams.cases.workdays import SCHOOL_TZ, local_date
from kit.errors import Problem, Text, field_error

Doc = dict[str, Any]
OPEN, DECIDED = "open", "decided"
EXEMPTION_YEARS = 5
EXEMPTION_LEAD = timedelta(weeks=6)  # an exemption is asked at least six weeks before the first exam moment
EXCLUSION_MONTHS = 12  # after fraud the board may exclude a student from exams for up to a year


@dataclass(frozen=True)
class Kind:
    """One kind of case: its names, who may open it, what it concerns, its windows and outcomes."""

    name: str
    nl: str
    outcomes: tuple[str, ...]
    decide_within: int  # working days from opening
    student_may_open: bool
    needs_attempt: bool  # concerns the result of one attempt
    needs_exam: bool
    request_window: int | None = None  # working days after the result was adopted


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("inspection", "inzage", ("granted", "refused"), 10, True, True, True, 15),
    Kind("objection", "bezwaar", ("new_assessment", "amended", "refused"), 20, True, True, True, 20),
    Kind("exemption", "vrijstelling", ("granted", "refused"), 20, True, False, True),
    Kind("accommodation", "aangepaste examinering", ("granted", "refused"), 20, False, False, False),
    Kind("extra_attempt", "extra examenkans", ("granted", "refused"), 20, False, False, True),
    Kind("fraud", "onregelmatigheid of fraude", ("fraud", "dismissed"), 20, False, True, True),
)}

# The decision fields each outcome takes (required ones first; the rest optional); every other one is refused.
OUTCOME_FIELDS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("inspection", "granted"): (("inspection_at",), ("location",)),
    ("objection", "new_assessment"): (("new_assessor_id",), ("part_ids", "starts_at")),
    ("objection", "amended"): (("result",), ()),
    ("exemption", "granted"): (("core_tasks",), ("valid_until",)),
    ("accommodation", "granted"): (("measures",), ("valid_until",)),
    ("fraud", "fraud"): ((), ("excluded_until", "exclusion_scope")),
}
DETAIL_FIELDS = ("inspection_at", "location", "new_assessor_id", "part_ids", "starts_at", "result", "core_tasks",
                 "valid_until", "measures", "excluded_until", "exclusion_scope")


def _invalid(field: str, nl: str, en: str) -> Problem:
    return Problem(422, "validation", detail=Text(nl, en), errors=[field_error(field, en)])


def check_opening(kind: Kind, *, by_student: bool, exam_id: str | None, attempt_id: str | None) -> None:
    """Refuse a case a student may not open, or one missing what its kind concerns."""
    if by_student and not kind.student_may_open:
        raise Problem(403, "forbidden", detail=Text(
            f"Een student kan zelf geen zaak van de soort {kind.nl} openen; dat doet de examencommissie.",
            f"A student cannot open a case of kind {kind.name}; the exam board does."))
    if kind.needs_attempt and not attempt_id:
        raise _invalid("attempt_id", "Noem de examenpoging waar het om gaat.", "Name the attempt this is about.")
    if kind.needs_exam and not (exam_id or attempt_id):
        raise _invalid("exam_id", "Noem het examen waar het om gaat.", "Name the exam this is about.")


def check_decision(kind: Kind, outcome: str, details: Doc) -> Doc:
    """The kind-specific fields of a decision, or 422 naming the outcome or field that does not fit the kind."""
    if outcome not in kind.outcomes:
        listed = ", ".join(kind.outcomes)
        raise _invalid("outcome", f"Bij {kind.nl} kan de uitkomst alleen zijn: {listed}.",
                       f"A decision on a case of kind {kind.name} is one of: {listed}.")
    required, optional = OUTCOME_FIELDS.get((kind.name, outcome), ((), ()))
    given = {k: v for k, v in details.items() if v is not None and k in DETAIL_FIELDS}
    for name in given:
        if name not in required and name not in optional:
            raise _invalid(name, f"Dit veld hoort niet bij de uitkomst {outcome} van {kind.nl}.",
                           f"This field does not belong to outcome {outcome} of kind {kind.name}.")
    for name in required:
        if name not in given or given[name] in ([], ""):
            raise _invalid(name, f"Dit veld is verplicht bij de uitkomst {outcome} van {kind.nl}.",
                           f"This field is required for outcome {outcome} of kind {kind.name}.")
    return given


def truncate_grade(grade: float) -> float:
    """A grade truncated (never rounded) to one decimal: 5.45 -> 5.4."""
    return math.floor(round(grade * 10, 6)) / 10


def whole_grade(grade: float) -> int:
    """The final grade on the transcript: rounded half up to a whole number (5.5 -> 6, 6.4 -> 6)."""
    return math.floor(grade + 0.5)


def amended_result(old: Doc, *, outcome: str, grade: float | None, pass_mark: float, at: datetime, by: str,
                   case_id: str, reason: str, new_id: str) -> Doc:
    """A result superseding `old` per a decision (the old one is kept); "fraud" counts as a fail."""
    if outcome == "passed" and grade is not None and truncate_grade(grade) < pass_mark:
        raise _invalid("result.grade", f"Een geslaagd resultaat vraagt minstens een {pass_mark}.",
                       f"A passed result needs at least {pass_mark}.")
    shown = truncate_grade(grade) if grade is not None else None
    return {**{k: v for k, v in old.items() if k != "_id"}, "_id": new_id, "outcome": outcome, "grade": shown,
            "final_grade": whole_grade(shown) if shown is not None else None, "state": "adopted",
            "computed_at": at, "adopted_at": at, "adopted_by": by, "supersedes": old["_id"], "superseded_by": None,
            "reason": reason, "case_id": case_id}


def default_valid_until(kind: str, decided_at: datetime) -> date | None:
    """Exemptions are valid for five years by default; other decisions until the board says otherwise."""
    if kind == "exemption":
        start = local_date(decided_at)  # the school's day: at 23:30 UTC in winter it is already tomorrow there
        try:
            return start.replace(year=start.year + EXEMPTION_YEARS)
        except ValueError:  # 29 February
            return start.replace(year=start.year + EXEMPTION_YEARS, day=28)
    return None


def latest_exclusion_day(decided_on: date) -> date:
    """The last day an exclusion decided on `decided_on` may run to: twelve months later (29 Feb -> 28 Feb)."""
    months = decided_on.month - 1 + EXCLUSION_MONTHS
    year, month = decided_on.year + months // 12, months % 12 + 1
    return date(year, month, min(decided_on.day, monthrange(year, month)[1]))


def exclusion_refusal(exclusions: list[Doc], exam_id: str) -> Text | None:
    """Why a student may not take part in this exam now (an exclusion after fraud), or None."""
    for case in exclusions:
        decision = case["decision"]
        if decision.get("exclusion_scope") == "all" or case.get("exam_id") == exam_id:
            day = decision["excluded_until"].astimezone(SCHOOL_TZ).date()
            what = ("alle examens", "every exam") if decision.get("exclusion_scope") == "all" else \
                ("dit examen", "this exam")
            return Text(f"De examencommissie heeft deze student na fraude uitgesloten van {what[0]}, tot en met "
                        f"{day:%d-%m-%Y}.", f"After fraud the exam board excluded this student from {what[1]} until "
                        f"and including {day.isoformat()}.")
    return None


def is_overdue(case: Doc, at: datetime) -> bool:
    """An open case past its deadline."""
    return bool(case["state"] == OPEN and case["deadline"] < at)


def opened_event(case: Doc) -> ExamBoardCaseOpenedV1:
    """The fact that a case was opened."""
    return ExamBoardCaseOpenedV1(case_id=case["_id"], school_id=case["school_id"], student_id=case["student_id"],
                                 kind=case["kind"], exam_id=case["exam_id"], opened_by=case["opened_by"],
                                 opened_at=case["opened_at"], deadline=case["deadline"])


def decided_event(case: Doc) -> ExamBoardCaseDecidedV1:
    """The fact that a case was decided."""
    decision = case["decision"]
    return ExamBoardCaseDecidedV1(case_id=case["_id"], school_id=case["school_id"], student_id=case["student_id"],
                                  kind=case["kind"], decided_at=decision["decided_at"], outcome=decision["outcome"],
                                  decided_by=decision["decided_by"], exam_id=case["exam_id"],
                                  attempt_id=case["attempt_id"], result_id=decision.get("result_id"))
