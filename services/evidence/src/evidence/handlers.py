"""Event handlers: local projections of exams, enrollment and identity, and locking evidence.

The same shape as every service's handlers: a mapping from event class to a method taking
(envelope, data, session), bound to the database by the consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event
from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1
from contracts.evidence import EvidenceLockedV1
from contracts.exams import (
    AssessmentFinalizedV1,
    AssignmentPreparedV1,
    BankAssignmentSavedV1,
    ExamBoardCaseDecidedV1,
    ExamBoardCaseOpenedV1,
    ExamPartScheduledV1,
    PartAssessmentFinalizedV1,
)
from contracts.identity import MembershipGrantedV1, MembershipRevokedV1
from contracts.notifications import MessageSentV1
from evidence import repository as repo
from evidence.models import LATE, LOCK_PERIOD
from evidence.settings import EvidenceSettings
from evidence.storage import create_s3, lock_object
from kit.clock import now
from kit.consumer import Handler, Unprocessable
from kit.mongo import Db
from kit.outbox import Outbox

log = logging.getLogger(__name__)

Session = AsyncClientSession


def build_handlers(settings: EvidenceSettings,
                   s3: Minio | None = None) -> Callable[[Db], Mapping[type[Event], Handler]]:
    """The handler of every event evidence consumes, bound to its database."""
    bucket = s3 or create_s3(settings)

    def handlers(db: Db) -> Mapping[type[Event], Handler]:
        h = Handlers(db, bucket, settings)
        table: dict[type[Event], Callable[[Envelope, Any, Session], Awaitable[None]]] = {
            ExamPartScheduledV1: h.part_scheduled, AssessmentFinalizedV1: h.assessment_finalized,
            PartAssessmentFinalizedV1: h.part_assessment_finalized,
            AssignmentPreparedV1: h.assignment_prepared, BankAssignmentSavedV1: h.bank_assignment_saved,
            PersonLinkedV1: h.person_linked, PersonUnlinkedV1: h.person_unlinked,
            MembershipGrantedV1: h.membership_granted, MembershipRevokedV1: h.membership_revoked,
            MessageSentV1: h.message_sent,
            ExamBoardCaseOpenedV1: h.case_opened, ExamBoardCaseDecidedV1: h.case_decided,
        }
        return table

    return handlers


class Handlers:
    """The handlers, sharing the database, the bucket, the settings and the outbox."""

    def __init__(self, db: Db, s3: Minio, settings: EvidenceSettings) -> None:
        self.db = db
        self.s3 = s3
        self.settings = settings
        self.outbox = Outbox(db, settings.service)

    # --- exams --------------------------------------------------------------------------------

    async def part_scheduled(self, env: Envelope, data: ExamPartScheduledV1, session: Session) -> None:
        """The attempt is in execution: its student may add evidence, its assessors may read it."""
        await repo.attempt_scheduled(self.db, data, session)

    async def part_assessment_finalized(self, env: Envelope, data: PartAssessmentFinalizedV1,
                                        session: Session) -> None:
        """A part's assessment is final: its assessors may attach no more files to it."""
        await repo.part_finalized(self.db, data.attempt_id, data.part_id, session)

    async def assessment_finalized(self, env: Envelope, data: AssessmentFinalizedV1, session: Session) -> None:
        """Lock the attempt's evidence for good (S3 object lock where the bucket supports it)."""
        first_time = await repo.attempt_finalized(self.db, data, session)
        for file_id in await repo.flag_late_files(self.db, data.attempt_id, data.finalized_at, session):
            await repo.audit(self.db, file_id, "flagged_late", "system", now(), session)
        files = await repo.lock_attempt_files(self.db, data.attempt_id, data.finalized_at, session)
        # S3 object lock is idempotent, so a retried handler may set it again; done before the commit.
        for file in files:
            period = LOCK_PERIOD.get(file.get("retention_class", ""))
            if period is not None and "object_lock_until" not in file:
                until = data.finalized_at + period
                if await lock_object(self.s3, self.settings.s3_bucket, file["key"], until):
                    await repo.mark_object_locked(self.db, file["_id"], until, session)
        if first_time:
            await self.outbox.stage(session, EvidenceLockedV1(
                attempt_id=data.attempt_id, school_id=data.school_id, student_id=data.student_id,
                file_ids=[f["_id"] for f in files if f["status"] != LATE], locked_at=data.finalized_at,
            ), subject=data.attempt_id, school_id=data.school_id)

    async def assignment_prepared(self, env: Envelope, data: AssignmentPreparedV1, session: Session) -> None:
        """Which student an assignment is for (its supervisors may attach files)."""
        await repo.set_assignment(self.db, data, session)

    async def bank_assignment_saved(self, env: Envelope, data: BankAssignmentSavedV1, session: Session) -> None:
        """A bank assignment exists: its editors may attach files to it."""
        await repo.set_bank_assignment(self.db, data, session)

    async def case_opened(self, env: Envelope, data: ExamBoardCaseOpenedV1, session: Session) -> None:
        """An exam-board case exists: its student and the board may upload documents for it."""
        await repo.set_case(self.db, data, session, decided=False)

    async def case_decided(self, env: Envelope, data: ExamBoardCaseDecidedV1, session: Session) -> None:
        """A decided case takes no more documents."""
        await repo.set_case(self.db, data, session, decided=True)

    # --- enrollment ---------------------------------------------------------------------------

    async def person_linked(self, env: Envelope, data: PersonLinkedV1, session: Session) -> None:
        """A supervisor, assessor or workplace trainer may now see the student's files."""
        await repo.link(self.db, data.school_id, data.student_id, data.user_id, data.relation, session)

    async def person_unlinked(self, env: Envelope, data: PersonUnlinkedV1, session: Session) -> None:
        """The link is gone, and with it the right to see the student's files."""
        await repo.unlink(self.db, data.school_id, data.student_id, data.user_id, data.relation, session)

    # --- identity -----------------------------------------------------------------------------

    async def membership_granted(self, env: Envelope, data: MembershipGrantedV1, session: Session) -> None:
        """A student membership maps the account to its student record."""
        if data.role != "student":
            return
        if not data.student_id:
            raise Unprocessable("student membership without student_id")
        await repo.set_student_user(self.db, data.school_id, data.user_id, data.student_id, session)

    async def membership_revoked(self, env: Envelope, data: MembershipRevokedV1, session: Session) -> None:
        """No longer a student there: no more uploads as that student."""
        if data.role == "student":
            await repo.set_student_user(self.db, data.school_id, data.user_id, None, session)

    # --- notifications ------------------------------------------------------------------------

    async def message_sent(self, env: Envelope, data: MessageSentV1, session: Session) -> None:
        """The message's recipients may read its attachments."""
        if data.attachment_ids:
            await repo.grant_attachments(self.db, data.school_id, data.sender_id, data.attachment_ids,
                                         data.recipient_ids, session)
