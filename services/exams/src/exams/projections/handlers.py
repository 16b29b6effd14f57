"""Event handlers: identity's memberships and enrollment's students, links, groups and programmes, kept locally;
evidence's uploads of bank and assessment attachments and of exam-board case documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import Envelope, Event
from contracts.enrollment import (
    ExamUnavailableMarkedV1,
    GroupChangedV1,
    GroupMembersChangedV1,
    PersonLinkedV1,
    PersonUnlinkedV1,
    ProgrammeEnabledV1,
    ProgrammePublishedV1,
    StudentArchivedV1,
    StudentCreatedV1,
    StudentUpdatedV1,
)
from contracts.evidence import FileUploadedV1
from contracts.identity import MembershipGrantedV1, MembershipRevokedV1, UserCreatedV1, UserUpdatedV1
from exams.assessment import service as assessment
from exams.assignments import bank
from exams.assignments import service as assignments
from exams.cases import repository as case_documents
from exams.common import Session
from exams.projections import people
from exams.projections import repository as repo
from kit.clock import now
from kit.consumer import Handler
from kit.mongo import Db
from kit.outbox import Outbox


def build_handlers(db: Db) -> Mapping[type[Event], Handler]:
    """The handler per consumed event class."""

    async def granted(env: Envelope, data: MembershipGrantedV1, session: Session) -> None:
        await repo.set_roles(db, session, school_id=data.school_id, user_id=data.user_id, roles=data.roles)
        if data.role == "student" and data.student_id:
            await repo.upsert_student(db, session, student_id=data.student_id,
                                      fields={"school_id": data.school_id, "user_id": data.user_id})

    async def revoked(env: Envelope, data: MembershipRevokedV1, session: Session) -> None:
        await repo.set_roles(db, session, school_id=data.school_id, user_id=data.user_id, roles=data.roles)

    async def student(env: Envelope, data: StudentCreatedV1 | StudentUpdatedV1, session: Session) -> None:
        fields: dict[str, Any] = {
            "school_id": data.school_id, "student_code": data.student_code, "first_name": data.first_name,
            "last_name": data.last_name, "programme_ids": data.programme_ids}
        if isinstance(data, StudentUpdatedV1):
            fields.update(archived=data.archived, active=data.active)
        await repo.upsert_student(db, session, student_id=data.student_id, fields=fields)

    async def archived(env: Envelope, data: StudentArchivedV1, session: Session) -> None:
        await repo.upsert_student(db, session, student_id=data.student_id,
                                  fields={"school_id": data.school_id, "archived": True})

    async def linked(env: Envelope, data: PersonLinkedV1 | PersonUnlinkedV1, session: Session) -> None:
        await repo.link(db, session, school_id=data.school_id, student_id=data.student_id, user_id=data.user_id,
                        relation=data.relation, linked=isinstance(data, PersonLinkedV1))

    async def group(env: Envelope, data: GroupChangedV1, session: Session) -> None:
        await repo.set_group(db, session, group_id=data.group_id, fields={
            "school_id": data.school_id, "name": data.name, "category": data.category, "archived": data.archived})

    async def group_members(env: Envelope, data: GroupMembersChangedV1, session: Session) -> None:
        for ids, add in ((data.added, True), (data.removed, False)):
            if ids:
                await repo.change_student_list(db, session, student_ids=ids, school_id=data.school_id,
                                               field="group_ids", value=data.group_id, add=add)

    async def programme(env: Envelope, data: ProgrammePublishedV1, session: Session) -> None:
        await repo.set_programme(db, session, programme_id=data.programme_id, fields={
            "crebo": data.crebo, "name": data.name, "level": data.level, "cohort": data.cohort, "kind": data.kind})

    async def enabled(env: Envelope, data: ProgrammeEnabledV1, session: Session) -> None:
        await repo.enable_programme(db, session, school_id=data.school_id, programme_id=data.programme_id,
                                    enabled=data.enabled)

    async def unavailable(env: Envelope, data: ExamUnavailableMarkedV1, session: Session) -> None:
        await repo.mark_unavailable(db, session, school_id=data.school_id, exam_id=data.exam_id,
                                    student_ids=data.student_ids, unavailable=data.unavailable)

    async def uploaded(env: Envelope, data: FileUploadedV1, session: Session) -> None:
        if data.kind == "bank_attachment" and data.bank_assignment_id:
            await bank.attachment_uploaded(db, session, school_id=data.school_id, bank_id=data.bank_assignment_id,
                                           file_id=data.file_id)
        if data.kind == "assessment_attachment" and data.attempt_id and data.part_id:
            await assessment.attachment_uploaded(db, session, school_id=data.school_id, attempt_id=data.attempt_id,
                                                 part_id=data.part_id, user_id=data.uploaded_by, file_id=data.file_id)
        if data.kind == "assignment_attachment" and data.assignment_id:
            await assignments.attachment_uploaded(db, session, outbox=Outbox(db, "exams"), school_id=data.school_id,
                                                  assignment_id=data.assignment_id, file_id=data.file_id)
        if data.kind == "case_document" and data.case_id:
            await case_documents.add_document(db, session, school_id=data.school_id, case_id=data.case_id,
                                              file_id=data.file_id, at=now())

    async def user(env: Envelope, data: UserCreatedV1 | UserUpdatedV1, session: Session) -> None:
        await people.set_name(db, session, user_id=data.user_id, display_name=data.display_name)

    table: dict[type[Event], Any] = {
        MembershipGrantedV1: granted, MembershipRevokedV1: revoked,
        StudentCreatedV1: student, StudentUpdatedV1: student, StudentArchivedV1: archived,
        PersonLinkedV1: linked, PersonUnlinkedV1: linked,
        GroupChangedV1: group, GroupMembersChangedV1: group_members,
        ProgrammePublishedV1: programme, ProgrammeEnabledV1: enabled, ExamUnavailableMarkedV1: unavailable,
        FileUploadedV1: uploaded,
        UserCreatedV1: user, UserUpdatedV1: user,
    }
    return table
