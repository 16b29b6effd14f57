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
    SUBJECT = "assignment_id"
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    approver_ids: list[str] = Field(description="Users whose approval is awaited")
    adopter_id: str | None = None
    attachment_ids: list[str] = Field(default_factory=list,
                                      description="Evidence file ids attached (e.g. copied from a bank assignment)")


@register
class BankAssignmentSavedV1(Event):
    """An assignment of the school's bank was added or changed; its editors may upload attachments to it."""

    TYPE = "exams.bank_assignment_saved"
    VERSION = 1
    SUBJECT = "bank_assignment_id"
    bank_assignment_id: str
    school_id: str
    exam_id: str
    version: int = Field(ge=1, description="The bank entry's version after this change")
    saved_by: str
    saved_at: datetime


@register
class AssignmentAwaitingAdoptionV1(Event):
    """Every approver approved; the adopter on behalf of the exam board may now adopt."""

    TYPE = "exams.assignment_awaiting_adoption"
    VERSION = 1
    SUBJECT = "assignment_id"
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
    SUBJECT = "attempt_id"
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
    SUBJECT = "attempt_id"
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
    SUBJECT = "attempt_id"
    attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str


@register
class ExamBoardCaseDecidedV1(Event):
    """The exam board decided a case (inspection, objection, exemption, accommodation, extra attempt, fraud)."""

    TYPE = "exams.board_case_decided"
    VERSION = 1
    SUBJECT = "case_id"
    case_id: str
    school_id: str
    student_id: str
    kind: str
    decided_at: datetime
    outcome: str | None = Field(default=None, description="e.g. granted, refused, new_assessment, amended, fraud")
    decided_by: str | None = None
    exam_id: str | None = None
    attempt_id: str | None = None
    result_id: str | None = Field(default=None, description="The superseding result the decision inserted, if any")


@register
class AssignmentApprovedV1(Event):
    """One approver signed an assignment: who, in which role, when, and the hash of the exact version signed."""

    TYPE = "exams.assignment_approved"
    VERSION = 1
    SUBJECT = "assignment_id"
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    approved_by: str
    role: str = Field(description="student, school_supervisor or workplace_trainer")
    approved_at: datetime
    content_hash: str = Field(description="SHA-256 of the assignment version approved")
    locked: bool = Field(description="True when this was the last approval and the assignment is now locked")


@register
class AssignmentAdoptedV1(Event):
    """The assignment was adopted on behalf of the exam board (or needed no adoption, being a bank assignment
    marked adopted); parts may now be scheduled."""

    TYPE = "exams.assignment_adopted"
    VERSION = 1
    SUBJECT = "assignment_id"
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    adopted_by: str | None = Field(default=None, description="None when a bank assignment was already adopted")
    adopted_at: datetime


@register
class AssignmentDeletedV1(Event):
    """A wrongly prepared assignment was deleted before execution started (it is kept, marked deleted)."""

    TYPE = "exams.assignment_deleted"
    VERSION = 1
    SUBJECT = "assignment_id"
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    deleted_by: str
    deleted_at: datetime


@register
class AssignmentPeopleChangedV1(Event):
    """The people named on an assignment changed; `people` is the full current set (role -> user id)."""

    TYPE = "exams.assignment_people_changed"
    VERSION = 1
    SUBJECT = "assignment_id"
    assignment_id: str
    school_id: str
    student_id: str
    exam_id: str
    changed_by: str
    changed_at: datetime
    people: dict[str, str | None]
    before: dict[str, str | None]


@register
class ExamPartRescheduledV1(Event):
    """A scheduled part of an attempt got a new moment, place or assessors; carries the full current state."""

    TYPE = "exams.part_rescheduled"
    VERSION = 1
    SUBJECT = "attempt_id"
    schedule_id: str
    attempt_id: str
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
class ExamPartCancelledV1(Event):
    """A scheduled part was cancelled (deregistration); a late cancellation forfeits the attempt."""

    TYPE = "exams.part_cancelled"
    VERSION = 1
    SUBJECT = "attempt_id"
    schedule_id: str
    attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    part_id: str
    part_name: str
    starts_at: datetime = Field(description="The moment that was cancelled")
    first_assessor_id: str
    second_assessor_id: str | None = None
    cancelled_by: str
    cancelled_at: datetime
    late: bool = Field(description="Cancelled after the deregistration deadline")
    attempt_forfeited: bool


@register
class PartAssessmentFinalizedV1(Event):
    """A scheduled part's assessment was submitted; `AssessmentFinalizedV1` follows once the last part is."""

    TYPE = "exams.part_assessment_finalized"
    VERSION = 1
    SUBJECT = "attempt_id"
    schedule_id: str
    attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    part_id: str
    finalized_by: str
    finalized_at: datetime
    divergences: int = Field(ge=0, description="Criteria on which the two assessors diverged (acknowledged)")


@register
class ResultAdoptedV1(Event):
    """The exam board adopted the result of an attempt; the student can now see it (the event carries no grade)."""

    TYPE = "exams.result_adopted"
    VERSION = 1
    SUBJECT = "attempt_id"
    result_id: str
    attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    adopted_by: str
    adopted_at: datetime


@register
class RetakeOpenedV1(Event):
    """A new attempt at an exam was opened after a fail (or by an exam-board decision); its parts need scheduling."""

    TYPE = "exams.retake_opened"
    VERSION = 1
    SUBJECT = "attempt_id"
    attempt_id: str
    attempt_number: int = Field(ge=2)
    previous_attempt_id: str
    school_id: str
    student_id: str
    exam_id: str
    exam_name: str
    opened_by: str
    opened_at: datetime
    case_id: str | None = Field(default=None, description="The exam-board decision that allowed it, if any")


@register
class ExamBoardCaseOpenedV1(Event):
    """A case was opened with the exam board (inspection, objection, exemption, accommodation, extra attempt, fraud)."""

    TYPE = "exams.board_case_opened"
    VERSION = 1
    SUBJECT = "case_id"
    case_id: str
    school_id: str
    student_id: str
    kind: str
    exam_id: str | None = None
    opened_by: str
    opened_at: datetime
    deadline: datetime = Field(description="When the board must decide (working days, holidays excluded)")
