"""One-off data migrations the worker runs at startup (each once: a marker records it is done)."""

from __future__ import annotations

from pymongo import UpdateOne

from kit.mongo import Db, is_duplicate_key
from notifications.repository import PEOPLE, SCHOOL_ROLES

MIGRATIONS = "migrations"


async def backfill_school_roles(db: Db) -> int:
    """Fill `school_roles` from the roles already kept on people (memberships granted before it existed)."""
    if await db[MIGRATIONS].find_one({"_id": SCHOOL_ROLES}):
        return 0
    writes = []
    async for person in db[PEOPLE].find({"schools": {"$exists": True}}, {"schools": 1}):
        for school_id, roles in (person.get("schools") or {}).items():
            writes.append(UpdateOne({"_id": f"{school_id}:{person['_id']}"},
                                    {"$setOnInsert": {"school_id": school_id, "user_id": person["_id"],
                                                      "roles": roles}}, upsert=True))
    for start in range(0, len(writes), 1000):
        await db[SCHOOL_ROLES].bulk_write(writes[start:start + 1000], ordered=False)
    try:
        await db[MIGRATIONS].insert_one({"_id": SCHOOL_ROLES, "rows": len(writes)})
    except Exception as exc:  # another process finished the same migration first
        if not is_duplicate_key(exc):
            raise
    return len(writes)
