"""Every query of the enrollment service, and the indexes they use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from enrollment.models import SEARCH_VERSION, fold, search_terms
from kit.auth import Principal, Role
from kit.clock import now
from kit.mongo import Db

Doc = dict[str, Any]
Session = AsyncClientSession | None


LEGACY_INDEXES = [("students", name) for name in ("archived", "programme_ids", "group_ids", "terms", "viewers")] + [
    ("groups", "listed"), ("imports", "school")]


async def prepare(db: Db) -> None:
    """Indexes, then the search field of students stored before it changed (idempotent; API and worker run it)."""
    await ensure_indexes(db)
    await refresh_search_fields(db)


async def ensure_indexes(db: Db) -> None:
    """Create every index the queries below use (idempotent)."""
    await db.users.create_index("email", name="email")
    await db.memberships.create_index([("school_id", ASCENDING), ("user_id", ASCENDING)], name="school_user")
    await db.programmes.create_index([("crebo", ASCENDING), ("cohort", DESCENDING)], name="crebo")
    await db.school_programmes.create_index([("school_id", ASCENDING), ("programme_id", ASCENDING)],
                                            name="school_programme", unique=True)
    # Few indexes on students: each costs every imported row a write on the Python-speed stand-in.
    # Lists are sorted by student code; viewer_ids (linked people and the student's own account) serves every
    # non-admin visibility query.
    students = db.students
    await students.create_index([("school_id", ASCENDING), ("student_code", ASCENDING)], name="code", unique=True)
    for name in ("archived", "programme_ids", "group_ids", "terms"):
        await students.create_index([("school_id", ASCENDING), (name, ASCENDING), ("student_code", ASCENDING)],
                                    name=f"{name}_by_code")
    await students.create_index([("viewer_ids", ASCENDING), ("school_id", ASCENDING), ("student_code", ASCENDING)],
                                name="viewers_by_code")
    await db.groups.create_index([("school_id", ASCENDING), ("name", ASCENDING)], name="name", unique=True)
    await db.groups.create_index([("school_id", ASCENDING), ("archived", ASCENDING), ("name", ASCENDING)],
                                 name="listed_by_name")
    await db.imports.create_index([("school_id", ASCENDING), ("created_at", DESCENDING)], name="school_recent")
    # Indexes of the time-sorted ids before kit.ids: dropped so that imports stop paying for them.
    for collection, name in LEGACY_INDEXES:
        if name in await db[collection].index_information():
            await db[collection].drop_index(name)
    await db.imports.create_index([("status", ASCENDING)], name="status")
    await db.import_files.create_index([("job_id", ASCENDING), ("n", ASCENDING)], name="job")
    await db.import_blocks.create_index([("job_id", ASCENDING), ("n", ASCENDING)], name="job")


# --- identity projections -------------------------------------------------------------------------

async def upsert_school(db: Db, school_id: str, name: str, session: Session) -> None:
    """Remember a school."""
    await db.schools.update_one({"_id": school_id}, {"$set": {"name": name}}, upsert=True, session=session)


async def upsert_user(db: Db, user_id: str, email: str, display_name: str, active: bool, session: Session) -> None:
    """Remember a user's e-mail (lower case) and name."""
    await db.users.update_one(
        {"_id": user_id},
        {"$set": {"email": email.lower(), "display_name": display_name, "active": active}},
        upsert=True, session=session,
    )


async def set_roles(db: Db, school_id: str, user_id: str, roles: list[str], session: Session) -> None:
    """Remember every role a user holds in a school."""
    await db.memberships.update_one(
        {"_id": f"{school_id}:{user_id}"},
        {"$set": {"school_id": school_id, "user_id": user_id, "roles": sorted(set(roles))}},
        upsert=True, session=session,
    )


async def set_student_user(db: Db, school_id: str, student_id: str, user_id: str, session: Session) -> bool:
    """Record which user account a student record belongs to; False when the student is unknown."""
    result = await db.students.update_one({"_id": student_id, "school_id": school_id},
                                          {"$set": {"user_id": user_id}, "$addToSet": {"viewer_ids": user_id}},
                                          session=session)
    return result.matched_count == 1


async def roles_of(db: Db, school_id: str, user_ids: Iterable[str], session: Session = None) -> dict[str, set[str]]:
    """user id -> roles in the school."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    cursor = db.memberships.find({"school_id": school_id, "user_id": {"$in": ids}}, session=session)
    return {m["user_id"]: set(m.get("roles", [])) async for m in cursor}


async def users_by_email(db: Db, emails: Iterable[str], session: Session = None) -> dict[str, str]:
    """lower-case e-mail -> user id, for the known ones."""
    wanted = list({e.lower() for e in emails if e})
    result: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        async for user in db.users.find({"email": {"$in": wanted[start:start + 1000]}}, {"email": 1},
                                        session=session):
            result[user["email"]] = user["_id"]
    return result


async def user_exists(db: Db, user_id: str, session: Session = None) -> bool:
    """True when identity told us about this user."""
    return await db.users.count_documents({"_id": user_id}, limit=1, session=session) == 1


# --- programmes -----------------------------------------------------------------------------------

async def save_programme(db: Db, doc: Doc, session: Session) -> Doc:
    """Insert or replace a catalog programme."""
    await db.programmes.replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)
    return doc


async def get_programme(db: Db, programme_id: str, session: Session = None) -> Doc | None:
    """One catalog programme."""
    return await db.programmes.find_one({"_id": programme_id}, session=session)


async def list_programmes(db: Db, crebo: str | None) -> list[Doc]:
    """The catalog, optionally for one crebo."""
    query = {"crebo": crebo} if crebo else {}
    return await db.programmes.find(query).sort([("crebo", ASCENDING), ("cohort", DESCENDING)]).to_list()


async def set_school_programme(db: Db, school_id: str, programme_id: str, enabled: bool, staff_ids: list[str],
                               session: Session) -> Doc:
    """Enable or disable a programme for a school, with its staff."""
    doc = await db.school_programmes.find_one_and_update(
        {"school_id": school_id, "programme_id": programme_id},
        {"$set": {"enabled": enabled, "staff_ids": staff_ids, "updated_at": now()}},
        upsert=True, return_document=ReturnDocument.AFTER, session=session,
    )
    assert doc is not None
    return doc


async def school_programmes(db: Db, school_id: str, enabled_only: bool, session: Session = None) -> list[Doc]:
    """The programmes a school has set up."""
    query: Doc = {"school_id": school_id}
    if enabled_only:
        query["enabled"] = True
    return await db.school_programmes.find(query, session=session).to_list()


async def programmes_by_id(db: Db, ids: Iterable[str]) -> dict[str, Doc]:
    """Catalog programmes by id."""
    return {p["_id"]: p async for p in db.programmes.find({"_id": {"$in": list(set(ids))}})}


# --- students: who may read which -----------------------------------------------------------------

def visible(principal: Principal, school_id: str, *, archived: bool | None) -> Doc | None:
    """The filter of the students a caller may read in a school, or None when they may read none.

    Admins read everything (archived=None: archived or not); the exam board the school's current students;
    supervisors, assessors and workplace trainers their linked students; a student their own record.
    """
    roles = principal.roles_in(school_id)
    me = principal.subject
    if Role.SCHOOL_ADMIN in roles:
        return {"school_id": school_id} if archived is None else {"school_id": school_id, "archived": archived}
    if archived:
        return None
    if Role.EXAM_BOARD in roles:
        return {"school_id": school_id, "archived": False}
    scopes: list[Doc] = []
    for role, field in ((Role.SCHOOL_SUPERVISOR, "supervisor_ids"), (Role.ASSESSOR, "assessor_ids"),
                        (Role.WORKPLACE_TRAINER, "trainer_ids"), (Role.STUDENT, "user_id")):
        if role in roles:
            scopes.append({field: me})
    if not scopes:
        return None
    # Every scope involves the caller, so viewer_ids (indexed) narrows the query first.
    return {"school_id": school_id, "archived": False, "viewer_ids": me, "$or": scopes}


def student_search(principal: Principal, school_id: str, *, archived: bool = False, programme_id: str | None = None,
                   group_id: str | None = None, linked_user_id: str | None = None,
                   q: str | None = None) -> Doc | None:
    """The filter of a student list or export: what the caller may read, narrowed; None when nothing."""
    query = visible(principal, school_id, archived=archived)
    if query is None:
        return None
    if programme_id:
        query["programme_ids"] = programme_id
    if group_id:
        query["group_ids"] = group_id
    if linked_user_id:
        query["linked_user_ids"] = linked_user_id
        query.setdefault("viewer_ids", linked_user_id)
    term = fold(q) if q else ""
    if term:
        # $elemMatch: both bounds must hold for the same term of the array
        query["terms"] = {"$elemMatch": {"$gte": term, "$lt": term + "\uffff"}}
    return query


async def visible_student(db: Db, principal: Principal, school_id: str, student_id: str,
                          session: Session = None) -> Doc | None:
    """One student, when the caller may read it."""
    query = visible(principal, school_id, archived=None)
    if query is None:
        return None
    return await db.students.find_one({**query, "_id": student_id}, session=session)


# --- students -------------------------------------------------------------------------------------

async def find_students(db: Db, query: Doc, *, after: str | None, limit: int) -> list[Doc]:
    """One page of a school's students by student code (after: the last code of the previous page)."""
    if after:
        query = {**query, "student_code": {"$gt": after}}
    return await db.students.find(query).sort("student_code", ASCENDING).limit(limit).to_list()


def iter_students(db: Db, query: Doc) -> Any:
    """Every student matching, by student code (a cursor, for exports)."""
    return db.students.find(query).sort("student_code", ASCENDING)


async def students_by_ids(db: Db, school_id: str, ids: list[str], session: Session) -> list[Doc]:
    """The students of a school among the ids."""
    return await db.students.find({"school_id": school_id, "_id": {"$in": ids}}, session=session).to_list()


async def codes_and_emails(db: Db, school_id: str) -> list[Doc]:
    """_id, student code and e-mail of every student of the school (one pass, for matching import rows)."""
    return await db.students.find({"school_id": school_id}, {"student_code": 1, "email": 1}).to_list()


async def student_with_code(db: Db, school_id: str, code: str, session: Session) -> Doc | None:
    """The student holding a code in the school."""
    return await db.students.find_one({"school_id": school_id, "student_code": code}, session=session)


async def insert_students(db: Db, docs: list[Doc], session: Session) -> None:
    """Insert new students in one batch."""
    if docs:
        await db.students.insert_many(docs, ordered=True, session=session)


async def replace_students(db: Db, docs: list[Doc], session: Session) -> None:
    """Write changed students back in one batch."""
    if docs:
        await db.students.bulk_write([UpdateOne({"_id": d["_id"]}, {"$set": d}) for d in docs], ordered=True,
                                     session=session)


async def linked_students(db: Db, user_id: str, *, after: str | None, limit: int) -> list[Doc]:
    """Current students of any school a user is linked to, by school and student code.

    after: the previous page's last "<school id>/<student code>" (school ids hold no slash).
    """
    query: Doc = {"viewer_ids": user_id, "linked_user_ids": user_id, "archived": False}
    if after and "/" in after:
        school_id, code = after.split("/", 1)
        query["$or"] = [{"school_id": {"$gt": school_id}}, {"school_id": school_id, "student_code": {"$gt": code}}]
    order = [("school_id", ASCENDING), ("student_code", ASCENDING)]
    return await db.students.find(query).sort(order).limit(limit).to_list()


async def refresh_search_fields(db: Db, batch: int = 500) -> int:
    """Recompute the search terms of students stored before the current search version; how many changed."""
    changed = 0
    stale: Doc = {"search_v": {"$ne": SEARCH_VERSION}}
    fields = {"student_code": 1, "first_name": 1, "last_name": 1}
    # One forward pass along _id: each batch starts where the last ended instead of scanning again.
    while docs := await db.students.find(stale, fields).sort("_id", ASCENDING).limit(batch).to_list():
        await db.students.bulk_write([UpdateOne({"_id": d["_id"]}, {"$set": {
            "terms": search_terms(d["student_code"], d["first_name"], d["last_name"]), "search_v": SEARCH_VERSION,
        }}) for d in docs])
        changed += len(docs)
        stale = {"search_v": {"$ne": SEARCH_VERSION}, "_id": {"$gt": docs[-1]["_id"]}}
    return changed


async def user_names(db: Db, user_ids: Iterable[str]) -> dict[str, str]:
    """user id -> display name, for the users identity told us about."""
    ids = list(set(user_ids))
    names: dict[str, str] = {}
    for start in range(0, len(ids), 1000):
        async for user in db.users.find({"_id": {"$in": ids[start:start + 1000]}}, {"display_name": 1}):
            names[user["_id"]] = user.get("display_name") or user["_id"]
    return names


# --- groups ---------------------------------------------------------------------------------------

async def insert_group(db: Db, doc: Doc, session: Session) -> None:
    """Insert a group (its name is unique in the school)."""
    await db.groups.insert_one(doc, session=session)


async def get_group(db: Db, school_id: str, group_id: str, session: Session = None) -> Doc | None:
    """One group of a school."""
    return await db.groups.find_one({"_id": group_id, "school_id": school_id}, session=session)


async def visible_group(db: Db, principal: Principal, school_id: str, group_id: str) -> Doc | None:
    """One group, when the caller may read it (an archived one only the school admin)."""
    query: Doc = {"_id": group_id, "school_id": school_id}
    if Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
        query["archived"] = False
    return await db.groups.find_one(query)


async def groups_by_name(db: Db, school_id: str, session: Session = None) -> dict[str, Doc]:
    """lower-case name -> group, every group of the school."""
    return {g["name"].lower(): g async for g in db.groups.find({"school_id": school_id}, session=session)}


async def list_groups(db: Db, school_id: str, archived: bool, after: str | None, limit: int) -> list[Doc]:
    """One page of a school's groups by name (after: the last name of the previous page)."""
    query: Doc = {"school_id": school_id, "archived": archived}
    if after:
        query["name"] = {"$gt": after}
    return await db.groups.find(query).sort("name", ASCENDING).limit(limit).to_list()


async def update_group(db: Db, school_id: str, group_id: str, changes: Doc, session: Session) -> Doc | None:
    """Change a group; its new state, or None when it does not exist."""
    return await db.groups.find_one_and_update(
        {"_id": group_id, "school_id": school_id}, {"$set": {**changes, "updated_at": now()}},
        return_document=ReturnDocument.AFTER, session=session,
    )


# --- import jobs ----------------------------------------------------------------------------------

async def insert_job(db: Db, doc: Doc) -> None:
    """Create an import job."""
    await db.imports.insert_one(doc)


async def get_job(db: Db, school_id: str, job_id: str, session: Session = None) -> Doc | None:
    """One import job of a school."""
    return await db.imports.find_one({"_id": job_id, "school_id": school_id}, session=session)


async def update_job(db: Db, job_id: str, changes: Doc, session: Session = None, *,
                     expect: Doc | None = None) -> Doc | None:
    """Change a job (only when it still matches expect); its new state or None."""
    return await db.imports.find_one_and_update(
        {"_id": job_id, **(expect or {})}, {"$set": {**changes, "updated_at": now()}},
        return_document=ReturnDocument.AFTER, session=session,
    )


async def save_file_chunk(db: Db, job_id: str, n: int, data: bytes) -> None:
    """Keep part of an uploaded file."""
    await db.import_files.insert_one({"_id": f"{job_id}:{n}", "job_id": job_id, "n": n, "data": data})


async def save_block(db: Db, job_id: str, n: int, rows: list[Doc]) -> None:
    """Keep a block of parsed rows: [{"row": file row number, "cells": [...]}]."""
    await db.import_blocks.insert_one({"_id": f"{job_id}:{n}", "job_id": job_id, "n": n, "rows": rows})


def iter_blocks(db: Db, job_id: str, start: int = 0, projection: Doc | None = None) -> Any:
    """The parsed row blocks of a job from block start, in order."""
    return db.import_blocks.find({"job_id": job_id, "n": {"$gte": start}}, projection).sort("n", ASCENDING)


async def set_block_results(db: Db, job_id: str, n: int, results: list[Doc], session: Session = None) -> None:
    """Store the outcome per row of a block (preview or commit)."""
    await db.import_blocks.update_one({"_id": f"{job_id}:{n}"}, {"$set": {"results": results}}, session=session)


async def list_jobs(db: Db, school_id: str, limit: int) -> list[Doc]:
    """A school's latest import jobs."""
    return await db.imports.find({"school_id": school_id}, {"suggested_mapping": 0}).sort(
        "created_at", DESCENDING).limit(limit).to_list()


async def stopped_commits(db: Db) -> list[Doc]:
    """Import jobs whose commit started but did not finish."""
    return await db.imports.find({"status": "committing"}, {"school_id": 1, "lease_until": 1}).to_list()
