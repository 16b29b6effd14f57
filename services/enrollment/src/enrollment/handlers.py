"""Handlers of identity's events: the schools, users and roles enrollment checks links against."""

from __future__ import annotations

from collections.abc import Mapping
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


def handlers(db: Db) -> Mapping[type[Event], Handler]:
    """Event class -> handler, each idempotent (an upsert of the current state the event carries)."""

    async def school_created(envelope: Envelope, data: Any, session: AsyncClientSession) -> None:
        await repo.upsert_school(db, data.school_id, data.name, session)

    async def user_created(envelope: Envelope, data: Any, session: AsyncClientSession) -> None:
        await repo.upsert_user(db, data.user_id, data.email, data.display_name, True, session)

    async def user_updated(envelope: Envelope, data: Any, session: AsyncClientSession) -> None:
        await repo.upsert_user(db, data.user_id, data.email, data.display_name, data.active, session)

    async def membership_granted(envelope: Envelope, data: Any, session: AsyncClientSession) -> None:
        await repo.set_roles(db, data.school_id, data.user_id, data.roles, session)
        if data.role == "student" and data.student_id:
            if not await repo.set_student_user(db, data.school_id, data.student_id, data.user_id, session):
                raise Unprocessable(f"no student {data.student_id} in school {data.school_id}")

    async def membership_revoked(envelope: Envelope, data: Any, session: AsyncClientSession) -> None:
        await repo.set_roles(db, data.school_id, data.user_id, data.roles, session)

    return {
        SchoolCreatedV1: school_created,
        UserCreatedV1: user_created,
        UserUpdatedV1: user_updated,
        MembershipGrantedV1: membership_granted,
        MembershipRevokedV1: membership_revoked,
    }
