"""Scheduling rules as pure functions: expanding part plans, attempts and their window, late cancellation. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from contracts import Event
from contracts.exams import ExamPartCancelledV1, ExamPartRescheduledV1, ExamPartScheduledV1
from kit.errors import Problem, Text, field_error

Doc = dict[str, Any]
SCHEDULED, CANCELLED = "scheduled", "cancelled"
IN_EXECUTION, FORFEITED = "in_execution", "forfeited"


@dataclass(frozen=True)
class PartPlan:
    """When, where and by whom one part is taken."""

    part_code: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None
    first_assessor_id: str | None = None
    second_assessor_id: str | None = None
    second_assessor_may_submit: bool = False


def _invalid(field: str, nl: str, en: str) -> Problem:
    return Problem(422, "validation", detail=Text(nl, en), errors=[field_error(field, en)])


def expand(exam_parts: list[Doc], requested: list[tuple[PartPlan, bool]], all_parts: PartPlan | None,
           default_assessors: tuple[str, str | None], location: str | None) -> list[PartPlan]:
    """The concrete plan per part: `all_parts` applies to every part; `copy` takes unset fields from the part above."""
    codes = [p["code"] for p in exam_parts]
    if all_parts is not None:
        requested = [(replace(all_parts, part_code=c), False) for c in codes]
    if not requested:
        raise _invalid("parts", "Kies een of meer onderdelen, of alle.", "Choose one or more parts, or all_parts.")
    plans: list[PartPlan] = []
    for index, (plan, copy) in enumerate(requested):
        if plan.part_code not in codes:
            raise _invalid(f"parts.{index}.part_code", "Dit examen heeft dit onderdeel niet.",
                           "This exam has no such part.")
        if copy:
            if not plans:
                raise _invalid(f"parts.{index}.copy_from_above", "Er is geen onderdeel erboven om te kopiëren.",
                               "There is no part above to copy from.")
            above = plans[-1]
            plan = PartPlan(plan.part_code, plan.starts_at or above.starts_at, plan.ends_at or above.ends_at,
                            plan.location or above.location, plan.first_assessor_id or above.first_assessor_id,
                            plan.second_assessor_id or above.second_assessor_id,
                            plan.second_assessor_may_submit or above.second_assessor_may_submit)
        plan = replace(plan, first_assessor_id=plan.first_assessor_id or default_assessors[0],
                       second_assessor_id=plan.second_assessor_id if plan.first_assessor_id else
                       (plan.second_assessor_id or default_assessors[1]), location=plan.location or location)
        check_moment(plan.starts_at, plan.ends_at, f"parts.{index}")
        if plan.second_assessor_id == plan.first_assessor_id:
            raise _invalid(f"parts.{index}.second_assessor_id", "De tweede examinator moet iemand anders zijn.",
                           "The second assessor must be another person.")
        if plan.part_code in (p.part_code for p in plans):
            raise _invalid(f"parts.{index}.part_code", "Dit onderdeel staat er twee keer in.",
                           "This part is listed twice.")
        plans.append(plan)
    return plans


def check_moment(starts_at: datetime | None, ends_at: datetime | None, where: str) -> None:
    """A start is required; an end (advisory, may be past) must not be before it."""
    if starts_at is None:
        raise _invalid(f"{where}.starts_at", "Een begintijd is verplicht.", "A start time is required.")
    if ends_at is not None and ends_at < starts_at:
        raise _invalid(f"{where}.ends_at", "Het einde ligt voor het begin.", "The end is before the start.")


def window_end(previous: list[Doc], rules: Doc) -> datetime | None:
    """When the exam's attempt window ends: its days after the first scheduled moment of the first attempt."""
    firsts = [p["first_scheduled_at"] for p in previous if p.get("first_scheduled_at")]
    return min(firsts) + timedelta(days=rules.get("attempt_window_days", 365)) if firsts else None


def new_attempt_refusal(previous: list[Doc], rules: Doc, at: datetime) -> Text | None:
    """Why another attempt may not start now (maximum, window), or None; beyond them only the exam board decides."""
    maximum = rules.get("max_attempts")
    if maximum is not None and len(previous) >= maximum:
        return Text(f"Het maximum van {maximum} pogingen is bereikt; alleen de examencommissie kan een extra poging "
                    "toekennen.", f"The maximum of {maximum} attempts is reached; only the exam board can grant "
                    "an extra attempt.")
    ends = window_end(previous, rules)
    if ends is not None and at > ends:
        return Text("De termijn voor pogingen is verstreken; alleen de examencommissie kan nog een poging toekennen.",
                    "The attempt window has passed; only the exam board can grant another attempt.")
    return None


def is_late(schedule: Doc, rules: Doc, at: datetime) -> bool:
    """True when a cancellation comes after the deregistration deadline (then the attempt is lost)."""
    deadline: datetime = schedule["starts_at"] - timedelta(days=int(rules.get("deregistration_days", 14)))
    return at > deadline


def scheduled_event(s: Doc, attempt_number: int) -> Event:
    """The fact that a part was scheduled."""
    return ExamPartScheduledV1(**_fields(s), attempt_number=attempt_number)


def rescheduled_event(s: Doc, attempt_number: int) -> Event:
    """The fact that a part got a new moment, place or assessors."""
    return ExamPartRescheduledV1(schedule_id=s["_id"], **_fields(s), attempt_number=attempt_number)


def cancelled_event(s: Doc, *, by: str, at: datetime, late: bool, forfeited: bool) -> Event:
    """The fact that a part was cancelled."""
    return ExamPartCancelledV1(schedule_id=s["_id"], attempt_id=s["attempt_id"], school_id=s["school_id"],
                               student_id=s["student_id"], exam_id=s["exam_id"], exam_name=s["exam_name"],
                               part_id=s["part_id"], part_name=s["part_name"], starts_at=s["starts_at"],
                               first_assessor_id=s["first_assessor_id"], second_assessor_id=s["second_assessor_id"],
                               cancelled_by=by, cancelled_at=at, late=late, attempt_forfeited=forfeited)


def _fields(s: Doc) -> Doc:
    keys = ("attempt_id", "school_id", "student_id", "exam_id", "exam_name", "part_id", "part_name", "starts_at",
            "ends_at", "location", "first_assessor_id", "second_assessor_id", "second_assessor_may_submit")
    return {k: s[k] for k in keys}
