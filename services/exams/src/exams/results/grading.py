"""The grading arithmetic of DOMAIN.md's rules table, as pure functions over exact numbers. No I/O.

How criterion scores become results (the exams README says the same):

* A criterion on the 1-5 scale maps linearly onto 1-10: grade = 1 + (score - 1) x 9/4, so 1 -> 1, 2 -> 3.25,
  3 -> 5.5 (exactly the default pass mark), 4 -> 7.75, 5 -> 10.
* A pass/fail criterion is a knock-out: one "fail" fails its part; it adds nothing to a grade.
* A criterion the final form leaves unscored was not shown to be met: its part fails.
* A part's grade is the mean of its 1-5 criteria on 1-10, truncated to one decimal (no grade when the part has
  only pass/fail criteria). The part passes when nothing failed and its grade (if any) reaches the pass mark.
* A core task's grade is the mean of its graded parts' grades, truncated; it passes when every one of its parts
  passed and its grade (if any) reaches the pass mark. It is exempt when the exam board granted an exemption for
  it; a part that serves only exempt core tasks is exempt and needs no assessment.
* The exam's grade is the mean of its graded core tasks' grades, truncated; the exam passes only when every core
  task passed or is exempt (all exempt: the exam is exempt). The final grade is that grade rounded half up to a
  whole number (5.5 -> 6, 6.4 -> 6) or kept at one decimal, per rules.final_grade.
* Scales: grade_1_10 shows grades with one decimal; grade_1_10_whole shows every grade rounded half up to a whole
  number (pass or fail is still decided on the truncated grade, so 5.5 passes as a 6); pass_fail shows no grades,
  only passed/failed; fail_pass_good shows no grades but O (failed), V (passed) or G (passed with an exam grade of
  at least rules.good_mark, default 8.0).
* Truncation works on exact fractions, never on binary floats: 5.45 -> 5.4, 6.59 -> 6.5.
* Which result counts (rules.counts): "last" is the latest attempt's; "highest" the best one (passed before
  failed, then the higher grade, then the later attempt). A fraud result counts as a fail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

Outcome = Literal["passed", "failed", "exempt"]
Number = Fraction | Decimal | int | str | float
SCALE_SCORES = ("1", "2", "3", "4", "5")
PASS_FAIL_SCORES = ("pass", "fail")
TENTH = Decimal("0.1")
DEFAULT_PASS_MARK = Decimal("5.5")
DEFAULT_GOOD_MARK = Decimal("8.0")


def exact(value: Number) -> Fraction:
    """A number as an exact fraction; a float is read as the decimal it prints as (5.45 is 5.45, not 5.4499...)."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        return Fraction(Decimal(value))
    return Fraction(value)


def truncate(value: Number) -> Decimal:
    """Cut a grade to one decimal, never rounding up: 5.45 -> 5.4, 6.59 -> 6.5."""
    tenths = exact(value) * 10
    whole = tenths.numerator // tenths.denominator  # floor; grades are positive so this is truncation
    return Decimal(whole) * TENTH


def round_half_up(value: Number) -> Decimal:
    """A whole number, halves up: 5.5 -> 6, 6.4 -> 6."""
    return Decimal(math.floor(exact(value) + Fraction(1, 2)))


def final_grade(grade: Decimal | None, rules: Mapping[str, Any]) -> Decimal | None:
    """The grade on the transcript: whole (default, and always on the whole-number scale) or one decimal."""
    if grade is None:
        return None
    if rules.get("final_grade", "round_whole") == "one_decimal" and rules.get("grading_scale") != "grade_1_10_whole":
        return truncate(grade)
    return round_half_up(grade)


def criterion_grade(score: str) -> Fraction:
    """A 1-5 score on the 1-10 scale: 1 + (score - 1) x 9/4."""
    if score not in SCALE_SCORES:
        raise ValueError(f"not a 1-5 score: {score!r}")
    return 1 + (Fraction(int(score)) - 1) * Fraction(9, 4)


def _mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


@dataclass(frozen=True)
class Graded:
    """The result of a part or core task: its outcome and truncated grade (None: not graded)."""

    code: str
    outcome: Outcome
    grade: Decimal | None


def grade_part(code: str, criteria: Iterable[Mapping[str, Any]], scores: Mapping[str, str],
               pass_mark: Decimal = DEFAULT_PASS_MARK) -> Graded:
    """A part's result from the final scores of its criteria (see the module's rules)."""
    failed = False
    grades: list[Fraction] = []
    for criterion in criteria:
        score = scores.get(criterion["code"])
        if criterion.get("scoring", "pass_fail") == "scale_1_5":
            if score in SCALE_SCORES:
                grades.append(criterion_grade(score))
            else:
                failed = True
        elif score != "pass":
            failed = True
    mean = _mean(grades)
    grade = truncate(mean) if mean is not None else None
    passed = not failed and (grade is None or grade >= pass_mark)
    return Graded(code, "passed" if passed else "failed", grade)


def grade_core_task(code: str, parts: list[Graded], pass_mark: Decimal = DEFAULT_PASS_MARK) -> Graded:
    """A core task's result from its parts' results (exempt parts left out)."""
    counted = [p for p in parts if p.outcome != "exempt"]
    if not counted:
        return Graded(code, "exempt", None)
    mean = _mean([exact(p.grade) for p in counted if p.grade is not None])
    grade = truncate(mean) if mean is not None else None
    passed = all(p.outcome == "passed" for p in counted) and (grade is None or grade >= pass_mark)
    return Graded(code, "passed" if passed else "failed", grade)


@dataclass(frozen=True)
class ExamResult:
    """An attempt's computed result, grades as the exam's scale shows them."""

    parts: list[Graded]
    core_tasks: list[Graded]
    grade: Decimal | None
    final_grade: Decimal | None
    outcome: Outcome
    label: str  # passed/failed/exempt, or O/V/G on the fail_pass_good scale


def grade_exam(exam: Mapping[str, Any], finals: Mapping[str, Mapping[str, str]], *,
               exempt_core_tasks: Iterable[str] = (), carried: Mapping[str, Graded] | None = None) -> ExamResult:
    """An attempt's result: `finals` are the final scores per part code; `carried` passed parts of earlier attempts."""
    rules = exam.get("rules") or {}
    pass_mark = exact(rules.get("pass_mark", 5.5))
    mark = Decimal(pass_mark.numerator) / Decimal(pass_mark.denominator)
    exempt = set(exempt_core_tasks)
    carried = carried or {}
    parts: list[Graded] = []
    for part in exam["parts"]:
        if set(part["core_tasks"]) <= exempt:
            parts.append(Graded(part["code"], "exempt", None))
        elif part["code"] in finals:
            parts.append(grade_part(part["code"], part["criteria"], finals[part["code"]], mark))
        elif part["code"] in carried and carried[part["code"]].outcome == "passed":
            parts.append(carried[part["code"]])
        else:
            parts.append(Graded(part["code"], "failed", None))  # not assessed in this attempt
    by_code = {p.code: p for p in parts}
    tasks = []
    for task in exam["core_tasks"]:
        if task["code"] in exempt:
            tasks.append(Graded(task["code"], "exempt", None))
            continue
        own = [by_code[p["code"]] for p in exam["parts"] if task["code"] in p["core_tasks"]]
        tasks.append(grade_core_task(task["code"], own, mark))
    counted = [t for t in tasks if t.outcome != "exempt"]
    mean = _mean([exact(t.grade) for t in counted if t.grade is not None])
    grade = truncate(mean) if mean is not None else None
    outcome: Outcome = "exempt" if not counted else (
        "passed" if all(t.outcome == "passed" for t in counted) else "failed")
    return _shown(rules, parts, tasks, grade, outcome)


def _shown(rules: Mapping[str, Any], parts: list[Graded], tasks: list[Graded], grade: Decimal | None,
           outcome: Outcome) -> ExamResult:
    """The result as the exam's scale shows it."""
    scale = rules.get("grading_scale", "grade_1_10")
    if scale in ("pass_fail", "fail_pass_good"):
        label: str = outcome
        if scale == "fail_pass_good" and outcome != "exempt":
            good = Decimal(str(rules.get("good_mark", DEFAULT_GOOD_MARK)))
            label = "O" if outcome == "failed" else ("G" if grade is not None and grade >= good else "V")
        hide = [Graded(g.code, g.outcome, None) for g in parts], [Graded(g.code, g.outcome, None) for g in tasks]
        return ExamResult(hide[0], hide[1], None, None, outcome, label)
    if scale == "grade_1_10_whole":
        def whole(items: list[Graded]) -> list[Graded]:
            return [Graded(g.code, g.outcome, round_half_up(g.grade) if g.grade is not None else None) for g in items]
        return ExamResult(whole(parts), whole(tasks), grade, final_grade(grade, rules), outcome, outcome)
    return ExamResult(parts, tasks, grade, final_grade(grade, rules), outcome, outcome)


def counts_as_pass(result: Mapping[str, Any]) -> bool:
    """True for a passed or exempt result (fraud and failed are fails)."""
    return result.get("outcome") in ("passed", "exempt")


def counting(results: Iterable[Mapping[str, Any]], counts: str = "last") -> Mapping[str, Any] | None:
    """The result that counts among an exam's current results (one per attempt), per rules.counts."""
    found = list(results)
    if not found:
        return None
    if counts == "highest":
        def best(r: Mapping[str, Any]) -> tuple[bool, float, int]:
            grade = r.get("final_grade") if r.get("final_grade") is not None else r.get("grade")
            return counts_as_pass(r), float(grade) if grade is not None else -1.0, int(r["attempt_number"])
        return max(found, key=best)
    return max(found, key=lambda r: int(r["attempt_number"]))
