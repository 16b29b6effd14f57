"""Events published by the exams service (topic exams.events)."""

from datetime import datetime

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register


@register
class AssignmentPreparedV1(Event):
    """An exam assignment was prepared for a student and waits for the approvers (student, supervisor,
    workplace trainer); the adopter adopts it once all approved."""

    TYPE = "exams.assignment_prepared"
    VERSION = 1
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    approver_ids: list[str] = Field(description="Users whose approval is awaited")
    adopter_id: str | None = None


@register
class AssignmentAwaitingAdoptionV1(Event):
    """Every approver approved; the adopter on behalf of the exam board may now adopt."""

    TYPE = "exams.assignment_awaiting_adoption"
    VERSION = 1
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    adopter_id: str


@register
class ExamPartScheduledV1(Event):
    """A part of a student's exam attempt was scheduled; from starts_at it may be assessed."""

    TYPE = "exams.part_scheduled"
    VERSION = 1
    attempt_id: str = Field(description="The student's attempt at the exam (1 = first, 2 = first retake ...)")
    attempt_number: int = Field(ge=1)
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    part_id: str
    part_name: str
    starts_at: datetime
    ends_at: datetime | None = None
    location: str | None = None
    first_assessor_id: str
    second_assessor_id: str | None = None
    second_assessor_may_submit: bool = False


@register
class AssessmentFinalizedV1(Event):
    """The assessment of an exam attempt was submitted: nothing can be corrected, evidence is locked."""

    TYPE = "exams.assessment_finalized"
    VERSION = 1
    attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    finalized_by: str
    finalized_at: datetime


@register
class ResultAvailableV1(Event):
    """A result of an exam attempt is available in the platform (the event carries no result)."""

    TYPE = "exams.result_available"
    VERSION = 1
    attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str


@register
class ExamBoardCaseDecidedV1(Event):
    """The exam board decided a case (objection, exemption, accommodation, extra attempt, irregularity)."""

    TYPE = "exams.board_case_decided"
    VERSION = 1
    case_id: str
    school_id: str
    student_id: str
    kind: str
    decided_at: datetime
