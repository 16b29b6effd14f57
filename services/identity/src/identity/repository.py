"""Every query identity makes, and the indexes they need."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event
from identity.models import membership_id
from kit.auth import Role
from kit.clock import now
from kit.ids import new_id
from kit.mongo import Db
from kit.outbox import Outbox

Doc = dict[str, Any]
Session = AsyncClientSession | None
SIGNING_KEYS = "signing_keys"


async def ensure_indexes(db: Db) -> None:
    """Create every index the queries below rely on."""
    await db.users.create_index("email", unique=True, name="email")
    await db.memberships.create_index([("school_id", ASCENDING), ("sort_key", ASCENDING), ("_id", ASCENDING)],
                                      name="school_sorted")
    await db.memberships.create_index("user_id", name="user")
    await db.memberships.create_index(
        [("school_id", ASCENDING), ("student_code", ASCENDING)], unique=True, name="student_code",
        partialFilterExpression={"student_code": {"$type": "string"}},
    )
    await db.memberships.create_index([("school_id", ASCENDING), ("student_id", ASCENDING)], name="student")
    await db.refresh_tokens.create_index("family_id", name="family")
    await db.refresh_tokens.create_index("purge_at", expireAfterSeconds=0, name="purge")
    await db.one_time_tokens.create_index("expires_at", expireAfterSeconds=0, name="expiry")
    await db.reset_decoys.create_index("expires_at", expireAfterSeconds=0, name="expiry")
    await db.audit.create_index([("school_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                                name="school_time")
    await db.audit.create_index([("at", DESCENDING), ("_id", DESCENDING)], name="time")
    await db.throttle.create_index("expires_at", expireAfterSeconds=0, name="expiry")
    await db.api_clients.create_index("school_id", name="school")
    await db.student_links.create_index([("student_id", ASCENDING), ("user_id", ASCENDING)], name="student_user")


# --- events ------------------------------------------------------------------------------------------

async def stage(outbox: Outbox, session: AsyncClientSession, event: Event, *, subject: str | None = None,
                school_id: str | None = None) -> Envelope:
    """Stage an event in the caller's transaction; subject and school come from the event unless given."""
    school = school_id if school_id is not None else getattr(event, "school_id", None)
    key = subject or getattr(event, "user_id", None) or school
    assert key is not None, "an identity event names its person or its school"
    return await outbox.stage(session, event, subject=key, school_id=school)


# --- schools -----------------------------------------------------------------------------------------

async def insert_school(db: Db, session: Session, school: Doc) -> None:
    """Store a new school."""
    await db.schools.insert_one(school, session=session)


async def school(db: Db, school_id: str, session: Session = None) -> Doc | None:
    """One school."""
    return await db.schools.find_one({"_id": school_id}, session=session)


async def schools_by_id(db: Db, ids: list[str], session: Session = None) -> list[Doc]:
    """Several schools, sorted by name."""
    return await db.schools.find({"_id": {"$in": ids}}, session=session).sort("name", ASCENDING).to_list()


async def all_schools(db: Db) -> list[Doc]:
    """Every school (operator view)."""
    return await db.schools.find({}).sort("name", ASCENDING).to_list()


async def update_school(db: Db, session: Session, school_id: str, fields: Doc) -> Doc | None:
    """Set fields (dotted paths change one entry of a nested setting) and return the school as it is now."""
    return await db.schools.find_one_and_update({"_id": school_id}, {"$set": fields},
                                                return_document=ReturnDocument.AFTER, session=session)


# --- users -------------------------------------------------------------------------------------------

async def user_by_email(db: Db, email: str, session: Session = None) -> Doc | None:
    """The account of an e-mail address."""
    return await db.users.find_one({"email": email}, session=session)


async def user(db: Db, user_id: str, session: Session = None) -> Doc | None:
    """One account."""
    return await db.users.find_one({"_id": user_id}, session=session)


async def insert_user(db: Db, session: Session, doc: Doc) -> None:
    """Store a new account."""
    await db.users.insert_one(doc, session=session)


async def update_user(db: Db, session: Session, user_id: str, fields: Doc) -> None:
    """Set fields of an account."""
    await db.users.update_one({"_id": user_id}, {"$set": fields}, session=session)


# --- memberships -------------------------------------------------------------------------------------

async def insert_membership(db: Db, session: Session, doc: Doc) -> None:
    """Store a membership (duplicate key: already a member, or the student code is taken)."""
    await db.memberships.insert_one(doc, session=session)


async def membership(db: Db, school_id: str, user_id: str, session: Session = None) -> Doc | None:
    """A person's membership of a school."""
    return await db.memberships.find_one({"_id": membership_id(school_id, user_id)}, session=session)


async def memberships_of(db: Db, user_id: str, session: Session = None) -> list[Doc]:
    """Every membership of a person."""
    return await db.memberships.find({"user_id": user_id}, session=session).to_list()


async def student_membership(db: Db, school_id: str, student_id: str, session: Session = None) -> Doc | None:
    """The membership holding enrollment's student record id."""
    return await db.memberships.find_one({"school_id": school_id, "student_id": student_id}, session=session)


async def update_membership(db: Db, session: Session, school_id: str, user_id: str, update: Doc) -> Doc | None:
    """Apply an update to a membership and return it as it is now."""
    return await db.memberships.find_one_and_update(
        {"_id": membership_id(school_id, user_id)}, update, return_document=ReturnDocument.AFTER, session=session)


async def set_student_code(db: Db, session: Session, membership_doc_id: str, student_code: str) -> None:
    """Enrollment changed a student's code."""
    await db.memberships.update_one({"_id": membership_doc_id}, {"$set": {"student_code": student_code}},
                                    session=session)


async def update_memberships_of(db: Db, session: Session, user_id: str, fields: Doc) -> None:
    """Set fields on every membership of a person (their name and address are copied there)."""
    await db.memberships.update_many({"user_id": user_id}, {"$set": fields}, session=session)


async def active_admin_count(db: Db, session: Session, school_id: str) -> int:
    """How many active school admins a school has."""
    return await db.memberships.count_documents(
        {"school_id": school_id, "roles": Role.SCHOOL_ADMIN.value, "active": True}, session=session)


async def search_memberships(
    db: Db, school_id: str, *, query: str | None, role: str | None, active: bool | None, cursor: str | None,
    limit: int,
) -> tuple[list[Doc], str | None]:
    """A page of a school's members, sorted by name, with the cursor of the next page."""
    flt: Doc = {"school_id": school_id}
    if role:
        flt["roles"] = role
    if active is not None:
        flt["active"] = active
    if query:
        flt["search"] = {"$regex": re.escape(query.lower())}
    if cursor:
        sort_key, last_id = decode_cursor(cursor)
        flt["$or"] = [{"sort_key": {"$gt": sort_key}}, {"sort_key": sort_key, "_id": {"$gt": last_id}}]
    docs = await db.memberships.find(flt).sort([("sort_key", ASCENDING), ("_id", ASCENDING)]) \
        .limit(limit + 1).to_list()
    next_cursor = encode_cursor(docs[limit - 1]["sort_key"], docs[limit - 1]["_id"]) if len(docs) > limit else None
    return docs[:limit], next_cursor


# --- refresh tokens and one-time links ---------------------------------------------------------------

async def insert_refresh_token(db: Db, doc: Doc) -> None:
    """Store a refresh token (by its hash)."""
    await db.refresh_tokens.insert_one(doc)


async def refresh_token(db: Db, key: str) -> Doc | None:
    """A refresh token by its hash."""
    return await db.refresh_tokens.find_one({"_id": key})


async def claim_refresh_token(db: Db, key: str) -> Doc | None:
    """Mark an unused, unrevoked refresh token used; None when it was not (reuse)."""
    return await db.refresh_tokens.find_one_and_update({"_id": key, "used_at": None, "revoked": False},
                                                       {"$set": {"used_at": now()}})


async def revoke_family(db: Db, family_id: str) -> None:
    """End every refresh token of a session."""
    await db.refresh_tokens.update_many({"family_id": family_id}, {"$set": {"revoked": True}})


async def revoke_sessions_of(db: Db, session: Session, user_id: str) -> None:
    """End every running session of a person."""
    await db.refresh_tokens.update_many({"user_id": user_id}, {"$set": {"revoked": True}}, session=session)


async def insert_one_time(db: Db, session: Session, doc: Doc) -> None:
    """Store a single-use link (by its hash)."""
    await db.one_time_tokens.insert_one(doc, session=session)


async def one_time(db: Db, key: str) -> Doc | None:
    """A single-use link by its hash."""
    return await db.one_time_tokens.find_one({"_id": key})


async def use_one_time(db: Db, session: Session, key: str) -> bool:
    """Mark a link used; False when it already was."""
    result = await db.one_time_tokens.update_one({"_id": key, "used_at": None}, {"$set": {"used_at": now()}},
                                                 session=session)
    return result.modified_count == 1


async def insert_decoy(db: Db, session: Session, doc: Doc, expires_at: datetime) -> None:
    """The write an unknown address's reset request makes instead of staging an event (equal timing)."""
    await db.reset_decoys.insert_one({"_id": new_id("dec"), "doc": doc, "expires_at": expires_at}, session=session)


# --- login throttling --------------------------------------------------------------------------------

async def throttle_counters(db: Db, keys: list[str]) -> dict[str, Doc]:
    """The open failure counters of these keys."""
    return {d["_id"]: d for d in await db.throttle.find({"_id": {"$in": keys}}).to_list()}


async def clear_throttle(db: Db, key: str, session: Session = None) -> None:
    """Forget a counter (a successful login, a new password, an unlock)."""
    await db.throttle.delete_one({"_id": key}, session=session)


async def count_failure(db: Db, key: str, window_s: int) -> Doc:
    """Add a failure to a counter's open window, opening one when there is none; returns the counter."""
    current = now()
    doc = await db.throttle.find_one_and_update(
        {"_id": key, "expires_at": {"$gt": current}}, {"$inc": {"failures": 1}}, return_document=True)
    if doc is None:  # no window open (or it expired): start one
        doc = {"_id": key, "failures": 1, "expires_at": current + timedelta(seconds=window_s)}
        await db.throttle.replace_one({"_id": key}, doc, upsert=True)
    return doc


async def lock(db: Db, key: str, until: datetime) -> None:
    """Lock an account's counter until a moment."""
    await db.throttle.update_one({"_id": key}, {"$set": {"locked_until": until, "expires_at": until}})


# --- audit -------------------------------------------------------------------------------------------

async def audit(db: Db, session: Session, action: str, *, actor: str | None, school_id: str | None,
                target: str | None = None, outcome: str = "ok", address: str | None = None,
                details: Doc | None = None) -> None:
    """Append a security-relevant action to the audit log (in the caller's transaction, if any)."""
    await db.audit.insert_one({
        "_id": new_id("aud"), "at": now(), "action": action, "actor": actor, "school_id": school_id,
        "target": target, "outcome": outcome, "address": address, "details": details or {},
    }, session=session)


async def audit_page(db: Db, school_id: str | None, *, action: str | None, cursor: str | None,
                     limit: int) -> tuple[list[Doc], str | None]:
    """Audit entries, newest first; school_id None means every school (operator)."""
    flt: Doc = {} if school_id is None else {"school_id": school_id}
    if action:
        flt["action"] = action
    if cursor:
        at_iso, last_id = decode_cursor(cursor)
        at = datetime.fromisoformat(at_iso)
        flt["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]
    docs = await db.audit.find(flt).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1).to_list()
    nxt = encode_cursor(docs[limit - 1]["at"].isoformat(), docs[limit - 1]["_id"]) if len(docs) > limit else None
    return docs[:limit], nxt


# --- API clients and view-as links -------------------------------------------------------------------

async def insert_client(db: Db, session: Session, doc: Doc) -> None:
    """Store an API client (its secret only as a hash)."""
    await db.api_clients.insert_one(doc, session=session)


async def client(db: Db, client_id: str) -> Doc | None:
    """One API client."""
    return await db.api_clients.find_one({"_id": client_id})


async def clients_of(db: Db, school_id: str) -> list[Doc]:
    """A school's API clients, oldest first."""
    return await db.api_clients.find({"school_id": school_id}).sort("created_at", ASCENDING).to_list()


async def revoke_client(db: Db, session: Session, school_id: str, client_id: str) -> Doc | None:
    """Mark a school's client revoked and return it; None when the school has no such client."""
    return await db.api_clients.find_one_and_update(
        {"_id": client_id, "school_id": school_id}, {"$set": {"revoked_at": now()}},
        return_document=ReturnDocument.AFTER, session=session)


async def is_linked_supervisor(db: Db, school_id: str, student_id: str, user_id: str) -> bool:
    """True when the person is a school supervisor linked to the student (enrollment's links)."""
    return await db.student_links.find_one({"student_id": student_id, "user_id": user_id, "school_id": school_id,
                                            "relation": "school_supervisor"}) is not None


async def upsert_link(db: Db, session: Session, *, student_id: str, user_id: str, school_id: str,
                      relation: str) -> None:
    """Remember that a person is linked to a student."""
    await db.student_links.replace_one(
        {"_id": f"{student_id}:{user_id}:{relation}"},
        {"student_id": student_id, "user_id": user_id, "school_id": school_id, "relation": relation},
        upsert=True, session=session)


async def delete_link(db: Db, session: Session, *, student_id: str, user_id: str, relation: str) -> None:
    """Forget a person's link to a student."""
    await db.student_links.delete_one({"_id": f"{student_id}:{user_id}:{relation}"}, session=session)


# --- signing keys ------------------------------------------------------------------------------------

async def retire_signing_keys(db: Db, retire_at: datetime) -> None:
    """Give every key still without an end its retirement moment."""
    await db[SIGNING_KEYS].update_many({"retire_at": None}, {"$set": {"retire_at": retire_at}})


async def insert_signing_key(db: Db, doc: Doc) -> None:
    """Store a sealed signing key."""
    await db[SIGNING_KEYS].insert_one(doc)


async def signing_keys_in_use(db: Db) -> list[Doc]:
    """Keys whose signing time has come, newest first."""
    return await db[SIGNING_KEYS].find({"signing_from": {"$lte": now()}}).sort("signing_from", DESCENDING) \
        .to_list()


async def published_signing_keys(db: Db) -> list[Doc]:
    """Keys a verifier may meet: not retired yet."""
    return await db[SIGNING_KEYS].find({"$or": [{"retire_at": None}, {"retire_at": {"$gt": now()}}]}).to_list()


def encode_cursor(*values: str) -> str:
    """An opaque cursor for keyset pagination."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The values of a cursor; raises ValueError when it was not made by encode_cursor."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not (isinstance(values, list) and len(values) == 2 and all(isinstance(v, str) for v in values)):
        raise ValueError("invalid cursor")
    return values[0], values[1]
