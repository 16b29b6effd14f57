"""Scheduling rules and the overview's states, without a server."""

from datetime import UTC, datetime, timedelta

import pytest

from exams.scheduling.models import PartPlan, expand, is_late, new_attempt_refusal
from exams.views.models import STATES, cell_state
from kit.errors import Problem

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PARTS = [{"code": "obs", "name": "Observatie"}, {"code": "int", "name": "Interview"},
         {"code": "prd", "name": "Product"}]
RULES = {"max_attempts": 3, "attempt_window_days": 365, "deregistration_days": 14}


def test_all_parts_at_once_take_the_assignments_assessors_and_location() -> None:
    plans = expand(PARTS, [], PartPlan("", T0, T0 + timedelta(hours=3)), ("u-ass1", "u-ass2"), "De Linde")
    assert [p.part_code for p in plans] == ["obs", "int", "prd"]
    assert {(p.first_assessor_id, p.second_assessor_id, p.location) for p in plans} == {
        ("u-ass1", "u-ass2", "De Linde")}


def test_copy_from_the_part_above_fills_only_what_is_not_given() -> None:
    later = T0 + timedelta(days=1)
    plans = expand(PARTS, [(PartPlan("obs", T0, None, "Zaal 1", "u-x"), False),
                           (PartPlan("int", later), True)], None, ("u-ass1", None), None)
    assert plans[1] == PartPlan("int", later, None, "Zaal 1", "u-x", None, False)


@pytest.mark.parametrize("requested,field", [
    ([(PartPlan("obs", T0, T0 - timedelta(minutes=1)), False)], "parts.0.ends_at"),
    ([(PartPlan("obs"), False)], "parts.0.starts_at"),
    ([(PartPlan("nope", T0), False)], "parts.0.part_code"),
    ([(PartPlan("obs", T0), False), (PartPlan("obs", T0), False)], "parts.1.part_code"),
    ([(PartPlan("obs", T0), True)], "parts.0.copy_from_above"),
    ([(PartPlan("obs", T0, None, None, "u-a", "u-a"), False)], "parts.0.second_assessor_id"),
])
def test_bad_plans_are_refused_naming_the_field(requested: list, field: str) -> None:
    with pytest.raises(Problem) as refused:
        expand(PARTS, requested, None, ("u-ass1", None), None)
    assert refused.value.status == 422 and refused.value.errors[0]["field"] == field


def test_a_past_end_date_is_fine() -> None:
    past = datetime(2020, 1, 1, tzinfo=UTC)
    assert expand(PARTS, [(PartPlan("obs", past, past + timedelta(hours=1)), False)], None, ("a", None), None)


def test_attempts_stop_at_the_maximum_and_outside_the_window() -> None:
    first = {"first_scheduled_at": T0}
    assert new_attempt_refusal([], RULES, T0) is None
    assert new_attempt_refusal([first, {}], RULES, T0 + timedelta(days=30)) is None
    assert "maximum of 3" in new_attempt_refusal([first, {}, {}], RULES, T0).en
    assert "window" in new_attempt_refusal([first], RULES, T0 + timedelta(days=366)).en
    assert new_attempt_refusal([first] * 5, {**RULES, "max_attempts": None}, T0) is None


def test_a_cancellation_inside_the_deregistration_period_is_late() -> None:
    part = {"starts_at": T0}
    assert not is_late(part, RULES, T0 - timedelta(days=15))
    assert is_late(part, RULES, T0 - timedelta(days=13))
    assert not is_late(part, {**RULES, "deregistration_days": 8}, T0 - timedelta(days=13))


@pytest.mark.parametrize("cell,state", [
    (None, "not_scheduled"),
    ({"parts_total": 3, "parts_scheduled": 0}, "not_scheduled"),
    ({"parts_total": 3, "parts_scheduled": 1, "first_start": T0 + timedelta(days=1)}, "partly_scheduled_not_started"),
    ({"parts_total": 3, "parts_scheduled": 2, "first_start": T0}, "partly_scheduled_started"),
    ({"parts_total": 3, "parts_scheduled": 3, "first_start": T0 + timedelta(seconds=1)}, "fully_scheduled_not_started"),
    ({"parts_total": 3, "parts_scheduled": 3, "first_start": T0 - timedelta(days=2)}, "fully_scheduled_started"),
    ({"parts_total": 3, "parts_scheduled": 3, "first_start": T0, "result": "passed"}, "passed"),
    ({"parts_total": 3, "parts_scheduled": 3, "first_start": T0, "result": "failed"}, "failed"),
])
def test_the_seven_overview_states(cell: dict | None, state: str) -> None:
    assert cell_state(cell, T0) == state
    assert state in STATES
