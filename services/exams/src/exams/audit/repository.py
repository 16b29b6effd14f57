"""Every query on the audit trail: appending to a school's chain under its head, reading and walking it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pymongo import ASCENDING

from exams.common import Doc, Session
from kit.mongo import Db


class ChainMoved(Exception):
    """Another append for the school committed first; the consumer retries the whole transaction."""


async def ensure_indexes(db: Db) -> None:
    """One record per sequence number per school: two concurrent appends can never both take the same place."""
    await db.audit.create_index([("school_id", ASCENDING), ("seq", ASCENDING)], unique=True)
    await db.audit.create_index([("school_id", ASCENDING), ("student_id", ASCENDING), ("seq", ASCENDING)])


async def recorded(db: Db, session: Session, event_id: str) -> bool:
    """True when an event is already in the trail."""
    return await db.audit.find_one({"_id": event_id}, {"_id": 1}, session=session) is not None


async def head(db: Db, school_id: str, session: Session | None = None) -> Doc | None:
    """The school's chain head: the last sequence number and hash."""
    return await db.audit_heads.find_one({"_id": school_id}, session=session)


async def append(db: Db, session: Session, *, record: Doc, previous: Doc | None) -> None:
    """Store the next record and move the head, only if the head is still where it was read."""
    await db.audit.insert_one(record, session=session)
    fields = {"seq": record["seq"], "hash": record["hash"]}
    if previous is None:
        await db.audit_heads.insert_one({"_id": record["school_id"], **fields}, session=session)
        return
    moved = await db.audit_heads.update_one({"_id": record["school_id"], "seq": previous["seq"]}, {"$set": fields},
                                            session=session)
    if moved.matched_count != 1:
        raise ChainMoved(record["school_id"])


async def chain(db: Db, school_id: str, up_to: int | None = None) -> AsyncIterator[Doc]:
    """A school's records in sequence order (up to a sequence number, if given), streamed."""
    query: Doc = {"school_id": school_id} if up_to is None else {"school_id": school_id, "seq": {"$lte": up_to}}
    async for record in db.audit.find(query).sort("seq", ASCENDING).batch_size(500):
        yield record


async def student_trail(db: Db, school_id: str, student_id: str, after_seq: int, limit: int) -> list[Doc]:
    """A student's records in sequence order, a page after `after_seq`."""
    query = {"school_id": school_id, "student_id": student_id, "seq": {"$gt": after_seq}}
    return await db.audit.find(query).sort("seq", ASCENDING).limit(limit).to_list()
