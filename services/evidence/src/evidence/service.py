"""Use cases of the evidence service: who may upload where, storing bodies in S3, registering and withdrawing."""

from __future__ import annotations

import logging
from typing import Any

from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession

from contracts.evidence import FileUploadedV1, FileWithdrawnV1
from evidence import repository as repo
from evidence.models import (
    LATE,
    RETENTION_CLASS,
    IncomingFile,
    Interrupted,
    Stored,
    StudentAccess,
    Target,
    detect_content_type,
    evidence_change_refusal,
    may_edit_bank,
    may_see_assessment_file,
    may_see_bank_file,
    may_see_library_file,
    may_see_student,
    storage_key,
)
from evidence.settings import EvidenceSettings
from evidence.storage import Multipart, remove
from evidence.streaming import PartWriter, buffer_pool
from kit.auth import Principal, Role
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.mongo import Db
from kit.outbox import Outbox

log = logging.getLogger(__name__)

PRIVILEGED = frozenset({Role.SCHOOL_ADMIN, Role.EXAM_BOARD})  # they also see withdrawn items
NO_FILE = Text(nl="Dit bestand bestaat niet.", en="No such file.")
PART_FINAL = Text(nl="De beoordeling van dit onderdeel is definitief: er kan geen bestand meer bij.",
                  en="The assessment of this part is final: no file can be added to it.")
CASE_DECIDED = Text(nl="Over deze zaak is al besloten: er kunnen geen documenten meer bij.",
                    en="This case was decided: no more documents can be added.")


def too_large(limit: int) -> Problem:
    """The 413 for a file over the limit."""
    return Problem(413, "payload_too_large", detail=Text(
        f"Een bestand mag hoogstens {limit} bytes (537 MB) groot zijn.",
        f"A file may be at most {limit} bytes (537 MB)."),
                   max_bytes=limit)


# --- access ----------------------------------------------------------------------------------------------

async def student_access(db: Db, principal: Principal, school_id: str, student_id: str) -> StudentAccess:
    """What the projections say about this caller and this student."""
    user = principal.subject
    return StudentAccess(
        is_student_self=await repo.student_of_user(db, school_id, user) == student_id,
        linked=await repo.is_linked(db, school_id, user, student_id),
        assesses=await repo.assesses(db, school_id, user, student_id),
    )


async def require_student_visible(db: Db, principal: Principal, school_id: str, student_id: str) -> None:
    """Refuse (404, revealing nothing) when the caller may not see this student's files."""
    if not may_see_student(principal, school_id, await student_access(db, principal, school_id, student_id)):
        raise Problem(404, "not_found", detail=Text(
            "Dit bestand of deze examenpoging bestaat niet.",
            "No such file or exam attempt."))


async def sees_assignment_of(db: Db, principal: Principal, school_id: str, file_id: str) -> bool:
    """True when the file is attached to an assignment whose student the caller may see."""
    for student_id in await repo.students_attached_to(db, school_id, file_id):
        if may_see_student(principal, school_id, await student_access(db, principal, school_id, student_id)):
            return True
    return False


async def require_file_visible(db: Db, principal: Principal, school_id: str, file_id: str) -> dict[str, Any]:
    """The file, when the caller may see it (withdrawn files only for admins and the exam board)."""
    file = await repo.get_file(db, school_id, file_id)
    if file is None:
        raise Problem(404, "not_found", detail=NO_FILE)
    if file["kind"] == "library":
        if not may_see_library_file(principal, school_id, file):
            raise Problem(404, "not_found", detail=NO_FILE)
    elif file["kind"] == "bank_attachment":
        if not may_see_bank_file(principal, school_id) and not await sees_assignment_of(db, principal, school_id,
                                                                                        file["_id"]):
            raise Problem(404, "not_found", detail=NO_FILE)
    elif file["kind"] == "assessment_attachment":
        attempt = await repo.get_attempt(db, school_id, file.get("attempt_id") or "")
        if not may_see_assessment_file(principal, school_id, file, attempt):
            raise Problem(404, "not_found", detail=NO_FILE)
    elif file["kind"] == "case_document":
        # an exam-board case's documents (diplomas, statements): the board and the case's student only
        is_board = Role.EXAM_BOARD in principal.roles_in(school_id)
        if not is_board and await repo.student_of_user(db, school_id, principal.subject) != file["student_id"]:
            raise Problem(404, "not_found", detail=NO_FILE)
    elif file["kind"] == "message_attachment":
        # private correspondence: its sender, the recipients the message named, and the school admin
        readers = {file["uploaded_by"], *file.get("reader_ids", [])}
        if principal.subject not in readers and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
            raise Problem(404, "not_found", detail=NO_FILE)
    else:
        await require_student_visible(db, principal, school_id, file["student_id"])
    own_late = file["status"] == LATE and file["uploaded_by"] == principal.subject  # told, not hidden
    if file["status"] != "active" and not own_late and not principal.roles_in(school_id) & PRIVILEGED:
        raise Problem(404, "not_found", detail=NO_FILE)
    return file


async def attempt_evidence(db: Db, principal: Principal, *, school_id: str, attempt_id: str,
                           include_withdrawn: bool) -> list[dict[str, Any]]:
    """An attempt's evidence for someone allowed to see its student (withdrawn items only for the privileged)."""
    attempt = await repo.get_attempt(db, school_id, attempt_id)
    if attempt is None:
        raise Problem(404, "not_found", detail=Text("Deze examenpoging bestaat niet.", "No such exam attempt."))
    await require_student_visible(db, principal, school_id, attempt["student_id"])
    privileged = bool(principal.roles_in(school_id) & PRIVILEGED)
    return await repo.list_attempt_files(db, school_id, attempt_id, include_withdrawn and privileged)


async def library(db: Db, principal: Principal, *, school_id: str, include_withdrawn: bool) -> list[dict[str, Any]]:
    """The library as the caller may see it: the school admin sees all (withdrawn manuals on request)."""
    roles = principal.roles_in(school_id)
    if Role.SCHOOL_ADMIN in roles:
        return await repo.list_library(db, school_id, None, include_withdrawn)
    return await repo.list_library(db, school_id, [r.value for r in roles], False)


# --- targets ---------------------------------------------------------------------------------------------

async def evidence_target(db: Db, principal: Principal, school_id: str, attempt_id: str,
                          replaces: str | None = None) -> Target:
    """Check that the caller is the attempt's student and the attempt is in execution."""
    attempt = await repo.get_attempt(db, school_id, attempt_id)
    if attempt is None:
        raise Problem(404, "not_found", detail=Text(
            "Deze examenpoging bestaat niet of wordt nu niet uitgevoerd.",
            "No such exam attempt in execution."))
    if await repo.student_of_user(db, school_id, principal.subject) != attempt["student_id"]:
        raise Problem(403, "forbidden", detail=Text(
            "Alleen de student van deze examenpoging mag bewijsstukken uploaden.",
            "Only the student of this exam attempt may upload evidence."))
    refusal = evidence_change_refusal(attempt)
    if refusal:
        raise Problem(409, "conflict", detail=refusal)
    if replaces is not None:
        old = await repo.get_file(db, school_id, replaces)
        if old is None or old.get("attempt_id") != attempt_id or old["status"] != "active":
            raise Problem(422, "validation", detail=Text(
                "Het te vervangen bestand is geen actief bewijsstuk van deze examenpoging.",
                "The file to replace is not active evidence of this attempt."),
                          errors=[field_error("replaces", "not active evidence of this attempt")])
    return Target("evidence", school_id, student_id=attempt["student_id"], attempt_id=attempt_id, replaces=replaces)


async def attachment_target(db: Db, principal: Principal, school_id: str, assignment_id: str) -> Target:
    """Check that the assignment exists and the supervisor may see its student."""
    assignment = await repo.get_assignment(db, school_id, assignment_id)
    if assignment is None:
        raise Problem(404, "not_found", detail=Text("Deze opdracht bestaat niet.", "No such assignment."))
    await require_student_visible(db, principal, school_id, assignment["student_id"])
    return Target("assignment_attachment", school_id, student_id=assignment["student_id"],
                  assignment_id=assignment_id)


async def bank_attachment_target(db: Db, principal: Principal, school_id: str, bank_id: str) -> Target:
    """Check that the bank assignment exists in this school and the caller may edit the bank."""
    if not may_edit_bank(principal, school_id):
        raise Problem(403, "forbidden", detail=Text(
            nl="Alleen de beheerder of een begeleider mag bijlagen aan de opdrachtenbank toevoegen.",
            en="Only the school admin or a supervisor may attach files to the assignment bank."))
    if await repo.get_bank_assignment(db, school_id, bank_id) is None:
        raise Problem(404, "not_found", detail=Text(nl="Deze bankopdracht bestaat niet.",
                                                    en="No such bank assignment."))
    return Target("bank_attachment", school_id, bank_assignment_id=bank_id)


async def assessment_attachment_target(db: Db, principal: Principal, school_id: str, attempt_id: str,
                                       part_id: str) -> Target:
    """Check that the caller assesses this attempt (exams' part_scheduled), the part is one of it, and the
    assessment is not finalized."""
    attempt = await repo.get_attempt(db, school_id, attempt_id)
    if attempt is None or part_id not in attempt.get("part_ids", [part_id]):
        raise Problem(404, "not_found", detail=Text("Dit onderdeel van deze examenpoging bestaat niet.",
                                                    "No such part of this exam attempt."))
    if principal.subject not in attempt.get("assessor_ids", []):
        raise Problem(403, "forbidden", detail=Text(
            "Alleen de examinatoren van deze examenpoging mogen bij de beoordeling een bestand toevoegen.",
            "Only the assessors of this exam attempt may attach a file to its assessment."))
    if refusal := evidence_change_refusal(attempt):
        raise Problem(409, "conflict", detail=refusal)
    if part_id in attempt.get("final_part_ids", []):
        raise Problem(409, "conflict", detail=PART_FINAL)
    return Target("assessment_attachment", school_id, student_id=attempt["student_id"], attempt_id=attempt_id,
                  part_id=part_id)


async def case_document_target(db: Db, principal: Principal, school_id: str, case_id: str) -> Target:
    """Check that the case is open in this school and the caller is its student or the exam board."""
    case = await repo.get_case(db, school_id, case_id)
    own = await repo.student_of_user(db, school_id, principal.subject)
    if case is None or (Role.EXAM_BOARD not in principal.roles_in(school_id) and own != case["student_id"]):
        raise Problem(404, "not_found", detail=Text("Deze zaak van de examencommissie bestaat niet.",
                                                    "No such exam-board case."))
    if case.get("decided"):
        raise Problem(409, "conflict", detail=CASE_DECIDED)
    return Target("case_document", school_id, student_id=case["student_id"], case_id=case_id)


def message_attachment_target(school_id: str) -> Target:
    """A file to attach to a message; its readers are granted when the message is sent."""
    return Target("message_attachment", school_id)


async def library_target(db: Db, school_id: str, roles: list[str], replaces: str | None = None) -> Target:
    """Check the roles a manual is published for; a replacement keeps the old manual's roles unless given."""
    if replaces is not None:
        old = await repo.get_file(db, school_id, replaces)
        if old is None or old["kind"] != "library" or old["status"] != "active":
            raise Problem(422, "validation", detail=Text(
                nl="De te vervangen handleiding is geen actieve handleiding van deze school.",
                en="The manual to replace is not an active manual of this school."),
                errors=[field_error("replaces", "not an active manual of this school")])
        roles = roles or list(old.get("roles", []))
    known = {r.value for r in Role}
    if not roles or any(r not in known for r in roles):
        raise Problem(422, "validation", detail=Text(
            "Geef een of meer rollen op waarvoor de handleiding bedoeld is.",
            "Name one or more roles the manual is for."),
                      errors=[field_error("roles", f"one or more of {sorted(known)}")])
    return Target("library", school_id, roles=sorted(set(roles)), replaces=replaces)


async def resumable_target(db: Db, principal: Principal, school_id: str, meta: dict[str, str]) -> Target:
    """What a resumable upload is for, from its metadata: attempt_id (with part_id), case_id, assignment_id,
    bank_assignment_id, roles, kind."""
    roles = principal.roles_in(school_id)
    # attempt_id with part_id is an assessor's file; a student's attempt_id alone stays evidence
    if "attempt_id" in meta and "part_id" in meta and Role.ASSESSOR in roles:
        return await assessment_attachment_target(db, principal, school_id, meta["attempt_id"], meta["part_id"])
    if "attempt_id" in meta and Role.STUDENT in roles:
        return await evidence_target(db, principal, school_id, meta["attempt_id"], meta.get("replaces"))
    if "case_id" in meta and roles & {Role.STUDENT, Role.EXAM_BOARD}:
        return await case_document_target(db, principal, school_id, meta["case_id"])
    if "assignment_id" in meta and Role.SCHOOL_SUPERVISOR in roles:
        return await attachment_target(db, principal, school_id, meta["assignment_id"])
    if "bank_assignment_id" in meta and may_edit_bank(principal, school_id):
        return await bank_attachment_target(db, principal, school_id, meta["bank_assignment_id"])
    if "roles" in meta and Role.SCHOOL_ADMIN in roles:
        wanted = [r.strip() for r in meta["roles"].split(",") if r.strip()]
        return await library_target(db, school_id, wanted, meta.get("replaces"))
    if meta.get("kind") == "message_attachment" and roles & {Role.STUDENT, Role.SCHOOL_SUPERVISOR}:
        return message_attachment_target(school_id)
    raise Problem(403, "forbidden", detail=Text(
        "Geef een attempt_id (met part_id), case_id, assignment_id, bank_assignment_id, rollen of "
        "kind=message_attachment op waarvoor deze rol mag uploaden.",
        "Name attempt_id (with part_id), case_id, assignment_id, bank_assignment_id, roles or "
        "kind=message_attachment that your role may upload to."))


# --- storing ---------------------------------------------------------------------------------------------

async def store(s3: Minio, settings: EvidenceSettings, *, target: Target, upload: IncomingFile,
                file_id: str) -> Stored:
    """Stream the body into S3 (not yet registered); on any failure nothing of it remains stored."""
    key = storage_key(target.school_id, target.kind, file_id)

    async def start(head: bytes) -> Multipart:
        return await Multipart.start(s3, settings.s3_bucket, key, detect_content_type(head))

    writer = PartWriter(start, buffer_pool(settings.part_bytes, settings.upload_memory_bytes),
                        concurrency=settings.upload_concurrency)
    size = 0
    try:
        async for chunk in upload.chunks:
            size += len(chunk)
            await writer.write(chunk)
        if upload.declared_length is not None and size != upload.declared_length:
            raise Problem(400, "bad_request", detail=Text(
                "De inhoud is korter dan de opgegeven Content-Length.",
                "The body is shorter than its Content-Length."))
        if size == 0:
            raise Problem(422, "validation", detail=Text(
                "Het bestand is leeg.",
                "The file is empty."), errors=[field_error("body", "empty")])
        await writer.finish(last=True)
        sha256 = writer.sha256.digest()
        if upload.sha256 is not None and upload.sha256 != sha256:
            raise Problem(422, "validation", detail=Text(
                "De SHA-256 van het bestand komt niet overeen met Content-Digest.",
                "The file's SHA-256 does not match Content-Digest."),
                          errors=[field_error("Content-Digest", "checksum mismatch")])
        assert writer.multipart is not None
        await writer.multipart.complete([(n, e) for n, e, _ in writer.etags])
    except BaseException as exc:
        await writer.close()
        if writer.multipart is not None:
            await writer.multipart.abort()
        if isinstance(exc, Interrupted):
            log.info("client disconnected mid-upload; multipart aborted")
            raise Problem(400, "bad_request", detail=Text(
                "Het uploaden is onderbroken.",
                "The upload was interrupted.")) from exc
        raise
    return Stored(file_id, key, upload.filename, detect_content_type(bytes(writer.head)), size, sha256.hex())


async def discard_unregistered(s3: Minio, settings: EvidenceSettings, stored: Stored) -> None:
    """Never registered, so not evidence yet: the bytes go, leaving no orphan in the bucket."""
    await remove(s3, settings.s3_bucket, stored.key)


async def register(db: Db, session: AsyncClientSession, outbox: Outbox, *, target: Target, stored: Stored,
                   by: str) -> dict[str, Any]:
    """Record stored bytes as a file (the rules checked again in the caller's transaction)."""
    at = now()
    file = {
        "_id": stored.file_id, "school_id": target.school_id, "kind": target.kind, "key": stored.key,
        "filename": stored.filename, "content_type": stored.content_type, "size": stored.size,
        "sha256": stored.sha256, "uploaded_by": by, "student_id": target.student_id,
        "attempt_id": target.attempt_id, "assignment_id": target.assignment_id,
        "bank_assignment_id": target.bank_assignment_id, "part_id": target.part_id, "case_id": target.case_id,
        "roles": target.roles,
        "retention_class": RETENTION_CLASS[target.kind], "status": "active", "locked": False, "created_at": at,
    }
    if target.kind in ("evidence", "assessment_attachment"):
        attempt = await repo.get_attempt(db, target.school_id, target.attempt_id or "", session)
        if refusal := evidence_change_refusal(attempt):
            raise Problem(409, "conflict", detail=refusal)
        if target.part_id in (attempt or {}).get("final_part_ids", []):
            raise Problem(409, "conflict", detail=PART_FINAL)
        # Writing the attempt makes this transaction and the one locking the attempt's evidence (or finalizing a
        # part) conflict, so a file is either seen by the lock (and flagged when it came after finalization) or
        # refused here.
        await repo.touch_attempt(db, target.attempt_id or "", session)
    if target.kind == "case_document":
        case = await repo.get_case(db, target.school_id, target.case_id or "", session)
        if case is None or case.get("decided"):
            raise Problem(409, "conflict", detail=CASE_DECIDED)
        await repo.touch_case(db, target.case_id or "", session)  # conflicts with a concurrent decision
    if target.replaces:
        if not await repo.withdraw_file(db, target.replaces, by, at, session, replaced_by=stored.file_id):
            raise Problem(409, "conflict", detail=Text(
                "Het te vervangen bestand is niet meer actief.",
                "The file to replace is no longer active."))
        await repo.audit(db, target.replaces, "replaced", by, at, session)
        await stage_withdrawn(outbox, session, target.school_id, target.replaces, by)
    await repo.insert_file(db, file, session)
    await repo.audit(db, stored.file_id, "uploaded", by, at, session)
    await outbox.stage(session, FileUploadedV1(
        file_id=stored.file_id, school_id=target.school_id, kind=target.kind, uploaded_by=by,
        student_id=target.student_id, attempt_id=target.attempt_id, assignment_id=target.assignment_id,
        bank_assignment_id=target.bank_assignment_id, part_id=target.part_id, case_id=target.case_id,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size, sha256=stored.sha256,
    ), subject=stored.file_id, school_id=target.school_id)
    return file


async def withdraw(db: Db, session: AsyncClientSession, outbox: Outbox, *, school_id: str, file_id: str,
                   principal: Principal, kind: str) -> dict[str, Any]:
    """Hide a file, keeping and auditing it: a student's own evidence before finalization, or a manual."""
    file = await repo.get_file(db, school_id, file_id, session)
    if file is None or file["kind"] != kind or (kind == "evidence" and file["uploaded_by"] != principal.subject):
        raise Problem(404, "not_found", detail=NO_FILE)
    if kind == "evidence":
        refusal = evidence_change_refusal(await repo.get_attempt(db, school_id, file["attempt_id"], session))
        if refusal or file["locked"]:
            raise Problem(409, "conflict", detail=refusal or Text(
                "Dit bewijsstuk is vergrendeld.", "This evidence is locked."))
    at = now()
    if not await repo.withdraw_file(db, file_id, principal.subject, at, session):
        raise Problem(409, "conflict", detail=Text(nl="Dit bestand is al ingetrokken of vergrendeld.",
                                                   en="This file was already withdrawn or is locked."))
    await repo.audit(db, file_id, "withdrawn", principal.subject, at, session)
    await stage_withdrawn(outbox, session, school_id, file_id, principal.subject)
    return {**file, "status": "withdrawn", "withdrawn_at": at, "withdrawn_by": principal.subject}


async def stage_withdrawn(outbox: Outbox, session: AsyncClientSession, school_id: str, file_id: str,
                          by: str) -> None:
    """Publish that a file was withdrawn."""
    await outbox.stage(session, FileWithdrawnV1(file_id=file_id, school_id=school_id, withdrawn_by=by),
                       subject=file_id, school_id=school_id)
