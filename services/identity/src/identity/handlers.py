"""Identity's event handlers: accounts for new students, and who supervises whom (for view-as-student)."""

from __future__ import annotations

from typing import Any

from contracts import Envelope, Event
from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1, StudentCreatedV1, StudentUpdatedV1
from identity.models import normalise_email
from identity.service import Identity, Session
from kit.auth import Role
from kit.consumer import Handler, Unprocessable


def handlers(identity: Identity) -> dict[type[Event], Handler]:
    """The handlers of the identity consumer group."""

    async def student_created(envelope: Envelope, data: Any, session: Session) -> None:
        event: StudentCreatedV1 = data
        school = await identity.repo.school(event.school_id, session=session)
        if school is None:
            raise Unprocessable(f"unknown school {event.school_id}")
        try:
            email = normalise_email(event.email)
        except ValueError as exc:
            raise Unprocessable("student e-mail address is not valid") from exc
        user, _ = await identity.find_or_create_user(
            session, email=email, display_name=f"{event.first_name} {event.last_name}".strip(),
            language=event.language)
        membership = await identity.repo.membership(event.school_id, user["_id"], session=session)
        newly_student = membership is None or Role.STUDENT.value not in membership["roles"]
        if membership is None:
            await identity.add_membership(session, school_id=event.school_id, user=user, roles=[Role.STUDENT],
                                          student_code=event.student_code, student_id=event.student_id)
        else:
            if membership.get("student_code") not in (None, event.student_code):
                raise Unprocessable("the account already has another student code in this school")
            if Role.STUDENT.value not in membership["roles"]:
                await identity.repo.update_membership(event.school_id, user["_id"], {
                    "$addToSet": {"roles": Role.STUDENT.value},
                    "$set": {"student_code": event.student_code, "student_id": event.student_id}}, session)
                membership = await identity.repo.membership(event.school_id, user["_id"], session=session)
                assert membership is not None
                await identity.stage_granted(session, membership, Role.STUDENT.value)
            else:
                await identity.repo.update_membership(event.school_id, user["_id"],
                                                      {"$set": {"student_id": event.student_id}}, session)
        if event.invite and newly_student and not user.get("password_hash"):
            await identity.invite(session, user=user, school=school)

    async def student_updated(envelope: Envelope, data: Any, session: Session) -> None:
        event: StudentUpdatedV1 = data
        membership = await identity.repo.memberships.find_one(
            {"school_id": event.school_id, "student_id": event.student_id}, session=session)
        if membership is not None and membership.get("student_code") != event.student_code:
            await identity.repo.memberships.update_one({"_id": membership["_id"]},
                                                       {"$set": {"student_code": event.student_code}},
                                                       session=session)

    async def person_linked(envelope: Envelope, data: Any, session: Session) -> None:
        event: PersonLinkedV1 = data
        await identity.repo.links.replace_one(
            {"_id": f"{event.student_id}:{event.user_id}:{event.relation}"},
            {"student_id": event.student_id, "user_id": event.user_id, "school_id": event.school_id,
             "relation": event.relation}, upsert=True, session=session)

    async def person_unlinked(envelope: Envelope, data: Any, session: Session) -> None:
        event: PersonUnlinkedV1 = data
        await identity.repo.links.delete_one({"_id": f"{event.student_id}:{event.user_id}:{event.relation}"},
                                             session=session)

    return {StudentCreatedV1: student_created, StudentUpdatedV1: student_updated,
            PersonLinkedV1: person_linked, PersonUnlinkedV1: person_unlinked}
