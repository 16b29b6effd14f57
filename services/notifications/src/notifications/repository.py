"""Every query of the notifications service, and the indexes they use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from kit.clock import now as now  # re-exported: the delivery loop reads the time here
from kit.mongo import Db

Session = AsyncClientSession | None
Doc = dict[str, Any]

PEOPLE, STUDENTS, LINKS, PREFERENCES = "people", "students", "links", "preferences"
NOTIFICATIONS, DELIVERIES, ATTACHMENTS = "notifications", "deliveries", "attachments"
MESSAGES, MAILBOX, THREADS = "messages", "mailbox", "threads"
SCHOOL_ROLES = "school_roles"  # one row per person and school: who holds a role there (e.g. the exam board)
FINAL_CONTENT = {"to": "", "subject": "", "text": "", "html": ""}


async def ensure_indexes(db: Db) -> None:
    """Create every index the queries below rely on (idempotent)."""
    await db[STUDENTS].create_index([("user_id", ASCENDING), ("school_id", ASCENDING)], name="by_user")
    await db[LINKS].create_index([("user_id", ASCENDING), ("school_id", ASCENDING), ("relation", ASCENDING)],
                                 name="by_user")
    await db[LINKS].create_index([("student_id", ASCENDING), ("relation", ASCENDING)], name="by_student")
    await db[NOTIFICATIONS].create_index([("user_id", ASCENDING), ("school_id", ASCENDING), ("oid", DESCENDING)],
                                         name="list")
    await db[NOTIFICATIONS].create_index([("user_id", ASCENDING), ("school_id", ASCENDING),
                                          ("read_at", ASCENDING)], name="unread")
    await db[DELIVERIES].create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="queue")
    await db[DELIVERIES].create_index([("status", ASCENDING), ("lease_until", ASCENDING)], name="leases")
    await db[DELIVERIES].create_index([("school_id", ASCENDING), ("oid", DESCENDING)], name="log")
    await db[DELIVERIES].create_index([("school_id", ASCENDING), ("status", ASCENDING), ("oid", DESCENDING)],
                                      name="log_status")
    await db[MAILBOX].create_index([("user_id", ASCENDING), ("school_id", ASCENDING), ("box", ASCENDING),
                                    ("oid", DESCENDING)], name="box")
    await db[MAILBOX].create_index([("user_id", ASCENDING), ("school_id", ASCENDING), ("box", ASCENDING),
                                    ("read_at", ASCENDING)], name="unread")
    await db[MAILBOX].create_index([("user_id", ASCENDING), ("thread_id", ASCENDING)], name="thread")
    await db[THREADS].create_index([("school_id", ASCENDING), ("participants", ASCENDING),
                                    ("last_oid", DESCENDING)], name="list")
    await db[SCHOOL_ROLES].create_index([("school_id", ASCENDING), ("roles", ASCENDING)], name="by_role")


def parse_cursor(cursor: str | None) -> ObjectId | None:
    """The position a list continues after; None for the first page, ValueError for garbage."""
    if cursor is None:
        return None
    try:
        return ObjectId(cursor)
    except (InvalidId, TypeError) as exc:
        raise ValueError("not a cursor") from exc


async def page(
    db: Db, collection: str, query: Doc, cursor: ObjectId | None, limit: int
) -> tuple[list[Doc], str | None]:
    """Newest first, `limit` at a time, continuing after the cursor."""
    if cursor is not None:
        query = {**query, "oid": {"$lt": cursor}}
    docs = await db[collection].find(query).sort("oid", DESCENDING).limit(limit + 1).to_list()
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (str(docs[-1]["oid"]) if more and docs else None)


async def notifications_page(db: Db, user_id: str, school_id: str, *, unread_only: bool, cursor: ObjectId | None,
                             limit: int) -> tuple[list[Doc], str | None]:
    """A person's notifications in a school, newest first."""
    query: Doc = {"user_id": user_id, "school_id": school_id}
    if unread_only:
        query["read_at"] = None
    return await page(db, NOTIFICATIONS, query, cursor, limit)


async def mailbox_page(db: Db, user_id: str, school_id: str, box: str, cursor: ObjectId | None,
                       limit: int) -> tuple[list[Doc], str | None]:
    """A person's inbox or sent box in a school, newest first."""
    return await page(db, MAILBOX, {"user_id": user_id, "school_id": school_id, "box": box}, cursor, limit)


async def deliveries_page(db: Db, school_id: str, status: str | None, cursor: ObjectId | None,
                          limit: int) -> tuple[list[Doc], str | None]:
    """A school's delivery log, newest first, optionally of one status."""
    query: Doc = {"school_id": school_id}
    if status is not None:
        query["status"] = status
    return await page(db, DELIVERIES, query, cursor, limit)


# --- projections of other services' facts ---------------------------------------------------------

async def upsert_person(db: Db, session: Session, user_id: str, fields: Doc) -> None:
    """Create or update a person's contact details."""
    await db[PEOPLE].update_one({"_id": user_id}, {"$set": {**fields, "updated_at": now()}},
                                upsert=True, session=session)


async def deactivate_person(db: Db, session: Session, user_id: str, school_id: str | None) -> None:
    """Stop e-mailing a person everywhere (school_id None) or about one school."""
    change: Doc = {"$set": {"active": False}} if school_id is None else {"$addToSet": {"inactive_schools": school_id}}
    await db[PEOPLE].update_one({"_id": user_id}, change, upsert=True, session=session)


async def set_roles(db: Db, session: Session, user_id: str, school_id: str, roles: list[str]) -> None:
    """Record the roles a person holds in a school; a new role there makes them active there again."""
    await db[PEOPLE].update_one({"_id": user_id}, {"$set": {f"schools.{school_id}": roles},
                                                   "$pull": {"inactive_schools": school_id}},
                                upsert=True, session=session)
    await db[SCHOOL_ROLES].update_one({"_id": f"{school_id}:{user_id}"},
                                      {"$set": {"school_id": school_id, "user_id": user_id, "roles": roles}},
                                      upsert=True, session=session)


async def holders_of_role(db: Db, school_id: str, role: str, session: Session = None) -> list[str]:
    """The people holding a role in a school now (e.g. its exam board)."""
    cursor = db[SCHOOL_ROLES].find({"school_id": school_id, "roles": role}, {"user_id": 1}, session=session)
    return [d["user_id"] async for d in cursor]


async def person(db: Db, user_id: str, session: Session = None) -> Doc | None:
    """A person's projection (None when no event about them arrived yet)."""
    return await db[PEOPLE].find_one({"_id": user_id}, session=session)


async def people(db: Db, user_ids: list[str], session: Session = None) -> dict[str, Doc]:
    """Several people by id."""
    return {d["_id"]: d async for d in db[PEOPLE].find({"_id": {"$in": user_ids}}, session=session)}


async def upsert_student(db: Db, session: Session, student_id: str, fields: Doc) -> None:
    """Create or update a student record's projection."""
    await db[STUDENTS].update_one({"_id": student_id}, {"$set": fields}, upsert=True, session=session)


async def student(db: Db, student_id: str, session: Session = None) -> Doc | None:
    """A student record's projection."""
    return await db[STUDENTS].find_one({"_id": student_id}, session=session)


async def link(db: Db, session: Session, student_id: str, school_id: str, user_id: str, relation: str) -> None:
    """Record that a person is linked to a student."""
    await db[LINKS].update_one(
        {"_id": f"{student_id}:{user_id}:{relation}"},
        {"$set": {"student_id": student_id, "school_id": school_id, "user_id": user_id, "relation": relation}},
        upsert=True, session=session)


async def unlink(db: Db, session: Session, student_id: str, user_id: str, relation: str) -> None:
    """Forget a person's link to a student."""
    await db[LINKS].delete_one({"_id": f"{student_id}:{user_id}:{relation}"}, session=session)


async def students_of_user(db: Db, user_id: str, school_id: str) -> list[str]:
    """The student records a user is, in a school."""
    return [d["_id"] async for d in db[STUDENTS].find({"user_id": user_id, "school_id": school_id,
                                                        "archived": {"$ne": True}})]


async def linked_users(db: Db, student_ids: list[str], relation: str) -> list[str]:
    """The users linked to any of the students in a relation."""
    return [d["user_id"] async for d in db[LINKS].find({"student_id": {"$in": student_ids}, "relation": relation})]


async def linked_students(db: Db, user_id: str, school_id: str, relation: str) -> list[str]:
    """The students a user is linked to in a school, in a relation."""
    return [d["student_id"] async for d in db[LINKS].find({"user_id": user_id, "school_id": school_id,
                                                           "relation": relation})]


async def student_users(db: Db, student_ids: list[str]) -> list[str]:
    """The accounts of (not archived) students."""
    return [d["user_id"] async for d in db[STUDENTS].find({"_id": {"$in": student_ids}, "archived": {"$ne": True},
                                                           "user_id": {"$type": "string"}})]


async def upsert_attachment(db: Db, session: Session, file_id: str, fields: Doc) -> None:
    """Remember a message attachment the evidence service stored."""
    await db[ATTACHMENTS].update_one({"_id": file_id}, {"$set": fields}, upsert=True, session=session)


async def withdraw_attachment(db: Db, session: Session, file_id: str) -> None:
    """A withdrawn file can no longer be attached."""
    await db[ATTACHMENTS].update_one({"_id": file_id}, {"$set": {"withdrawn": True}}, session=session)


async def attachments(db: Db, file_ids: list[str], session: Session = None) -> dict[str, Doc]:
    """Message attachments by file id."""
    return {d["_id"]: d async for d in db[ATTACHMENTS].find({"_id": {"$in": file_ids}}, session=session)}


# --- preferences ------------------------------------------------------------------------------

async def preferences(db: Db, user_id: str, session: Session = None) -> Doc:
    """A person's preferences (empty when never set)."""
    return await db[PREFERENCES].find_one({"_id": user_id}, session=session) or {}


async def preferences_of(db: Db, user_ids: list[str], session: Session = None) -> dict[str, Doc]:
    """Several people's preferences (absent when never set)."""
    return {d["_id"]: d async for d in db[PREFERENCES].find({"_id": {"$in": user_ids}}, session=session)}


async def save_preferences(db: Db, session: Session, user_id: str, fields: Doc) -> None:
    """Replace a person's preferences."""
    await db[PREFERENCES].update_one({"_id": user_id}, {"$set": {**fields, "updated_at": now()}},
                                     upsert=True, session=session)


# --- in-app notifications ---------------------------------------------------------------------

async def add_notifications(db: Db, session: Session, notes: list[tuple[str, Doc]]) -> None:
    """Store notifications once each (a replay of their source leaves them as they are), in one round trip."""
    if notes:
        await db[NOTIFICATIONS].bulk_write(
            [UpdateOne({"_id": nid}, {"$setOnInsert": {**doc, "oid": ObjectId(), "read_at": None}}, upsert=True)
             for nid, doc in notes], ordered=True, session=session)


async def unread_notifications(db: Db, user_id: str, school_id: str) -> int:
    """How many notifications the person has not read in a school."""
    return await db[NOTIFICATIONS].count_documents({"user_id": user_id, "school_id": school_id, "read_at": None})


async def mark_notifications_read(db: Db, session: Session, user_id: str, school_id: str,
                                  notification_id: str | None = None) -> int:
    """Mark a person's unread notifications in a school read (one, or all); returns how many changed."""
    query: Doc = {"user_id": user_id, "school_id": school_id, "read_at": None}
    if notification_id is not None:
        query["_id"] = notification_id
    result = await db[NOTIFICATIONS].update_many(query, {"$set": {"read_at": now()}}, session=session)
    return result.modified_count


async def notification(db: Db, notification_id: str, session: Session = None) -> Doc | None:
    """One notification."""
    return await db[NOTIFICATIONS].find_one({"_id": notification_id}, session=session)


# --- e-mail deliveries ------------------------------------------------------------------------

async def add_deliveries(db: Db, session: Session, rows: list[tuple[str, Doc]]) -> None:
    """Record deliveries once each: the same source and recipient never produce a second e-mail."""
    if rows:
        await db[DELIVERIES].bulk_write(
            [UpdateOne({"_id": did}, {"$setOnInsert": {**doc, "oid": ObjectId()}}, upsert=True)
             for did, doc in rows], ordered=True, session=session)


async def claim_delivery(db: Db, lease_s: float) -> Doc | None:
    """Take the next due delivery for sending, leased so no other sender takes it meanwhile."""
    moment = now()
    return await db[DELIVERIES].find_one_and_update(
        {"status": "queued", "next_attempt_at": {"$lte": moment}},
        {"$set": {"status": "sending", "lease_until": moment + timedelta(seconds=lease_s)}},
        sort=[("next_attempt_at", ASCENDING)], return_document=ReturnDocument.AFTER)


async def release_expired_leases(db: Db) -> int:
    """Deliveries whose sender died mid-send go back in the queue."""
    result = await db[DELIVERIES].update_many({"status": "sending", "lease_until": {"$lt": now()}},
                                              {"$set": {"status": "queued"}})
    return result.modified_count


async def delivery_sent(db: Db, delivery_id: str, attempts: int) -> None:
    """The SMTP server accepted the e-mail; the content is no longer kept."""
    moment = now()
    await db[DELIVERIES].update_one({"_id": delivery_id, "status": "sending"}, {
        "$set": {"status": "sent", "sent_at": moment, "updated_at": moment, "attempts": attempts,
                 "last_error": None},
        "$unset": FINAL_CONTENT})


async def delivery_retry(db: Db, delivery_id: str, attempts: int, error: str, at: datetime) -> None:
    """A transient failure: try again at `at`."""
    await db[DELIVERIES].update_one({"_id": delivery_id, "status": "sending"}, {
        "$set": {"status": "queued", "attempts": attempts, "last_error": error, "next_attempt_at": at,
                 "updated_at": now()}})


async def delivery_failed(db: Db, delivery_id: str, attempts: int, error: str) -> None:
    """Given up: visible as failed in the delivery log; the content is no longer kept."""
    await db[DELIVERIES].update_one({"_id": delivery_id, "status": "sending"}, {
        "$set": {"status": "failed", "attempts": attempts, "last_error": error, "updated_at": now()},
        "$unset": FINAL_CONTENT})


async def delivery(db: Db, delivery_id: str) -> Doc | None:
    """One delivery."""
    return await db[DELIVERIES].find_one({"_id": delivery_id})


# --- messages ---------------------------------------------------------------------------------

async def insert_message(db: Db, session: Session, message: Doc) -> None:
    """Store a message."""
    await db[MESSAGES].insert_one(message, session=session)


async def add_to_mailbox(db: Db, session: Session, entries: list[Doc]) -> None:
    """File a message in the sender's sent box and the recipients' inboxes."""
    await db[MAILBOX].insert_many(entries, session=session)


async def touch_thread(db: Db, session: Session, thread_id: str, school_id: str, subject: str,
                       participants: list[str], last_oid: ObjectId, at: datetime) -> None:
    """Create a thread or add its newest message and participants."""
    await db[THREADS].update_one(
        {"_id": thread_id},
        {"$setOnInsert": {"school_id": school_id, "subject": subject, "created_at": at},
         "$set": {"last_oid": last_oid, "last_message_at": at},
         "$addToSet": {"participants": {"$each": participants}}},
        upsert=True, session=session)


async def thread(db: Db, thread_id: str, school_id: str) -> Doc | None:
    """One thread in a school."""
    return await db[THREADS].find_one({"_id": thread_id, "school_id": school_id})


async def threads(
    db: Db, user_id: str, school_id: str, cursor: ObjectId | None, limit: int
) -> tuple[list[Doc], str | None]:
    """The threads a person takes part in, most recently active first."""
    query: Doc = {"school_id": school_id, "participants": user_id}
    if cursor is not None:
        query["last_oid"] = {"$lt": cursor}
    docs = await db[THREADS].find(query).sort("last_oid", DESCENDING).limit(limit + 1).to_list()
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (str(docs[-1]["last_oid"]) if more and docs else None)


async def unread_per_thread(db: Db, user_id: str, thread_ids: list[str]) -> dict[str, int]:
    """Unread inbox messages per thread for a person."""
    counts: dict[str, int] = {}
    async for entry in db[MAILBOX].find({"user_id": user_id, "thread_id": {"$in": thread_ids}, "box": "inbox",
                                         "read_at": None}, projection={"thread_id": 1}):
        counts[entry["thread_id"]] = counts.get(entry["thread_id"], 0) + 1
    return counts


async def mailbox_of_thread(db: Db, user_id: str, thread_id: str) -> list[Doc]:
    """A person's mailbox entries of a thread."""
    return await db[MAILBOX].find({"user_id": user_id, "thread_id": thread_id}).to_list()


async def messages(db: Db, message_ids: list[str]) -> dict[str, Doc]:
    """Messages by id."""
    return {d["_id"]: d async for d in db[MESSAGES].find({"_id": {"$in": message_ids}})}


async def inbox_counts(db: Db, user_id: str, school_id: str) -> tuple[int, int]:
    """Unread and total messages in a person's inbox in a school."""
    query: Doc = {"user_id": user_id, "school_id": school_id, "box": "inbox"}
    return (await db[MAILBOX].count_documents({**query, "read_at": None}),
            await db[MAILBOX].count_documents(query))


async def mark_mailbox_read(db: Db, session: Session, user_id: str, *, message_id: str | None = None,
                            thread_id: str | None = None) -> int:
    """Mark a person's unread inbox entries of a message or a thread read; returns how many changed."""
    query: Doc = {"user_id": user_id, "box": "inbox", "read_at": None}
    if message_id is not None:
        query["message_id"] = message_id
    if thread_id is not None:
        query["thread_id"] = thread_id
    result = await db[MAILBOX].update_many(query, {"$set": {"read_at": now()}}, session=session)
    return result.modified_count


async def mailbox_entry(db: Db, user_id: str, message_id: str) -> list[Doc]:
    """A person's mailbox entries of one message (inbox and/or sent)."""
    return await db[MAILBOX].find({"user_id": user_id, "message_id": message_id}).to_list()
