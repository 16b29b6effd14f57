"""Every query identity makes, and the indexes they need."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from kit.mongo import Db

Doc = dict[str, Any]
Session = AsyncClientSession | None


class Repository:
    """Identity's collections: schools, users, memberships, tokens, clients, audit, throttling."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.schools = db.schools
        self.users = db.users
        self.memberships = db.memberships
        self.refresh_tokens = db.refresh_tokens
        self.one_time = db.one_time_tokens
        self.audit = db.audit
        self.throttle = db.throttle
        self.clients = db.api_clients
        self.links = db.student_links

    async def ensure_indexes(self) -> None:
        """Create every index the queries below rely on."""
        await self.users.create_index("email", unique=True, name="email")
        await self.memberships.create_index([("school_id", ASCENDING), ("sort_key", ASCENDING), ("_id", ASCENDING)],
                                            name="school_sorted")
        await self.memberships.create_index("user_id", name="user")
        await self.memberships.create_index(
            [("school_id", ASCENDING), ("student_code", ASCENDING)], unique=True, name="student_code",
            partialFilterExpression={"student_code": {"$type": "string"}},
        )
        await self.memberships.create_index([("school_id", ASCENDING), ("student_id", ASCENDING)], name="student")
        await self.refresh_tokens.create_index("family_id", name="family")
        await self.refresh_tokens.create_index("purge_at", expireAfterSeconds=0, name="purge")
        await self.one_time.create_index("expires_at", expireAfterSeconds=0, name="expiry")
        await self.audit.create_index([("school_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                                      name="school_time")
        await self.audit.create_index([("at", DESCENDING), ("_id", DESCENDING)], name="time")
        await self.throttle.create_index("expires_at", expireAfterSeconds=0, name="expiry")
        await self.clients.create_index("school_id", name="school")
        await self.links.create_index([("student_id", ASCENDING), ("user_id", ASCENDING)], name="student_user")

    # schools
    async def school(self, school_id: str, session: Session = None) -> Doc | None:
        """One school."""
        return await self.schools.find_one({"_id": school_id}, session=session)

    async def schools_by_id(self, ids: list[str]) -> list[Doc]:
        """Several schools, sorted by name."""
        return await self.schools.find({"_id": {"$in": ids}}).sort("name", ASCENDING).to_list()

    async def all_schools(self) -> list[Doc]:
        """Every school (operator view)."""
        return await self.schools.find({}).sort("name", ASCENDING).to_list()

    # users and memberships
    async def user_by_email(self, email: str, session: Session = None) -> Doc | None:
        """The account of an e-mail address."""
        return await self.users.find_one({"email": email}, session=session)

    async def user(self, user_id: str, session: Session = None) -> Doc | None:
        """One account."""
        return await self.users.find_one({"_id": user_id}, session=session)

    async def membership(self, school_id: str, user_id: str, session: Session = None) -> Doc | None:
        """A person's membership of a school."""
        return await self.memberships.find_one({"_id": f"{school_id}:{user_id}"}, session=session)

    async def memberships_of(self, user_id: str, session: Session = None) -> list[Doc]:
        """Every membership of a person."""
        return await self.memberships.find({"user_id": user_id}, session=session).to_list()

    async def student_membership(self, school_id: str, student_id: str) -> Doc | None:
        """The membership holding enrollment's student record id."""
        return await self.memberships.find_one({"school_id": school_id, "student_id": student_id})

    async def search_memberships(
        self, school_id: str, *, query: str | None, role: str | None, active: bool | None, cursor: str | None,
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
        docs = await self.memberships.find(flt).sort([("sort_key", ASCENDING), ("_id", ASCENDING)]) \
            .limit(limit + 1).to_list()
        next_cursor = encode_cursor(docs[limit - 1]["sort_key"], docs[limit - 1]["_id"]) if len(docs) > limit else None
        return docs[:limit], next_cursor

    async def update_membership(self, school_id: str, user_id: str, update: Doc, session: Session) -> Doc | None:
        """Apply an update to a membership and return it as it is now."""
        return await self.memberships.find_one_and_update(
            {"_id": f"{school_id}:{user_id}"}, update, return_document=ReturnDocument.AFTER, session=session
        )

    # audit
    async def audit_page(self, school_id: str | None, *, action: str | None, cursor: str | None,
                         limit: int) -> tuple[list[Doc], str | None]:
        """Audit entries, newest first; school_id None means every school (operator)."""
        flt: Doc = {} if school_id is None else {"school_id": school_id}
        if action:
            flt["action"] = action
        if cursor:
            at_iso, last_id = decode_cursor(cursor)
            at = datetime.fromisoformat(at_iso)
            flt["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]
        docs = await self.audit.find(flt).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1).to_list()
        nxt = encode_cursor(docs[limit - 1]["at"].isoformat(), docs[limit - 1]["_id"]) if len(docs) > limit else None
        return docs[:limit], nxt


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

