"""The assignment's state machine as pure functions: (assignment, command) -> (new assignment, events). No I/O.

preparing --(student, supervisor and workplace trainer all approved)--> locked --(adopter adopts)--> adopted
A bank assignment marked adopted goes from preparing straight to adopted. Any state before execution
--delete--> deleted (kept, never removed). Text edits only while preparing; people changes after the lock
only by the school admin, always recorded.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from contracts import Event
from contracts.exams import (
    AssignmentAdoptedV1,
    AssignmentApprovedV1,
    AssignmentAwaitingAdoptionV1,
    AssignmentDeletedV1,
    AssignmentPeopleChangedV1,
    AssignmentPreparedV1,
)
from kit.errors import Problem, Text

Doc = dict[str, Any]

PREPARING, LOCKED, ADOPTED, DELETED = "preparing", "locked", "adopted", "deleted"
APPROVER_ROLES = ("student", "school_supervisor", "workplace_trainer")
PEOPLE = ("school_supervisor", "first_assessor", "second_assessor", "adopter", "workplace_trainer")
TEXT_FIELDS = ("title", "text", "cohort", "location", "desired_end_date")
HASHED = ("exam_id", "exam_version", "student_id", "source", *TEXT_FIELDS, "attachment_ids", "people")


class Refused(Problem):
    """An illegal step of the state machine: 409 with the reason (403 when the caller is not named)."""

    def __init__(self, reason: Text, *, not_named: bool = False) -> None:
        super().__init__(403 if not_named else 409, "not_named" if not_named else "illegal_transition",
                         detail=reason)


def content_hash(a: Doc) -> str:
    """SHA-256 of exactly what an approver signs: the exam version, the text and the people."""
    signed = {k: a.get(k) for k in HASHED}
    return hashlib.sha256(json.dumps(signed, sort_keys=True, default=str).encode()).hexdigest()


def approvers(a: Doc) -> dict[str, str | None]:
    """Who must approve, per role."""
    return {"student": a.get("student_user_id"), "school_supervisor": a["people"]["school_supervisor"],
            "workplace_trainer": a["people"]["workplace_trainer"]}


def pending_roles(a: Doc) -> list[str]:
    """The approver roles still to approve."""
    done = {x["role"] for x in a["approvals"]}
    return [r for r in APPROVER_ROLES if r not in done]


def prepared_events(a: Doc) -> list[Event]:
    """The fact of a newly prepared assignment, asking the approvers for their approval."""
    ids = [u for u in approvers(a).values() if u]
    return [AssignmentPreparedV1(assignment_id=a["_id"], school_id=a["school_id"], student_id=a["student_id"],
                                 exam_id=a["exam_id"], exam_name=a["exam_name"], approver_ids=list(dict.fromkeys(ids)),
                                 adopter_id=a["people"]["adopter"], attachment_ids=list(a.get("attachment_ids", [])))]


def _not_deleted(a: Doc) -> None:
    if a["state"] == DELETED:
        raise Refused(Text("Deze opdracht is verwijderd.", "This assignment was deleted."))


def approve(a: Doc, *, user_id: str, at: datetime) -> tuple[Doc, list[Event]]:
    """A named approver signs the current version; the last signature locks (or, pre-adopted, adopts) it."""
    _not_deleted(a)
    if a["state"] != PREPARING:
        raise Refused(Text("Alle goedkeuringen zijn al gegeven: de opdracht is vergrendeld.",
                           "Every approval was already given: the assignment is locked."))
    mine = [role for role, uid in approvers(a).items() if uid == user_id]
    if not mine:
        raise Refused(Text("Alleen de student, de begeleider en de praktijkopleider op deze opdracht keuren goed.",
                           "Only the student, supervisor and workplace trainer named on it approve."), not_named=True)
    todo = [r for r in mine if r in pending_roles(a)]
    if not todo:
        raise Refused(Text("U heeft deze opdracht al goedgekeurd.", "You already approved this assignment."))
    digest = content_hash(a)
    approvals = [*a["approvals"], *({"user_id": user_id, "role": r, "at": at, "content_hash": digest,
                                     "version": a["version"]} for r in todo)]
    new = {**a, "approvals": approvals, "version": a["version"] + 1, "updated_at": at}
    locked = not pending_roles(new)
    events: list[Event] = [AssignmentApprovedV1(
        assignment_id=a["_id"], school_id=a["school_id"], student_id=a["student_id"], exam_id=a["exam_id"],
        approved_by=user_id, role=r, approved_at=at, content_hash=digest, locked=locked) for r in todo]
    if locked:
        new.update(state=LOCKED, locked_at=at)
        if a.get("preadopted"):
            new.update(state=ADOPTED, adopted_at=at, adopted_by=None)
            events.append(_adopted(new, None, at))
        else:
            events.append(AssignmentAwaitingAdoptionV1(
                assignment_id=a["_id"], school_id=a["school_id"], student_id=a["student_id"], exam_id=a["exam_id"],
                exam_name=a["exam_name"], adopter_id=a["people"]["adopter"]))
    return new, events


def _adopted(a: Doc, by: str | None, at: datetime) -> AssignmentAdoptedV1:
    return AssignmentAdoptedV1(assignment_id=a["_id"], school_id=a["school_id"], student_id=a["student_id"],
                               exam_id=a["exam_id"], exam_name=a["exam_name"], adopted_by=by, adopted_at=at)


def adopt(a: Doc, *, user_id: str, at: datetime) -> tuple[Doc, list[Event]]:
    """The named adopter adopts a locked assignment on behalf of the exam board."""
    _not_deleted(a)
    if a["state"] == ADOPTED:
        raise Refused(Text("Deze opdracht is al vastgesteld.", "This assignment is already adopted."))
    if a["state"] == PREPARING:
        raise Refused(Text("Nog niet iedereen heeft goedgekeurd: " + ", ".join(pending_roles(a)) + ".",
                           "Not everyone approved yet: " + ", ".join(pending_roles(a)) + "."))
    if a["people"]["adopter"] != user_id:
        raise Refused(Text("Alleen de vaststeller op deze opdracht mag vaststellen.",
                           "Only the adopter named on this assignment may adopt it."), not_named=True)
    new = {**a, "state": ADOPTED, "adopted_by": user_id, "adopted_at": at, "version": a["version"] + 1,
           "updated_at": at}
    return new, [_adopted(new, user_id, at)]


def edit(a: Doc, *, text: Doc, people: Doc, by: str, admin: bool, at: datetime) -> tuple[Doc, list[Event]]:
    """Change text and/or people: text only before the lock; people after it only by the school admin."""
    _not_deleted(a)
    text = {k: v for k, v in text.items() if a.get(k) != v}
    people_after = {**a["people"], **people}
    people_changed = people_after != a["people"]
    if a["state"] != PREPARING:
        if text:
            raise Refused(Text("De opdracht is vergrendeld: de tekst kan niet meer worden gewijzigd.",
                               "The assignment is locked: its text can no longer change."))
        if people_changed and not admin:
            raise Refused(Text("Na vergrendeling mag alleen de beheerder de personen wijzigen.",
                               "After the lock only the school admin may change the people."))
    if not text and not people_changed:
        return a, []
    new = {**a, **text, "people": people_after, "version": a["version"] + 1, "updated_at": at}
    events: list[Event] = []
    if people_changed:
        new["people_changes"] = [*a.get("people_changes", []),
                                 {"by": by, "at": at, "before": a["people"], "after": people_after}]
        events.append(AssignmentPeopleChangedV1(
            assignment_id=a["_id"], school_id=a["school_id"], student_id=a["student_id"], exam_id=a["exam_id"],
            changed_by=by, changed_at=at, people=people_after, before=a["people"]))
    if a["state"] == PREPARING and a["approvals"]:
        # Approvals sign one exact version: a changed assignment must be approved again.
        new["superseded_approvals"] = [*a.get("superseded_approvals", []), *a["approvals"]]
        new["approvals"] = []
        events += prepared_events(new)
    return new, events


def delete(a: Doc, *, by: str, execution_started: bool, at: datetime) -> tuple[Doc, list[Event]]:
    """Delete a wrongly prepared assignment, only before execution started (it is kept, marked deleted)."""
    _not_deleted(a)
    if execution_started:
        raise Refused(Text("De uitvoering is al begonnen (er is een onderdeel ingepland): verwijderen kan niet meer.",
                           "Execution has started (a part is scheduled): it can no longer be deleted."))
    new = {**a, "state": DELETED, "deleted_by": by, "deleted_at": at, "version": a["version"] + 1, "updated_at": at}
    return new, [AssignmentDeletedV1(assignment_id=a["_id"], school_id=a["school_id"], student_id=a["student_id"],
                                     exam_id=a["exam_id"], deleted_by=by, deleted_at=at)]


def attach(a: Doc, *, file_id: str, at: datetime) -> tuple[Doc, list[Event]]:
    """A file the supervisor uploaded for the assignment: part of what is signed while preparing.

    Before the lock it joins `attachment_ids` and, like any change, asks the approvers again. After the lock the
    signed content cannot change, so it is kept apart in `late_attachment_ids`. A replay changes nothing.
    """
    if a["state"] == DELETED or file_id in a.get("attachment_ids", []) or file_id in a.get("late_attachment_ids", []):
        return a, []
    if a["state"] != PREPARING:
        return {**a, "late_attachment_ids": [*a.get("late_attachment_ids", []), file_id],
                "version": a["version"] + 1, "updated_at": at}, []
    new = {**a, "attachment_ids": [*a.get("attachment_ids", []), file_id], "version": a["version"] + 1,
           "updated_at": at}
    if not a["approvals"]:
        return new, []
    new["superseded_approvals"] = [*a.get("superseded_approvals", []), *a["approvals"]]
    new["approvals"] = []
    return new, prepared_events(new)
