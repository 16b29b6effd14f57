"""Who may read and act on what: the role rules, as pure functions over the caller and the projections.

The queries that apply them live in projections/repository.py (`reader_filter`); this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from exams.common import Doc, forbidden
from kit.auth import Principal, Role
from kit.errors import Text

RELATION_FIELD = {"school_supervisor": "supervisor_ids", "assessor": "assessor_ids",
                  "workplace_trainer": "trainer_ids"}


@dataclass(frozen=True)
class Reader:
    """What one caller may read of a school's students."""

    school_id: str
    user_id: str
    everyone: bool = False  # school admin and exam board
    archived: bool = False  # only the school admin sees archived students
    supervised: bool = False
    assessed: bool = False
    trained: bool = False
    self_only: bool = False

    @property
    def nobody(self) -> bool:
        """True when the caller may read no student at all."""
        return not (self.everyone or self.supervised or self.assessed or self.trained or self.self_only)


def reader(principal: Principal, school_id: str) -> Reader:
    """The reading rights of a caller in a school, from the roles in their token."""
    roles = principal.roles_in(school_id)
    admin = Role.SCHOOL_ADMIN in roles
    return Reader(
        school_id=school_id, user_id=principal.subject,
        everyone=admin or Role.EXAM_BOARD in roles, archived=admin,
        supervised=Role.SCHOOL_SUPERVISOR in roles, assessed=Role.ASSESSOR in roles,
        trained=Role.WORKPLACE_TRAINER in roles, self_only=Role.STUDENT in roles,
    )


def may_read(rights: Reader, student: Doc) -> bool:
    """True when the caller may read this student (a projection document)."""
    if student.get("archived") and not rights.archived:
        return False
    if rights.everyone:
        return True
    uid = rights.user_id
    return bool(
        (rights.supervised and uid in student.get("supervisor_ids", []))
        or (rights.assessed and (uid in student.get("assessor_ids", []) or uid in student.get("assessing_ids", [])))
        or (rights.trained and uid in student.get("trainer_ids", []))
        or (rights.self_only and student.get("user_id") == uid)
    )


def related(rights: Reader, relations: str) -> bool:
    """The roles in the caller's token match their relation to a student (roster letters s, a, t, x)."""
    return bool((rights.supervised and "s" in relations) or (rights.trained and "t" in relations)
                or (rights.assessed and ("a" in relations or "x" in relations)))


def require_readable(rights: Reader, student: Doc | None) -> Doc:
    """The student, when the caller may read them; otherwise 404 (another school's students do not exist)."""
    from exams.common import not_found

    if student is None or not may_read(rights, student):
        raise not_found("Deze student", "student")
    return student


def is_self(principal: Principal, student: Doc) -> bool:
    """The caller is this student (who learns of a result only once the exam board adopted it)."""
    return student.get("user_id") == principal.subject


def may_prepare(principal: Principal, school_id: str, student: Doc) -> bool:
    """Supervisors prepare for their linked students; the school admin for anyone in the school."""
    roles = principal.roles_in(school_id)
    if Role.SCHOOL_ADMIN in roles:
        return True
    return Role.SCHOOL_SUPERVISOR in roles and principal.subject in student.get("supervisor_ids", [])


def require_preparer(principal: Principal, school_id: str, student: Doc) -> None:
    """Refuse someone who may not prepare, edit or schedule for this student."""
    if not may_prepare(principal, school_id, student):
        raise forbidden(Text("Alleen een gekoppelde begeleider of de beheerder mag dit voor deze student doen.",
                             "Only a linked supervisor or the school admin may do this for this student."))
