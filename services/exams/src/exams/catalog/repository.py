"""Every query on the catalog: published exam versions and which one is current."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from exams.common import Doc, Session
from kit.mongo import Db


async def ensure_indexes(db: Db) -> None:
    """Indexes of the catalog."""
    await db.exam_versions.create_index([("exam_id", ASCENDING), ("version", DESCENDING)], unique=True)
    await db.exam_versions.create_index([("programme_id", ASCENDING), ("current", ASCENDING), ("code", ASCENDING)])
    await db.exam_versions.create_index([("programme_id", ASCENDING), ("code", ASCENDING), ("current", ASCENDING)])


async def insert_version(db: Db, session: Session, doc: Doc) -> None:
    """Store a new published version (versions are never changed afterwards)."""
    await db.exam_versions.insert_one(doc, session=session)


async def retire_current(db: Db, session: Session, *, exam_id: str) -> None:
    """The current version stops being current (it stays, unchanged otherwise)."""
    await db.exam_versions.update_many({"exam_id": exam_id, "current": True}, {"$set": {"current": False}},
                                       session=session)


async def current(db: Db, exam_id: str, session: Session | None = None) -> Doc | None:
    """The current version of an exam."""
    return await db.exam_versions.find_one({"exam_id": exam_id, "current": True}, session=session)


async def version(db: Db, exam_id: str, number: int) -> Doc | None:
    """One version of an exam."""
    return await db.exam_versions.find_one({"exam_id": exam_id, "version": number})


async def version_by_id(db: Db, version_doc_id: str, session: Session | None = None) -> Doc | None:
    """A version by its document id (as an assignment keeps it)."""
    return await db.exam_versions.find_one({"_id": version_doc_id}, session=session)


async def by_code(db: Db, session: Session, *, programme_id: str, code: str) -> Doc | None:
    """The current exam of a programme with this code."""
    return await db.exam_versions.find_one({"programme_id": programme_id, "code": code, "current": True},
                                           session=session)


async def columns_of_programme(db: Db, programme_id: str) -> list[Doc]:
    """The current exams of one programme, only what the overview's columns show, by code."""
    query = {"programme_id": programme_id, "current": True}
    fields = {"exam_id": 1, "code": 1, "name": 1, "parts.code": 1}
    return await db.exam_versions.find(query, fields).sort("code", ASCENDING).to_list()


async def current_for_programmes(db: Db, programme_ids: list[str]) -> list[Doc]:
    """The current exams of programmes, by programme and code."""
    query = {"programme_id": {"$in": programme_ids}, "current": True}
    return await db.exam_versions.find(query).sort([("programme_id", ASCENDING), ("code", ASCENDING)]).to_list()
