"""Enrollment's events: the event of each change, and staging them in the caller's outbox and transaction."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Event
from contracts.enrollment import (
    GroupChangedV1,
    GroupMembersChangedV1,
    PersonLinkedV1,
    PersonUnlinkedV1,
    StudentCreatedV1,
    StudentUpdatedV1,
)
from kit.mongo import Db
from kit.outbox import Outbox

SERVICE = "enrollment"
Doc = dict[str, Any]
Staged = list[tuple[Event, str, str | None]]


def service_outbox(db: Db) -> Outbox:
    """The service's outbox, for the processes that are not a route (the worker, an import commit run)."""
    return Outbox(db, SERVICE)


async def stage(outbox: Outbox, session: AsyncClientSession, events: Staged) -> None:
    """Stage events in the caller's transaction, in one batch."""
    if events:
        await outbox.stage_many(session, events)


def created(doc: Doc, invite: bool, language: str) -> tuple[Event, str, str | None]:
    """StudentCreatedV1 for a new student (identity creates or links the account from it)."""
    return (StudentCreatedV1(
        student_id=doc["_id"], school_id=doc["school_id"], student_code=doc["student_code"],
        first_name=doc["first_name"], last_name=doc["last_name"], email=doc["email"],
        programme_ids=doc["programme_ids"], invite=invite, language=language,
    ), doc["_id"], doc["school_id"])


def updated(doc: Doc) -> tuple[Event, str, str | None]:
    """StudentUpdatedV1 carrying the student's full current state."""
    return (StudentUpdatedV1(
        student_id=doc["_id"], school_id=doc["school_id"], student_code=doc["student_code"],
        first_name=doc["first_name"], last_name=doc["last_name"], email=doc["email"],
        programme_ids=doc["programme_ids"], archived=doc["archived"], active=doc["active"],
    ), doc["_id"], doc["school_id"])


def link(doc: Doc, user_id: str, relation: str, linked: bool) -> tuple[Event, str, str | None]:
    """PersonLinkedV1 or PersonUnlinkedV1."""
    cls = PersonLinkedV1 if linked else PersonUnlinkedV1
    return (cls(student_id=doc["_id"], school_id=doc["school_id"], user_id=user_id, relation=relation),
            doc["_id"], doc["school_id"])


def group(doc: Doc) -> tuple[Event, str, str | None]:
    """GroupChangedV1 with the group's full state."""
    return (GroupChangedV1(group_id=doc["_id"], school_id=doc["school_id"], name=doc["name"],
                           category=doc.get("category"), description=doc.get("description"),
                           archived=doc["archived"]), doc["_id"], doc["school_id"])


def members(school_id: str, group_id: str, added: list[str], removed: list[str] | None = None,
            ) -> tuple[Event, str, str | None]:
    """GroupMembersChangedV1."""
    return (GroupMembersChangedV1(group_id=group_id, school_id=school_id, added=added, removed=removed or []),
            group_id, school_id)
