"""Identity's event handlers: accounts for new students, and who supervises whom (for view-as-student)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event
from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1, StudentCreatedV1, StudentUpdatedV1
from identity import repository as repo
from identity.accounts import add_membership, find_or_create_user, stage_granted, welcome
from identity.models import normalise_email
from identity.settings import IdentitySettings
from kit.auth import Role
from kit.consumer import Handler, Unprocessable
from kit.mongo import Db
from kit.outbox import Outbox

Session = AsyncClientSession


def build_handlers(settings: IdentitySettings) -> Callable[[Db], Mapping[type[Event], Handler]]:
    """The handler of every event identity consumes, bound to its database."""

    def handlers(db: Db) -> Mapping[type[Event], Handler]:
        h = Handlers(db, settings)
        table: dict[type[Event], Callable[[Envelope, Any, Session], Awaitable[None]]] = {
            StudentCreatedV1: h.student_created, StudentUpdatedV1: h.student_updated,
            PersonLinkedV1: h.person_linked, PersonUnlinkedV1: h.person_unlinked,
        }
        return table

    return handlers


class Handlers:
    """The handlers, sharing the database and settings."""

    def __init__(self, db: Db, settings: IdentitySettings) -> None:
        self.db = db
        self.settings = settings
        self.outbox = Outbox(db, settings.service)

    async def student_created(self, env: Envelope, data: StudentCreatedV1, session: Session) -> None:
        """A student record gets an account (reused across schools) and a student membership."""
        db, outbox = self.db, self.outbox
        school = await repo.school(db, data.school_id, session=session)
        if school is None:
            raise Unprocessable(f"unknown school {data.school_id}")
        try:
            email = normalise_email(data.email)
        except ValueError as exc:
            raise Unprocessable("student e-mail address is not valid") from exc
        user, _ = await find_or_create_user(db, session, outbox, email=email, language=data.language,
                                            display_name=f"{data.first_name} {data.last_name}".strip())
        membership = await repo.membership(db, data.school_id, user["_id"], session=session)
        newly_student = membership is None or Role.STUDENT.value not in membership["roles"]
        if membership is None:
            membership = await add_membership(db, session, outbox, school_id=data.school_id, user=user,
                                              roles=[Role.STUDENT],
                                              student_code=data.student_code, student_id=data.student_id)
        elif membership.get("student_code") not in (None, data.student_code):
            raise Unprocessable("the account already has another student code in this school")
        elif newly_student:
            membership = await repo.update_membership(db, session, data.school_id, user["_id"], {
                "$addToSet": {"roles": Role.STUDENT.value},
                "$set": {"student_code": data.student_code, "student_id": data.student_id}})
            assert membership is not None
            await stage_granted(db, session, outbox, membership, Role.STUDENT.value)
        else:
            await repo.update_membership(db, session, data.school_id, user["_id"],
                                         {"$set": {"student_id": data.student_id}})
        if data.invite and newly_student:
            await welcome(db, session, outbox, user=user, school=school, roles=membership["roles"],
                          settings=self.settings)

    async def student_updated(self, env: Envelope, data: StudentUpdatedV1, session: Session) -> None:
        """A changed student code follows the student record."""
        membership = await repo.student_membership(self.db, data.school_id, data.student_id, session=session)
        if membership is not None and membership.get("student_code") != data.student_code:
            await repo.set_student_code(self.db, session, membership["_id"], data.student_code)

    async def person_linked(self, env: Envelope, data: PersonLinkedV1, session: Session) -> None:
        """Remember who is linked to a student (a supervisor may view as them)."""
        await repo.upsert_link(self.db, session, student_id=data.student_id, user_id=data.user_id,
                               school_id=data.school_id, relation=data.relation)

    async def person_unlinked(self, env: Envelope, data: PersonUnlinkedV1, session: Session) -> None:
        """Forget the link."""
        await repo.delete_link(self.db, session, student_id=data.student_id, user_id=data.user_id,
                               relation=data.relation)
