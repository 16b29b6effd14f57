"""Assessment use cases: read the form, save a draft, the finalize overview, finalize. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from exams.assessment import models
from exams.assessment import repository as repo
from exams.assignments import repository as assignments
from exams.catalog import repository as catalog
from exams.catalog.models import Criterion
from exams.common import Doc, Session, forbidden, not_found, refuse
from exams.events import stage
from exams.projections import repository as people
from exams.scheduling import repository as scheduling
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import TITLES, Problem, Text
from kit.mongo import Db
from kit.outbox import Outbox

TITLES.update({"stale_form": ("Uw formulier is intussen opnieuw opgeslagen",
                              "Your form was saved again in the meantime")})
NOT_ON_SCHEDULE = Text("U bent geen examinator van dit onderdeel.", "You are not an assessor of this part.")


@dataclass(frozen=True)
class Part:
    """A scheduled part with everything its assessment needs, and the caller's place in it."""

    schedule: Doc
    attempt: Doc | None
    exam: Doc
    criteria: list[Criterion]
    doc: Doc | None
    role: str | None  # the caller's role on the schedule (first/second), None for readers


async def load(db: Db, principal: Principal, school_id: str, schedule_id: str, *, write: bool,
               session: Session | None = None) -> Part:
    """The part, when the caller may read (assessors on it, exam board, school admin) or write (assessors) it."""
    schedule = await scheduling.get_schedule(db, school_id, schedule_id, session)
    if schedule is None:
        raise not_found("Dit ingeplande onderdeel", "scheduled part")
    role = models.role_on(schedule, principal.subject)
    roles = principal.roles_in(school_id)
    if role is None or Role.ASSESSOR not in roles:
        if write or not roles & {Role.EXAM_BOARD, Role.SCHOOL_ADMIN}:
            raise Problem(403, "not_named", detail=NOT_ON_SCHEDULE)
        role = None
    assignment = await assignments.get(db, school_id, schedule["assignment_id"], session) or {}
    exam = await catalog.version_by_id(db, assignment.get("exam_version_id", ""), session)
    if exam is None:
        raise not_found("Dit examen", "exam")
    attempt = await scheduling.get_attempt(db, school_id, schedule["attempt_id"], session)
    doc = await repo.get(db, schedule_id, session)
    return Part(schedule, attempt, exam, models.criteria_of(exam, schedule["part_id"]), doc, role)


def _form_out(uid: str, form: Doc) -> Doc:
    return {"assessor_id": uid, "role": form["role"], "scores": form.get("scores", {}),
            "justifications": form.get("justifications", {}), "attachment_ids": form.get("attachment_ids", []),
            "saved_at": form.get("saved_at"), "version": form.get("version", 0)}


def _forms(part: Part) -> Doc:
    by_role = models.forms_by_role(part.doc, part.schedule)
    return {role: _form_out(*by_role[role]) if role in by_role else None for role in (models.FIRST, models.SECOND)}


async def accommodations(db: Db, *, school_id: str, student_id: str, at: datetime) -> list[Doc]:
    """The exam board's granted, still valid accommodations of a student (shown to the assessors)."""
    shown = []
    for case in await repo.granted_accommodations(db, school_id=school_id, student_id=student_id):
        decision = case.get("decision") or {}
        until = decision.get("valid_until")
        if decision.get("outcome") != "granted" or (isinstance(until, datetime) and until < at):
            continue
        shown.append({"case_id": case["_id"], "measures": list(decision.get("measures") or []),
                      "decided_at": decision.get("decided_at"), "valid_until": until})
    return shown


async def view(db: Db, *, principal: Principal, school_id: str, schedule_id: str) -> Doc:
    """The form: the part's criteria, both assessors' forms, the student's accommodations, the state."""
    part = await load(db, principal, school_id, schedule_id, write=False)
    return await _view(db, part, principal)


async def _view(db: Db, part: Part, principal: Principal) -> Doc:
    s = part.schedule
    student = await people.get_student(db, s["school_id"], s["student_id"]) or {}
    at = now()
    final = (part.doc or {}).get("final")
    states = {d["_id"]: d["state"] for d in await repo.of_attempt(db, s["attempt_id"])}
    siblings = [{"schedule_id": p["_id"], "part_id": p["part_id"], "part_name": p["part_name"],
                 "starts_at": p["starts_at"], "state": states.get(p["_id"], models.OPEN),
                 "mine": principal.subject in p.get("assessor_ids", [])}
                for p in await scheduling.scheduled_parts(db, None, attempt_id=s["attempt_id"])]
    return {
        "schedule_id": s["_id"], "attempt_id": s["attempt_id"], "attempt_number": s["attempt_number"],
        "student_id": s["student_id"], "student_code": student.get("student_code"),
        "student_name": " ".join(p for p in (student.get("first_name"), student.get("last_name")) if p) or None,
        "exam_id": s["exam_id"], "exam_name": s["exam_name"], "exam_version": part.exam["version"],
        "part_id": s["part_id"], "part_name": s["part_name"], "starts_at": s["starts_at"], "ends_at": s["ends_at"],
        "first_assessor_id": s["first_assessor_id"], "second_assessor_id": s["second_assessor_id"],
        "second_assessor_may_submit": s["second_assessor_may_submit"],
        "criteria": [{"code": c.code, "text": c.text, "work_process": c.work_process, "scoring": c.scoring,
                      "allowed_scores": list(models.allowed(c)),
                      "justification_required_for": c.needs_justification()} for c in part.criteria],
        "my_role": part.role,
        "may_save": part.role is not None and models.save_refusal(s, part.attempt, part.doc, at) is None,
        "may_finalize": part.role is not None and models.finalize_refusal(s, part.role) is None
        and not final,
        "forms": _forms(part),
        "accommodations": await accommodations(db, school_id=s["school_id"], student_id=s["student_id"], at=at),
        "state": (part.doc or {}).get("state", models.OPEN), "final": final,
        "version": (part.doc or {}).get("version", 0), "parts": siblings,
    }


def _refuse_writes(part: Part, at: datetime) -> None:
    if reason := models.save_refusal(part.schedule, part.attempt, part.doc, at):
        raise refuse(reason)


def _new_doc(s: Doc, exam_version_id: str | None, at: datetime) -> Doc:
    return {"_id": s["_id"], "school_id": s["school_id"], "attempt_id": s["attempt_id"],
            "student_id": s["student_id"], "exam_id": s["exam_id"], "exam_version_id": exam_version_id,
            "part_id": s["part_id"], "forms": {}, "state": models.OPEN, "final": None, "superseded_by": None,
            "version": 0, "created_at": at}


async def _ensure_doc(db: Db, session: Session, part: Part, at: datetime) -> None:
    if part.doc is None:
        await repo.create(db, session, _new_doc(part.schedule, part.exam["_id"], at))


async def save(db: Db, session: Session, *, principal: Principal, school_id: str, schedule_id: str,
               expected_version: int, scores: dict[str, str], justifications: dict[str, str]) -> Doc:
    """Save the caller's draft (any number of times, from the part's start); a stale version is refused (409)."""
    part = await load(db, principal, school_id, schedule_id, write=True, session=session)
    at = now()
    _refuse_writes(part, at)
    models.check_form(part.criteria, scores, justifications)
    await _ensure_doc(db, session, part, at)
    mine = ((part.doc or {}).get("forms") or {}).get(principal.subject) or {}
    form = {"role": part.role, "scores": scores,
            "justifications": {k: v for k, v in justifications.items() if v.strip()},
            "attachment_ids": mine.get("attachment_ids", []), "saved_at": at,
            "version": mine.get("version", 0) + 1}
    if not await repo.save_form(db, session, schedule_id=schedule_id, user_id=principal.subject,
                                expected=expected_version, form=form):
        current = await repo.get(db, schedule_id, session) or {}
        _refuse_writes(Part(part.schedule, part.attempt, part.exam, part.criteria, current, part.role), at)
        seen = ((current.get("forms") or {}).get(principal.subject) or {}).get("version", 0)
        raise refuse(Text(f"U bewerkte versie {expected_version} van uw formulier, maar versie {seen} is intussen "
                          "opgeslagen (bijvoorbeeld in een ander tabblad). Laad opnieuw om die te zien.",
                          f"You edited version {expected_version} of your form, but version {seen} was saved "
                          "in the meantime (e.g. in another tab). Reload to see it."),
                     slug="stale_form", current_version=seen)
    updated = await repo.get(db, schedule_id, session)
    return await _view(db, Part(part.schedule, part.attempt, part.exam, part.criteria, updated, part.role),
                       principal)


def _overview(part: Part) -> Doc:
    by_role = models.forms_by_role(part.doc, part.schedule)
    first = by_role.get(models.FIRST, ("", None))[1]
    second = by_role.get(models.SECOND, ("", None))[1]
    mine = ((part.doc or {}).get("forms") or {}).get(part.schedule[f"{part.role}_assessor_id"]) \
        if part.role else None
    return {
        "schedule_id": part.schedule["_id"], "state": (part.doc or {}).get("state", models.OPEN),
        "my_role": part.role, "forms": _forms(part),
        "criteria": [{"code": c.code, "text": c.text, "scoring": c.scoring,
                      "first": (first or {}).get("scores", {}).get(c.code),
                      "second": (second or {}).get("scores", {}).get(c.code)} for c in part.criteria],
        "incomplete": models.incomplete(part.criteria, mine) if part.role else [],
        "second_incomplete": [m["criterion"] for m in models.incomplete(part.criteria, second)
                              if m["field"].startswith("scores.")] if second else [c.code for c in part.criteria],
        "divergences": models.divergences(part.criteria, first, second),
        "may_finalize": part.role is not None and models.finalize_refusal(part.schedule, part.role) is None,
        "question": Text("Weet u zeker dat u deze beoordeling wilt indienen? Daarna kan niemand iets aanpassen.",
                         "Are you sure you want to submit this assessment? Nobody can change it afterwards.")._asdict(),
        "version": (part.doc or {}).get("version", 0), "final": (part.doc or {}).get("final"),
    }


async def overview(db: Db, *, principal: Principal, school_id: str, schedule_id: str) -> Doc:
    """Before finalizing: both assessors' scores, what is incomplete, the divergences."""
    return _overview(await load(db, principal, school_id, schedule_id, write=False))


async def finalize(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                   schedule_id: str, divergence_note: str | None, seen_version: int | None = None) -> Doc:
    """Make the part's assessment final (confirmed by the caller); the last part finalizes the attempt."""
    part = await load(db, principal, school_id, schedule_id, write=True, session=session)
    at = now()
    _refuse_writes(part, at)
    if reason := models.finalize_refusal(part.schedule, part.role):
        raise forbidden(reason)
    current = (part.doc or {}).get("version", 0)
    if seen_version is not None and seen_version != current:
        raise refuse(Text(f"U bevestigde het overzicht van versie {seen_version}, maar een examinator heeft intussen "
                          f"opgeslagen (versie {current}): bekijk het overzicht opnieuw.",
                          f"You confirmed the overview of version {seen_version}, but an assessor saved in the "
                          f"meantime (version {current}): review the overview again."),
                     slug="stale_form", current_version=current)
    mine = ((part.doc or {}).get("forms") or {}).get(principal.subject)
    by_role = models.forms_by_role(part.doc, part.schedule)
    found = models.divergences(part.criteria, by_role.get(models.FIRST, ("", None))[1],
                               by_role.get(models.SECOND, ("", None))[1])
    if errors := models.finalize_problems(part.criteria, mine, found, divergence_note):
        raise Problem(422, "validation", errors=errors, detail=Text(
            "Nog niet definitief te maken: " + "; ".join(f"{e['field']} ({e['reason']})" for e in errors),
            "Cannot finalize yet: " + "; ".join(f"{e['field']} ({e['reason']})" for e in errors)))
    assert mine is not None and part.doc is not None and part.role is not None  # a complete form exists
    final = models.final_record(mine, by=principal.subject, role=part.role, at=at, found=found,
                                note=divergence_note)
    if not await repo.finalize(db, session, schedule_id=schedule_id, version=part.doc["version"], final=final):
        raise refuse(Text("Iemand anders heeft deze beoordeling intussen gewijzigd of definitief gemaakt: laad het "
                          "overzicht opnieuw.", "Someone else changed or finalized this assessment in the meantime: "
                          "reload the overview."), slug="stale_form")
    await scheduling.mark_assessed(db, session, schedule_id=schedule_id, at=at)
    # Touching the attempt makes two parts finalized at once conflict, so exactly one sees it is the last.
    attempt_id = part.schedule["attempt_id"]
    await scheduling.set_attempt(db, session, attempt_id=attempt_id, fields={"assessment_changed_at": at})
    scheduled = {p["_id"] for p in await scheduling.scheduled_parts(db, session, attempt_id=attempt_id)}
    final_ids = {d["_id"] for d in await repo.of_attempt(db, attempt_id, session) if d["state"] == models.FINAL}
    last = scheduled <= final_ids
    if last:
        await scheduling.set_attempt(db, session, attempt_id=attempt_id, fields={"assessed_at": at})
    doc = {**part.doc, "state": models.FINAL, "final": final, "version": part.doc["version"] + 1}
    await stage(outbox, session, models.finalized_events(doc, last=last))
    return {**_overview(Part(part.schedule, part.attempt, part.exam, part.criteria, doc, part.role)),
            "attempt_assessed": last}


async def attachment_uploaded(db: Db, session: Session, *, school_id: str, attempt_id: str, part_id: str,
                              user_id: str, file_id: str) -> None:
    """Evidence stored an assessor's file for a part: list it on their open form (a replay adds nothing)."""
    schedule = await repo.schedule_of_part(db, session, attempt_id=attempt_id, part_id=part_id)
    if schedule is None or schedule["school_id"] != school_id:
        return
    role = models.role_on(schedule, user_id)
    if role is None:
        return
    at = now()
    if await repo.get(db, schedule["_id"], session) is None:
        assignment = await assignments.get(db, school_id, schedule["assignment_id"], session) or {}
        await repo.create(db, session, _new_doc(schedule, assignment.get("exam_version_id"), at))
    doc = await repo.get(db, schedule["_id"], session) or {}
    if user_id not in (doc.get("forms") or {}):
        await repo.save_form(db, session, schedule_id=schedule["_id"], user_id=user_id, expected=0, form={
            "role": role, "scores": {}, "justifications": {}, "attachment_ids": [], "saved_at": at, "version": 0})
    await repo.add_attachment(db, session, schedule_id=schedule["_id"], user_id=user_id, file_id=file_id, at=at)
