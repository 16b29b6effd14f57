"""Assignment use cases: prepare for one, many or a group; approve; adopt; edit; delete. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from contracts import Event
from exams import readmodel
from exams.access import Reader, may_prepare, reader, related, require_preparer, require_readable
from exams.assignments import models
from exams.assignments import repository as repo
from exams.catalog.service import exam_for_school
from exams.common import Doc, Session, check_version, forbidden, not_found, refuse
from exams.events import stage
from exams.projections import repository as people
from exams.projections.roster import EVERYONE, roster
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

NEEDED_ROLE = {"first_assessor": "assessor", "second_assessor": "assessor", "adopter": "exam_board",
               "workplace_trainer": "workplace_trainer", "school_supervisor": "school_supervisor"}
ROLE_NAMES = {"assessor": ("examinator", "an assessor"),
              "exam_board": ("lid van de examencommissie", "an exam board member"),
              "workplace_trainer": ("praktijkopleider", "a workplace trainer"),
              "school_supervisor": ("begeleider", "a supervisor")}


class PrepareSpec(BaseModel):
    """What a preparer chooses (the API's request body)."""

    exam_id: str
    student_ids: list[str] = []
    group_id: str | None = None
    source: str = "individual"
    provider_assignment_code: str | None = None
    bank_assignment_id: str | None = None
    title: str | None = None
    text: str | None = None
    cohort: int | None = None
    location: str | None = None
    desired_end_date: date | None = None
    first_assessor_id: str
    second_assessor_id: str | None = None
    adopter_id: str | None = None
    workplace_trainer_id: str | None = None
    attachment_ids: list[str] = []


async def check_people_roles(db: Db, session: Session, school_id: str, named: dict[str, str | None]) -> None:
    """Everyone named must hold the matching role in the school (from identity's events); 422 naming who not."""
    errors = []
    for field, user_id in named.items():
        if user_id and NEEDED_ROLE[field] not in await people.roles_of(db, school_id, user_id, session):
            nl, en = ROLE_NAMES[NEEDED_ROLE[field]]
            errors.append((field, Text(f"is geen {nl} in deze school", f"is not {en} in this school")))
    if errors:
        raise Problem(422, "validation", detail=Text(
            "; ".join(f"{f} {t.nl}" for f, t in errors), "; ".join(f"{f} {t.en}" for f, t in errors)),
            errors=[field_error(f"{f}_id" if f != "school_supervisor" else f, t.en) for f, t in errors])


async def _content(db: Db, session: Session, school_id: str, exam: Doc, spec: PrepareSpec) -> tuple[Doc, bool]:
    """Title, text and attachments from the chosen source; True when it needs no adoption (bank, adopted)."""
    if spec.source == "provider":
        found = next((a for a in exam["provider_assignments"] if a["code"] == spec.provider_assignment_code), None)
        if found is None:
            raise Problem(422, "validation", errors=[field_error("provider_assignment_code",
                                                                 "not an assignment of this exam")])
        content = {"title": found["title"], "text": found["text"], "attachment_ids": [], "source_ref": found["code"]}
        return content, False
    if spec.source == "bank":
        bank = await repo.get_bank(db, school_id, spec.bank_assignment_id or "", session)
        if bank is None or bank["exam_id"] != exam["exam_id"]:
            raise Problem(422, "validation", errors=[field_error("bank_assignment_id",
                                                                 "not a bank assignment of this exam")])
        return {"title": bank["title"], "text": bank["text"], "attachment_ids": bank["attachment_ids"],
                "source_ref": bank["_id"]}, bool(bank["adopted"])
    if not spec.title or not spec.text:
        raise Problem(422, "validation",
                      errors=[field_error("text", "an individual assignment needs a title and text")])
    return {"title": spec.title, "text": spec.text, "attachment_ids": spec.attachment_ids, "source_ref": None}, False


async def _student_refusal(db: Db, session: Session, principal: Principal, school_id: str, exam: Doc,
                           student: Doc | None) -> Text | None:
    if student is None or student.get("archived"):
        return Text("bestaat niet in deze school", "does not exist in this school")
    if not may_prepare(principal, school_id, student):
        return Text("is niet aan u gekoppeld", "is not linked to you")
    if exam["programme_id"] not in student.get("programme_ids", []):
        return Text("volgt de opleiding van dit examen niet", "is not enrolled in this exam's programme")
    if exam["exam_id"] in await people.unavailable_exam_ids(db, school_id, student["_id"]):
        return Text("dit examen is voor deze student niet beschikbaar", "this exam is unavailable for this student")
    if not student.get("user_id"):
        return Text("heeft nog geen account om goed te keuren", "has no account to approve with yet")
    if not student.get("supervisor_ids"):
        return Text("heeft geen begeleider", "has no supervisor")
    if await repo.active_for(db, session, school_id=school_id, student_id=student["_id"], exam_id=exam["exam_id"]):
        return Text("heeft al een opdracht voor dit examen (verwijder die eerst)",
                    "already has an assignment for this exam (delete it first)")
    return None


async def prepare(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                  spec: PrepareSpec) -> list[Doc]:
    """Prepare the assignment for every chosen student, or for none when any one of them is refused."""
    exam = await exam_for_school(db, school_id=school_id, exam_id=spec.exam_id, session=session)
    ids = list(dict.fromkeys(spec.student_ids))
    if spec.group_id:
        ids += [s for s in await people.group_student_ids(db, school_id, spec.group_id, session) if s not in ids]
    if not ids:
        raise Problem(422, "validation", errors=[field_error("student_ids", "name students or a group with students")])
    content, preadopted = await _content(db, session, school_id, exam, spec)
    if not preadopted and not spec.adopter_id:
        raise Problem(422, "validation", errors=[field_error("adopter_id", "required unless the bank assignment "
                                                             "is already adopted")])
    students = {d["_id"]: d for d in await people.get_students(db, school_id, ids, session)}
    refusals = [(sid, r) for sid in ids
                if (r := await _student_refusal(db, session, principal, school_id, exam, students.get(sid)))]
    if refusals:
        raise refuse(Text("Niet voorbereid: " + "; ".join(f"{s} {r.nl}" for s, r in refusals),
                          "Not prepared: " + "; ".join(f"{s} {r.en}" for s, r in refusals)),
                     errors=[{"field": "student_ids", "student_id": s, "reason": r.en} for s, r in refusals])
    at = now()
    created, events = [], []
    for sid in ids:
        student = students[sid]
        linked = student["supervisor_ids"]
        supervisor = principal.subject if principal.subject in linked else linked[0]
        trainer = spec.workplace_trainer_id or next(iter(student.get("trainer_ids", [])), None)
        if trainer is None:
            raise refuse(Text(f"{sid} heeft geen praktijkopleider: noem er een.",
                              f"{sid} has no workplace trainer: name one."))
        named = {"school_supervisor": supervisor, "first_assessor": spec.first_assessor_id,
                 "second_assessor": spec.second_assessor_id, "adopter": spec.adopter_id, "workplace_trainer": trainer}
        await check_people_roles(db, session, school_id, named)
        doc = {"_id": new_id("asg"), "school_id": school_id, "student_id": sid, "student_user_id": student["user_id"],
               "exam_id": exam["exam_id"], "exam_version": exam["version"], "exam_version_id": exam["_id"],
               "exam_name": exam["name"], "programme_id": exam["programme_id"], "parts_total": len(exam["parts"]),
               "source": spec.source, **content, "preadopted": preadopted, "cohort": spec.cohort,
               "location": spec.location, "desired_end_date": spec.desired_end_date.isoformat()
               if spec.desired_end_date else None, "people": named, "state": models.PREPARING, "approvals": [],
               "version": 1, "prepared_by": principal.subject, "created_at": at, "updated_at": at,
               "execution_started_at": None}
        await repo.insert(db, session, doc)
        await people.mark_assessing(db, session, student_id=sid,
                                    user_ids=[u for u in (spec.first_assessor_id, spec.second_assessor_id) if u])
        await readmodel.refresh(db, session, school_id=school_id, student_id=sid, exam_id=exam["exam_id"])
        created.append(doc)
        events += models.prepared_events(doc)
    await stage(outbox, session, events)
    return created


async def readable(db: Db, *, principal: Principal, school_id: str, assignment_id: str,
                   session: Session | None = None) -> Doc:
    """An assignment whose student the caller may read; 404 otherwise."""
    doc = await repo.get(db, school_id, assignment_id, session)
    if doc is None:
        raise not_found("Deze opdracht", "assignment")
    rights = reader(principal, school_id)
    student = await people.get_student(db, school_id, doc["student_id"], session)
    # People named on the assignment (e.g. its adopter) may read it, unless the student is archived.
    named = principal.subject in doc["people"].values() and rights.school_id in principal.schools
    if not (named and student is not None and not student.get("archived")):
        require_readable(rights, student)
    return doc


async def _save(db: Db, session: Session, outbox: Outbox, before: Doc, after: Doc, events: list[Event]) -> Doc:
    if after is before:
        return before
    if not await repo.replace(db, session, before=before, after=after):
        check_version(after, before["version"])  # someone else won: report it as a stale version
    await readmodel.refresh(db, session, school_id=after["school_id"], student_id=after["student_id"],
                            exam_id=after["exam_id"])
    await stage(outbox, session, events)
    return after


async def approve(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                  assignment_id: str, expected_version: int | None) -> Doc:
    """The caller signs the assignment as the student, supervisor or workplace trainer named on it."""
    doc = await readable(db, principal=principal, school_id=school_id, assignment_id=assignment_id, session=session)
    check_version(doc, expected_version)
    new, events = models.approve(doc, user_id=principal.subject, at=now())
    return await _save(db, session, outbox, doc, new, events)


async def adopt(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                assignment_id: str, expected_version: int | None) -> Doc:
    """The named adopter adopts on behalf of the exam board."""
    doc = await readable(db, principal=principal, school_id=school_id, assignment_id=assignment_id, session=session)
    check_version(doc, expected_version)
    new, events = models.adopt(doc, user_id=principal.subject, at=now())
    return await _save(db, session, outbox, doc, new, events)


async def adopt_group(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                      group_id: str) -> list[Doc]:
    """Adopt every locked assignment of a group's students that the caller is the adopter of."""
    if await people.get_group(db, school_id, group_id) is None:
        raise not_found("Deze groep", "group")
    ids = await people.group_student_ids(db, school_id, group_id, session)
    adopted = []
    for doc in await repo.awaiting_adoption(db, session, school_id=school_id, student_ids=ids,
                                            adopter_id=principal.subject):
        new, events = models.adopt(doc, user_id=principal.subject, at=now())
        adopted.append(await _save(db, session, outbox, doc, new, events))
    return adopted


async def edit(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
               assignment_id: str, expected_version: int | None, text: Doc, people_changes: Doc) -> Doc:
    """Change text or people (If-Match required)."""
    doc = await readable(db, principal=principal, school_id=school_id, assignment_id=assignment_id, session=session)
    check_version(doc, expected_version, required=True)
    admin = Role.SCHOOL_ADMIN in principal.roles_in(school_id)
    student = await people.get_student(db, school_id, doc["student_id"], session) or {}
    if not admin and principal.subject != doc["people"]["school_supervisor"]:
        require_preparer(principal, school_id, student)
    if people_changes.get("school_supervisor") and people_changes["school_supervisor"] not in student.get(
            "supervisor_ids", []):
        raise Problem(422, "validation", errors=[field_error("school_supervisor_id", "not linked to the student")])
    await check_people_roles(db, session, school_id, {k: v for k, v in people_changes.items() if v})
    new, events = models.edit(doc, text=text, people=people_changes, by=principal.subject, admin=admin, at=now())
    if new is not doc:
        await people.mark_assessing(db, session, student_id=doc["student_id"], user_ids=[
            u for u in (new["people"]["first_assessor"], new["people"]["second_assessor"]) if u])
    return await _save(db, session, outbox, doc, new, events)


async def delete(db: Db, session: Session, *, outbox: Outbox, principal: Principal, school_id: str,
                 assignment_id: str, expected_version: int | None) -> Doc:
    """Delete a wrongly prepared assignment before execution starts (kept, marked deleted)."""
    doc = await readable(db, principal=principal, school_id=school_id, assignment_id=assignment_id, session=session)
    check_version(doc, expected_version)
    student = await people.get_student(db, school_id, doc["student_id"], session) or {}
    require_preparer(principal, school_id, student)
    new, events = models.delete(doc, by=principal.subject, execution_started=bool(doc.get("execution_started_at")),
                                at=now())
    return await _save(db, session, outbox, doc, new, events)


async def list_readable(db: Db, *, rights: Reader, filters: Doc, after: str | None, limit: int) -> list[Doc]:
    """A page of the assignments whose students the caller may read."""
    if rights.nobody:
        raise forbidden(Text("Uw rollen in deze school geven geen toegang.",
                             "Your roles in this school allow no access."))
    student_ids = None
    if not rights.everyone or not rights.archived:
        student_ids = [e.student_id for e in await roster(db, rights.school_id,
                                                          EVERYONE if rights.everyone else rights.user_id)
                       if (rights.archived or not e.archived) and (rights.everyone or related(rights, e.relations))]
        own = await people.student_of_user(db, rights.school_id, rights.user_id) if rights.self_only else None
        if own is not None and not own.get("archived"):
            student_ids.append(own["_id"])
    query: dict[str, Any] = {k: v for k, v in filters.items() if v is not None and k != "student_id"}
    if filters.get("student_id"):
        wanted = filters["student_id"]
        student_ids = [wanted] if student_ids is None or wanted in student_ids else []
    return await repo.find(db, school_id=rights.school_id, student_ids=student_ids, filters=query, after=after,
                           limit=limit)


async def attachment_uploaded(db: Db, session: Session, *, outbox: Outbox, school_id: str, assignment_id: str,
                              file_id: str) -> None:
    """Evidence stored a supervisor's file for an assignment: list it there (a replayed event changes nothing)."""
    doc = await repo.get(db, school_id, assignment_id, session)
    if doc is None:
        return
    new, events = models.attach(doc, file_id=file_id, at=now())
    await _save(db, session, outbox, doc, new, events)
