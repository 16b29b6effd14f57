"""Use cases of enrollment's students: create, edit, archive, link people, and act on many at once.

Each command runs inside the caller's transaction (kit.commands.execute) and stages its events.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.enrollment import ExamUnavailableMarkedV1, ProgressViewChangedV1, StudentArchivedV1
from enrollment import events
from enrollment import repository as repo
from enrollment.events import Staged, stage
from enrollment.models import RELATION_FIELDS, SEARCH_VERSION, link_problem, may_edit, search_terms
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

Doc = dict[str, Any]
Session = AsyncClientSession

LINK_REASONS = {
    "not_supervisor": "This user is not a school supervisor of the school.",
    "not_assessor": "This user is not an assessor of the school.",
    "unknown_person": "There is no user with this id or e-mail address.",
}
CODE_TAKEN = Text("Er is al een student met dit studentnummer in de school.",
                  "A student with this student code already exists in the school.")


NOUNS = {"student": "Deze student", "group": "Deze groep", "programme": "Deze opleiding", "import": "Deze import",
         "link": "Deze koppeling"}


def not_found(what: str) -> Problem:
    """The 404 of a resource that does not exist in this school (or is not visible)."""
    return Problem(404, "not_found", detail=Text(f"{NOUNS[what]} bestaat niet.", f"This {what} does not exist."))


# --- students: shape ------------------------------------------------------------------------------

def new_student(school_id: str, values: Doc) -> Doc:
    """A new student document from checked values."""
    stamp = now()
    doc: Doc = {
        "_id": new_id("stu"), "school_id": school_id, "student_code": values["student_code"],
        "first_name": values["first_name"], "last_name": values["last_name"], "email": values["email"].lower(),
        "gender": values.get("gender"), "date_of_birth": values.get("date_of_birth"),
        "start_year": values.get("start_year"),
        "programme_ids": list(values.get("programme_ids", [])), "group_ids": list(values.get("group_ids", [])),
        "supervisor_ids": [], "assessor_ids": [], "trainer_ids": [], "user_id": None, "archived": False,
        "active": True, "unavailable_exam_ids": [], "progress_view": False, "created_at": stamp,
        "updated_at": stamp,
    }
    return refresh(doc)


def refresh(doc: Doc) -> Doc:
    """Recompute the derived fields (folded search terms, every linked person)."""
    doc["terms"] = search_terms(doc["student_code"], doc["first_name"], doc["last_name"])
    doc["search_v"] = SEARCH_VERSION
    doc["linked_user_ids"] = sorted({*doc["supervisor_ids"], *doc["assessor_ids"], *doc["trainer_ids"]})
    doc["viewer_ids"] = sorted({*doc["linked_user_ids"], *([doc["user_id"]] if doc.get("user_id") else [])})
    return doc


def student_out(doc: Doc) -> Doc:
    """The API view of a student."""
    hidden = ("_id", "terms", "search_v", "linked_user_ids", "viewer_ids", *RELATION_FIELDS.values())
    out = {k: v for k, v in doc.items() if k not in hidden}
    out["id"] = doc["_id"]
    out["links"] = {rel: doc.get(name, []) for rel, name in RELATION_FIELDS.items()}
    out["schedulable"] = bool(doc.get("supervisor_ids")) and doc.get("active", True) and not doc.get("archived")
    return out


# --- reading --------------------------------------------------------------------------------------

async def visible_student(db: Db, session: Session | None, *, principal: Principal, school_id: str,
                          student_id: str) -> Doc:
    """A student the caller may read, or 404 (a student out of sight does not exist for them)."""
    doc = await repo.visible_student(db, principal, school_id, student_id, session)
    if doc is None:
        raise not_found("student")
    return doc


async def editable_student(db: Db, session: Session, *, principal: Principal, school_id: str,
                           student_id: str) -> Doc:
    """A student the caller may change: 404 when out of sight, 403 when only readable."""
    doc = await visible_student(db, session, principal=principal, school_id=school_id, student_id=student_id)
    if not may_edit(principal, doc):
        raise Problem(403, "forbidden", detail=Text("U mag deze student niet wijzigen.",
                                                    "You may not change this student."))
    return doc


def student_page(docs: list[Doc], limit: int, cursor_of: Any) -> Doc:
    """A page of students and the cursor of the next one (None after the last)."""
    return {"items": [student_out(d) for d in docs],
            "next_cursor": cursor_of(docs[-1]) if len(docs) == limit else None}


def search(principal: Principal, school_id: str, filters: Doc) -> Doc:
    """The query of a student list or export; 403 when the caller's roles let them read no list at all."""
    query = repo.student_search(principal, school_id, **filters)
    if query is None:
        raise Problem(403, "forbidden", detail=Text("Uw rollen in deze school staan dit niet toe.",
                                                    "Your roles in this school do not allow this."))
    return query


async def list_students(db: Db, *, principal: Principal, school_id: str, filters: Doc, after: str | None,
                        limit: int) -> Doc:
    """One page of the students the caller may read, filtered, by student code."""
    docs = await repo.find_students(db, search(principal, school_id, filters), after=after, limit=limit)
    return student_page(docs, limit, lambda d: d["student_code"])


async def my_students(db: Db, *, principal: Principal, after: str | None, limit: int) -> Doc:
    """One page of the current students of any school the caller is linked to."""
    docs = await repo.linked_students(db, principal.subject, after=after, limit=limit)
    return student_page(docs, limit, lambda d: f"{d['school_id']}/{d['student_code']}")


# --- commands -------------------------------------------------------------------------------------

async def check_programmes(db: Db, session: Session, *, school_id: str, programme_ids: list[str]) -> None:
    """Refuse programmes the school has not enabled."""
    enabled = {p["programme_id"] for p in await repo.school_programmes(db, school_id, True, session)}
    unknown = [p for p in programme_ids if p not in enabled]
    if unknown:
        raise Problem(422, "validation", errors=[field_error("programme_ids", f"not enabled for the school: {p}")
                                                 for p in unknown])


async def check_groups(db: Db, session: Session, *, school_id: str, group_ids: list[str]) -> None:
    """Refuse groups that do not exist in the school or are archived."""
    for group_id in group_ids:
        group = await repo.get_group(db, school_id, group_id, session)
        if group is None or group.get("archived"):
            raise Problem(422, "validation", errors=[field_error("group_ids", f"unknown group: {group_id}")])


async def create_student(db: Db, session: Session, outbox: Outbox, *, principal: Principal, school_id: str, values: Doc,
                         invite: bool, language: str) -> Doc:
    """Create a student (code unique per school); a supervisor who creates one is linked to it."""
    await check_programmes(db, session, school_id=school_id, programme_ids=values.get("programme_ids", []))
    await check_groups(db, session, school_id=school_id, group_ids=values.get("group_ids", []))
    if await repo.student_with_code(db, school_id, values["student_code"], session):
        raise Problem(409, "conflict", detail=CODE_TAKEN, errors=[field_error("student_code", "already in use")])
    doc = new_student(school_id, values)
    staged: Staged = [events.created(doc, invite, language)]
    if Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        doc["supervisor_ids"].append(principal.subject)
        refresh(doc)
        staged.append(events.link(doc, principal.subject, "school_supervisor", True))
    await repo.insert_students(db, [doc], session)
    staged += [events.members(school_id, g, [doc["_id"]]) for g in doc["group_ids"]]
    await stage(outbox, session, staged)
    return student_out(doc)


async def update_student(db: Db, session: Session, outbox: Outbox, *, principal: Principal, school_id: str,
                         student_id: str, changes: Doc) -> Doc:
    """Change a student's own fields; the code stays unique in the school."""
    doc = await editable_student(db, session, principal=principal, school_id=school_id, student_id=student_id)
    if "programme_ids" in changes:
        await check_programmes(db, session, school_id=school_id, programme_ids=changes["programme_ids"])
    code = changes.get("student_code")
    if code and code != doc["student_code"] and await repo.student_with_code(db, school_id, code, session):
        raise Problem(409, "conflict", detail=CODE_TAKEN, errors=[field_error("student_code", "already in use")])
    doc.update(changes, updated_at=now())
    refresh(doc)
    await repo.replace_students(db, [doc], session)
    await stage(outbox, session, [events.updated(doc)])
    return student_out(doc)


async def set_state(db: Db, session: Session, outbox: Outbox, *, principal: Principal, school_id: str, student_id: str,
                    archived: bool | None = None, active: bool | None = None) -> Doc:
    """Archive/restore or deactivate/activate a student (never delete)."""
    doc = await visible_student(db, session, principal=principal, school_id=school_id, student_id=student_id)
    was_archived = doc["archived"]
    if archived is not None:
        doc["archived"] = archived
    if active is not None:
        doc["active"] = active
    doc["updated_at"] = now()
    await repo.replace_students(db, [doc], session)
    staged: Staged = [events.updated(doc)]
    if archived and not was_archived:
        staged.append((StudentArchivedV1(student_id=doc["_id"], school_id=school_id), doc["_id"], school_id))
    await stage(outbox, session, staged)
    return student_out(doc)


async def resolve_person(db: Db, session: Session, *, school_id: str, relation: str, user_id: str | None,
                         email: str | None) -> str:
    """The user to link, checked: supervisors and assessors need that role in the school."""
    if user_id is None and email:
        user_id = (await repo.users_by_email(db, [email], session)).get(email.lower())
    if user_id is None or not await repo.user_exists(db, user_id, session):
        raise Problem(422, "validation", errors=[field_error("user_id", LINK_REASONS["unknown_person"])])
    roles = (await repo.roles_of(db, school_id, [user_id], session)).get(user_id, set())
    problem = link_problem(relation, roles)
    if problem:
        raise Problem(422, "validation", errors=[field_error("user_id", LINK_REASONS[problem])])
    return user_id


def add_link(doc: Doc, relation: str, user_id: str) -> bool:
    """Link a person to a student document; False when already linked."""
    ids = doc[RELATION_FIELDS[relation]]
    if user_id in ids:
        return False
    ids.append(user_id)
    refresh(doc)
    return True


async def link_person(db: Db, session: Session, outbox: Outbox, *, principal: Principal, school_id: str,
                      student_id: str, relation: str, user_id: str | None, email: str | None) -> Doc:
    """Link a person to one student (a repeat changes nothing)."""
    doc = await editable_student(db, session, principal=principal, school_id=school_id, student_id=student_id)
    person = await resolve_person(db, session, school_id=school_id, relation=relation, user_id=user_id,
                                  email=email)
    if add_link(doc, relation, person):
        doc["updated_at"] = now()
        await repo.replace_students(db, [doc], session)
        await stage(outbox, session, [events.link(doc, person, relation, True)])
    return student_out(doc)


async def unlink_person(db: Db, session: Session, outbox: Outbox, *, principal: Principal, school_id: str,
                        student_id: str, relation: str, user_id: str) -> Doc:
    """Remove a person's link to a student."""
    doc = await editable_student(db, session, principal=principal, school_id=school_id, student_id=student_id)
    ids = doc[RELATION_FIELDS[relation]]
    if user_id not in ids:
        raise not_found("link")
    ids.remove(user_id)
    refresh(doc)
    doc["updated_at"] = now()
    await repo.replace_students(db, [doc], session)
    await stage(outbox, session, [events.link(doc, user_id, relation, False)])
    return student_out(doc)


# --- bulk actions ---------------------------------------------------------------------------------

async def bulk(db: Db, session: Session, outbox: Outbox, *, principal: Principal, school_id: str,
               student_ids: list[str], action: Doc) -> Doc:
    """Apply one action to a selection of students at once; returns how many changed."""
    ids = list(dict.fromkeys(student_ids))
    students = [d for d in await repo.students_by_ids(db, school_id, ids, session) if may_edit(principal, d)]
    if len(students) != len(ids):
        found = {d["_id"] for d in students}
        raise Problem(422, "validation", detail=Text("Sommige gekozen studenten kunt u niet wijzigen.",
                                                     "Some selected students cannot be changed by you."),
                      errors=[field_error("student_ids", f"unknown or not yours: {i}") for i in ids
                              if i not in found][:50])
    kind = action["action"]
    changed: list[Doc] = []
    staged: Staged = []
    if kind == "link_programme":
        await check_programmes(db, session, school_id=school_id, programme_ids=[action["programme_id"]])
        for doc in students:
            if action["programme_id"] not in doc["programme_ids"]:
                doc["programme_ids"].append(action["programme_id"])
                changed.append(doc)
                staged.append(events.updated(doc))
    elif kind == "add_to_group":
        await check_groups(db, session, school_id=school_id, group_ids=[action["group_id"]])
        changed = [d for d in students if action["group_id"] not in d["group_ids"]]
        for doc in changed:
            doc["group_ids"].append(action["group_id"])
        if changed:
            staged.append(events.members(school_id, action["group_id"], [d["_id"] for d in changed]))
    elif kind == "link_person":
        user_id = await resolve_person(db, session, school_id=school_id, relation=action["relation"],
                                       user_id=action.get("user_id"), email=action.get("email"))
        for doc in students:
            if add_link(doc, action["relation"], user_id):
                changed.append(doc)
                staged.append(events.link(doc, user_id, action["relation"], True))
    elif kind == "mark_exam_unavailable":
        changed = [d for d in students if action["exam_id"] not in d["unavailable_exam_ids"]]
        for doc in changed:
            doc["unavailable_exam_ids"].append(action["exam_id"])
        if changed:
            staged.append((ExamUnavailableMarkedV1(exam_id=action["exam_id"], school_id=school_id,
                                                   student_ids=[d["_id"] for d in changed]),
                           action["exam_id"], school_id))
    elif kind == "enable_progress_view":
        changed = [d for d in students if not d["progress_view"]]
        for doc in changed:
            doc["progress_view"] = True
        if changed:
            staged.append((ProgressViewChangedV1(school_id=school_id, student_ids=[d["_id"] for d in changed]),
                           school_id, school_id))
    for doc in changed:
        doc["updated_at"] = now()
    await repo.replace_students(db, changed, session)
    await stage(outbox, session, staged)
    return {"action": kind, "selected": len(students), "changed": len(changed)}
