"""The assignment state machine, without a server: approvals as signatures, the lock, adoption, edits, deletion."""

from datetime import UTC, datetime

import pytest

from contracts.exams import (
    AssignmentAdoptedV1,
    AssignmentApprovedV1,
    AssignmentAwaitingAdoptionV1,
    AssignmentDeletedV1,
    AssignmentPeopleChangedV1,
    AssignmentPreparedV1,
)
from exams.assignments import models
from exams.assignments.models import Refused

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
STUDENT, SUPERVISOR, TRAINER, ADOPTER, ADMIN = "u-stu", "u-sup", "u-wpt", "u-board", "u-admin"


def assignment(**overrides: object) -> dict:
    doc = {"_id": "asg-1", "school_id": "sch-1", "student_id": "stu-1", "student_user_id": STUDENT,
           "exam_id": "exm-1", "exam_version": 1, "exam_name": "PvB 1", "source": "individual", "title": "Zorgplan",
           "text": "Maak een zorgplan.", "cohort": 2024, "location": "De Linde", "desired_end_date": None,
           "attachment_ids": [], "preadopted": False, "state": "preparing", "approvals": [], "version": 1,
           "people": {"school_supervisor": SUPERVISOR, "first_assessor": "u-ass", "second_assessor": None,
                      "adopter": ADOPTER, "workplace_trainer": TRAINER}}
    doc.update(overrides)
    return doc


def all_approved(doc: dict, order: tuple[str, ...] = (STUDENT, SUPERVISOR, TRAINER)) -> tuple[dict, list]:
    events: list = []
    for user in order:
        doc, new_events = models.approve(doc, user_id=user, at=AT)
        events += new_events
    return doc, events


@pytest.mark.parametrize("order", [(STUDENT, SUPERVISOR, TRAINER), (TRAINER, STUDENT, SUPERVISOR),
                                   (SUPERVISOR, TRAINER, STUDENT)])
def test_the_three_approvals_in_any_order_lock_it_and_ask_the_adopter(order: tuple[str, ...]) -> None:
    doc, events = all_approved(assignment(), order)
    assert doc["state"] == "locked"
    assert [a["user_id"] for a in doc["approvals"]] == list(order)
    assert {a["role"] for a in doc["approvals"]} == {"student", "school_supervisor", "workplace_trainer"}
    assert [type(e) for e in events] == [AssignmentApprovedV1] * 3 + [AssignmentAwaitingAdoptionV1]
    assert events[-1].adopter_id == ADOPTER and events[2].locked and not events[0].locked


def test_an_approval_is_a_signature_of_the_exact_version() -> None:
    doc = assignment()
    signed, _ = models.approve(doc, user_id=STUDENT, at=AT)
    approval = signed["approvals"][0]
    assert approval == {"user_id": STUDENT, "role": "student", "at": AT, "version": 1,
                        "content_hash": models.content_hash(doc)}
    assert models.content_hash({**doc, "text": "Iets anders."}) != approval["content_hash"]


def test_approving_twice_is_refused_with_the_reason() -> None:
    doc, _ = models.approve(assignment(), user_id=STUDENT, at=AT)
    with pytest.raises(Refused) as refused:
        models.approve(doc, user_id=STUDENT, at=AT)
    assert refused.value.status == 409 and "already approved" in refused.value.detail.en


@pytest.mark.parametrize("state,reason", [("locked", "locked"), ("adopted", "locked"), ("deleted", "deleted")])
def test_approving_a_locked_or_deleted_assignment_is_refused(state: str, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        models.approve(assignment(state=state), user_id=STUDENT, at=AT)
    assert reason in refused.value.detail.en


def test_someone_not_named_cannot_approve() -> None:
    with pytest.raises(Refused) as refused:
        models.approve(assignment(), user_id="u-stranger", at=AT)
    assert refused.value.status == 403 and refused.value.slug == "not_named"


def test_only_the_named_adopter_adopts_and_only_after_every_approval() -> None:
    with pytest.raises(Refused) as early:
        models.adopt(assignment(), user_id=ADOPTER, at=AT)
    assert "student, school_supervisor, workplace_trainer" in early.value.detail.en
    locked, _ = all_approved(assignment())
    with pytest.raises(Refused) as other:
        models.adopt(locked, user_id="u-other-board", at=AT)
    assert other.value.status == 403
    adopted, events = models.adopt(locked, user_id=ADOPTER, at=AT)
    assert adopted["state"] == "adopted" and adopted["adopted_by"] == ADOPTER
    assert isinstance(events[0], AssignmentAdoptedV1)
    with pytest.raises(Refused):
        models.adopt(adopted, user_id=ADOPTER, at=AT)


def test_a_bank_assignment_marked_adopted_skips_adoption() -> None:
    doc, events = all_approved(assignment(preadopted=True))
    assert doc["state"] == "adopted" and doc["adopted_by"] is None
    assert isinstance(events[-1], AssignmentAdoptedV1)
    assert not any(isinstance(e, AssignmentAwaitingAdoptionV1) for e in events)


def test_editing_before_the_lock_asks_everyone_to_approve_the_new_version_again() -> None:
    doc, _ = models.approve(assignment(), user_id=STUDENT, at=AT)
    edited, events = models.edit(doc, text={"text": "Nieuwe tekst."}, people={}, by=SUPERVISOR, admin=False, at=AT)
    assert edited["approvals"] == [] and edited["superseded_approvals"][0]["user_id"] == STUDENT
    assert edited["version"] == doc["version"] + 1
    assert [type(e) for e in events] == [AssignmentPreparedV1]


def test_text_cannot_change_after_the_lock_and_people_only_by_the_admin_recorded() -> None:
    locked, _ = all_approved(assignment())
    with pytest.raises(Refused) as text:
        models.edit(locked, text={"text": "x"}, people={}, by=SUPERVISOR, admin=False, at=AT)
    assert "locked" in text.value.detail.en
    with pytest.raises(Refused) as people:
        models.edit(locked, text={}, people={"first_assessor": "u-ass2"}, by=SUPERVISOR, admin=False, at=AT)
    assert "school admin" in people.value.detail.en
    changed, events = models.edit(locked, text={}, people={"first_assessor": "u-ass2"}, by=ADMIN, admin=True, at=AT)
    assert changed["people"]["first_assessor"] == "u-ass2" and changed["approvals"] == locked["approvals"]
    assert changed["people_changes"] == [{"by": ADMIN, "at": AT, "before": locked["people"],
                                          "after": changed["people"]}]
    assert isinstance(events[0], AssignmentPeopleChangedV1) and events[0].before["first_assessor"] == "u-ass"


def test_an_edit_that_changes_nothing_makes_no_version() -> None:
    doc = assignment()
    same, events = models.edit(doc, text={"title": doc["title"]}, people={}, by=SUPERVISOR, admin=False, at=AT)
    assert same is doc and events == []


def test_deleting_only_before_execution_and_only_once() -> None:
    with pytest.raises(Refused) as started:
        models.delete(assignment(state="adopted"), by=SUPERVISOR, execution_started=True, at=AT)
    assert "Execution has started" in started.value.detail.en
    deleted, events = models.delete(assignment(), by=SUPERVISOR, execution_started=False, at=AT)
    assert deleted["state"] == "deleted" and isinstance(events[0], AssignmentDeletedV1)
    with pytest.raises(Refused):
        models.delete(deleted, by=SUPERVISOR, execution_started=False, at=AT)
    with pytest.raises(Refused):
        models.adopt(deleted, user_id=ADOPTER, at=AT)
