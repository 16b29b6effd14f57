"""HTTP routes of the evidence service: streaming uploads, tus uploads, downloads, withdrawal, library."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession
from starlette.types import Scope

from evidence import repository as repo
from evidence import service, tus
from evidence.models import content_disposition, evidence_change_refusal, parse_tus_metadata, safe_filename
from evidence.settings import EvidenceSettings
from evidence.storage import presign, stream
from kit.auth import Principal, Role, require_roles
from kit.commands import execute
from kit.errors import Problem, field_error
from kit.mongo import Db

router = APIRouter(prefix="/v1/schools/{school_id}", tags=["evidence"])
tus_router = APIRouter(prefix="/v1/schools/{school_id}/uploads", tags=["resumable uploads (tus 1.0)"])

ANYONE = require_roles(*Role)
_STREAMED = re.compile(
    r"^/v1/schools/[^/]+/(attempts/[^/]+/evidence|assignments/[^/]+/attachments|library|uploads/[^/]+)$"
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
    roles: list[str] = []
    retention_class: str
    status: str
    locked: bool
    created_at: datetime
    withdrawn_at: datetime | None = None


class PresignedOut(BaseModel):
    """A short-lived URL that downloads the file through the gateway."""

    url: str
    expires_at: datetime


def file_out(doc: dict[str, Any]) -> FileOut:
    """The API view of a file document."""
    return FileOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in FileOut.model_fields and k != "id"})


def settings_of(request: Request) -> EvidenceSettings:
    """The service's settings."""
    settings: EvidenceSettings = request.app.state.settings
    return settings


FILENAME = Query(min_length=1, max_length=1000, description="The original file name (kept sanitized)")
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
    422: {"description": "Empty file, bad roles, or a checksum mismatch"},
}


@router.post("/attempts/{attempt_id}/evidence", status_code=201, response_model=FileOut,
             summary="Upload evidence for an exam attempt (its student, while in execution)",
             description=UPLOAD_DOC, responses=UPLOAD_RESPONSES)
async def upload_evidence(request: Request, school_id: str, attempt_id: str, filename: str = FILENAME,
                          replaces: str | None = Query(default=None, description="File id this one replaces"),
                          principal: Principal = Depends(require_roles(Role.STUDENT))) -> FileOut:
    """Stream one evidence file into storage."""
    settings = settings_of(request)
    service.check_declared_length(request, settings.max_file_bytes)
    target = await service.evidence_target(request.app.state.db, principal, school_id, attempt_id, replaces)
    doc = await service.receive_file(request, request.app.state.s3, settings, target, service.new_id(),
                                     safe_filename(filename), principal)
    return file_out(doc)


@router.get("/attempts/{attempt_id}/evidence", response_model=list[FileOut],
            summary="The evidence of an exam attempt (withdrawn items only for admins and the exam board)")
async def list_evidence(request: Request, school_id: str, attempt_id: str, include_withdrawn: bool = False,
                        principal: Principal = Depends(ANYONE)) -> list[FileOut]:
    """List an attempt's evidence for someone allowed to see its student."""
    db = request.app.state.db
    attempt = await repo.get_attempt(db, school_id, attempt_id)
    if attempt is None:
        raise Problem(404, "not_found", detail="No such exam attempt.")
    await service.require_student_visible(db, principal, school_id, attempt["student_id"])
    privileged = bool(principal.roles_in(school_id) & {Role.SCHOOL_ADMIN, Role.EXAM_BOARD})
    return [file_out(d) for d in await repo.list_attempt_files(db, school_id, attempt_id,
                                                               include_withdrawn and privileged)]


@router.post("/files/{file_id}/withdraw", response_model=FileOut,
             summary="Withdraw evidence before the assessment is finalized (kept, hidden and audited)",
             responses={409: {"description": "The evidence is locked"}})
async def withdraw(request: Request, school_id: str, file_id: str,
                   principal: Principal = Depends(require_roles(Role.STUDENT))) -> Any:
    """The student hides an item of their evidence; nothing is deleted."""
    db: Db = request.app.state.db
    file = await repo.get_file(db, school_id, file_id)
    if file is None or file["kind"] != "evidence" or file["uploaded_by"] != principal.subject:
        raise Problem(404, "not_found", detail="No such file.")

    async def work(session: AsyncClientSession) -> Any:
        refusal = evidence_change_refusal(await repo.get_attempt(db, school_id, file["attempt_id"], session))
        if refusal or file["locked"]:
            raise Problem(409, "conflict", detail=refusal or "This evidence is locked.")
        at = service.now()
        if not await repo.withdraw_file(db, file_id, principal.subject, at, session):
            raise Problem(409, "conflict", detail="This evidence was already withdrawn or is locked.")
        await repo.audit(db, file_id, "withdrawn", principal.subject, at, session)
        await service.stage_withdrawn(request.app, session, school_id, file_id, principal.subject)
        return file_out({**file, "status": "withdrawn", "withdrawn_at": at}).model_dump(mode="json")

    return await execute(request, work)


@router.get("/files/{file_id}", response_model=FileOut, summary="A file's metadata")
async def get_file(request: Request, school_id: str, file_id: str, principal: Principal = Depends(ANYONE)) -> FileOut:
    """Metadata of a file the caller may see."""
    return file_out(await service.require_file_visible(request.app.state.db, principal, school_id, file_id))


@router.get("/files/{file_id}/audit", summary="What happened to a file (school admin, exam board)")
async def get_audit(request: Request, school_id: str, file_id: str,
                    principal: Principal = Depends(require_roles(Role.SCHOOL_ADMIN, Role.EXAM_BOARD))) -> Any:
    """The audit trail of a file."""
    await service.require_file_visible(request.app.state.db, principal, school_id, file_id)
    return await repo.audit_trail(request.app.state.db, file_id)


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
        raise Problem(416, "range_not_satisfiable", detail="The range lies outside the file.",
                      headers={"Content-Range": f"bytes */{size}"})
    return start, end


@router.get("/files/{file_id}/content", summary="Download a file, streamed; supports Range (video seeking)",
            responses={206: {"description": "Partial content"}, 416: {"description": "Range not satisfiable"}})
async def download(request: Request, school_id: str, file_id: str,
                   principal: Principal = Depends(ANYONE)) -> StreamingResponse:
    """Stream the bytes (or one range of them)."""
    settings = settings_of(request)
    file = await service.require_file_visible(request.app.state.db, principal, school_id, file_id)
    size = file["size"]
    wanted = parse_range(request.headers.get("range"), size)
    start, end = wanted or (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
               "Content-Disposition": content_disposition(file["filename"]),
               "X-Content-Type-Options": "nosniff", "ETag": f"\"{file['sha256']}\""}
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = stream(request.app.state.s3, settings.s3_bucket, file["key"], start, end - start + 1)
    return StreamingResponse(body, status_code=206 if wanted else 200, media_type=file["content_type"],
                             headers=headers)


@router.get("/files/{file_id}/url", response_model=PresignedOut,
            summary="A short-lived presigned URL for the file, through the gateway's host")
async def presigned_url(request: Request, school_id: str, file_id: str,
                        principal: Principal = Depends(ANYONE)) -> PresignedOut:
    """Presign a GET for the gateway host, so the browser downloads straight from S3."""
    settings = settings_of(request)
    file = await service.require_file_visible(request.app.state.db, principal, school_id, file_id)
    ttl = timedelta(seconds=settings.presign_ttl_s)
    url = presign(request.app.state.public_s3, settings.s3_bucket, file["key"], ttl,
                  content_disposition(file["filename"]), file["content_type"])
    return PresignedOut(url=url, expires_at=service.now() + ttl)


@router.post("/assignments/{assignment_id}/attachments", status_code=201, response_model=FileOut,
             summary="Attach a file to an assignment (a supervisor of its student)", description=UPLOAD_DOC,
             responses=UPLOAD_RESPONSES)
async def upload_attachment(request: Request, school_id: str, assignment_id: str, filename: str = FILENAME,
                            principal: Principal = Depends(require_roles(Role.SCHOOL_SUPERVISOR))) -> FileOut:
    """Stream one attachment into storage."""
    settings = settings_of(request)
    service.check_declared_length(request, settings.max_file_bytes)
    target = await service.attachment_target(request.app.state.db, principal, school_id, assignment_id)
    doc = await service.receive_file(request, request.app.state.s3, settings, target, service.new_id(),
                                     safe_filename(filename), principal)
    return file_out(doc)


@router.post("/message-attachments", status_code=201, response_model=FileOut,
             summary="Upload a file to attach to a message (students and supervisors)", description=UPLOAD_DOC,
             responses=UPLOAD_RESPONSES)
async def upload_message_attachment(
    request: Request, school_id: str, filename: str = FILENAME,
    principal: Principal = Depends(require_roles(Role.STUDENT, Role.SCHOOL_SUPERVISOR)),
) -> FileOut:
    """Stream one attachment; the message's recipients may read it once the message is sent."""
    settings = settings_of(request)
    service.check_declared_length(request, settings.max_file_bytes)
    doc = await service.receive_file(request, request.app.state.s3, settings,
                                     service.message_attachment_target(school_id), service.new_id(),
                                     safe_filename(filename), principal)
    return file_out(doc)


@router.post("/library", status_code=201, response_model=FileOut,
             summary="Publish a manual to the library for chosen roles (school admin)", description=UPLOAD_DOC,
             responses=UPLOAD_RESPONSES)
async def publish_manual(request: Request, school_id: str, filename: str = FILENAME,
                         roles: Annotated[list[str], Query(description="Roles that see the manual")] = [],  # noqa: B006
                         principal: Principal = Depends(require_roles(Role.SCHOOL_ADMIN))) -> FileOut:
    """Stream a manual into the library."""
    settings = settings_of(request)
    service.check_declared_length(request, settings.max_file_bytes)
    target = service.library_target(school_id, roles)
    doc = await service.receive_file(request, request.app.state.s3, settings, target, service.new_id(),
                                     safe_filename(filename), principal)
    return file_out(doc)


@router.get("/library", response_model=list[FileOut], summary="The manuals for the caller's roles")
async def list_manuals(request: Request, school_id: str, principal: Principal = Depends(ANYONE)) -> list[FileOut]:
    """The library as the caller may see it (the school admin sees all)."""
    roles = principal.roles_in(school_id)
    wanted = None if Role.SCHOOL_ADMIN in roles else [r.value for r in roles]
    return [file_out(d) for d in await repo.list_library(request.app.state.db, school_id, wanted)]


# --- tus 1.0 ------------------------------------------------------------------------------------------------

@tus_router.options("", status_code=204, summary="tus discovery: version, extensions, limits")
async def tus_options(request: Request) -> Response:
    """What this tus server supports."""
    return Response(status_code=204, headers=tus.tus_headers(**{
        "Tus-Version": tus.TUS_VERSION, "Tus-Extension": tus.EXTENSIONS,
        "Tus-Max-Size": str(settings_of(request).max_file_bytes),
        "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS)}))


@tus_router.post("", status_code=201, summary="tus creation: start a resumable upload",
                 description="Upload-Length (at most max_file_bytes) and Upload-Metadata with `filename` and one of "
                             "`attempt_id` (evidence, students), `assignment_id` (attachment, supervisors) or "
                             "`roles` (comma-separated; library, school admins).")
async def tus_create(request: Request, school_id: str,
                     principal: Principal = Depends(require_roles(Role.STUDENT, Role.SCHOOL_SUPERVISOR,
                                                                  Role.SCHOOL_ADMIN))) -> Response:
    """Register an upload and answer its Location."""
    tus.check_version(request)
    settings = settings_of(request)
    db = request.app.state.db
    raw_length = request.headers.get("upload-length", "")
    if not raw_length.isdigit():
        raise Problem(400, "bad_request", detail="Upload-Length is required (deferred length is not supported).",
                      errors=[field_error("Upload-Length", "required number")])
    if int(raw_length) > settings.max_file_bytes:
        raise service.too_large(settings.max_file_bytes)
    try:
        meta = parse_tus_metadata(request.headers.get("upload-metadata", ""))
    except ValueError as exc:
        raise Problem(400, "bad_request", detail="Upload-Metadata is malformed.",
                      errors=[field_error("Upload-Metadata", str(exc))]) from exc
    roles = principal.roles_in(school_id)
    if "attempt_id" in meta and Role.STUDENT in roles:
        target = await service.evidence_target(db, principal, school_id, meta["attempt_id"], meta.get("replaces"))
    elif "assignment_id" in meta and Role.SCHOOL_SUPERVISOR in roles:
        target = await service.attachment_target(db, principal, school_id, meta["assignment_id"])
    elif "roles" in meta and Role.SCHOOL_ADMIN in roles:
        target = service.library_target(school_id, [r.strip() for r in meta["roles"].split(",") if r.strip()])
    else:
        raise Problem(403, "forbidden", detail="Name attempt_id, assignment_id or roles that your role may upload to.")
    upload = await tus.create(db, settings, target, safe_filename(meta.get("filename")), int(raw_length), principal)
    location = f"{request.scope.get('root_path', '')}/v1/schools/{school_id}/uploads/{upload['_id']}"
    return Response(status_code=201, headers=tus.tus_headers(**{
        "Location": location, "Upload-Expires": tus.expires_header(upload["expires_at"])}))


@tus_router.head("/{upload_id}", summary="tus core: the offset to resume from")
async def tus_head(request: Request, school_id: str, upload_id: str,
                   principal: Principal = Depends(ANYONE)) -> Response:
    """Where the upload stands."""
    tus.check_version(request)
    upload = await tus.get_open(request.app.state.db, school_id, upload_id, principal)
    return Response(status_code=200, headers=tus.tus_headers(**{
        "Upload-Offset": str(upload["offset"]), "Upload-Length": str(upload["length"]),
        "Upload-Expires": tus.expires_header(upload["expires_at"])}))


@tus_router.patch("/{upload_id}", status_code=204, summary="tus core: append bytes at Upload-Offset",
                  responses={409: {"description": "Upload-Offset mismatch"}, 460: {"description": "Checksum mismatch"},
                             410: {"description": "Upload completed, terminated or expired"}})
async def tus_patch(request: Request, school_id: str, upload_id: str,
                    principal: Principal = Depends(ANYONE)) -> Response:
    """Append the body; the last PATCH completes the file (its id is the upload id)."""
    tus.check_version(request)
    settings = settings_of(request)
    upload = await tus.get_open(request.app.state.db, school_id, upload_id, principal)
    offset, file = await tus.patch(request, request.app.state.s3, settings, upload, principal)
    headers = tus.tus_headers(**{"Upload-Offset": str(offset),
                                 "Upload-Expires": tus.expires_header(upload["expires_at"])})
    if file is not None:
        headers["X-File-Id"] = file["_id"]
    return Response(status_code=204, headers=headers)


@tus_router.delete("/{upload_id}", status_code=204, summary="tus termination: give up an upload")
async def tus_delete(request: Request, school_id: str, upload_id: str,
                     principal: Principal = Depends(ANYONE)) -> Response:
    """Abort its parts; nothing of it remains."""
    tus.check_version(request)
    upload = await tus.get_open(request.app.state.db, school_id, upload_id, principal)
    await tus.terminate(request.app.state.db, request.app.state.s3, settings_of(request).s3_bucket, upload)
    return Response(status_code=204, headers=tus.tus_headers())
