"""Event handlers: projections of people, students and links, and what each event tells whom."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event
from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1, StudentArchivedV1, StudentCreatedV1, StudentUpdatedV1
from contracts.evidence import FileUploadedV1, FileWithdrawnV1
from contracts.exams import (
    AssignmentAwaitingAdoptionV1,
    AssignmentPreparedV1,
    ExamBoardCaseDecidedV1,
    ExamBoardCaseOpenedV1,
    ExamPartCancelledV1,
    ExamPartRescheduledV1,
    ExamPartScheduledV1,
    ResultAdoptedV1,
    ResultAvailableV1,
    RetakeOpenedV1,
)
from contracts.identity import (
    InvitationRequestedV1,
    MembershipGrantedV1,
    MembershipRevokedV1,
    PasswordResetRequestedV1,
    SchoolAccessGrantedV1,
    UserCreatedV1,
    UserDeactivatedV1,
    UserUpdatedV1,
)
from kit.consumer import Handler, Unprocessable
from kit.mongo import Db
from notifications import repository as repo
from notifications.models import choose_language
from notifications.service import Recipient, UnknownPeople, notify_people, queue_email, user_of_student
from notifications.settings import NotificationsSettings

Session = AsyncClientSession


def build_handlers(settings: NotificationsSettings) -> Callable[[Db], Mapping[type[Event], Handler]]:
    """The handler of every event notifications consumes, bound to its database."""

    def handlers(db: Db) -> Mapping[type[Event], Handler]:
        h = Handlers(db, settings)
        table: dict[type[Event], Callable[[Envelope, Any, Session], Awaitable[None]]] = {
            UserCreatedV1: h.user_changed, UserUpdatedV1: h.user_changed, UserDeactivatedV1: h.user_deactivated,
            MembershipGrantedV1: h.membership_granted, MembershipRevokedV1: h.membership_revoked,
            InvitationRequestedV1: h.invitation, PasswordResetRequestedV1: h.password_reset,
            SchoolAccessGrantedV1: h.school_access,
            StudentCreatedV1: h.student_changed, StudentUpdatedV1: h.student_changed,
            StudentArchivedV1: h.student_archived,
            PersonLinkedV1: h.person_linked, PersonUnlinkedV1: h.person_unlinked,
            AssignmentPreparedV1: h.assignment_prepared, AssignmentAwaitingAdoptionV1: h.awaiting_adoption,
            ExamPartScheduledV1: h.part_scheduled, ResultAvailableV1: h.result_available,
            ExamPartRescheduledV1: h.part_rescheduled, ExamPartCancelledV1: h.part_cancelled,
            ExamBoardCaseDecidedV1: h.case_decided,
            ResultAdoptedV1: h.result_adopted, RetakeOpenedV1: h.retake_opened,  # results
            ExamBoardCaseOpenedV1: h.case_opened,
            FileUploadedV1: h.file_uploaded, FileWithdrawnV1: h.file_withdrawn,
        }
        return {cls: _refusing_unknown_people(fn) for cls, fn in table.items()}

    return handlers


def _refusing_unknown_people(fn: Callable[[Envelope, Any, Session], Awaitable[None]]) -> Handler:
    """An event about someone never heard of can not succeed by retrying: park it with the reason."""

    async def handle(envelope: Envelope, data: Any, session: Session) -> None:
        try:
            await fn(envelope, data, session)
        except UnknownPeople as exc:
            raise Unprocessable(str(exc)) from exc

    return handle


class Handlers:
    """The handlers, sharing the database and settings."""

    def __init__(self, db: Db, settings: NotificationsSettings) -> None:
        self.db = db
        self.settings = settings

    # --- identity -----------------------------------------------------------------------------

    async def user_changed(self, env: Envelope, data: UserCreatedV1 | UserUpdatedV1, session: Session) -> None:
        """Keep a person's address, name and language."""
        fields: dict[str, Any] = {"email": data.email, "display_name": data.display_name, "language": data.language}
        if isinstance(data, UserUpdatedV1):
            fields["active"] = data.active
        await repo.upsert_person(self.db, session, data.user_id, fields)

    async def user_deactivated(self, env: Envelope, data: UserDeactivatedV1, session: Session) -> None:
        """A deactivated person gets no more e-mail (everywhere, or about one school)."""
        await repo.deactivate_person(self.db, session, data.user_id, data.school_id)

    async def membership_granted(self, env: Envelope, data: MembershipGrantedV1, session: Session) -> None:
        """Roles per school; a student membership maps the student record to the account."""
        await repo.set_roles(self.db, session, data.user_id, data.school_id, data.roles)
        if data.student_id:
            await repo.upsert_student(self.db, session, data.student_id,
                                      {"school_id": data.school_id, "user_id": data.user_id})

    async def membership_revoked(self, env: Envelope, data: MembershipRevokedV1, session: Session) -> None:
        """The roles the person still holds in the school."""
        await repo.set_roles(self.db, session, data.user_id, data.school_id, data.roles)

    async def invitation(self, env: Envelope, data: InvitationRequestedV1, session: Session) -> None:
        """A login code: a security e-mail that always goes, to the address in the event."""
        await self._security_email(env, data, session, kind="invitation", school_id=data.school_id,
                                   params={"school_name": data.school_name, "expires_at": data.expires_at})

    async def password_reset(self, env: Envelope, data: PasswordResetRequestedV1, session: Session) -> None:
        """A password reset link: a security e-mail that always goes."""
        await self._security_email(env, data, session, kind="password_reset", school_id=env.school_id,
                                   params={"expires_at": data.expires_at})

    async def school_access(self, env: Envelope, data: SchoolAccessGrantedV1, session: Session) -> None:
        """An existing account got access to another school: a security notice that always goes."""
        await self._security_email(env, data, session, kind="school_access", school_id=data.school_id,
                                   params={"school_name": data.school_name, "roles": data.roles})

    async def _security_email(self, env: Envelope,
                              data: InvitationRequestedV1 | PasswordResetRequestedV1 | SchoolAccessGrantedV1,
                              session: Session, *, kind: str, school_id: str | None, params: dict[str, Any]) -> None:
        prefs = await repo.preferences(self.db, data.user_id, session)
        await queue_email(
            self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
            school_id=school_id, kind=kind, to=data.email, name=data.display_name,
            language=choose_language(prefs.get("language"), data.language), link=data.link,
            params=params, user_id=data.user_id)

    # --- enrollment ---------------------------------------------------------------------------

    async def student_changed(self, env: Envelope, data: StudentCreatedV1 | StudentUpdatedV1,
                              session: Session) -> None:
        """Which school a student record belongs to and whether it is archived."""
        archived = data.archived if isinstance(data, StudentUpdatedV1) else False
        await repo.upsert_student(self.db, session, data.student_id,
                                  {"school_id": data.school_id, "archived": archived})

    async def student_archived(self, env: Envelope, data: StudentArchivedV1, session: Session) -> None:
        """Archived students are out of everyone's reach for messages."""
        await repo.upsert_student(self.db, session, data.student_id, {"school_id": data.school_id, "archived": True})

    async def person_linked(self, env: Envelope, data: PersonLinkedV1, session: Session) -> None:
        """A supervisor, assessor or workplace trainer was linked to a student."""
        await repo.link(self.db, session, data.student_id, data.school_id, data.user_id, data.relation)

    async def person_unlinked(self, env: Envelope, data: PersonUnlinkedV1, session: Session) -> None:
        """The link is gone, and with it the right to exchange messages."""
        await repo.unlink(self.db, session, data.student_id, data.user_id, data.relation)

    # --- exams --------------------------------------------------------------------------------

    async def assignment_prepared(self, env: Envelope, data: AssignmentPreparedV1, session: Session) -> None:
        """Each approver is asked for their approval."""
        params = {"exam_name": data.exam_name, "assignment_id": data.assignment_id}
        await notify_people(self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
                            school_id=data.school_id, kind="assignment_approval",
                            recipients=[Recipient(uid, params) for uid in dict.fromkeys(data.approver_ids)],
                            path=f"/schools/{data.school_id}/assignments/{data.assignment_id}")

    async def awaiting_adoption(self, env: Envelope, data: AssignmentAwaitingAdoptionV1, session: Session) -> None:
        """The adopter is asked to adopt on behalf of the exam board."""
        params = {"exam_name": data.exam_name, "assignment_id": data.assignment_id}
        await notify_people(self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
                            school_id=data.school_id, kind="assignment_adoption",
                            recipients=[Recipient(data.adopter_id, params)],
                            path=f"/schools/{data.school_id}/assignments/{data.assignment_id}")

    async def part_scheduled(self, env: Envelope, data: ExamPartScheduledV1, session: Session) -> None:
        """The student and the assessors get a confirmation."""
        await self._part_news(env, data, session, "part_scheduled", {
            "ends_at": data.ends_at, "location": data.location, "attempt_number": data.attempt_number})

    async def part_rescheduled(self, env: Envelope, data: ExamPartRescheduledV1, session: Session) -> None:
        """The student and the assessors hear the part's new moment, place or assessors."""
        await self._part_news(env, data, session, "part_rescheduled", {
            "ends_at": data.ends_at, "location": data.location, "attempt_number": data.attempt_number})

    async def part_cancelled(self, env: Envelope, data: ExamPartCancelledV1, session: Session) -> None:
        """The student and the assessors hear the part is cancelled (and the student whether the attempt is lost)."""
        await self._part_news(env, data, session, "part_cancelled", {"attempt_forfeited": data.attempt_forfeited})

    async def _part_news(self, env: Envelope, data: ExamPartScheduledV1 | ExamPartRescheduledV1 | ExamPartCancelledV1,
                         session: Session, kind: str, extra: dict[str, Any]) -> None:
        student_user = await user_of_student(self.db, data.student_id, session)
        params: dict[str, Any] = {"exam_name": data.exam_name, "part_name": data.part_name,
                                  "starts_at": data.starts_at, "attempt_id": data.attempt_id, **extra}
        recipients = [Recipient(student_user, {**params, "role": "student"})]
        for assessor in dict.fromkeys(filter(None, (data.first_assessor_id, data.second_assessor_id))):
            if assessor != student_user:
                recipients.append(Recipient(assessor, {**params, "role": "assessor"}))
        await notify_people(self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
                            school_id=data.school_id, kind=kind, recipients=recipients,
                            path=f"/schools/{data.school_id}/attempts/{data.attempt_id}")

    async def result_available(self, env: Envelope, data: ResultAvailableV1, session: Session) -> None:
        """The student hears a result is there (never the result itself)."""
        await self._to_student(env, data, session, "result_available", {}, "/result")

    async def result_adopted(self, env: Envelope, data: ResultAdoptedV1, session: Session) -> None:
        """The student hears the exam board adopted their result, which they can now read (never the result)."""
        await self._to_student(env, data, session, "result_adopted", {}, "/result")

    async def retake_opened(self, env: Envelope, data: RetakeOpenedV1, session: Session) -> None:
        """The student hears a retake was opened; its parts are scheduled anew (each with its own e-mail)."""
        await self._to_student(env, data, session, "retake_opened", {"attempt_number": data.attempt_number}, "")

    async def _to_student(self, env: Envelope, data: ResultAvailableV1 | ResultAdoptedV1 | RetakeOpenedV1,
                          session: Session, kind: str, params: dict[str, Any], page: str) -> None:
        student_user = await user_of_student(self.db, data.student_id, session)
        await notify_people(self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
                            school_id=data.school_id, kind=kind,
                            recipients=[Recipient(student_user, {"exam_name": data.exam_name,
                                                                 "attempt_id": data.attempt_id, **params})],
                            path=f"/schools/{data.school_id}/attempts/{data.attempt_id}{page}")

    async def case_decided(self, env: Envelope, data: ExamBoardCaseDecidedV1, session: Session) -> None:
        """The student hears the exam board decided their case (the decision is in the platform)."""
        student_user = await user_of_student(self.db, data.student_id, session)
        await notify_people(self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
                            school_id=data.school_id, kind="board_decision",
                            recipients=[Recipient(student_user, {"case_kind": data.kind, "case_id": data.case_id})],
                            path=f"/schools/{data.school_id}/exam-board/cases/{data.case_id}")

    async def case_opened(self, env: Envelope, data: ExamBoardCaseOpenedV1, session: Session) -> None:
        """The exam board (but whoever opened it) hears a case awaits its decision; the student that it is
        being handled and by when. Nobody's name is in these e-mails."""
        student_user = await user_of_student(self.db, data.student_id, session)
        params = {"case_kind": data.kind, "case_id": data.case_id, "deadline_at": data.deadline}
        path = f"/schools/{data.school_id}/exam-board/cases/{data.case_id}"
        board = [u for u in await repo.holders_of_role(self.db, data.school_id, "exam_board", session)
                 if u not in (data.opened_by, student_user)]
        known = await repo.people(self.db, board, session)
        recipients = [Recipient(u, params) for u in board if "email" in known.get(u, {})]
        if recipients:
            await notify_people(self.db, session, self.settings, source_id=str(env.event_id), source_type=env.type,
                                school_id=data.school_id, kind="board_case_opened", recipients=recipients, path=path)
        await notify_people(self.db, session, self.settings, source_id=str(env.event_id),
                            source_type=env.type, school_id=data.school_id, kind="board_case_received",
                            recipients=[Recipient(student_user, {**params,
                                                                 "by_student": data.opened_by == student_user})],
                            path=path)

    # --- evidence -----------------------------------------------------------------------------

    async def file_uploaded(self, env: Envelope, data: FileUploadedV1, session: Session) -> None:
        """Message attachments may be attached by their uploader; other files are not ours."""
        if data.kind != "message_attachment":
            return
        await repo.upsert_attachment(self.db, session, data.file_id, {
            "school_id": data.school_id, "uploaded_by": data.uploaded_by, "filename": data.filename,
            "content_type": data.content_type, "size": data.size, "withdrawn": False})

    async def file_withdrawn(self, env: Envelope, data: FileWithdrawnV1, session: Session) -> None:
        """A withdrawn file can no longer be attached."""
        await repo.withdraw_attachment(self.db, session, data.file_id)
