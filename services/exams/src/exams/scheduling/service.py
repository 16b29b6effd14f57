"""Scheduling use cases: schedule parts for many assignments, reschedule, cancel. Never commits."""

from __future__ import annotations

from datetime import datetime

from contracts import Event
from exams import readmodel
from exams.access import reader, require_readable
from exams.assignments import repository as assignments
from exams.assignments.service import check_people_roles
from exams.cases.exclusion import require_not_excluded
from exams.catalog import repository as catalog
from exams.common import Doc, Session, check_version, forbidden, not_found, refuse
from exams.events import stage
from exams.projections import repository as people
from exams.scheduling import models
from exams.scheduling import repository as repo
from exams.scheduling.models import PartPlan
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Text
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

ASSESSED = Text("De beoordeling van dit onderdeel is definitief: het kan niet meer worden verzet of afgemeld.",
                "The assessment of this part is final: it can no longer be rescheduled or cancelled.")


async def require_scheduler(db: Db, principal: Principal, school_id: str, student: Doc) -> None:
    """Linked supervisors and the school admin schedule; assessors too when the school allows it."""
    roles = principal.roles_in(school_id)
    if Role.SCHOOL_ADMIN in roles or (Role.SCHOOL_SUPERVISOR in roles and
                                      principal.subject in student.get("supervisor_ids", [])):
        return
    if Role.ASSESSOR in roles and (await repo.school_settings(db, school_id))["assessors_may_schedule"] and \
            principal.subject in {*student.get("assessor_ids", []), *student.get("assessing_ids", [])}:
        return
    raise forbidden(Text("Alleen een gekoppelde begeleider of de beheerder mag deze student inplannen.",
                         "Only a linked supervisor or the school admin may schedule this student."))


async def _assignment(db: Db, session: Session, principal: Principal, school_id: str, assignment_id: str) -> Doc:
    doc = await assignments.get(db, school_id, assignment_id, session)
    student = await people.get_student(db, school_id, doc["student_id"], session) if doc else None
    if doc is None or student is None:
        raise not_found("Deze opdracht", "assignment")
    require_readable(reader(principal, school_id), student)
    await require_scheduler(db, principal, school_id, student)
    if doc["state"] != "adopted":
        raise refuse(Text(f"Opdracht {assignment_id} is nog niet vastgesteld (status {doc['state']}): "
                          "inplannen kan niet.",
                          f"Assignment {assignment_id} is not adopted (state {doc['state']}): it cannot be scheduled."))
    return doc


async def _attempt(db: Db, session: Session, assignment: Doc, rules: Doc, at: datetime) -> Doc:
    """The assignment's attempt in execution, or a new one (next number) within the maximum and window."""
    current = await repo.open_attempt(db, session, assignment_id=assignment["_id"])
    if current is not None and current.get("result_id"):
        previous = [current]
    elif current is not None:
        if current.get("assessed_at"):
            raise refuse(Text(f"Poging {current['number']} is al beoordeeld: er kan niets meer bij.",
                              f"Attempt {current['number']} has been assessed: nothing can be added to it."))
        return current
    else:
        previous = await repo.attempts_of(db, session, school_id=assignment["school_id"],
                                          student_id=assignment["student_id"], exam_id=assignment["exam_id"])
    if previous and previous[-1].get("result_id"):
        number = previous[-1]["number"]
        raise refuse(Text(f"Poging {number} heeft een resultaat: open eerst een herkansing "
                          f"(POST /attempts/{previous[-1]['_id']}/retake), en plan die dan in.",
                          f"Attempt {number} has a result: open a retake first "
                          f"(POST /attempts/{previous[-1]['_id']}/retake), then schedule it."))
    if reason := models.new_attempt_refusal(previous, rules, at):
        raise refuse(reason)
    attempt = {"_id": new_id("att"), "school_id": assignment["school_id"], "student_id": assignment["student_id"],
               "exam_id": assignment["exam_id"], "assignment_id": assignment["_id"], "number": len(previous) + 1,
               "state": models.IN_EXECUTION, "first_scheduled_at": None, "created_at": at}
    await repo.insert_attempt(db, session, attempt)
    return attempt


async def schedule(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                   assignment_ids: list[str], parts: list[tuple[PartPlan, bool]],
                   all_parts: PartPlan | None) -> list[Doc]:
    """Schedule parts for every assignment, or for none when one is refused."""
    at = now()
    created: list[Doc] = []
    events: list[Event] = []
    for assignment_id in dict.fromkeys(assignment_ids):
        assignment = await _assignment(db, session, principal, school_id, assignment_id)
        await require_not_excluded(db, session, school_id=school_id, student_id=assignment["student_id"],
                                   exam_id=assignment["exam_id"], at=at)
        exam = await catalog.version_by_id(db, assignment["exam_version_id"], session)
        assert exam is not None  # versions are never removed
        plans = models.expand(exam["parts"], parts, all_parts, (assignment["people"]["first_assessor"] or "",
                              assignment["people"]["second_assessor"]), assignment.get("location"))
        for plan in plans:
            await check_people_roles(db, session, school_id, {"first_assessor": plan.first_assessor_id,
                                                              "second_assessor": plan.second_assessor_id})
        attempt = await _attempt(db, session, assignment, exam["rules"], at)
        taken = {s["part_id"] for s in await repo.scheduled_parts(db, session, attempt_id=attempt["_id"])}
        if clash := [p.part_code for p in plans if p.part_code in taken]:
            listed = ", ".join(clash)
            raise refuse(Text(f"Al ingepland in poging {attempt['number']}: {listed}; verzet die in plaats daarvan.",
                              f"Already scheduled in attempt {attempt['number']}: {listed}; reschedule instead."))
        names = {p["code"]: p["name"] for p in exam["parts"]}
        docs = [_schedule_doc(assignment, attempt, plan, names[plan.part_code], at) for plan in plans]
        await repo.insert_schedules(db, session, docs)
        first = min([d["starts_at"] for d in docs] + ([attempt["first_scheduled_at"]]
                                                      if attempt["first_scheduled_at"] else []))
        await repo.set_attempt(db, session, attempt_id=attempt["_id"], fields={"first_scheduled_at": first})
        await assignments.mark_execution_started(db, session, assignment_id=assignment_id, at=at)
        await people.mark_assessing(db, session, student_id=assignment["student_id"],
                                    user_ids=sorted({a for d in docs for a in d["assessor_ids"]}))
        await readmodel.refresh(db, session, school_id=school_id, student_id=assignment["student_id"],
                                exam_id=assignment["exam_id"])
        created += docs
        events += [models.scheduled_event(d, attempt["number"]) for d in docs]
    await stage(outbox, session, events)
    return created


def _schedule_doc(assignment: Doc, attempt: Doc, plan: PartPlan, part_name: str, at: datetime) -> Doc:
    return {"_id": new_id("sch"), "school_id": assignment["school_id"], "student_id": assignment["student_id"],
            "exam_id": assignment["exam_id"], "exam_name": assignment["exam_name"], "assignment_id": assignment["_id"],
            "attempt_id": attempt["_id"], "attempt_number": attempt["number"], "attempt_state": attempt["state"],
            "part_id": plan.part_code, "part_name": part_name, "starts_at": plan.starts_at, "ends_at": plan.ends_at,
            "location": plan.location, "first_assessor_id": plan.first_assessor_id,
            "second_assessor_id": plan.second_assessor_id,
            "second_assessor_may_submit": plan.second_assessor_may_submit,
            "assessor_ids": [a for a in (plan.first_assessor_id, plan.second_assessor_id) if a],
            "state": models.SCHEDULED, "version": 1, "created_at": at, "updated_at": at}


async def _schedule_for_change(db: Db, session: Session, principal: Principal, school_id: str, schedule_id: str,
                               expected: int | None, required: bool) -> Doc:
    doc = await repo.get_schedule(db, school_id, schedule_id, session)
    if doc is None:
        raise not_found("Dit ingeplande onderdeel", "scheduled part")
    student = require_readable(reader(principal, school_id), await people.get_student(db, school_id,
                                                                                      doc["student_id"], session))
    await require_scheduler(db, principal, school_id, student)
    check_version(doc, expected, required=required)
    if doc["state"] == models.CANCELLED:
        raise refuse(Text("Dit onderdeel is afgemeld.", "This part was cancelled."))
    if doc.get("assessed_at"):
        raise refuse(ASSESSED)
    return doc


async def reschedule(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                     schedule_id: str, expected_version: int | None, changes: Doc) -> Doc:
    """A new moment, place or assessors for a scheduled part (If-Match required)."""
    doc = await _schedule_for_change(db, session, principal, school_id, schedule_id, expected_version, True)
    new = {**doc, **changes}
    models.check_moment(new["starts_at"], new["ends_at"], "body")
    if not new["first_assessor_id"]:
        raise refuse(Text("Een eerste examinator is verplicht.", "A first assessor is required."),
                     slug="validation", status=422)
    if new["second_assessor_id"] and new["second_assessor_id"] == new["first_assessor_id"]:
        raise refuse(Text("De tweede examinator moet iemand anders zijn.",
                          "The second assessor must be another person."),
                     slug="validation", status=422)
    await check_people_roles(db, session, school_id, {"first_assessor": new["first_assessor_id"],
                                                      "second_assessor": new["second_assessor_id"]})
    new.update(assessor_ids=[a for a in (new["first_assessor_id"], new["second_assessor_id"]) if a],
               version=doc["version"] + 1, updated_at=now())
    if not await repo.replace_schedule(db, session, before=doc, after=new):
        check_version(new, doc["version"])
    await people.mark_assessing(db, session, student_id=doc["student_id"], user_ids=new["assessor_ids"])
    attempt = await repo.get_attempt(db, school_id, doc["attempt_id"], session) or {}
    parts = await repo.scheduled_parts(db, session, attempt_id=doc["attempt_id"])
    if parts and attempt.get("number") == 1:
        await repo.set_attempt(db, session, attempt_id=doc["attempt_id"],
                               fields={"first_scheduled_at": min(p["starts_at"] for p in parts)})
    await readmodel.refresh(db, session, school_id=school_id, student_id=doc["student_id"], exam_id=doc["exam_id"])
    await stage(outbox, session, [models.rescheduled_event(new, doc["attempt_number"])])
    return new


async def cancel(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                 schedule_id: str, expected_version: int | None) -> Doc:
    """Deregister a part; after the deadline the attempt is lost and its other parts are cancelled too."""
    doc = await _schedule_for_change(db, session, principal, school_id, schedule_id, expected_version, False)
    at = now()
    assignment = await assignments.get(db, school_id, doc["assignment_id"], session) or {}
    exam = await catalog.version_by_id(db, assignment.get("exam_version_id", ""), session) or {"rules": {}}
    late = models.is_late(doc, exam["rules"], at)
    targets = await repo.scheduled_parts(db, session, attempt_id=doc["attempt_id"]) if late else [doc]
    events: list[Event] = []
    result = doc
    for part in (t for t in targets if not t.get("assessed_at")):  # a final assessment stays as it was
        new = {**part, "state": models.CANCELLED, "cancelled_by": principal.subject, "cancelled_at": at,
               "late": late, "version": part["version"] + 1, "updated_at": at,
               "attempt_state": models.FORFEITED if late else part["attempt_state"]}
        if not await repo.replace_schedule(db, session, before=part, after=new):
            check_version(new, part["version"])
        events.append(models.cancelled_event(new, by=principal.subject, at=at, late=late, forfeited=late))
        if part["_id"] == doc["_id"]:
            result = new
    if late:
        await repo.set_attempt(db, session, attempt_id=doc["attempt_id"],
                               fields={"state": models.FORFEITED, "forfeited_at": at})
    await readmodel.refresh(db, session, school_id=school_id, student_id=doc["student_id"], exam_id=doc["exam_id"])
    await stage(outbox, session, events)
    return result


async def readable_attempt(db: Db, *, principal: Principal, school_id: str, attempt_id: str) -> tuple[Doc, list[Doc]]:
    """An attempt and its scheduled parts, for someone who may read its student."""
    attempt = await repo.get_attempt(db, school_id, attempt_id)
    if attempt is None:
        raise not_found("Deze poging", "attempt")
    require_readable(reader(principal, school_id), await people.get_student(db, school_id, attempt["student_id"]))
    return attempt, await repo.scheduled_parts(db, None, attempt_id=attempt_id)


async def set_settings(db: Db, session: Session, *, school_id: str, assessors_may_schedule: bool) -> Doc:
    """The school's choice whether assessors may schedule."""
    await repo.set_school_settings(db, session, school_id=school_id,
                                   fields={"assessors_may_schedule": assessors_may_schedule})
    return {"assessors_may_schedule": assessors_may_schedule}
