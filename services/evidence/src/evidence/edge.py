"""The HTTP edge of an upload: headers parsed once into one value the service takes, and the transaction.

A streamed body cannot be read twice, so upload routes run their registration in a transaction of their
own here rather than through kit.commands.execute (whose Idempotency-Key replay hashes the body).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession
from starlette.requests import ClientDisconnect

from evidence import service, tus, uploads_inflight
from evidence.deps import Config
from evidence.models import IncomingFile, Interrupted, Stored, Target, safe_filename, storage_key
from evidence.settings import EvidenceSettings
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Client, Db, run_in_transaction
from kit.numbers import whole_number
from kit.outbox import Outbox

# A file name comes from the uploader's file system: it is cleaned (control, format and path characters
# removed, see models.safe_filename) rather than refused, so what is stored never holds control characters.
FilenameQuery = Annotated[str, Query(min_length=1, max_length=1000,
                                     description="The original file name (kept sanitized)")]


def declared_length(raw: str | None, limit: int) -> int | None:
    """The declared Content-Length, refused before reading when it is over the limit."""
    if raw is None:
        return None
    length = whole_number(raw)
    if length is None:
        raise Problem(400, "bad_request", detail=Text(nl="Content-Length moet een getal zijn.",
                                                      en="Content-Length must be a number."))
    if length > limit:
        raise service.too_large(limit)
    return length


def expected_sha256(header: str | None) -> bytes | None:
    """The SHA-256 the client declares in Content-Digest (RFC 9530: `sha-256=:base64:`), if any."""
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
                raise Problem(400, "bad_request", detail=Text(
                    "De sha-256 in Content-Digest is geen geldige base64 van 32 bytes.",
                    "Content-Digest sha-256 is not valid base64 of 32 bytes."),
                              errors=[field_error("Content-Digest", "malformed sha-256")])
            return digest
    raise Problem(400, "bad_request", detail=Text(
        "Content-Digest moet een sha-256 bevatten.",
        "Content-Digest must include sha-256."),
                  errors=[field_error("Content-Digest", "sha-256 missing")])


async def body_chunks(request: Request, limit: int | None) -> AsyncIterator[bytes]:
    """The body chunk by chunk, refused with 413 the moment it passes the limit; a lost client is Interrupted."""
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if limit is not None and received > limit:
                raise service.too_large(limit)
            if chunk:
                yield chunk
    except ClientDisconnect as exc:
        raise Interrupted from exc


async def incoming_file(request: Request, settings: Config, filename: FilenameQuery) -> IncomingFile:
    """The upload of a plain (non-tus) upload route, its declared length checked once, before reading."""
    limit = settings.max_file_bytes
    return IncomingFile(
        filename=safe_filename(filename),
        declared_length=declared_length(request.headers.get("content-length"), limit),
        sha256=expected_sha256(request.headers.get("content-digest")),
        chunks=body_chunks(request, limit),
    )


Upload = Annotated[IncomingFile, Depends(incoming_file)]


async def keep(mongo: Client, s3: Minio, settings: EvidenceSettings, stored: Stored,
               work: Callable[[AsyncClientSession], Awaitable[Any]]) -> Any:
    """Register stored bytes in one transaction; when refused, the never-registered bytes go."""
    try:
        return await run_in_transaction(mongo, work)
    except BaseException:
        await service.discard_unregistered(s3, settings, stored)
        raise


async def receive(mongo: Client, db: Db, s3: Minio, settings: EvidenceSettings, outbox: Outbox, *,
                  target: Target, upload: IncomingFile, by: str) -> dict[str, Any]:
    """Store an upload's bytes, then register them as a file in one transaction (recorded in flight meanwhile)."""
    file_id = new_id("file")
    key = storage_key(target.school_id, target.kind, file_id)
    async with uploads_inflight.in_flight(db, file_id=file_id, school_id=target.school_id, key=key):
        stored = await service.store(s3, settings, target=target, upload=upload, file_id=file_id)

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            await uploads_inflight.registered(db, session, file_id)
            return await service.register(db, session, outbox, target=target, stored=stored, by=by)

        return dict(await keep(mongo, s3, settings, stored, work))


async def finish_upload(mongo: Client, db: Db, s3: Minio, settings: EvidenceSettings, outbox: Outbox, *,
                        upload: dict[str, Any], by: str) -> dict[str, Any]:
    """Join a finished tus upload's parts and register the file with the upload completed; refused: bytes go."""
    stored = await tus.assemble(s3, settings, upload)

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        file = await service.register(db, session, outbox, target=tus.target_of(upload), stored=stored, by=by)
        await tus.mark_completed(db, session, upload["_id"])
        return file

    try:
        file = dict(await keep(mongo, s3, settings, stored, work))
    except BaseException:
        await tus.mark_refused(db, upload["_id"])
        raise
    await tus.clean_working_copies(s3, settings.s3_bucket, upload)
    return file
