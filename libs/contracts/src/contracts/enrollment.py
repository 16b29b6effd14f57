"""Events published by the enrollment service (topic enrollment.events)."""

from typing import Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register

Relation = Literal["school_supervisor", "assessor", "workplace_trainer"]


@register
class StudentCreatedV1(Event):
    """A student record was created (by hand or by import); identity creates or links the account."""

    TYPE = "enrollment.student_created"
    VERSION = 1
    student_id: str
    school_id: str
    student_code: str = Field(max_length=40)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=150)
    email: str
    programme_ids: list[str] = Field(default_factory=list)
    invite: bool = False
    language: Literal["nl", "en"] = "nl"


@register
class StudentUpdatedV1(Event):
    """A student record changed; carries the full current state."""

    TYPE = "enrollment.student_updated"
    VERSION = 1
    student_id: str
    school_id: str
    student_code: str
    first_name: str
    last_name: str
    email: str
    programme_ids: list[str] = Field(default_factory=list)
    archived: bool = False
    active: bool = True


@register
class StudentArchivedV1(Event):
    """A student was archived: hidden from everyone but the school admin, never deleted."""

    TYPE = "enrollment.student_archived"
    VERSION = 1
    student_id: str
    school_id: str


@register
class PersonLinkedV1(Event):
    """A person (user) was linked to a student as supervisor, assessor or workplace trainer."""

    TYPE = "enrollment.person_linked"
    VERSION = 1
    student_id: str
    school_id: str
    user_id: str
    relation: Relation


@register
class PersonUnlinkedV1(Event):
    """A person's link to a student was removed."""

    TYPE = "enrollment.person_unlinked"
    VERSION = 1
    student_id: str
    school_id: str
    user_id: str
    relation: Relation
