"""What a published exam must hold together, and the rules' defaults from DOMAIN.md."""

import pytest
from pydantic import ValidationError

from exams.catalog.models import Criterion, ExamSpec, Rules


def spec(**overrides: object) -> dict:
    body = {"programme_id": "prg-1", "code": "PVB1", "name": "PvB 1",
            "core_tasks": [{"code": "B1-K1", "name": "Zorg", "work_processes": [{"code": "W1", "name": "Plan"}]}],
            "parts": [{"code": "obs", "name": "Observatie", "core_tasks": ["B1-K1"],
                       "criteria": [{"code": "c1", "text": "Plant de zorg", "work_process": "W1"}]}]}
    body.update(overrides)
    return body


def test_a_consistent_exam_gets_the_default_rules() -> None:
    exam = ExamSpec.model_validate(spec())
    assert exam.rules == Rules()
    assert (exam.rules.pass_mark, exam.rules.max_attempts, exam.rules.attempt_window_days, exam.rules.counts,
            exam.rules.deregistration_days, exam.rules.decimals, exam.rules.final_grade) == (
        5.5, 3, 365, "last", 14, "truncate", "round_whole")


@pytest.mark.parametrize("overrides,reason", [
    ({"parts": [{"code": "obs", "name": "O", "core_tasks": ["B1-K1"],
                 "criteria": [{"code": "c1", "text": "t", "work_process": "W9"}]}]}, "unknown work processes: W9"),
    ({"parts": [{"code": "obs", "name": "O", "core_tasks": ["K9"],
                 "criteria": [{"code": "c1", "text": "t", "work_process": "W1"}]}]}, "unknown core tasks: K9"),
    ({"parts": [{"code": "obs", "name": "O", "core_tasks": ["B1-K1"],
                 "criteria": [{"code": "c1", "text": "t", "work_process": "W1"}] * 2}]}, "duplicate criterion codes"),
    ({"core_tasks": [{"code": "B1-K1", "name": "Z", "work_processes": [{"code": "W1", "name": "P"}]},
                     {"code": "B1-K2", "name": "Y", "work_processes": [{"code": "W2", "name": "Q"}]}]},
     "core tasks without a part: B1-K2"),
])
def test_an_inconsistent_exam_is_refused_with_the_reason(overrides: dict, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ExamSpec.model_validate(spec(**overrides))
    assert reason in str(refused.value)


def test_scores_needing_a_justification_default_per_scoring_and_are_checked() -> None:
    assert Criterion(code="c", text="t", work_process="W").needs_justification() == ["fail"]
    assert Criterion(code="c", text="t", work_process="W", scoring="scale_1_5").needs_justification() == ["1", "2", "5"]
    with pytest.raises(ValidationError):
        Criterion(code="c", text="t", work_process="W", scoring="scale_1_5", justification_required_for=["fail"])
