"""Handlers of identity's events: the schools, users and roles enrollment checks links against."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event
from contracts.identity import (
    MembershipGrantedV1,
    MembershipRevokedV1,
    SchoolCreatedV1,
    UserCreatedV1,
    UserUpdatedV1,
)
from enrollment import repository as repo
from kit.consumer import Handler, Unprocessable
from kit.mongo import Db

Session = AsyncClientSession


def handlers(db: Db) -> Mapping[type[Event], Handler]:
    """Event class -> handler, each idempotent (an upsert of the current state the event carries)."""
    h = Handlers(db)
    table: dict[type[Event], Callable[[Envelope, Any, Session], Awaitable[None]]] = {
        SchoolCreatedV1: h.school_created, UserCreatedV1: h.user_changed, UserUpdatedV1: h.user_changed,
        MembershipGrantedV1: h.membership_granted, MembershipRevokedV1: h.membership_revoked,
    }
    return table


class Handlers:
    """The handlers, sharing the database."""

    def __init__(self, db: Db) -> None:
        self.db = db

    async def school_created(self, env: Envelope, data: SchoolCreatedV1, session: Session) -> None:
        """Remember a school."""
        await repo.upsert_school(self.db, data.school_id, data.name, session)

    async def user_changed(self, env: Envelope, data: UserCreatedV1 | UserUpdatedV1, session: Session) -> None:
        """A user's e-mail (people are linked by it), name (the export shows it) and whether they are active."""
        active = data.active if isinstance(data, UserUpdatedV1) else True
        await repo.upsert_user(self.db, data.user_id, data.email, data.display_name, active, session)

    async def membership_granted(self, env: Envelope, data: MembershipGrantedV1, session: Session) -> None:
        """Roles per school; a student membership records the student's own account."""
        await repo.set_roles(self.db, data.school_id, data.user_id, data.roles, session)
        if data.role == "student" and data.student_id:
            if not await repo.set_student_user(self.db, data.school_id, data.student_id, data.user_id, session):
                raise Unprocessable(f"no student {data.student_id} in school {data.school_id}")

    async def membership_revoked(self, env: Envelope, data: MembershipRevokedV1, session: Session) -> None:
        """The roles the person still holds in the school."""
        await repo.set_roles(self.db, data.school_id, data.user_id, data.roles, session)
