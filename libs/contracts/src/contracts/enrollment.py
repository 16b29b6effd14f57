"""Events published by the enrollment service (topic enrollment.events)."""

from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register
from contracts.values import EmailAddress

Relation = Literal["school_supervisor", "assessor", "workplace_trainer"]


@register
class StudentCreatedV1(Event):
    """A student record was created (by hand or by import); identity creates or links the account."""

    TYPE = "enrollment.student_created"
    VERSION = 1
    SUBJECT = "student_id"
    student_id: str
    school_id: str
    student_code: str = Field(max_length=40)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=150)
    email: EmailAddress
    programme_ids: list[str] = Field(default_factory=list)
    invite: bool = False
    language: Literal["nl", "en"] = "nl"


@register
class StudentUpdatedV1(Event):
    """A student record changed; carries the full current state."""

    TYPE = "enrollment.student_updated"
    VERSION = 1
    SUBJECT = "student_id"
    student_id: str
    school_id: str
    student_code: str
    first_name: str
    last_name: str
    email: EmailAddress
    programme_ids: list[str] = Field(default_factory=list)
    archived: bool = False
    active: bool = True


@register
class StudentArchivedV1(Event):
    """A student was archived: hidden from everyone but the school admin, never deleted."""

    TYPE = "enrollment.student_archived"
    VERSION = 1
    SUBJECT = "student_id"
    student_id: str
    school_id: str


@register
class PersonLinkedV1(Event):
    """A person (user) was linked to a student as supervisor, assessor or workplace trainer."""

    TYPE = "enrollment.person_linked"
    VERSION = 1
    SUBJECT = "student_id"
    student_id: str
    school_id: str
    user_id: str
    relation: Relation


@register
class PersonUnlinkedV1(Event):
    """A person's link to a student was removed."""

    TYPE = "enrollment.person_unlinked"
    VERSION = 1
    SUBJECT = "student_id"
    student_id: str
    school_id: str
    user_id: str
    relation: Relation


ProgrammeKind = Literal["qualification", "elective"]


@register
class ProgrammePublishedV1(Event):
    """The operator published (or corrected) a programme in the catalog for all schools."""

    TYPE = "enrollment.programme_published"
    VERSION = 1
    SUBJECT = "programme_id"
    programme_id: str
    crebo: str = Field(max_length=10)
    name: str = Field(max_length=200)
    level: int = Field(ge=1, le=4)
    cohort: int = Field(description="Start year of the qualification file (kwalificatiedossier)")
    kind: ProgrammeKind = "qualification"


@register
class ProgrammeEnabledV1(Event):
    """A school enabled a catalog programme; `staff_ids` are the staff linked to it there."""

    TYPE = "enrollment.programme_enabled"
    VERSION = 1
    SUBJECT = "programme_id"
    programme_id: str
    school_id: str
    enabled: bool = True
    staff_ids: list[str] = Field(default_factory=list)


@register
class GroupChangedV1(Event):
    """A student group was created or changed (archived included); carries the full current state."""

    TYPE = "enrollment.group_changed"
    VERSION = 1
    SUBJECT = "group_id"
    group_id: str
    school_id: str
    name: str = Field(max_length=120)
    category: str | None = None
    description: str | None = None
    archived: bool = False


@register
class GroupMembersChangedV1(Event):
    """Students were added to or removed from a group (many at once)."""

    TYPE = "enrollment.group_members_changed"
    VERSION = 1
    SUBJECT = "group_id"
    group_id: str
    school_id: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


@register
class ExamUnavailableMarkedV1(Event):
    """An exam was made unavailable (or available again) for particular students."""

    TYPE = "enrollment.exam_unavailable_marked"
    VERSION = 1
    SUBJECT = "exam_id"
    exam_id: str
    school_id: str
    student_ids: list[str]
    unavailable: bool = True


@register
class ProgressViewChangedV1(Event):
    """Students' progress view was enabled (or disabled)."""

    TYPE = "enrollment.progress_view_changed"
    VERSION = 1
    SUBJECT = "school_id"
    school_id: str
    student_ids: list[str]
    enabled: bool = True
