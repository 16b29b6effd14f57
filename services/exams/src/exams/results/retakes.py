"""Retakes: a new attempt after a fail, within the exam's maximum and window or by an exam-board decision."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from contracts.exams import RetakeOpenedV1
from exams import readmodel
from exams.access import is_self, reader, require_preparer, require_readable
from exams.assignments import repository as assignments
from exams.cases.exclusion import exclusion
from exams.catalog import repository as catalog
from exams.common import Doc, Session, not_found, refuse
from exams.events import stage
from exams.projections import repository as people
from exams.results import grading
from exams.results import repository as repo
from exams.scheduling import models
from exams.scheduling import repository as attempts
from kit.auth import Principal
from kit.clock import now
from kit.errors import Text
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox


def _unused(case: Doc) -> bool:
    return not (case.get("decision") or {}).get("used_by_attempt_id")


async def _extra_attempt(db: Db, session: Session | None, attempt: Doc, case_id: str | None) -> Doc | None:
    """A granted, unused extra attempt of the exam board for this student and exam (the one named, if any)."""
    cases = await repo.granted_cases(db, session, school_id=attempt["school_id"], student_id=attempt["student_id"],
                                     kind="extra_attempt")
    usable = [c for c in cases if c.get("exam_id") in (None, attempt["exam_id"]) and _unused(c)
              and (case_id is None or c["_id"] == case_id)]
    return min(usable, key=lambda c: c["_id"]) if usable else None


async def _why_not(db: Db, session: Session | None, latest: Doc, history: list[Doc], *,
                   adopted_only: bool = False) -> Text | None:
    """Why the student may not retake after their latest attempt (None: they may); adopted_only for the student,
    who learns of a result only once the exam board adopted it."""
    results = [await repo.current_of_attempt(db, a["_id"], session) for a in history]
    if adopted_only:
        results = [r if r is not None and r["state"] == "adopted" else None for r in results]
    if any(r is not None and grading.counts_as_pass(r) for r in results):
        return Text("Dit examen is al behaald: een herkansing kan alleen zolang het niet behaald is.",
                    "This exam has been passed: a retake is only possible while it is not.")
    if latest["state"] == models.FORFEITED:
        return None
    if latest["state"] == models.IN_EXECUTION and results[-1] is None:
        return Text(f"Poging {latest['number']} loopt nog.", f"Attempt {latest['number']} is still running.")
    result = results[-1]
    if result is None or result["state"] != "adopted":
        return Text(f"Het resultaat van poging {latest['number']} is nog niet vastgesteld door de examencommissie.",
                    f"The result of attempt {latest['number']} has not been adopted by the exam board yet.")
    return None


@dataclass(frozen=True)
class Outlook:
    """What a retake after an attempt would meet now: the refusal (None: allowed) and the extra attempt it uses."""

    attempt: Doc
    student: Doc
    latest: Doc
    exam_name: str
    rules: Doc
    refusal: Text | None
    extra_attempt: Doc | None  # the exam board's granted extra attempt it would use (beyond maximum or window)
    beyond_limits: bool  # beyond the maximum or the window: only an extra attempt of the exam board opens it
    window_ends: datetime | None


async def outlook(db: Db, session: Session | None, *, principal: Principal, school_id: str, attempt_id: str,
                  case_id: str | None = None, at: datetime) -> Outlook:
    """Whether a retake may follow this attempt now and why not: the rules open_retake applies, for anyone who
    may read the student (the student too)."""
    attempt = await attempts.get_attempt(db, school_id, attempt_id, session)
    student = await people.get_student(db, school_id, attempt["student_id"], session) if attempt else None
    if attempt is None or student is None:
        raise not_found("Deze poging", "attempt")
    require_readable(reader(principal, school_id), student)
    history = await attempts.attempts_of(db, session, school_id=school_id, student_id=attempt["student_id"],
                                         exam_id=attempt["exam_id"])
    latest = history[-1]
    assignment = await assignments.get(db, school_id, attempt["assignment_id"], session) or {}
    exam = await catalog.version_by_id(db, assignment.get("exam_version_id", ""), session) or {"rules": {}}
    rules = exam["rules"]
    limit = models.new_attempt_refusal(history, rules, at)
    found = Outlook(attempt, student, latest, assignment.get("exam_name", ""), rules, None, None, limit is not None,
                    models.window_end(history, rules))
    if latest["_id"] != attempt_id:
        return replace(found, refusal=Text(
            f"Er is al een latere poging ({latest['number']}); een herkansing volgt op de laatste.",
            f"There is a later attempt ({latest['number']}); a retake follows the latest one."))
    if reason := await _why_not(db, session, latest, history, adopted_only=is_self(principal, student)):
        return replace(found, refusal=reason)
    if reason := await exclusion(db, session, school_id=school_id, student_id=attempt["student_id"],
                                 exam_id=attempt["exam_id"], at=at):
        return replace(found, refusal=reason)
    if limit:
        case = await _extra_attempt(db, session, attempt, case_id)
        return replace(found, refusal=limit) if case is None else replace(found, extra_attempt=case)
    return found


async def open_retake(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                      attempt_id: str, case_id: str | None) -> Doc:
    """Open the next attempt after a failed (or forfeited) one; its parts are then scheduled anew."""
    at = now()
    look = await outlook(db, session, principal=principal, school_id=school_id, attempt_id=attempt_id,
                         case_id=case_id, at=at)
    attempt, latest, case = look.attempt, look.latest, look.extra_attempt
    require_preparer(principal, school_id, look.student)
    if look.refusal:
        raise refuse(look.refusal)
    retake = {"_id": new_id("att"), "school_id": school_id, "student_id": attempt["student_id"],
              "exam_id": attempt["exam_id"], "assignment_id": attempt["assignment_id"], "number": latest["number"] + 1,
              "state": models.IN_EXECUTION, "first_scheduled_at": None, "created_at": at,
              "previous_attempt_id": attempt_id, "opened_by": principal.subject,
              "case_id": case["_id"] if case else None}
    await attempts.insert_attempt(db, session, retake)
    if case is not None and not await repo.use_extra_attempt(db, session, case_id=case["_id"],
                                                             attempt_id=retake["_id"]):
        raise refuse(Text("Deze extra poging is intussen al gebruikt.", "This extra attempt was used meanwhile."))
    await readmodel.refresh(db, session, school_id=school_id, student_id=attempt["student_id"],
                            exam_id=attempt["exam_id"])
    await stage(outbox, session, [RetakeOpenedV1(
        attempt_id=retake["_id"], attempt_number=retake["number"], previous_attempt_id=attempt_id,
        school_id=school_id, student_id=attempt["student_id"], exam_id=attempt["exam_id"],
        exam_name=look.exam_name, opened_by=principal.subject, opened_at=at,
        case_id=retake["case_id"])])
    return retake
