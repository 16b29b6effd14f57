"""Request and response bodies of the enrollment API; every text refuses control characters at the edge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.values import EmailAddress, Line, PlainText
from enrollment.models import Relation

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Code = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
FirstName = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LastName = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
GroupName = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Category = Annotated[Line, StringConstraints(strip_whitespace=True, max_length=60)]
Description = Annotated[PlainText, StringConstraints(max_length=1000)]
Gender = Literal["male", "female", "other"]
START_YEAR = ("The student's cohort: the year they started (what schools call 'cohort'); not the programme's "
              "cohort, which is the start year of its qualification file")
StartYear = Annotated[int, Field(ge=2000, le=2100, description=START_YEAR)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


# --- programmes -----------------------------------------------------------------------------------

class ProgrammeIn(Strict):
    """A catalog programme: crebo, name, level, qualification-file cohort and kind."""

    crebo: str = Field(pattern=r"^\d{5}$")
    name: Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    level: int = Field(ge=1, le=4)
    cohort: int = Field(ge=2000, le=2100, description="Start year of the qualification file")
    kind: Literal["qualification", "elective"] = "qualification"


class ProgrammeOut(BaseModel):
    """A catalog programme."""

    id: str
    crebo: str
    name: str
    level: int
    cohort: int = Field(description="Start year of the qualification file (kwalificatiedossier)")
    kind: str


class ProgrammeList(BaseModel):
    """Catalog programmes."""

    items: list[ProgrammeOut]


class SchoolProgrammeIn(Strict):
    """Whether the school uses a programme, and the staff who work for it."""

    enabled: bool = True
    staff_ids: list[Id] = Field(default_factory=list, max_length=500)


class SchoolProgrammeOut(ProgrammeOut):
    """A programme as the school set it up."""

    enabled: bool
    staff_ids: list[str]


class SchoolProgrammeList(BaseModel):
    """The programmes a school enabled."""

    items: list[SchoolProgrammeOut]


# --- students -------------------------------------------------------------------------------------

class StudentIn(Strict):
    """A new student."""

    student_code: Code
    first_name: FirstName
    last_name: LastName
    email: EmailAddress
    gender: Gender | None = None
    date_of_birth: date | None = None
    start_year: StartYear | None = None
    programme_ids: list[Id] = Field(default_factory=list, max_length=50)
    group_ids: list[Id] = Field(default_factory=list, max_length=100)
    invite: bool = Field(default=True, description="E-mail the student a login code right away")
    language: Literal["nl", "en"] = "nl"


class StudentPatch(Strict):
    """Changes to a student's own fields."""

    student_code: Code | None = None
    first_name: FirstName | None = None
    last_name: LastName | None = None
    email: EmailAddress | None = None
    gender: Gender | None = None
    date_of_birth: date | None = None
    start_year: StartYear | None = None
    programme_ids: list[Id] | None = Field(default=None, max_length=50)


def student_values(body: BaseModel) -> dict[str, Any]:
    """The student fields a body sets; clearing is possible for the optional ones only."""
    values = body.model_dump(exclude_unset=True, exclude={"invite", "language"})
    if values.get("date_of_birth"):
        values["date_of_birth"] = values["date_of_birth"].isoformat()
    return {k: v for k, v in values.items() if v is not None or k in ("gender", "date_of_birth", "start_year")}


class Links(BaseModel):
    """The people linked to a student, by relation."""

    school_supervisor: list[str] = []
    assessor: list[str] = []
    workplace_trainer: list[str] = []


class StudentOut(BaseModel):
    """A student as the API shows it."""

    id: str
    school_id: str
    student_code: str
    first_name: str
    last_name: str
    email: str
    gender: str | None = None
    date_of_birth: str | None = None
    start_year: int | None = Field(default=None, description=START_YEAR)
    programme_ids: list[str] = []
    group_ids: list[str] = []
    links: Links
    user_id: str | None = Field(default=None, description="The student's own account, once identity linked it")
    archived: bool
    active: bool
    schedulable: bool = Field(description="A school supervisor is linked and the student is active, not archived")
    unavailable_exam_ids: list[str] = []
    progress_view: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class StudentPage(BaseModel):
    """One page of students; pass next_cursor as cursor for the next (null: this was the last)."""

    items: list[StudentOut]
    next_cursor: str | None


class LinkIn(Strict):
    """A person to link, by user id or by e-mail."""

    relation: Relation
    user_id: Id | None = None
    email: EmailAddress | None = None

    @model_validator(mode="after")
    def _someone(self) -> LinkIn:
        if not self.user_id and not self.email:
            raise ValueError("give user_id or email")
        return self


class BulkIn(Strict):
    """One action on a selection of students."""

    student_ids: list[Id] = Field(min_length=1, max_length=1000)
    action: Literal["link_programme", "add_to_group", "link_person", "mark_exam_unavailable",
                    "enable_progress_view"]
    programme_id: Id | None = None
    group_id: Id | None = None
    relation: Relation | None = None
    user_id: Id | None = None
    email: EmailAddress | None = None
    exam_id: Id | None = None

    @model_validator(mode="after")
    def _arguments(self) -> BulkIn:
        needed = {"link_programme": ["programme_id"], "add_to_group": ["group_id"], "link_person": ["relation"],
                  "mark_exam_unavailable": ["exam_id"], "enable_progress_view": []}[self.action]
        missing = [name for name in needed if getattr(self, name) is None]
        if self.action == "link_person" and not (self.user_id or self.email):
            missing.append("user_id")
        if missing:
            raise ValueError(f"{self.action} needs {', '.join(missing)}")
        return self


class BulkOut(BaseModel):
    """What a bulk action did."""

    action: str
    selected: int
    changed: int = Field(description="Students that changed (a repeat changes none)")


# --- groups ---------------------------------------------------------------------------------------

class GroupIn(Strict):
    """A student group."""

    name: GroupName
    category: Category | None = None
    description: Description | None = None


class GroupPatch(Strict):
    """Changes to a group."""

    name: GroupName | None = None
    category: Category | None = None
    description: Description | None = None


class GroupOut(BaseModel):
    """A student group."""

    id: str
    school_id: str
    name: str
    category: str | None = None
    description: str | None = None
    archived: bool
    created_at: datetime | None = None
    updated_at: datetime | None = None


class GroupPage(BaseModel):
    """One page of groups by name; pass next_cursor as cursor for the next."""

    items: list[GroupOut]
    next_cursor: str | None


class MembersIn(Strict):
    """Students to add to and remove from a group."""

    add: list[Id] = Field(default_factory=list, max_length=1000)
    remove: list[Id] = Field(default_factory=list, max_length=1000)


class MembersOut(BaseModel):
    """How many students were added and removed."""

    group_id: str
    added: int
    removed: int
