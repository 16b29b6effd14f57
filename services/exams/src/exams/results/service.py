"""Results use cases: compute an attempt's result from its final assessments, adopt, read. Never commits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contracts.exams import ResultAdoptedV1, ResultAvailableV1
from exams import readmodel
from exams.access import is_self, reader, require_readable
from exams.assignments import repository as assignments
from exams.catalog import repository as catalog
from exams.common import Doc, Session, forbidden, not_found, refuse
from exams.events import stage
from exams.projections import repository as people
from exams.results import grading
from exams.results import repository as repo
from exams.scheduling import repository as attempts
from kit.auth import Principal, Role
from kit.clock import now
from kit.consumer import Unprocessable
from kit.errors import Problem, Text
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

NO_ADOPTED = Text("Er is (nog) geen vastgesteld resultaat voor deze poging.",
                  "There is no adopted result for this attempt (yet).")
NO_RESULT = Text("Deze poging heeft (nog) geen resultaat.", "This attempt has no result (yet).")


def _aware(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def valid_exemptions(cases: list[Doc], exam_id: str, at: datetime) -> set[str]:
    """The core tasks that granted exemptions, valid at `at`, for this exam (or any exam) make exempt."""
    exempt: set[str] = set()
    for case in cases:
        decision = case.get("decision") or {}
        start, end = _aware(decision.get("valid_from")), _aware(decision.get("valid_until"))
        if case.get("exam_id") not in (None, exam_id) or (start and at < start) or (end and at >= end):
            continue
        exempt.update(decision.get("core_tasks") or [])
    return exempt


def _number(value: Decimal | None, whole: bool = False) -> float | int | None:
    if value is None:
        return None
    return int(value) if whole else float(value)


def _carried(previous: list[Doc]) -> dict[str, grading.Graded]:
    """Parts passed in earlier attempts (latest first wins): a retake need not take them again."""
    carried: dict[str, grading.Graded] = {}
    for result in previous:
        for part in result.get("parts", []):
            if part["outcome"] == "passed":
                grade = Decimal(str(part["grade"])) if part.get("grade") is not None else None
                carried[part["part_id"]] = grading.Graded(part["part_id"], "passed", grade)
    return carried


def result_doc(attempt: Doc, exam: Doc, exam_name: str, computed: grading.ExamResult, *, assessment_ids: list[str],
               exempt: set[str], at: datetime, supersedes: Doc | None) -> Doc:
    """The stored form of a computed result (awaiting adoption)."""
    rules = exam.get("rules") or {}
    whole = rules.get("final_grade", "round_whole") == "round_whole" or rules.get("grading_scale") == "grade_1_10_whole"
    return {
        "_id": new_id("res"), "school_id": attempt["school_id"], "attempt_id": attempt["_id"],
        "attempt_number": attempt["number"], "student_id": attempt["student_id"], "exam_id": attempt["exam_id"],
        "exam_version_id": exam["_id"], "exam_name": exam_name,
        "scale": rules.get("grading_scale", "grade_1_10"), "counts": rules.get("counts", "last"),
        "parts": [{"part_id": p.code, "outcome": p.outcome, "grade": _number(p.grade)} for p in computed.parts],
        "core_tasks": [{"code": t.code, "outcome": t.outcome, "grade": _number(t.grade)} for t in computed.core_tasks],
        "grade": _number(computed.grade), "final_grade": _number(computed.final_grade, whole),
        "outcome": computed.outcome, "label": computed.label, "state": "awaiting_adoption", "computed_at": at,
        "adopted_at": None, "adopted_by": None, "supersedes": supersedes["_id"] if supersedes else None,
        "superseded_by": None, "reason": "new assessment" if supersedes else None, "case_id": None,
        "assessment_ids": assessment_ids, "exempt_core_tasks": sorted(exempt),
    }


async def compute(db: Db, session: Session, *, outbox: Outbox, school_id: str, attempt_id: str) -> Doc | None:
    """Compute and store an attempt's result from its final assessments; None when it was already computed."""
    attempt = await attempts.get_attempt(db, school_id, attempt_id, session)
    if attempt is None:
        raise Unprocessable(f"unknown attempt: {attempt_id}")
    assessed = await repo.final_assessments(db, attempt_id, session)
    ids = sorted(a["_id"] for a in assessed)
    results = [r for r in await repo.of_student(db, school_id, attempt["student_id"], attempt["exam_id"], session)
               if r["superseded_by"] is None]
    current = next((r for r in results if r["attempt_id"] == attempt_id), None)
    if current is not None and current.get("assessment_ids") == ids:
        return None  # the same assessments were graded already (a replayed or repeated event)
    assignment = await assignments.get(db, school_id, attempt["assignment_id"], session)
    exam = await catalog.version_by_id(db, assignment["exam_version_id"], session) if assignment else None
    if assignment is None or exam is None:
        raise Unprocessable(f"attempt {attempt_id} has no assignment or exam version")
    at = now()
    cases = await repo.granted_cases(db, session, school_id=school_id, student_id=attempt["student_id"],
                                     kind="exemption")
    exempt = valid_exemptions(cases, attempt["exam_id"], at)
    earlier = [r for r in results if r["attempt_number"] < attempt["number"]]
    finals = {a["part_id"]: (a.get("final") or {}).get("scores", {}) for a in assessed}
    computed = grading.grade_exam(exam, finals, exempt_core_tasks=exempt, carried=_carried(earlier))
    doc = result_doc(attempt, exam, assignment["exam_name"], computed, assessment_ids=ids, exempt=exempt, at=at,
                     supersedes=current)
    await repo.insert(db, session, doc)
    if current is not None:
        await repo.mark_superseded(db, session, result_id=current["_id"], by=doc["_id"])
    await attempts.set_attempt(db, session, attempt_id=attempt_id, fields={
        "result_id": doc["_id"], "completed_at": attempt.get("completed_at") or at})
    await readmodel.set_result(db, session, school_id=school_id, student_id=attempt["student_id"],
                               exam_id=attempt["exam_id"], attempt_number=attempt["number"], result=doc)
    await stage(outbox, session, [ResultAvailableV1(attempt_id=attempt_id, school_id=school_id,
                                                    student_id=attempt["student_id"], exam_id=attempt["exam_id"],
                                                    exam_name=assignment["exam_name"])])
    return doc


async def _adopt_one(db: Db, session: Session, outbox: Outbox, principal: Principal, doc: Doc) -> Doc:
    if doc["superseded_by"] is not None:
        raise refuse(Text("Dit resultaat is vervangen door een nieuwer resultaat; stel dat vast.",
                          "This result was superseded by a newer one; adopt that one."))
    if doc["state"] == "adopted":
        raise refuse(Text("Dit resultaat is al vastgesteld.", "This result is already adopted."))
    at = now()
    if not await repo.adopt(db, session, result_id=doc["_id"], by=principal.subject, at=at):
        raise refuse(Text("Dit resultaat is intussen gewijzigd; laad opnieuw.", "This result changed; reload."))
    await readmodel.set_result(db, session, school_id=doc["school_id"], student_id=doc["student_id"],
                               exam_id=doc["exam_id"], attempt_number=doc["attempt_number"],
                               result={**doc, "state": "adopted"})
    await stage(outbox, session, [ResultAdoptedV1(
        result_id=doc["_id"], attempt_id=doc["attempt_id"], school_id=doc["school_id"], student_id=doc["student_id"],
        exam_id=doc["exam_id"], exam_name=doc["exam_name"], adopted_by=principal.subject, adopted_at=at)])
    return {**doc, "state": "adopted", "adopted_by": principal.subject, "adopted_at": at}


async def adopt(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                result_id: str) -> Doc:
    """The exam board adopts one result."""
    doc = await repo.get(db, school_id, result_id, session)
    student = await people.get_student(db, school_id, doc["student_id"], session) if doc else None
    if doc is None or student is None:
        raise not_found("Dit resultaat", "result")
    require_readable(reader(principal, school_id), student)
    return await _adopt_one(db, session, outbox, principal, doc)


async def adopt_group(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                      group_id: str, exam_id: str | None) -> list[Doc]:
    """The exam board adopts every current result awaiting adoption of a group's students (optionally one exam)."""
    if await people.get_group(db, school_id, group_id) is None:
        raise not_found("Deze groep", "group")
    ids = await people.group_student_ids(db, school_id, group_id, session)
    waiting = await repo.find_current(db, school_id=school_id, state="awaiting_adoption", student_ids=ids,
                                      exam_id=exam_id, after=None, limit=5000, session=session)
    return [await _adopt_one(db, session, outbox, principal, doc) for doc in waiting]


async def _readable_student(db: Db, principal: Principal, school_id: str, student_id: str) -> tuple[Doc, bool]:
    """The student and whether the caller is that student; workplace trainers do not read results."""
    rights = reader(principal, school_id)
    if rights.trained and not (rights.everyone or rights.supervised or rights.assessed or rights.self_only):
        raise forbidden(Text("Resultaten zijn niet zichtbaar voor praktijkopleiders.",
                             "Results are not shown to workplace trainers."))
    rights = replace(rights, trained=False)
    student = require_readable(rights, await people.get_student(db, school_id, student_id))
    return student, is_self(principal, student)


async def attempt_result(db: Db, *, principal: Principal, school_id: str, attempt_id: str) -> tuple[Doc, list[Doc]]:
    """An attempt's current result and its superseded predecessors; the student sees adopted ones only."""
    attempt = await attempts.get_attempt(db, school_id, attempt_id)
    if attempt is None:
        raise not_found("Deze poging", "attempt")
    _, own = await _readable_student(db, principal, school_id, attempt["student_id"])
    found = [r for r in await repo.of_attempt(db, attempt_id) if not own or r["state"] == "adopted"]
    current = next((r for r in found if r["superseded_by"] is None), None)
    if current is None:
        raise Problem(404, "not_found", detail=NO_ADOPTED if own else NO_RESULT)
    return current, [r for r in reversed(found) if r is not current]


async def student_results(db: Db, *, principal: Principal, school_id: str, student_id: str) -> list[Doc]:
    """Per exam: the current result of every attempt and which one counts (the student: adopted ones only)."""
    _, own = await _readable_student(db, principal, school_id, student_id)
    results = [r for r in await repo.of_student(db, school_id, student_id)
               if r["superseded_by"] is None and (not own or r["state"] == "adopted")]
    exams: dict[str, list[Doc]] = {}
    for r in results:
        exams.setdefault(r["exam_id"], []).append(r)
    out = []
    for exam_id, own_results in exams.items():
        counts = own_results[-1].get("counts", "last")
        counting = grading.counting(own_results, counts)
        out.append({"exam_id": exam_id, "exam_name": own_results[-1]["exam_name"], "counts": counts,
                    "counting_result_id": counting["_id"] if counting else None,
                    "outcome": counting["outcome"] if counting else None,
                    "final_grade": counting.get("final_grade") if counting else None,
                    "label": counting.get("label") if counting else None, "attempts": own_results})
    return out


async def list_results(db: Db, *, principal: Principal, school_id: str, state: str | None, group_id: str | None,
                       exam_id: str | None, student_id: str | None, after: str | None, limit: int) -> list[Doc]:
    """A page of the school's current results for the exam board and the school admin."""
    if not principal.has_any(school_id, {Role.EXAM_BOARD, Role.SCHOOL_ADMIN}):
        raise forbidden(Text("Alleen de examencommissie en de beheerder zien deze lijst.",
                             "Only the exam board and the school admin see this list."))
    student_ids: list[str] | None = None
    if group_id:
        if await people.get_group(db, school_id, group_id) is None:
            raise not_found("Deze groep", "group")
        student_ids = await people.group_student_ids(db, school_id, group_id)
    if student_id:
        student_ids = [student_id] if student_ids is None or student_id in student_ids else []
    return await repo.find_current(db, school_id=school_id, state=state, student_ids=student_ids, exam_id=exam_id,
                                   after=after, limit=limit)
