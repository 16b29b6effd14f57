"""HTTP routes of resumable uploads (tus 1.0: core, creation, termination, checksum, expiration)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from contracts.values import refuse_line_breaks
from evidence import service, tus
from evidence.deps import S3, Anyone, Config, Uploader
from evidence.edge import body_chunks, finish_upload
from evidence.models import parse_tus_metadata, safe_filename
from kit.deps import Database, Mongo, ServiceOutbox
from kit.errors import Problem, Text, field_error
from kit.numbers import whole_number

router = APIRouter(prefix="/v1/schools/{school_id}/uploads", tags=["resumable uploads (tus 1.0)"],
                   responses={412: {"description": "Tus-Resumable is missing or not 1.0.0 (tus protocol)"}})


def tus_version(tus_resumable: Annotated[str | None, Header(description="Must be 1.0.0 (else 412)")] = None) -> None:
    """Every tus request but OPTIONS must speak tus 1.0.0 (checked after the caller's roles)."""
    tus.check_version(tus_resumable)


Speaks = Annotated[None, Depends(tus_version)]
# the filename is cleaned, not refused
METADATA_TEXT = ("replaces", "attempt_id", "part_id", "case_id", "assignment_id", "bank_assignment_id", "roles",
                 "kind")


def creation_metadata(header: str) -> dict[str, str]:
    """Upload-Metadata decoded; its values are one line of text each (no control characters)."""
    try:
        meta = parse_tus_metadata(header)
        for key in METADATA_TEXT:
            if key in meta:
                refuse_line_breaks(meta[key])
    except ValueError as exc:
        raise Problem(400, "bad_request", detail=Text(
            "Upload-Metadata heeft niet de juiste vorm.",
            "Upload-Metadata is malformed."),
                      errors=[field_error("Upload-Metadata", str(exc))]) from exc
    return meta


@router.options("", status_code=204, response_class=Response,
                summary="tus discovery: version, extensions, limits")
async def tus_options(school_id: str, settings: Config) -> Response:
    """What this tus server supports."""
    return Response(status_code=204, headers=tus.tus_headers(**{
        "Tus-Version": tus.TUS_VERSION, "Tus-Extension": tus.EXTENSIONS,
        "Tus-Max-Size": str(settings.max_file_bytes),
        "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS)}))


@router.post("", status_code=201, response_class=Response,
             summary="tus creation: start a resumable upload",
             description="Upload-Length (at most max_file_bytes) and Upload-Metadata with `filename` and one of "
                         "`attempt_id` (evidence, the attempt's student), `attempt_id` + `part_id` (assessment "
                         "attachment, an assessor of the attempt while the part's assessment is not final), "
                         "`case_id` (case document, the case's student or the exam board while the case is not "
                         "decided), `assignment_id` (attachment, supervisors), "
                         "`bank_assignment_id` (bank attachment, school admins and supervisors), "
                         "`roles` (comma-separated; library, school admins) or `kind` = `message_attachment` "
                         "(a file to attach to a message, students and supervisors); `replaces` names the evidence "
                         "item or manual the new file replaces. A PATCH of evidence or of an assessment attachment "
                         "is refused (409) once the attempt's assessment is finalized; the last PATCH registers the "
                         "file and checks the rules again: a part finalized or a case decided meanwhile is refused "
                         "(409) and nothing of the upload remains stored.")
async def tus_create(principal: Uploader, _: Speaks, request: Request, school_id: str, db: Database,
                     settings: Config) -> Response:
    """Register an upload and answer its Location."""
    length = whole_number(request.headers.get("upload-length"))
    if length is None:
        raise Problem(400, "bad_request", detail=Text(
            "Upload-Length is verplicht (een later opgegeven lengte wordt niet ondersteund).",
            "Upload-Length is required (deferred length is not supported)."),
                      errors=[field_error("Upload-Length", "required number")])
    if length > settings.max_file_bytes:
        raise service.too_large(settings.max_file_bytes)
    meta = creation_metadata(request.headers.get("upload-metadata", ""))
    target = await service.resumable_target(db, principal, school_id, meta)
    upload = await tus.create(db, settings, target=target, filename=safe_filename(meta.get("filename")),
                              length=length, principal=principal)
    location = f"{request.scope.get('root_path', '')}/v1/schools/{school_id}/uploads/{upload['_id']}"
    return Response(status_code=201, headers=tus.tus_headers(**{
        "Location": location, "Upload-Expires": tus.expires_header(upload["expires_at"])}))


@router.head("/{upload_id}", response_class=Response,
             summary="tus core: the offset to resume from (a finished upload: its length, until it expires)")
async def tus_head(principal: Anyone, _: Speaks, school_id: str, upload_id: str, db: Database) -> Response:
    """Where the upload stands."""
    upload = await tus.get_own(db, school_id, upload_id, principal, completed_too=True)
    headers = tus.tus_headers(**{"Upload-Offset": str(upload["offset"]), "Upload-Length": str(upload["length"]),
                                 "Upload-Expires": tus.expires_header(upload["expires_at"])})
    if upload["state"] == "completed":
        headers["X-File-Id"] = upload["_id"]
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}", status_code=204, response_class=Response,
              summary="tus core: append bytes at Upload-Offset",
              responses={409: {"description": "Upload-Offset mismatch"}, 460: {"description": "Checksum mismatch"},
                         410: {"description": "Upload completed, terminated or expired"},
                         415: {"description": "Content-Type is not application/offset+octet-stream"}})
async def tus_patch(principal: Anyone, _: Speaks, request: Request, school_id: str, upload_id: str, db: Database,
                    mongo: Mongo, s3: S3, settings: Config, outbox: ServiceOutbox) -> Response:
    """Append the body; the last PATCH completes the file (its id is the upload id)."""
    upload = await tus.get_open(db, school_id, upload_id, principal)
    if request.headers.get("content-type") != "application/offset+octet-stream":
        raise Problem(415, "unsupported_media_type", detail=Text(
            "PATCH vereist Content-Type application/offset+octet-stream.",
            "PATCH needs Content-Type application/offset+octet-stream."))
    offset_sent = whole_number(request.headers.get("upload-offset"))
    if offset_sent is None:
        raise Problem(400, "bad_request", detail=Text(
            "Upload-Offset moet een getal zijn.",
            "Upload-Offset must be a number."),
                      errors=[field_error("Upload-Offset", "not a number")])
    chunk = tus.Chunk(offset_sent, tus.parse_checksum(request.headers.get("upload-checksum")),
                      body_chunks(request, None))
    offset, finished = await tus.append(db, s3, settings, upload=upload, chunk=chunk)
    headers = tus.tus_headers(**{"Upload-Offset": str(offset),
                                 "Upload-Expires": tus.expires_header(upload["expires_at"])})
    if finished is not None:
        file = await finish_upload(mongo, db, s3, settings, outbox, upload=finished, by=principal.subject)
        headers["X-File-Id"] = file["_id"]
    return Response(status_code=204, headers=headers)


@router.delete("/{upload_id}", status_code=204, response_class=Response,
               summary="tus termination: give up an upload")
async def tus_delete(principal: Anyone, _: Speaks, school_id: str, upload_id: str, db: Database, s3: S3,
                     settings: Config) -> Response:
    """Abort its parts; nothing of it remains."""
    upload = await tus.get_open(db, school_id, upload_id, principal)
    await tus.terminate(db, s3, settings.s3_bucket, upload)
    return Response(status_code=204, headers=tus.tus_headers())
