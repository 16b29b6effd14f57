"""Every query on people's names (from identity's user events) and the school's staff directory."""

from __future__ import annotations

from pymongo import ASCENDING

from exams.common import Doc, Session
from kit.mongo import Db

STAFF_ROLES = ("school_admin", "school_supervisor", "assessor", "exam_board", "workplace_trainer")


async def ensure_indexes(db: Db) -> None:
    """Indexes of the directory: members by school and role."""
    await db.members.create_index([("school_id", ASCENDING), ("roles", ASCENDING)])


async def set_name(db: Db, session: Session, *, user_id: str, display_name: str) -> None:
    """A person's display name as identity last announced it."""
    await db.users.update_one({"_id": user_id}, {"$set": {"display_name": display_name}}, upsert=True,
                              session=session)


async def names_of(db: Db, user_ids: list[str]) -> dict[str, str]:
    """Display names of people by id (unknown ones left out)."""
    if not user_ids:
        return {}
    cursor = db.users.find({"_id": {"$in": sorted(set(user_ids))}}, {"display_name": 1})
    return {d["_id"]: d.get("display_name", "") async for d in cursor}


async def directory(db: Db, school_id: str, role: str | None, limit: int) -> list[Doc]:
    """The school's staff (optionally holding one role), each with their name and staff roles, by name."""
    query: Doc = {"school_id": school_id, "roles": role if role else {"$in": list(STAFF_ROLES)}}
    members = await db.members.find(query, {"user_id": 1, "roles": 1}).limit(2000).to_list()
    names = await names_of(db, [m["user_id"] for m in members])
    people = [{"user_id": m["user_id"], "display_name": names.get(m["user_id"], ""),
               "roles": [r for r in m["roles"] if r in STAFF_ROLES]} for m in members]
    return sorted(people, key=lambda p: (p["display_name"].lower(), p["user_id"]))[:limit]
