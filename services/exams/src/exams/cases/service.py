"""Exam-board use cases: opening cases, deciding them, reading them, the school calendar. Never commits."""

from __future__ import annotations

from datetime import date, datetime

from exams.cases import calendar as cal
from exams.cases import effects, models, workdays
from exams.cases import repository as repo
from exams.catalog import repository as catalog
from exams.common import Doc, Session, check_version, forbidden, not_found, refuse
from exams.events import stage
from exams.projections import repository as people
from exams.scheduling import repository as scheduling
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox


async def holidays(db: Db, school_id: str, session: Session | None = None) -> frozenset[date]:
    """The school's holiday dates."""
    return cal.holiday_dates(await repo.calendar(db, school_id, session))


async def _student(db: Db, session: Session, principal: Principal, school_id: str, student_id: str | None) -> Doc:
    """The student a case is about: a student opens only for themselves; the board for any current student."""
    roles = principal.roles_in(school_id)
    if Role.EXAM_BOARD not in roles:
        own = await people.student_of_user(db, school_id, principal.subject)
        if own is None or student_id not in (None, own["_id"]):
            raise forbidden(Text("Een student kan alleen voor zichzelf een verzoek indienen.",
                                 "A student can only file a request for themselves."))
        student_id = own["_id"]
    if student_id is None:
        raise Problem(422, "validation", detail=Text("Noem de student.", "Name the student."),
                      errors=[field_error("student_id", "required for the exam board")])
    student = await people.get_student(db, school_id, student_id, session)
    if student is None or student.get("archived"):
        raise Problem(422, "validation", detail=Text(
            "Deze student is geen (actieve) student van deze school.",
            "This student is not a (current) student of this school."),
                      errors=[field_error("student_id", "not a current student of this school")])
    return student


async def _result_in_window(db: Db, session: Session, kind: models.Kind, school_id: str, attempt: Doc,
                            at: datetime) -> None:
    """Inspection and objection: after the result is adopted, within the kind's working days."""
    if kind.request_window is None:
        return
    result = await repo.current_result(db, school_id, attempt["_id"], session)
    if result is None or result.get("state") != "adopted" or not result.get("adopted_at"):
        raise refuse(Text(f"Voor {kind.nl} moet er een vastgesteld resultaat van deze poging zijn.",
                          f"A case of kind {kind.name} needs an adopted result of this attempt."))
    days = await holidays(db, school_id, session)
    if not workdays.within(result["adopted_at"], at, kind.request_window, days):
        day = workdays.local_date(workdays.deadline(result["adopted_at"], kind.request_window, days)).isoformat()
        raise refuse(Text(f"Te laat: {kind.nl} kan tot {kind.request_window} werkdagen na het resultaat, dus tot "
                          f"en met {day}.",
                          f"Too late: a case of kind {kind.name} may be filed up to {kind.request_window} working "
                          f"days after the result, so until {day}."))


async def open_case(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str, kind: str,
                    student_id: str | None, exam_id: str | None, attempt_id: str | None, reason: str) -> Doc:
    """Open a case (a student's request, or the board's own); its deadline is in working days."""
    rule = models.KINDS[kind]
    models.check_opening(rule, by_student=Role.EXAM_BOARD not in principal.roles_in(school_id), exam_id=exam_id,
                         attempt_id=attempt_id)
    student = await _student(db, session, principal, school_id, student_id)
    at = now()
    if attempt_id is not None:
        attempt = await scheduling.get_attempt(db, school_id, attempt_id, session)
        if attempt is None or attempt["student_id"] != student["_id"]:
            raise Problem(422, "validation", detail=Text("Deze poging is niet van deze student.",
                                                         "This attempt is not the student's."),
                          errors=[field_error("attempt_id", "not an attempt of this student")])
        if exam_id not in (None, attempt["exam_id"]):
            raise Problem(422, "validation", errors=[field_error("exam_id", "not the exam of this attempt")])
        exam_id = attempt["exam_id"]
        await _result_in_window(db, session, rule, school_id, attempt, at)
    exam = await catalog.current(db, exam_id, session) if exam_id is not None else None
    if exam_id is not None and (exam is None or not await people.programme_enabled(db, school_id,
                                                                                   exam["programme_id"])):
        raise Problem(422, "validation", detail=Text("Deze school biedt dit examen niet aan.",
                                                     "This school offers no such exam."),
                      errors=[field_error("exam_id", "not an exam of this school")])
    if kind == "exemption" and exam_id is not None:
        firsts = [a["first_scheduled_at"] for a in await repo.started_attempts(
            db, session, school_id=school_id, student_id=student["_id"], exam_id=exam_id)]
        if firsts and at > min(firsts) - models.EXEMPTION_LEAD:
            raise refuse(Text("Een vrijstelling vraag je minstens zes weken voor het eerste examenmoment aan.",
                              "An exemption is requested at least six weeks before the first exam moment."))
    if await repo.open_case_like(db, session, school_id=school_id, student_id=student["_id"], kind=kind,
                                 exam_id=exam_id, attempt_id=attempt_id):
        raise refuse(Text(f"Er loopt al een zaak ({rule.nl}) hierover.",
                          f"A case of kind {kind} about this is already open."))
    case = {"_id": new_id("case"), "school_id": school_id, "student_id": student["_id"], "exam_id": exam_id,
            "attempt_id": attempt_id, "kind": kind, "state": models.OPEN, "reason": reason,
            "opened_by": principal.subject, "opened_at": at,
            "deadline": workdays.deadline(at, rule.decide_within, await holidays(db, school_id, session)),
            "documents": [], "decision": None, "version": 1, "updated_at": at}
    await repo.insert_case(db, session, case)
    await stage(outbox, session, [models.opened_event(case)])
    return case


async def decide(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str, case_id: str,
                 expected_version: int | None, outcome: str, note: str, details: Doc) -> Doc:
    """Decide an open case once; the decision's effects (superseding results, a new assessment) in the same step."""
    case = await repo.get_case(db, school_id, case_id, session)
    if case is None:
        raise not_found("Deze zaak", "case")
    check_version(case, expected_version)
    if case["state"] != models.OPEN:
        decided = case["decision"]
        raise refuse(Text(f"Over deze zaak is al besloten ({decided['outcome']}, {decided['decided_at']:%d-%m-%Y}).",
                          f"This case was already decided ({decided['outcome']}, {decided['decided_at']:%Y-%m-%d})."))
    rule = models.KINDS[case["kind"]]
    given = models.check_decision(rule, outcome, details)
    at = now()
    decision: Doc = {"outcome": outcome, "note": note, "decided_by": principal.subject, "decided_at": at}
    decision.update(await effects.apply(db, session, case=case, outcome=outcome, given=given, principal=principal,
                                        at=at, note=note))
    events = decision.pop("_events", [])
    new = {**case, "state": models.DECIDED, "decision": decision, "version": case["version"] + 1, "updated_at": at}
    if not await repo.replace_case(db, session, before=case, after=new):
        check_version(new, case["version"])
    await stage(outbox, session, [*events, models.decided_event(new)])
    return new


async def readable_case(db: Db, *, principal: Principal, school_id: str, case_id: str) -> Doc:
    """A case for the board, or for its own student; anyone else gets 404."""
    case = await repo.get_case(db, school_id, case_id)
    if case is None:
        raise not_found("Deze zaak", "case")
    if Role.EXAM_BOARD in principal.roles_in(school_id):
        return case  # the board's own record, also once its student is archived (a deadline does not go away)
    own = await people.student_of_user(db, school_id, principal.subject)
    if own is None or own["_id"] != case["student_id"]:
        raise not_found("Deze zaak", "case")
    return case


async def cases(db: Db, *, principal: Principal, school_id: str, student_id: str | None, state: str | None,
                kind: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Doc]:
    """The board's cases of the school, or a student's own, by deadline (overdue first)."""
    if Role.EXAM_BOARD not in principal.roles_in(school_id):
        own = await people.student_of_user(db, school_id, principal.subject)
        if own is None:
            return []
        if student_id not in (None, own["_id"]):
            raise forbidden(Text("U ziet alleen uw eigen zaken.", "You only see your own cases."))
        student_id = own["_id"]
    return await repo.list_cases(db, school_id=school_id, student_id=student_id, state=state, kind=kind,
                                 after=after, limit=limit)


async def save_calendar(db: Db, session: Session, *, principal: Principal, school_id: str, expected_version: int | None,
                        holidays_in: list[tuple[date, date, str]]) -> Doc:
    """Replace the school's holidays (If-Match: the version seen; 0 or absent before the first save)."""
    ordered = cal.check_holidays(holidays_in)
    current = await repo.calendar(db, school_id, session)
    version = current["version"] if current else 0
    if expected_version is not None and expected_version != version:
        raise Problem(412, "stale_version", current_version=version, detail=Text(
            f"U zag versie {expected_version}, de huidige is {version}: laad opnieuw en probeer het nog eens.",
            f"You saw version {expected_version}, the current one is {version}: reload and try again."))
    fields = {"school_id": school_id, "holidays": cal.stored(ordered), "updated_by": principal.subject,
              "updated_at": now()}
    if not await repo.save_calendar(db, session, school_id=school_id, version=version, fields=fields):
        raise Problem(412, "stale_version", detail=Text("Iemand anders wijzigde de kalender intussen.",
                                                        "Someone else changed the calendar in the meantime."))
    return {**fields, "version": version + 1}
