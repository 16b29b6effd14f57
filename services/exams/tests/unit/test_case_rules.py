"""Case rules without a server: which outcomes fit which kind, amended results, the calendar's validation."""

from datetime import UTC, date, datetime

import pytest

from exams.cases.calendar import check_holidays, holiday_dates, stored
from exams.cases.models import (
    KINDS,
    amended_result,
    check_decision,
    check_opening,
    default_valid_until,
    exclusion_refusal,
    latest_exclusion_day,
    truncate_grade,
    whole_grade,
)
from kit.errors import Problem

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def problem(call: object) -> Problem:
    with pytest.raises(Problem) as caught:
        call()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize("kind,outcome,details,field", [
    ("inspection", "amended", {}, "outcome"),
    ("exemption", "fraud", {}, "outcome"),
    ("objection", "granted", {}, "outcome"),
    ("objection", "new_assessment", {}, "new_assessor_id"),
    ("objection", "amended", {}, "result"),
    ("objection", "refused", {"new_assessor_id": "usr_x"}, "new_assessor_id"),
    ("exemption", "granted", {"core_tasks": []}, "core_tasks"),
    ("exemption", "refused", {"core_tasks": ["B1-K1"]}, "core_tasks"),
    ("accommodation", "granted", {}, "measures"),
    ("accommodation", "granted", {"measures": ["extra tijd"], "core_tasks": ["x"]}, "core_tasks"),
    ("inspection", "granted", {}, "inspection_at"),
    ("fraud", "fraud", {"result": {"outcome": "failed"}}, "result"),
])
def test_a_decision_that_does_not_fit_the_kind_names_the_field(kind: str, outcome: str, details: dict[str, object],
                                                                field: str) -> None:
    refused = problem(lambda: check_decision(KINDS[kind], outcome, details))
    assert refused.status == 422 and refused.errors and refused.errors[0]["field"] == field


def test_fitting_decisions_keep_their_fields() -> None:
    assert check_decision(KINDS["accommodation"], "granted", {"measures": ["30 minuten extra"], "location": None}) \
        == {"measures": ["30 minuten extra"]}
    assert check_decision(KINDS["extra_attempt"], "granted", {}) == {}
    assert check_decision(KINDS["fraud"], "dismissed", {}) == {}


def test_students_open_only_their_requests_and_cases_name_what_they_concern() -> None:
    for kind in ("accommodation", "extra_attempt", "fraud"):
        assert problem(lambda k=kind: check_opening(KINDS[k], by_student=True, exam_id="e", attempt_id="a")).status \
            == 403
    assert problem(lambda: check_opening(KINDS["objection"], by_student=True, exam_id="e", attempt_id=None)) \
        .errors[0]["field"] == "attempt_id"  # type: ignore[index]
    assert problem(lambda: check_opening(KINDS["exemption"], by_student=True, exam_id=None, attempt_id=None)) \
        .errors[0]["field"] == "exam_id"  # type: ignore[index]
    check_opening(KINDS["accommodation"], by_student=False, exam_id=None, attempt_id=None)


def test_deadlines_and_windows_follow_the_exam_regulations() -> None:
    assert KINDS["objection"].decide_within == 20 and KINDS["objection"].request_window == 20
    assert KINDS["inspection"].request_window == 15


@pytest.mark.parametrize("grade,truncated,final", [(5.45, 5.4, 5), (6.59, 6.5, 7), (5.5, 5.5, 6), (6.4, 6.4, 6),
                                                   (7.0, 7.0, 7), (9.99, 9.9, 10)])
def test_amended_grades_are_truncated_and_rounded_like_results(grade: float, truncated: float, final: int) -> None:
    assert truncate_grade(grade) == truncated and whole_grade(truncated) == final


def test_an_amended_result_supersedes_and_keeps_the_original_fields() -> None:
    old = {"_id": "res_1", "attempt_id": "att_1", "parts": [{"part_id": "p1", "outcome": "failed", "grade": 4.0}],
           "grade": 4.0, "final_grade": 4, "outcome": "failed", "state": "adopted", "superseded_by": None}
    new = amended_result(old, outcome="passed", grade=6.25, pass_mark=5.5, at=AT, by="usr_b", case_id="case_1",
                         reason="Rekenfout", new_id="res_2")
    assert new["_id"] == "res_2" and new["supersedes"] == "res_1" and new["superseded_by"] is None
    assert (new["grade"], new["final_grade"], new["outcome"]) == (6.2, 6, "passed")
    assert new["parts"] == old["parts"] and new["case_id"] == "case_1" and new["adopted_by"] == "usr_b"
    assert old["grade"] == 4.0 and old["superseded_by"] is None  # the original document is not touched here
    refused = problem(lambda: amended_result(old, outcome="passed", grade=5.49, pass_mark=5.5, at=AT, by="b",
                                             case_id="c", reason="r", new_id="x"))
    assert refused.errors[0]["field"] == "result.grade"  # type: ignore[index]


def test_an_exemption_is_valid_five_years_by_default() -> None:
    assert default_valid_until("exemption", AT) == date(2031, 11, 30)
    assert default_valid_until("exemption", datetime(2028, 2, 29, tzinfo=UTC)) == date(2033, 2, 28)
    assert default_valid_until("accommodation", AT) is None


def test_an_exemption_decided_late_in_the_evening_counts_from_the_schools_day() -> None:
    # 23:30 UTC on 30 November is 00:30 on 1 December in Amsterdam, where the board decided it
    assert default_valid_until("exemption", datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2031, 12, 1)
    assert default_valid_until("exemption", datetime(2027, 6, 30, 22, 30, tzinfo=UTC)) == date(2032, 7, 1)


def test_the_calendar_refuses_what_makes_no_sense_naming_the_entry() -> None:
    ok = check_holidays([(date(2026, 12, 21), date(2027, 1, 1), "Kerstvakantie"),
                         (date(2026, 10, 19), date(2026, 10, 23), "Herfstvakantie")])
    assert [h[2] for h in ok] == ["Herfstvakantie", "Kerstvakantie"]
    assert date(2026, 12, 25) in holiday_dates({"holidays": stored(ok)})
    cases = [
        ([(date(2026, 10, 23), date(2026, 10, 19), "x")], "holidays.0.end"),
        ([(date(1999, 1, 1), date(1999, 1, 1), "x")], "holidays.0.start"),
        ([(date(2026, 6, 1), date(2026, 12, 1), "x")], "holidays.0.end"),
        ([(date(2026, 10, 19), date(2026, 10, 23), "a"), (date(2026, 10, 22), date(2026, 10, 26), "b")],
         "holidays.1.start"),
        ([(date(2026, 1, 1), date(2026, 1, 1), str(n)) for n in range(201)], "holidays"),
    ]
    for holidays, field in cases:
        refused = problem(lambda h=holidays: check_holidays(h))
        assert refused.status == 422 and refused.errors[0]["field"] == field  # type: ignore[index]


@pytest.mark.parametrize("decided,latest", [
    (date(2026, 11, 30), date(2027, 11, 30)),
    (date(2028, 2, 29), date(2029, 2, 28)),  # no 29 February the year after
    (date(2026, 1, 31), date(2027, 1, 31)),
])
def test_an_exclusion_runs_twelve_months_at_most(decided: date, latest: date) -> None:
    assert latest_exclusion_day(decided) == latest


def test_an_exclusion_covers_its_exam_or_every_exam() -> None:
    until = datetime(2027, 3, 1, 22, 59, 59, 999000, tzinfo=UTC)  # 1 March, the school's day
    one = {"exam_id": "exm_a", "decision": {"excluded_until": until, "exclusion_scope": "exam"}}
    every = {"exam_id": "exm_a", "decision": {"excluded_until": until, "exclusion_scope": "all"}}
    assert exclusion_refusal([one], "exm_b") is None
    refusal = exclusion_refusal([one], "exm_a")
    assert refusal is not None and "dit examen" in refusal.nl and "2027-03-01" in refusal.en
    refusal = exclusion_refusal([every], "exm_b")
    assert refusal is not None and "alle examens" in refusal.nl and "01-03-2027" in refusal.nl
