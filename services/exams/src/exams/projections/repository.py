"""Every query on the projections: members and roles, students and their links, groups, programmes."""

from __future__ import annotations

from pymongo import ASCENDING

from exams.access import RELATION_FIELD
from exams.common import Doc, Session
from exams.projections import roster
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of the projections."""
    await db.members.create_index([("school_id", ASCENDING), ("user_id", ASCENDING)])
    await db.members.create_index([("user_id", ASCENDING)])
    await db.students.create_index([("school_id", ASCENDING), ("programme_ids", ASCENDING),
                                    ("student_code", ASCENDING)])
    await db.students.create_index([("school_id", ASCENDING), ("group_ids", ASCENDING), ("student_code", ASCENDING)])
    for field in ("supervisor_ids", "assessor_ids", "trainer_ids", "assessing_ids"):
        await db.students.create_index([(field, ASCENDING), ("school_id", ASCENDING), ("student_code", ASCENDING)])
    await db.students.create_index([("school_id", ASCENDING), ("user_id", ASCENDING)])
    await db.students.create_index([("school_id", ASCENDING), ("student_code", ASCENDING)])
    await db.groups.create_index([("school_id", ASCENDING), ("archived", ASCENDING)])
    await db.school_programmes.create_index([("school_id", ASCENDING), ("enabled", ASCENDING)])
    await db.unavailable.create_index([("school_id", ASCENDING), ("student_id", ASCENDING)])


# --- writes, from events ------------------------------------------------------------------------------

async def set_roles(db: Db, session: Session, *, school_id: str, user_id: str, roles: list[str]) -> None:
    """Every role a person holds in a school now."""
    await db.members.update_one({"_id": f"{school_id}:{user_id}"},
                                {"$set": {"school_id": school_id, "user_id": user_id, "roles": sorted(roles)}},
                                upsert=True, session=session)


async def upsert_student(db: Db, session: Session, *, student_id: str, fields: Doc) -> None:
    """Set a student's fields (creating the record when an event about it came first)."""
    await db.students.update_one({"_id": student_id}, {"$set": fields, "$setOnInsert": _empty_links()},
                                 upsert=True, session=session)
    await roster.sync(db, session, student_id=student_id)


def _empty_links() -> Doc:
    return {"supervisor_ids": [], "assessor_ids": [], "trainer_ids": [], "assessing_ids": [], "group_ids": []}


async def change_student_list(db: Db, session: Session, *, student_ids: list[str], school_id: str, field: str,
                              value: str, add: bool) -> None:
    """Add a value to (or remove it from) a list field of students, e.g. a group or a linked person."""
    op: Doc = {"$addToSet": {field: value}} if add else {"$pull": {field: value}}
    for sid in student_ids:
        if add:
            await db.students.update_one(
                {"_id": sid}, {**op, "$set": {"school_id": school_id},
                               "$setOnInsert": {k: v for k, v in _empty_links().items() if k != field}},
                upsert=True, session=session)
        else:
            await db.students.update_one({"_id": sid}, op, session=session)
        await roster.sync(db, session, student_id=sid)


async def link(db: Db, session: Session, *, school_id: str, student_id: str, user_id: str, relation: str,
               linked: bool) -> None:
    """A person was linked to (or unlinked from) a student."""
    await change_student_list(db, session, student_ids=[student_id], school_id=school_id,
                              field=RELATION_FIELD[relation], value=user_id, add=linked)


async def mark_assessing(db: Db, session: Session, *, student_id: str, user_ids: list[str]) -> None:
    """Assessors named on a student's assignment or schedule may read that student."""
    if user_ids:
        result = await db.students.update_one({"_id": student_id},
                                              {"$addToSet": {"assessing_ids": {"$each": user_ids}}}, session=session)
        if result.modified_count:
            await roster.sync(db, session, student_id=student_id)


async def set_group(db: Db, session: Session, *, group_id: str, fields: Doc) -> None:
    """A group's current state."""
    await db.groups.update_one({"_id": group_id}, {"$set": fields}, upsert=True, session=session)


async def set_programme(db: Db, session: Session, *, programme_id: str, fields: Doc) -> None:
    """A catalog programme's current state."""
    await db.programmes.update_one({"_id": programme_id}, {"$set": fields}, upsert=True, session=session)


async def enable_programme(db: Db, session: Session, *, school_id: str, programme_id: str, enabled: bool) -> None:
    """A school enabled (or disabled) a catalog programme."""
    await db.school_programmes.update_one(
        {"_id": f"{school_id}:{programme_id}"},
        {"$set": {"school_id": school_id, "programme_id": programme_id, "enabled": enabled}},
        upsert=True, session=session)


async def mark_unavailable(db: Db, session: Session, *, school_id: str, exam_id: str, student_ids: list[str],
                           unavailable: bool) -> None:
    """An exam was made unavailable (or available again) for students."""
    for sid in student_ids:
        key = {"_id": f"{school_id}:{exam_id}:{sid}"}
        if unavailable:
            await db.unavailable.update_one(key, {"$set": {"school_id": school_id, "exam_id": exam_id,
                                                           "student_id": sid}}, upsert=True, session=session)
        else:
            await db.unavailable.delete_one(key, session=session)


# --- reads --------------------------------------------------------------------------------------------

async def roles_of(db: Db, school_id: str, user_id: str, session: Session | None = None) -> set[str]:
    """The roles a person holds in a school according to identity's events."""
    doc = await db.members.find_one({"_id": f"{school_id}:{user_id}"}, session=session)
    return set(doc["roles"]) if doc else set()


async def get_student(db: Db, school_id: str, student_id: str, session: Session | None = None) -> Doc | None:
    """A student of a school."""
    return await db.students.find_one({"_id": student_id, "school_id": school_id}, session=session)


async def get_students(db: Db, school_id: str, student_ids: list[str], session: Session | None = None) -> list[Doc]:
    """Students of a school by id (unknown ids are left out)."""
    return await db.students.find({"_id": {"$in": student_ids}, "school_id": school_id},
                                  session=session).to_list()


async def group_student_ids(db: Db, school_id: str, group_id: str, session: Session | None = None) -> list[str]:
    """The students of a group."""
    cursor = db.students.find({"school_id": school_id, "group_ids": group_id}, {"_id": 1}, session=session)
    return [d["_id"] async for d in cursor]


async def get_group(db: Db, school_id: str, group_id: str) -> Doc | None:
    """A group of a school."""
    return await db.groups.find_one({"_id": group_id, "school_id": school_id})


async def student_of_user(db: Db, school_id: str, user_id: str) -> Doc | None:
    """The student record of a student's account in a school."""
    return await db.students.find_one({"school_id": school_id, "user_id": user_id})


async def enabled_programme_ids(db: Db, school_id: str) -> list[str]:
    """The catalog programmes a school enabled."""
    cursor = db.school_programmes.find({"school_id": school_id, "enabled": True}, {"programme_id": 1})
    return [d["programme_id"] async for d in cursor]


async def programme_enabled(db: Db, school_id: str, programme_id: str) -> bool:
    """True when a school enabled a programme."""
    doc = await db.school_programmes.find_one({"_id": f"{school_id}:{programme_id}", "enabled": True})
    return doc is not None


async def get_programme(db: Db, programme_id: str) -> Doc | None:
    """A catalog programme."""
    return await db.programmes.find_one({"_id": programme_id})


async def unavailable_exam_ids(db: Db, school_id: str, student_id: str) -> set[str]:
    """The exams made unavailable for a student."""
    cursor = db.unavailable.find({"school_id": school_id, "student_id": student_id}, {"exam_id": 1})
    return {d["exam_id"] async for d in cursor}


async def trainer_students(db: Db, user_id: str, school_ids: list[str]) -> list[Doc]:
    """A workplace trainer's current students in the given schools."""
    query = {"trainer_ids": user_id, "school_id": {"$in": school_ids}, "archived": {"$ne": True}}
    return await db.students.find(query).sort([("school_id", ASCENDING), ("student_code", ASCENDING)]).to_list()
