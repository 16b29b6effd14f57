"""Use cases of the evidence service: who may upload where, streaming bodies into S3, registering files."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession
from starlette.requests import ClientDisconnect

from contracts.evidence import FileUploadedV1, FileWithdrawnV1
from evidence import repository as repo
from evidence.models import (
    RETENTION_CLASS,
    StudentAccess,
    detect_content_type,
    evidence_change_refusal,
    may_see_library_file,
    may_see_student,
    storage_key,
)
from evidence.settings import EvidenceSettings
from evidence.storage import Multipart, remove
from evidence.streaming import PartWriter
from kit.auth import Principal, Role
from kit.errors import Problem, field_error
from kit.mongo import Db, run_in_transaction
from kit.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """What a file is uploaded for, after every rule was checked."""

    kind: str
    school_id: str
    student_id: str | None = None
    attempt_id: str | None = None
    assignment_id: str | None = None
    roles: list[str] = field(default_factory=list)
    replaces: str | None = None


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def too_large(limit: int) -> Problem:
    """The 413 for a file over the limit."""
    return Problem(413, "payload_too_large", detail=f"A file may be at most {limit} bytes (537 MB).",
                   max_bytes=limit)


def check_declared_length(request: Request, limit: int) -> int | None:
    """The declared Content-Length, refused before reading when it is over the limit."""
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise Problem(400, "bad_request", detail="Content-Length must be a number.")
    if int(raw) > limit:
        raise too_large(limit)
    return int(raw)


def expected_sha256(request: Request) -> bytes | None:
    """The SHA-256 the client declares in Content-Digest (RFC 9530: `sha-256=:base64:`), if any."""
    header = request.headers.get("content-digest")
    if header is None:
        return None
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name.strip().lower() == "sha-256":
            try:
                digest = base64.b64decode(value.strip().strip(":"), validate=True)
            except binascii.Error:
                digest = b""
            if len(digest) != 32:
                raise Problem(400, "bad_request", detail="Content-Digest sha-256 is not valid base64 of 32 bytes.",
                              errors=[field_error("Content-Digest", "malformed sha-256")])
            return digest
    raise Problem(400, "bad_request", detail="Content-Digest must include sha-256.",
                  errors=[field_error("Content-Digest", "sha-256 missing")])


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
        raise Problem(404, "not_found", detail="No such file or exam attempt.")


async def require_file_visible(db: Db, principal: Principal, school_id: str, file_id: str) -> dict[str, Any]:
    """The file, when the caller may see it (withdrawn files only for admins and the exam board)."""
    file = await repo.get_file(db, school_id, file_id)
    if file is None:
        raise Problem(404, "not_found", detail="No such file.")
    if file["kind"] == "library":
        if not may_see_library_file(principal, school_id, file):
            raise Problem(404, "not_found", detail="No such file.")
    elif file["kind"] == "message_attachment":
        # private correspondence: its sender, the recipients the message named, and the school admin
        readers = {file["uploaded_by"], *file.get("reader_ids", [])}
        if principal.subject not in readers and Role.SCHOOL_ADMIN not in principal.roles_in(school_id):
            raise Problem(404, "not_found", detail="No such file.")
    else:
        await require_student_visible(db, principal, school_id, file["student_id"])
    hidden = file["status"] != "active"
    if hidden and not principal.roles_in(school_id) & {Role.SCHOOL_ADMIN, Role.EXAM_BOARD}:
        raise Problem(404, "not_found", detail="No such file.")
    return file


async def evidence_target(db: Db, principal: Principal, school_id: str, attempt_id: str,
                          replaces: str | None = None) -> Target:
    """Check that the caller is the attempt's student and the attempt is in execution."""
    attempt = await repo.get_attempt(db, school_id, attempt_id)
    if attempt is None:
        raise Problem(404, "not_found", detail="No such exam attempt in execution.")
    if await repo.student_of_user(db, school_id, principal.subject) != attempt["student_id"]:
        raise Problem(403, "forbidden", detail="Only the student of this exam attempt may upload evidence.")
    refusal = evidence_change_refusal(attempt)
    if refusal:
        raise Problem(409, "conflict", detail=refusal)
    if replaces is not None:
        old = await repo.get_file(db, school_id, replaces)
        if old is None or old.get("attempt_id") != attempt_id or old["status"] != "active":
            raise Problem(422, "validation", detail="The file to replace is not active evidence of this attempt.",
                          errors=[field_error("replaces", "not active evidence of this attempt")])
    return Target("evidence", school_id, student_id=attempt["student_id"], attempt_id=attempt_id, replaces=replaces)


async def attachment_target(db: Db, principal: Principal, school_id: str, assignment_id: str) -> Target:
    """Check that the assignment exists and the supervisor may see its student."""
    assignment = await repo.get_assignment(db, school_id, assignment_id)
    if assignment is None:
        raise Problem(404, "not_found", detail="No such assignment.")
    await require_student_visible(db, principal, school_id, assignment["student_id"])
    return Target("assignment_attachment", school_id, student_id=assignment["student_id"],
                  assignment_id=assignment_id)


def message_attachment_target(school_id: str) -> Target:
    """A file to attach to a message; its readers are granted when the message is sent."""
    return Target("message_attachment", school_id)


def library_target(school_id: str, roles: list[str]) -> Target:
    """Check the roles a manual is published for."""
    known = {r.value for r in Role}
    if not roles or any(r not in known for r in roles):
        raise Problem(422, "validation", detail="Name one or more roles the manual is for.",
                      errors=[field_error("roles", f"one or more of {sorted(known)}")])
    return Target("library", school_id, roles=sorted(set(roles)))


# --- storing ---------------------------------------------------------------------------------------------

async def stream_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body chunk by chunk, refused with 413 the moment it passes the limit."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        if chunk:
            yield chunk


async def receive_file(
    request: Request, s3: Minio, settings: EvidenceSettings, target: Target, file_id: str,
    filename: str, principal: Principal,
) -> dict[str, Any]:
    """Stream the body into S3 and register the file; on any failure nothing remains stored."""
    declared = check_declared_length(request, settings.max_file_bytes)
    digest = expected_sha256(request)
    key = storage_key(target.school_id, target.kind, file_id)

    async def start(head: bytes) -> Multipart:
        return await Multipart.start(s3, settings.s3_bucket, key, detect_content_type(head))

    writer = PartWriter(start, settings.part_bytes, concurrency=settings.upload_concurrency)
    size = 0
    try:
        async for chunk in stream_body(request, settings.max_file_bytes):
            size += len(chunk)
            await writer.write(chunk)
        if declared is not None and size != declared:
            raise Problem(400, "bad_request", detail="The body is shorter than its Content-Length.")
        if size == 0:
            raise Problem(422, "validation", detail="The file is empty.", errors=[field_error("body", "empty")])
        await writer.finish(last=True)
        sha256 = writer.sha256.digest()
        if digest is not None and digest != sha256:
            raise Problem(422, "validation", detail="The file's SHA-256 does not match Content-Digest.",
                          errors=[field_error("Content-Digest", "checksum mismatch")])
        assert writer.multipart is not None
        await writer.multipart.complete([(n, e) for n, e, _ in writer.etags])
    except BaseException as exc:
        await writer.close()
        if writer.multipart is not None:
            await writer.multipart.abort()
        if isinstance(exc, ClientDisconnect):
            log.info("client disconnected mid-upload; multipart aborted")
            raise Problem(400, "bad_request", detail="The upload was interrupted.") from exc
        raise
    return await register(request.app, s3, settings, target, file_id, key, filename,
                          detect_content_type(bytes(writer.head)), size, sha256.hex(), principal)


async def register(
    app: Any, s3: Minio, settings: EvidenceSettings, target: Target, file_id: str, key: str, filename: str,
    content_type: str, size: int, sha256: str, principal: Principal,
) -> dict[str, Any]:
    """Record a stored object (rules checked again in the transaction); removes the object when refused."""
    db: Db = app.state.db
    at = now()
    file = {
        "_id": file_id, "school_id": target.school_id, "kind": target.kind, "key": key, "filename": filename,
        "content_type": content_type, "size": size, "sha256": sha256, "uploaded_by": principal.subject,
        "student_id": target.student_id, "attempt_id": target.attempt_id, "assignment_id": target.assignment_id,
        "roles": target.roles, "retention_class": RETENTION_CLASS[target.kind], "status": "active",
        "locked": False, "created_at": at,
    }

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        if target.kind == "evidence":
            refusal = evidence_change_refusal(await repo.get_attempt(db, target.school_id, target.attempt_id or "",
                                                                     session))
            if refusal:
                raise Problem(409, "conflict", detail=refusal)
            if target.replaces and not await repo.withdraw_file(db, target.replaces, principal.subject, at, session):
                raise Problem(409, "conflict", detail="The file to replace is no longer active.")
            if target.replaces:
                await repo.audit(db, target.replaces, "replaced", principal.subject, at, session)
                await stage_withdrawn(app, session, target.school_id, target.replaces, principal.subject)
        await repo.insert_file(db, file, session)
        await repo.audit(db, file_id, "uploaded", principal.subject, at, session)
        await Outbox(db, app.state.settings.service).stage(session, FileUploadedV1(
            file_id=file_id, school_id=target.school_id, kind=target.kind,
            uploaded_by=principal.subject, student_id=target.student_id, attempt_id=target.attempt_id,
            assignment_id=target.assignment_id, filename=filename, content_type=content_type, size=size,
            sha256=sha256,
        ), subject=file_id, school_id=target.school_id)
        return file

    try:
        return await run_in_transaction(app.state.mongo, work)
    except BaseException:
        # Never registered, so not evidence yet: the bytes go, leaving no orphan in the bucket.
        await remove(s3, settings.s3_bucket, key)
        raise


async def stage_withdrawn(app: Any, session: AsyncClientSession, school_id: str, file_id: str, by: str) -> None:
    """Publish that a file was withdrawn."""
    await Outbox(app.state.db, app.state.settings.service).stage(
        session, FileWithdrawnV1(file_id=file_id, school_id=school_id, withdrawn_by=by),
        subject=file_id, school_id=school_id,
    )


def new_id() -> str:
    """A new file or upload id."""
    return uuid.uuid4().hex
