"""HTTP routes of the evidence service: streamed uploads, downloads and withdrawal of evidence and attachments."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession
from starlette.types import Scope

from contracts.values import Line
from evidence import repository as repo
from evidence import service
from evidence.deps import (
    S3,
    Anyone,
    Assessor,
    Auditor,
    BankEditor,
    CaseParty,
    Config,
    Messenger,
    PublicS3,
    Student,
    Supervisor,
)
from evidence.edge import Upload, receive
from evidence.models import content_disposition
from evidence.storage import presign, stream
from kit.auth import Principal
from kit.clock import now
from kit.commands import execute
from kit.deps import Database, Mongo, ServiceOutbox
from kit.errors import Problem, Text
from kit.mongo import Db
from kit.outbox import Outbox

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["evidence"])

_STREAMED = re.compile(
    r"^/v1/schools/[^/]+/(attempts/[^/]+/evidence|attempts/[^/]+/parts/[^/]+/assessment-attachments|assignments/[^/]+/attachments|bank/[^/]+/attachments"
    r"|cases/[^/]+/documents|message-attachments|library"
    r"|uploads/[^/]+)$"
)


def streamed_upload(scope: Scope) -> bool:
    """Upload routes enforce the file limit themselves; kit's JSON body limit does not apply to them."""
    return scope.get("method") in ("POST", "PATCH") and bool(_STREAMED.match(scope.get("path", "")))


class FileOut(BaseModel):
    """A stored file's metadata (the bytes are fetched from /content or a presigned URL)."""

    id: str
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    student_id: str | None = None
    attempt_id: str | None = None
    assignment_id: str | None = None
    bank_assignment_id: str | None = None
    case_id: str | None = None
    roles: list[str] = []
    retention_class: str
    status: str
    locked: bool
    created_at: datetime
    withdrawn_at: datetime | None = None
    replaced_by: str | None = None
    part_id: str | None = None
    flag: str | None = Field(default=None, description="completed_after_finalization: the upload completed after "
                                                       "the assessment was finalized; it never counts")
    finalized_at: datetime | None = Field(default=None, description="For a flagged file: when the assessment was "
                                                                     "finalized")


class AuditEntryOut(BaseModel):
    """One thing that happened to a file: uploaded, withdrawn or replaced, by whom and when."""

    file_id: str
    action: str
    by: str
    at: datetime


class PresignedOut(BaseModel):
    """A short-lived URL that downloads the file through the gateway."""

    url: str
    expires_at: datetime


def file_out(doc: dict[str, Any]) -> FileOut:
    """The API view of a file document."""
    return FileOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in FileOut.model_fields and k != "id"})


async def withdrawal(request: Request, db: Db, outbox: Outbox, principal: Principal, *, school_id: str,
                     file_id: str, kind: str) -> Any:
    """Run a withdrawal as a command (one transaction, Idempotency-Key replay) and answer the file."""

    async def work(session: AsyncClientSession) -> Any:
        file = await service.withdraw(db, session, outbox, school_id=school_id, file_id=file_id,
                                      principal=principal, kind=kind)
        return file_out(file).model_dump(mode="json")

    return await execute(request, work)


UPLOAD_DOC = (
    "The request body is the file itself, streamed to storage (not multipart/form-data). "
    "At most `max_file_bytes` (default 537,000,000 bytes, SI megabytes): a larger Content-Length is refused "
    "with 413 before reading, and a body of unknown length the moment it passes the limit. Optional "
    "`Content-Digest: sha-256=:<base64>:` is checked; on mismatch nothing is stored. The content type is "
    "detected from the bytes."
)
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "The file is larger than the limit"},
    409: {"description": "The exam attempt is not in execution or its evidence is locked"},
    422: {"description": "Empty file, bad roles, control characters in a name, or a checksum mismatch"},
}
Replaces = Annotated[Line | None, Query(max_length=64, description="File id this one replaces")]


@router.post("/attempts/{attempt_id}/evidence", status_code=201, response_model=FileOut,
             summary="Upload evidence for an exam attempt (its student, while in execution)",
             description=UPLOAD_DOC, responses=UPLOAD_RESPONSES)
async def upload_evidence(principal: Student, upload: Upload, school_id: str, attempt_id: str, db: Database,
                          mongo: Mongo, s3: S3, settings: Config, outbox: ServiceOutbox,
                          replaces: Replaces = None) -> FileOut:
    """Stream one evidence file into storage."""
    target = await service.evidence_target(db, principal, school_id, attempt_id, replaces)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload, by=principal.subject))


@router.post("/attempts/{attempt_id}/parts/{part_id}/assessment-attachments", status_code=201,
             response_model=FileOut, description=UPLOAD_DOC, responses=UPLOAD_RESPONSES,
             summary="Attach a file to the assessment of a part (its assessors, until the assessment is final)")
async def upload_assessment_attachment(principal: Assessor, upload: Upload, school_id: str, attempt_id: str,
                                       part_id: str, db: Database, mongo: Mongo, s3: S3, settings: Config,
                                       outbox: ServiceOutbox) -> FileOut:
    """evidence.file_uploaded names the attempt and part; exams lists the file on the uploader's form."""
    target = await service.assessment_attachment_target(db, principal, school_id, attempt_id, part_id)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload, by=principal.subject))


@router.get("/attempts/{attempt_id}/evidence", response_model=list[FileOut],
            summary="The evidence of an exam attempt (withdrawn items only for admins and the exam board)")
async def list_evidence(principal: Anyone, school_id: str, attempt_id: str, db: Database,
                        include_withdrawn: bool = False) -> list[FileOut]:
    """List an attempt's evidence for someone allowed to see its student."""
    files = await service.attempt_evidence(db, principal, school_id=school_id, attempt_id=attempt_id,
                                           include_withdrawn=include_withdrawn)
    return [file_out(d) for d in files]


@router.post("/files/{file_id}/withdraw", response_model=FileOut,
             summary="Withdraw evidence before the assessment is finalized (kept, hidden and audited)",
             responses={409: {"description": "The evidence is locked or already withdrawn"}})
async def withdraw(principal: Student, request: Request, school_id: str, file_id: str, db: Database,
                   outbox: ServiceOutbox) -> Any:
    """The student hides an item of their evidence; nothing is deleted."""
    return await withdrawal(request, db, outbox, principal, school_id=school_id, file_id=file_id, kind="evidence")


@router.get("/files/{file_id}", response_model=FileOut, summary="A file's metadata")
async def get_file(principal: Anyone, school_id: str, file_id: str, db: Database) -> FileOut:
    """Metadata of a file the caller may see."""
    return file_out(await service.require_file_visible(db, principal, school_id, file_id))


@router.get("/files/{file_id}/audit", response_model=list[AuditEntryOut],
            summary="What happened to a file (school admin, exam board)")
async def get_audit(principal: Auditor, school_id: str, file_id: str, db: Database) -> list[AuditEntryOut]:
    """The audit trail of a file."""
    await service.require_file_visible(db, principal, school_id, file_id)
    return [AuditEntryOut(**entry) for entry in await repo.audit_trail(db, file_id)]


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single `bytes=a-b` range as (start, end inclusive); None for the whole file; 416 when unsatisfiable."""
    if header is None:
        return None
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or (not match[1] and not match[2]):
        return None  # malformed or multi-range: RFC 9110 lets us answer the whole file
    if match[1]:
        start = int(match[1])
        end = min(int(match[2]), size - 1) if match[2] else size - 1
    else:
        start, end = max(size - int(match[2]), 0), size - 1
    if start >= size or start > end:
        raise Problem(416, "range_not_satisfiable", detail=Text(
            "Dit bereik ligt buiten het bestand.",
            "The range lies outside the file."),
                      headers={"Content-Range": f"bytes */{size}"})
    return start, end


@router.get("/files/{file_id}/content", response_class=StreamingResponse,
            summary="Download a file, streamed; supports Range (video seeking)",
            responses={200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}},
                       206: {"description": "Partial content"}, 416: {"description": "Range not satisfiable"}})
async def download(principal: Anyone, request: Request, school_id: str, file_id: str, db: Database, s3: S3,
                   settings: Config) -> StreamingResponse:
    """Stream the bytes (or one range of them)."""
    file = await service.require_file_visible(db, principal, school_id, file_id)
    size = file["size"]
    wanted = parse_range(request.headers.get("range"), size)
    start, end = wanted or (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
               "Content-Disposition": content_disposition(file["filename"]),
               "X-Content-Type-Options": "nosniff", "ETag": f"\"{file['sha256']}\""}
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = stream(s3, settings.s3_bucket, file["key"], start, end - start + 1)
    return StreamingResponse(body, status_code=206 if wanted else 200, media_type=file["content_type"],
                             headers=headers)


@router.get("/files/{file_id}/url", response_model=PresignedOut,
            summary="A short-lived presigned URL for the file, through the gateway's host",
            description="The URL answers with `Content-Disposition: attachment` (the stored name), the stored "
                        "content type and `X-Content-Type-Options: nosniff`, set through the presign's "
                        "response-header overrides.")
async def presigned_url(principal: Anyone, school_id: str, file_id: str, db: Database, public_s3: PublicS3,
                        settings: Config) -> PresignedOut:
    """Presign a GET for the gateway host, so the browser downloads straight from S3."""
    file = await service.require_file_visible(db, principal, school_id, file_id)
    ttl = timedelta(seconds=settings.presign_ttl_s)
    url = presign(public_s3, settings.s3_bucket, file["key"], ttl, content_disposition(file["filename"]),
                  file["content_type"])
    return PresignedOut(url=url, expires_at=now() + ttl)


@router.post("/assignments/{assignment_id}/attachments", status_code=201, response_model=FileOut,
             summary="Attach a file to an assignment (a supervisor of its student)", description=UPLOAD_DOC,
             responses=UPLOAD_RESPONSES)
async def upload_attachment(principal: Supervisor, upload: Upload, school_id: str, assignment_id: str,
                            db: Database, mongo: Mongo, s3: S3, settings: Config,
                            outbox: ServiceOutbox) -> FileOut:
    """Stream one attachment into storage."""
    target = await service.attachment_target(db, principal, school_id, assignment_id)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload, by=principal.subject))


@router.post("/bank/{bank_assignment_id}/attachments", status_code=201, response_model=FileOut,
             summary="Attach a file to an assignment of the school's bank (school admin, supervisor)",
             description=UPLOAD_DOC + " The bank assignment is known from exams' `exams.bank_assignment_saved`; "
                         "exams lists the file on the bank assignment once it consumes `evidence.file_uploaded`.",
             responses={**UPLOAD_RESPONSES, 404: {"description": "No such bank assignment in this school"}})
async def upload_bank_attachment(principal: BankEditor, upload: Upload, school_id: str, bank_assignment_id: str,
                                 db: Database, mongo: Mongo, s3: S3, settings: Config,
                                 outbox: ServiceOutbox) -> FileOut:
    """Stream one attachment of a bank assignment into storage."""
    target = await service.bank_attachment_target(db, principal, school_id, bank_assignment_id)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload, by=principal.subject))


@router.post("/cases/{case_id}/documents", status_code=201, response_model=FileOut,
             summary="Add a document to an open exam-board case (its student, the exam board)",
             description=UPLOAD_DOC + " The case is known from exams' `exams.board_case_opened`; exams lists the "
                         "file on the case once it consumes `evidence.file_uploaded`. Only the case's student and the "
                         "exam board can read it.",
             responses={**UPLOAD_RESPONSES, 404: {"description": "No such case of yours in this school"},
                        409: {"description": "The case was decided"}})
async def upload_case_document(principal: CaseParty, upload: Upload, school_id: str, case_id: str, db: Database,
                               mongo: Mongo, s3: S3, settings: Config, outbox: ServiceOutbox) -> FileOut:
    """Stream one document of a case into storage."""
    target = await service.case_document_target(db, principal, school_id, case_id)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload, by=principal.subject))


@router.post("/message-attachments", status_code=201, response_model=FileOut,
             summary="Upload a file to attach to a message (students and supervisors)", description=UPLOAD_DOC,
             responses=UPLOAD_RESPONSES)
async def upload_message_attachment(principal: Messenger, upload: Upload, school_id: str, db: Database,
                                    mongo: Mongo, s3: S3, settings: Config, outbox: ServiceOutbox) -> FileOut:
    """Stream one attachment; the message's recipients may read it once the message is sent."""
    target = service.message_attachment_target(school_id)
    return file_out(await receive(mongo, db, s3, settings, outbox, target=target, upload=upload, by=principal.subject))
