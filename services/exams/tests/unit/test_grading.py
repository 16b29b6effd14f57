"""The grading arithmetic: DOMAIN.md's examples as tables, and properties checked with hypothesis."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exams.results.grading import (
    Graded,
    counting,
    criterion_grade,
    final_grade,
    grade_exam,
    grade_part,
    round_half_up,
    truncate,
)


@pytest.mark.parametrize(("value", "expected"), [
    (5.45, "5.4"), (6.59, "6.5"), ("5.45", "5.4"), (5.5, "5.5"), (9.99, "9.9"), (10, "10.0"), (1, "1.0"),
    (0.3, "0.3"),  # 0.1 + 0.2 style binary noise must not cut 0.3 to 0.2
    (Decimal("7.0999"), "7.0"), (6.1, "6.1"), (8.7, "8.7"), (4.35, "4.3"),
])
def test_truncation_to_one_decimal_as_domain_says(value: Any, expected: str) -> None:
    assert truncate(value) == Decimal(expected)


@pytest.mark.parametrize(("grade", "rule", "expected"), [
    ("5.5", "round_whole", "6"), ("6.4", "round_whole", "6"), ("5.4", "round_whole", "5"), ("9.5", "round_whole", "10"),
    ("6.5", "round_whole", "7"), ("5.5", "one_decimal", "5.5"), ("6.4", "one_decimal", "6.4"),
])
def test_final_grade_rounding(grade: str, rule: str, expected: str) -> None:
    assert final_grade(Decimal(grade), {"final_grade": rule}) == Decimal(expected)


def test_the_whole_number_scale_always_rounds_the_final_grade() -> None:
    assert final_grade(Decimal("6.4"), {"final_grade": "one_decimal", "grading_scale": "grade_1_10_whole"}) == 6


@pytest.mark.parametrize(("score", "expected"), [("1", 1), ("2", 3.25), ("3", 5.5), ("4", 7.75), ("5", 10)])
def test_one_to_five_maps_linearly_onto_one_to_ten(score: str, expected: float) -> None:
    assert criterion_grade(score) == Decimal(str(expected))


CRITERIA = [{"code": "a", "scoring": "pass_fail"}, {"code": "b", "scoring": "scale_1_5"},
            {"code": "c", "scoring": "scale_1_5"}]


@pytest.mark.parametrize(("scores", "outcome", "grade"), [
    ({"a": "pass", "b": "3", "c": "3"}, "passed", "5.5"),
    ({"a": "pass", "b": "3", "c": "4"}, "passed", "6.6"),    # (5.5 + 7.75) / 2 = 6.625 -> 6.6
    ({"a": "pass", "b": "2", "c": "4"}, "passed", "5.5"),   # (3.25 + 7.75) / 2 = 5.5 exactly: reaches the mark
    ({"a": "fail", "b": "5", "c": "5"}, "failed", "10.0"),  # ... but a failed pass/fail criterion knocks out
    ({"a": "pass", "b": "2", "c": "3"}, "failed", "4.3"),   # (3.25 + 5.5) / 2 = 4.375 -> 4.3
    ({"a": "pass", "b": "5"}, "failed", "10.0"),             # c unscored: not shown to be met
])
def test_part_from_criterion_scores(scores: dict[str, str], outcome: str, grade: str) -> None:
    part = grade_part("p1", CRITERIA, scores)
    assert (part.outcome, part.grade) == (outcome, Decimal(grade))


def test_a_part_of_only_pass_fail_criteria_has_no_grade() -> None:
    criteria = [{"code": "a"}, {"code": "b"}]
    assert grade_part("p", criteria, {"a": "pass", "b": "pass"}) == Graded("p", "passed", None)
    assert grade_part("p", criteria, {"a": "pass", "b": "fail"}) == Graded("p", "failed", None)


def exam(scale: str = "grade_1_10", **rules: Any) -> dict[str, Any]:
    """Two core tasks; K1 by parts p1 and p2, K2 by p3 (each part: one pass/fail and one 1-5 criterion)."""
    def part(code: str, tasks: list[str]) -> dict[str, Any]:
        return {"code": code, "core_tasks": tasks, "criteria": [
            {"code": f"{code}a", "scoring": "pass_fail"}, {"code": f"{code}b", "scoring": "scale_1_5"}]}
    return {"core_tasks": [{"code": "K1"}, {"code": "K2"}],
            "parts": [part("p1", ["K1"]), part("p2", ["K1"]), part("p3", ["K2"])],
            "rules": {"grading_scale": scale, **rules}}


def finals(p1: str, p2: str, p3: str, fail: str = "") -> dict[str, dict[str, str]]:
    return {p: {f"{p}a": "fail" if p == fail else "pass", f"{p}b": s} for p, s in (("p1", p1), ("p2", p2), ("p3", p3))}


@pytest.mark.parametrize(("scores", "outcome", "grade", "final"), [
    (("3", "3", "3"), "passed", "5.5", 6),
    (("4", "3", "4"), "passed", "7.1", 7),     # K1 (7.7 + 5.5)/2 = 6.6; K2 7.7; (6.6 + 7.7)/2 = 7.15 -> 7.1
    (("5", "5", "2"), "failed", "6.6", 7),     # K2 = 3.2 fails: a failed core task fails the exam, whatever the mean
    (("2", "4", "5"), "failed", "7.7", 8),     # p1 = 3.2 fails; K1 = (3.2 + 7.7)/2 = 5.45 -> 5.4 fails
])
def test_exam_result_from_parts_and_core_tasks(scores: tuple[str, str, str], outcome: str, grade: str,
                                               final: int) -> None:
    result = grade_exam(exam(), finals(*scores))
    assert (result.outcome, result.grade, result.final_grade) == (outcome, Decimal(grade), Decimal(final))


def test_core_task_grades_truncate_the_mean_of_their_parts() -> None:
    tasks = {t.code: t for t in grade_exam(exam(), finals("2", "4", "5")).core_tasks}
    assert (tasks["K1"].outcome, tasks["K1"].grade) == ("failed", Decimal("5.4"))  # 5.45, never rounded up to 5.5
    assert (tasks["K2"].outcome, tasks["K2"].grade) == ("passed", Decimal("10.0"))


def test_a_knock_out_fails_the_core_task_and_the_exam() -> None:
    result = grade_exam(exam(), finals("5", "5", "5", fail="p3"))
    assert result.outcome == "failed" and {t.code: t.outcome for t in result.core_tasks}["K2"] == "failed"


def test_exempt_core_tasks_and_their_parts() -> None:
    result = grade_exam(exam(), {k: v for k, v in finals("4", "4", "1").items() if k != "p3"},
                        exempt_core_tasks=["K2"])
    assert [(p.code, p.outcome) for p in result.parts] == [("p1", "passed"), ("p2", "passed"), ("p3", "exempt")]
    assert (result.outcome, result.grade, result.final_grade) == ("passed", Decimal("7.7"), Decimal(8))
    everything = grade_exam(exam(), {}, exempt_core_tasks=["K1", "K2"])
    assert (everything.outcome, everything.grade, everything.final_grade) == ("exempt", None, None)


def test_a_part_not_assessed_fails_unless_passed_in_an_earlier_attempt() -> None:
    only_p1_p2 = {k: v for k, v in finals("4", "4", "4").items() if k != "p3"}
    assert grade_exam(exam(), only_p1_p2).outcome == "failed"
    carried = grade_exam(exam(), only_p1_p2, carried={"p3": Graded("p3", "passed", Decimal("7.7"))})
    assert carried.outcome == "passed" and carried.parts[2].grade == Decimal("7.7")


@pytest.mark.parametrize(("scale", "scores", "label", "grade"), [
    ("pass_fail", ("4", "4", "4"), "passed", None),
    ("pass_fail", ("4", "4", "2"), "failed", None),
    ("fail_pass_good", ("3", "3", "3"), "V", None),
    ("fail_pass_good", ("5", "4", "5"), "G", None),
    ("fail_pass_good", ("5", "5", "1"), "O", None),
])
def test_pass_fail_and_ovg_scales_show_no_grades(scale: str, scores: tuple[str, str, str], label: str,
                                                  grade: None) -> None:
    result = grade_exam(exam(scale), finals(*scores))
    assert result.label == label and result.grade is grade and result.final_grade is None
    assert all(p.grade is None for p in result.parts + result.core_tasks)


def test_the_whole_number_scale_shows_whole_grades() -> None:
    result = grade_exam(exam("grade_1_10_whole"), finals("4", "3", "4"))
    assert [t.grade for t in result.core_tasks] == [Decimal(7), Decimal(8)]  # 6.6 -> 7, 7.7 -> 8
    assert result.final_grade == Decimal(7) and result.outcome == "passed"


def test_a_pass_mark_per_exam() -> None:
    assert grade_exam(exam(pass_mark=6.0), finals("3", "3", "3")).outcome == "failed"
    assert grade_exam(exam(pass_mark=5.0), finals("3", "2", "3")).outcome == "failed"  # p2 = 3.2 fails its part


@pytest.mark.parametrize(("counts", "expected"), [("last", 3), ("highest", 2)])
def test_which_result_counts(counts: str, expected: int) -> None:
    results = [{"attempt_number": 1, "outcome": "failed", "grade": 4.2, "final_grade": 4},
               {"attempt_number": 2, "outcome": "passed", "grade": 7.3, "final_grade": 7},
               {"attempt_number": 3, "outcome": "passed", "grade": 6.1, "final_grade": 6}]
    found = counting(results, counts)
    assert found is not None and found["attempt_number"] == expected
    assert counting([], counts) is None


def test_highest_prefers_a_pass_to_a_higher_fraud_or_fail() -> None:
    results = [{"attempt_number": 1, "outcome": "fraud", "grade": 9.0, "final_grade": 9},
               {"attempt_number": 2, "outcome": "passed", "grade": 6.0, "final_grade": 6}]
    assert counting(results, "highest")["attempt_number"] == 2  # type: ignore[index]


# --- properties ---------------------------------------------------------------------------------------

grades = st.decimals(min_value=1, max_value=10, places=4, allow_nan=False, allow_infinity=False)
scores = st.sampled_from(["1", "2", "3", "4", "5"])


@given(grades)
def test_truncation_never_raises_a_grade_and_loses_less_than_a_tenth(value: Decimal) -> None:
    cut = truncate(value)
    assert cut <= value < cut + Decimal("0.1")
    assert cut == cut.quantize(Decimal("0.1"))


@given(st.floats(min_value=1, max_value=10, allow_nan=False))
def test_truncating_a_float_cuts_the_decimal_it_prints_as(value: float) -> None:
    assert truncate(value) <= Decimal(repr(value))


@given(grades)
def test_rounding_half_up_is_within_half_a_point(value: Decimal) -> None:
    rounded = round_half_up(value)
    assert value - Decimal("0.5") < rounded <= value + Decimal("0.5")


@given(st.tuples(scores, scores, scores), st.sampled_from(["p1", "p2", "p3"]))
def test_a_fail_in_any_core_task_fails_the_exam(chosen: tuple[str, str, str], failing: str) -> None:
    result = grade_exam(exam(), finals(*chosen, fail=failing))
    assert any(t.outcome == "failed" for t in result.core_tasks)
    assert result.outcome == "failed"


@given(st.tuples(scores, scores, scores))
def test_the_exam_passes_exactly_when_every_core_task_passes(chosen: tuple[str, str, str]) -> None:
    result = grade_exam(exam(), finals(*chosen))
    assert (result.outcome == "passed") == all(t.outcome == "passed" for t in result.core_tasks)
    if result.outcome == "passed":
        assert result.grade is not None and result.grade >= Decimal("5.5")


@given(st.tuples(scores, scores, scores), st.integers(0, 2))
def test_a_better_score_never_turns_a_pass_into_a_fail(chosen: tuple[str, str, str], which: int) -> None:
    before = grade_exam(exam(), finals(*chosen))
    raised = list(chosen)
    raised[which] = str(min(5, int(raised[which]) + 1))
    after = grade_exam(exam(), finals(*raised))
    assert not (before.outcome == "passed" and after.outcome == "failed")
    assert after.grade is not None and before.grade is not None and after.grade >= before.grade


@given(st.lists(st.tuples(st.sampled_from(["passed", "failed", "fraud"]), grades), min_size=1, max_size=5))
def test_the_highest_result_is_never_worse_than_the_last(attempts: list[tuple[str, Decimal]]) -> None:
    results = [{"attempt_number": n + 1, "outcome": o, "grade": float(truncate(g)), "final_grade": None}
               for n, (o, g) in enumerate(attempts)]
    last, best = counting(results, "last"), counting(results, "highest")
    assert last is not None and best is not None
    assert last["attempt_number"] == len(results)
    if last["outcome"] == "passed":
        assert best["outcome"] == "passed"
        assert best["grade"] >= last["grade"]
