"""Use cases of enrollment: catalog, programmes per school, students, links, groups and bulk actions.

Each command function runs inside the caller's transaction (kit.commands.execute) and stages its events.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Event
from contracts.enrollment import (
    ExamUnavailableMarkedV1,
    GroupChangedV1,
    GroupMembersChangedV1,
    PersonLinkedV1,
    PersonUnlinkedV1,
    ProgrammeEnabledV1,
    ProgrammePublishedV1,
    ProgressViewChangedV1,
    StudentArchivedV1,
    StudentCreatedV1,
    StudentUpdatedV1,
)
from enrollment import repository as repo
from enrollment.models import RELATION_FIELDS, link_problem, search_terms
from kit.auth import STAFF_ROLES
from kit.errors import Problem, field_error
from kit.mongo import Db
from kit.outbox import Outbox

SERVICE = "enrollment"
Doc = dict[str, Any]
Staged = list[tuple[Event, str, str | None]]

LINK_REASONS = {
    "not_supervisor": "This user is not a school supervisor of the school.",
    "not_assessor": "This user is not an assessor of the school.",
    "unknown_person": "There is no user with this id or e-mail address.",
}


def new_id() -> str:
    """A new id that sorts by creation time."""
    return str(ObjectId())


def not_found(what: str) -> Problem:
    """The 404 of a resource that does not exist in this school (or is not visible)."""
    return Problem(404, "not_found", detail=f"This {what} does not exist.")


async def stage(db: Db, session: AsyncClientSession, events: Staged) -> None:
    """Stage events in the transaction, in one batch."""
    await Outbox(db, SERVICE).stage_many(session, events)


# --- students: shape and events -------------------------------------------------------------------

def new_student(school_id: str, values: Doc) -> Doc:
    """A new student document from checked values."""
    stamp = repo.now()
    doc: Doc = {
        "_id": new_id(), "school_id": school_id, "student_code": values["student_code"],
        "first_name": values["first_name"], "last_name": values["last_name"], "email": values["email"].lower(),
        "gender": values.get("gender"), "date_of_birth": values.get("date_of_birth"),
        "programme_ids": list(values.get("programme_ids", [])), "group_ids": list(values.get("group_ids", [])),
        "supervisor_ids": [], "assessor_ids": [], "trainer_ids": [], "user_id": None, "archived": False,
        "active": True, "unavailable_exam_ids": [], "progress_view": False, "created_at": stamp,
        "updated_at": stamp,
    }
    return refresh(doc)


def refresh(doc: Doc) -> Doc:
    """Recompute the derived fields (search terms, every linked person)."""
    doc["terms"] = search_terms(doc["student_code"], doc["first_name"], doc["last_name"], doc["email"])
    doc["linked_user_ids"] = sorted({*doc["supervisor_ids"], *doc["assessor_ids"], *doc["trainer_ids"]})
    doc["viewer_ids"] = sorted({*doc["linked_user_ids"], *([doc["user_id"]] if doc.get("user_id") else [])})
    return doc


def student_out(doc: Doc) -> Doc:
    """The API view of a student."""
    out = {k: v for k, v in doc.items() if k not in ("_id", "terms", "linked_user_ids", "viewer_ids")}
    out["id"] = doc["_id"]
    out["links"] = {rel: doc.get(name, []) for rel, name in RELATION_FIELDS.items()}
    out["schedulable"] = bool(doc.get("supervisor_ids")) and doc.get("active", True) and not doc.get("archived")
    for name in RELATION_FIELDS.values():
        out.pop(name, None)
    return out


def created_event(doc: Doc, invite: bool, language: str) -> tuple[Event, str, str | None]:
    """StudentCreatedV1 for a new student (identity creates or links the account from it)."""
    return (StudentCreatedV1(
        student_id=doc["_id"], school_id=doc["school_id"], student_code=doc["student_code"],
        first_name=doc["first_name"], last_name=doc["last_name"], email=doc["email"],
        programme_ids=doc["programme_ids"], invite=invite, language=language,
    ), doc["_id"], doc["school_id"])


def updated_event(doc: Doc) -> tuple[Event, str, str | None]:
    """StudentUpdatedV1 carrying the student's full current state."""
    return (StudentUpdatedV1(
        student_id=doc["_id"], school_id=doc["school_id"], student_code=doc["student_code"],
        first_name=doc["first_name"], last_name=doc["last_name"], email=doc["email"],
        programme_ids=doc["programme_ids"], archived=doc["archived"], active=doc["active"],
    ), doc["_id"], doc["school_id"])


def link_event(doc: Doc, user_id: str, relation: str, linked: bool) -> tuple[Event, str, str | None]:
    """PersonLinkedV1 or PersonUnlinkedV1."""
    cls = PersonLinkedV1 if linked else PersonUnlinkedV1
    return (cls(student_id=doc["_id"], school_id=doc["school_id"], user_id=user_id,
                relation=relation),
            doc["_id"], doc["school_id"])


# --- students: commands ---------------------------------------------------------------------------

async def check_programmes(db: Db, school_id: str, programme_ids: list[str], session: AsyncClientSession) -> None:
    """Refuse programmes the school has not enabled."""
    enabled = {p["programme_id"] for p in await repo.school_programmes(db, school_id, True, session)}
    unknown = [p for p in programme_ids if p not in enabled]
    if unknown:
        raise Problem(422, "validation", errors=[field_error("programme_ids", f"not enabled for the school: {p}")
                                                 for p in unknown])


async def check_groups(db: Db, school_id: str, group_ids: list[str], session: AsyncClientSession) -> None:
    """Refuse groups that do not exist in the school or are archived."""
    for group_id in group_ids:
        group = await repo.get_group(db, school_id, group_id, session)
        if group is None or group.get("archived"):
            raise Problem(422, "validation", errors=[field_error("group_ids", f"unknown group: {group_id}")])


async def create_student(db: Db, session: AsyncClientSession, school_id: str, values: Doc, *, invite: bool,
                         language: str, creator_supervisor: str | None) -> Doc:
    """Create a student (code unique per school); a supervisor who creates one is linked to it."""
    await check_programmes(db, school_id, values.get("programme_ids", []), session)
    await check_groups(db, school_id, values.get("group_ids", []), session)
    if await repo.student_with_code(db, school_id, values["student_code"], session):
        raise Problem(409, "conflict", detail="A student with this student code already exists in the school.",
                      errors=[field_error("student_code", "already in use")])
    doc = new_student(school_id, values)
    events: Staged = [created_event(doc, invite, language)]
    if creator_supervisor:
        doc["supervisor_ids"].append(creator_supervisor)
        refresh(doc)
        events.append(link_event(doc, creator_supervisor, "school_supervisor", True))
    await repo.insert_students(db, [doc], session)
    if doc["group_ids"]:
        events += [(GroupMembersChangedV1(group_id=g, school_id=school_id, added=[doc["_id"]]), g, school_id)
                   for g in doc["group_ids"]]
    await stage(db, session, events)
    return student_out(doc)


async def update_student(db: Db, session: AsyncClientSession, doc: Doc, changes: Doc) -> Doc:
    """Change a student's own fields; the code stays unique in the school."""
    if "programme_ids" in changes:
        await check_programmes(db, doc["school_id"], changes["programme_ids"], session)
    code = changes.get("student_code")
    if code and code != doc["student_code"] and await repo.student_with_code(db, doc["school_id"], code, session):
        raise Problem(409, "conflict", detail="A student with this student code already exists in the school.",
                      errors=[field_error("student_code", "already in use")])
    if "email" in changes:
        changes["email"] = changes["email"].lower()
    doc.update(changes, updated_at=repo.now())
    refresh(doc)
    await repo.replace_students(db, [doc], session)
    await stage(db, session, [updated_event(doc)])
    return student_out(doc)


async def set_state(db: Db, session: AsyncClientSession, doc: Doc, *, archived: bool | None = None,
                    active: bool | None = None) -> Doc:
    """Archive/restore or deactivate/activate a student (never delete)."""
    was_archived = doc["archived"]
    if archived is not None:
        doc["archived"] = archived
    if active is not None:
        doc["active"] = active
    doc["updated_at"] = repo.now()
    await repo.replace_students(db, [doc], session)
    events: Staged = [updated_event(doc)]
    if archived and not was_archived:
        events.append((StudentArchivedV1(student_id=doc["_id"], school_id=doc["school_id"]),
                       doc["_id"], doc["school_id"]))
    await stage(db, session, events)
    return student_out(doc)


async def resolve_person(db: Db, session: AsyncClientSession, school_id: str, relation: str,
                         user_id: str | None, email: str | None) -> str:
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


async def link_person(db: Db, session: AsyncClientSession, doc: Doc, relation: str, user_id: str) -> Doc:
    """Link a person to one student (a repeat changes nothing)."""
    if add_link(doc, relation, user_id):
        doc["updated_at"] = repo.now()
        await repo.replace_students(db, [doc], session)
        await stage(db, session, [link_event(doc, user_id, relation, True)])
    return student_out(doc)


async def unlink_person(db: Db, session: AsyncClientSession, doc: Doc, relation: str, user_id: str) -> Doc:
    """Remove a person's link to a student."""
    ids = doc[RELATION_FIELDS[relation]]
    if user_id not in ids:
        raise not_found("link")
    ids.remove(user_id)
    refresh(doc)
    doc["updated_at"] = repo.now()
    await repo.replace_students(db, [doc], session)
    await stage(db, session, [link_event(doc, user_id, relation, False)])
    return student_out(doc)


# --- bulk actions ---------------------------------------------------------------------------------

async def bulk(db: Db, session: AsyncClientSession, school_id: str, students: list[Doc], action: Doc) -> Doc:
    """Apply one action to a selection of students at once; returns how many changed."""
    kind = action["action"]
    changed: list[Doc] = []
    events: Staged = []
    if kind == "link_programme":
        await check_programmes(db, school_id, [action["programme_id"]], session)
        for doc in students:
            if action["programme_id"] not in doc["programme_ids"]:
                doc["programme_ids"].append(action["programme_id"])
                changed.append(doc)
                events.append(updated_event(doc))
    elif kind == "add_to_group":
        await check_groups(db, school_id, [action["group_id"]], session)
        changed = [d for d in students if action["group_id"] not in d["group_ids"]]
        for doc in changed:
            doc["group_ids"].append(action["group_id"])
        if changed:
            events.append((GroupMembersChangedV1(group_id=action["group_id"], school_id=school_id,
                                                 added=[d["_id"] for d in changed]), action["group_id"], school_id))
    elif kind == "link_person":
        user_id = await resolve_person(db, session, school_id, action["relation"], action.get("user_id"),
                                       action.get("email"))
        for doc in students:
            if add_link(doc, action["relation"], user_id):
                changed.append(doc)
                events.append(link_event(doc, user_id, action["relation"], True))
    elif kind == "mark_exam_unavailable":
        changed = [d for d in students if action["exam_id"] not in d["unavailable_exam_ids"]]
        for doc in changed:
            doc["unavailable_exam_ids"].append(action["exam_id"])
        if changed:
            events.append((ExamUnavailableMarkedV1(exam_id=action["exam_id"], school_id=school_id,
                                                   student_ids=[d["_id"] for d in changed]),
                           action["exam_id"], school_id))
    elif kind == "enable_progress_view":
        changed = [d for d in students if not d["progress_view"]]
        for doc in changed:
            doc["progress_view"] = True
        if changed:
            events.append((ProgressViewChangedV1(school_id=school_id, student_ids=[d["_id"] for d in changed]),
                           school_id, school_id))
    for doc in changed:
        doc["updated_at"] = repo.now()
    await repo.replace_students(db, changed, session)
    await stage(db, session, events)
    return {"action": kind, "selected": len(students), "changed": len(changed)}


# --- groups ---------------------------------------------------------------------------------------

def group_out(doc: Doc) -> Doc:
    """The API view of a group."""
    return {"id": doc["_id"], **{k: doc.get(k) for k in ("school_id", "name", "category", "description",
                                                          "archived", "created_at", "updated_at")}}


def group_event(doc: Doc) -> tuple[Event, str, str | None]:
    """GroupChangedV1 with the group's full state."""
    return (GroupChangedV1(group_id=doc["_id"], school_id=doc["school_id"], name=doc["name"],
                           category=doc.get("category"), description=doc.get("description"),
                           archived=doc["archived"]), doc["_id"], doc["school_id"])


async def create_group(db: Db, session: AsyncClientSession, school_id: str, values: Doc) -> Doc:
    """Create a group; its name is unique in the school."""
    existing = (await repo.groups_by_name(db, school_id, session)).get(values["name"].lower())
    if existing is not None:
        raise Problem(409, "conflict", detail="A group with this name already exists.",
                      errors=[field_error("name", "already in use")])
    stamp = repo.now()
    doc = {"_id": new_id(), "school_id": school_id, "name": values["name"], "category": values.get("category"),
           "description": values.get("description"), "archived": False, "created_at": stamp, "updated_at": stamp}
    await repo.insert_group(db, doc, session)
    await stage(db, session, [group_event(doc)])
    return group_out(doc)


async def change_group(db: Db, session: AsyncClientSession, school_id: str, group_id: str, changes: Doc) -> Doc:
    """Rename, describe or archive a group."""
    if "name" in changes:
        other = (await repo.groups_by_name(db, school_id, session)).get(changes["name"].lower())
        if other is not None and other["_id"] != group_id:
            raise Problem(409, "conflict", detail="A group with this name already exists.",
                          errors=[field_error("name", "already in use")])
    doc = await repo.update_group(db, school_id, group_id, changes, session)
    if doc is None:
        raise not_found("group")
    await stage(db, session, [group_event(doc)])
    return group_out(doc)


async def change_members(db: Db, session: AsyncClientSession, school_id: str, group_id: str,
                         add: list[str], remove: list[str]) -> Doc:
    """Add and remove many students of a group at once."""
    group = await repo.get_group(db, school_id, group_id, session)
    if group is None:
        raise not_found("group")
    students = await repo.students_by_ids(db, school_id, list({*add, *remove}), session)
    found = {s["_id"] for s in students}
    missing = [i for i in {*add, *remove} if i not in found]
    if missing:
        raise Problem(422, "validation", errors=[field_error("students", f"unknown student: {i}") for i in missing])
    added, removed, changed = [], [], []
    for doc in students:
        if doc["_id"] in add and group_id not in doc["group_ids"]:
            doc["group_ids"].append(group_id)
            added.append(doc["_id"])
            changed.append(doc)
        elif doc["_id"] in remove and group_id in doc["group_ids"]:
            doc["group_ids"].remove(group_id)
            removed.append(doc["_id"])
            changed.append(doc)
    await repo.replace_students(db, changed, session)
    if changed:
        await stage(db, session, [(GroupMembersChangedV1(group_id=group_id, school_id=school_id, added=added,
                                                         removed=removed), group_id, school_id)])
    return {"group_id": group_id, "added": len(added), "removed": len(removed)}


# --- programmes -----------------------------------------------------------------------------------

def programme_id(crebo: str, cohort: int) -> str:
    """The catalog id of a programme: one per crebo and qualification-file cohort."""
    return f"prg-{crebo}-{cohort}"


async def publish_programme(db: Db, session: AsyncClientSession, values: Doc) -> Doc:
    """Publish (or correct) a catalog programme for every school."""
    doc = {"_id": programme_id(values["crebo"], values["cohort"]), **values, "updated_at": repo.now()}
    await repo.save_programme(db, doc, session)
    event = ProgrammePublishedV1(programme_id=doc["_id"], crebo=doc["crebo"], name=doc["name"],
                                 level=doc["level"], cohort=doc["cohort"], kind=doc["kind"])
    await stage(db, session, [(event, doc["_id"], None)])
    return programme_out(doc)


def programme_out(doc: Doc) -> Doc:
    """The API view of a catalog programme."""
    return {"id": doc["_id"], **{k: doc[k] for k in ("crebo", "name", "level", "cohort", "kind")}}


async def set_school_programme(db: Db, session: AsyncClientSession, school_id: str, pid: str, enabled: bool,
                               staff_ids: list[str]) -> Doc:
    """Enable (or disable) a catalog programme for a school and link its staff."""
    programme = await repo.get_programme(db, pid, session)
    if programme is None:
        raise not_found("programme")
    roles = await repo.roles_of(db, school_id, staff_ids, session)
    staff_values = {r.value for r in STAFF_ROLES}
    not_staff = [u for u in staff_ids if not roles.get(u, set()) & staff_values]
    if not_staff:
        raise Problem(422, "validation", errors=[field_error("staff_ids", f"not staff of the school: {u}")
                                                 for u in not_staff])
    staff = sorted(set(staff_ids))
    link = await repo.set_school_programme(db, school_id, pid, enabled, staff, session)
    await stage(db, session, [(ProgrammeEnabledV1(programme_id=pid, school_id=school_id, enabled=enabled,
                                                  staff_ids=staff), pid, school_id)])
    return {**programme_out(programme), "enabled": link["enabled"], "staff_ids": link["staff_ids"]}
