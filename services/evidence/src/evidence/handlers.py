"""Event handlers: local projections of exams, enrollment and identity, and locking evidence."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts import Envelope, Event
from contracts.enrollment import PersonLinkedV1, PersonUnlinkedV1
from contracts.evidence import EvidenceLockedV1
from contracts.exams import AssessmentFinalizedV1, AssignmentPreparedV1, ExamPartScheduledV1
from contracts.identity import MembershipGrantedV1, MembershipRevokedV1
from contracts.notifications import MessageSentV1
from evidence import repository as repo
from evidence.models import LOCK_PERIOD
from evidence.settings import EvidenceSettings
from evidence.storage import lock_object
from kit.consumer import Handler, Unprocessable
from kit.mongo import Db
from kit.outbox import Outbox

log = logging.getLogger(__name__)


def build_handlers(db: Db, s3: Minio, settings: EvidenceSettings) -> Mapping[type[Event], Handler]:
    """The handler per consumed event class."""

    async def part_scheduled(envelope: Envelope, data: ExamPartScheduledV1, session: AsyncClientSession) -> None:
        await repo.attempt_scheduled(db, data, session)

    async def finalized(envelope: Envelope, data: AssessmentFinalizedV1, session: AsyncClientSession) -> None:
        first_time = await repo.attempt_finalized(db, data, session)
        files = await repo.lock_attempt_files(db, data.attempt_id, data.finalized_at, session)
        # S3 object lock is idempotent, so a retried handler may set it again; done before the commit.
        for file in files:
            period = LOCK_PERIOD.get(file.get("retention_class", ""))
            if period is not None and "object_lock_until" not in file:
                until = data.finalized_at + period
                if await lock_object(s3, settings.s3_bucket, file["key"], until):
                    await repo.mark_object_locked(db, file["_id"], until, session)
        if first_time:
            await Outbox(db, settings.service).stage(session, EvidenceLockedV1(
                attempt_id=data.attempt_id, school_id=data.school_id, student_id=data.student_id,
                file_ids=[f["_id"] for f in files], locked_at=data.finalized_at,
            ), subject=data.attempt_id, school_id=data.school_id)

    async def linked(envelope: Envelope, data: PersonLinkedV1, session: AsyncClientSession) -> None:
        await repo.link(db, data.school_id, data.student_id, data.user_id, data.relation, session)

    async def unlinked(envelope: Envelope, data: PersonUnlinkedV1, session: AsyncClientSession) -> None:
        await repo.unlink(db, data.school_id, data.student_id, data.user_id, data.relation, session)

    async def granted(envelope: Envelope, data: MembershipGrantedV1, session: AsyncClientSession) -> None:
        if data.role != "student":
            return
        if not data.student_id:
            raise Unprocessable("student membership without student_id")
        await repo.set_student_user(db, data.school_id, data.user_id, data.student_id, session)

    async def revoked(envelope: Envelope, data: MembershipRevokedV1, session: AsyncClientSession) -> None:
        if data.role == "student":
            await repo.set_student_user(db, data.school_id, data.user_id, None, session)

    async def prepared(envelope: Envelope, data: AssignmentPreparedV1, session: AsyncClientSession) -> None:
        await repo.set_assignment(db, data, session)

    async def message_sent(envelope: Envelope, data: MessageSentV1, session: AsyncClientSession) -> None:
        if data.attachment_ids:
            await repo.grant_attachments(db, data.school_id, data.sender_id, data.attachment_ids,
                                         data.recipient_ids, session)

    handlers: dict[type[Event], Any] = {
        ExamPartScheduledV1: part_scheduled, AssessmentFinalizedV1: finalized, PersonLinkedV1: linked,
        PersonUnlinkedV1: unlinked, MembershipGrantedV1: granted, MembershipRevokedV1: revoked,
        AssignmentPreparedV1: prepared, MessageSentV1: message_sent,
    }
    return handlers
