"""Resumable uploads (tus 1.0: core, creation, termination, checksum, expiration) on S3 multipart.

All state lives in Mongo and S3, so any instance can take the next PATCH. S3 parts must be at least
5 MiB except the last, so the bytes a PATCH leaves after its last full part (less than one part) are
kept as a small tail object and put in front of the next PATCH's body.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from bson import Binary
from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession

from evidence import repository as repo
from evidence.models import (
    SNIFF_BYTES,
    Interrupted,
    Stored,
    Target,
    detect_content_type,
    evidence_change_refusal,
    storage_key,
)
from evidence.service import too_large
from evidence.settings import EvidenceSettings
from evidence.storage import (
    READ_CHUNK,
    Multipart,
    abort_open_multipart_uploads,
    put_small,
    read_small,
    remove,
    remove_prefix,
)
from evidence.streaming import PartWriter, buffer_pool
from evidence.uploads_lease import LEASE, lease_until, renewed
from kit.auth import Principal
from kit.clock import now
from kit.errors import Problem, Text, field_error
from kit.ids import new_id
from kit.mongo import Db

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum,expiration"
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}


@dataclass(frozen=True)
class Chunk:
    """One PATCH as it reaches the service: where it starts, its optional checksum, and its body."""

    offset: int
    checksum: tuple[Any, bytes] | None
    chunks: AsyncIterator[bytes]


def tus_headers(**extra: str) -> dict[str, str]:
    """Headers every tus response carries."""
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def check_version(header: str | None) -> None:
    """Every request but OPTIONS must speak tus 1.0.0 (412 otherwise)."""
    if header != TUS_VERSION:
        raise Problem(412, "precondition_failed", detail=Text(
            "Tus-Resumable: 1.0.0 is verplicht.",
            "Tus-Resumable: 1.0.0 is required."),
                      headers={"Tus-Version": TUS_VERSION}, errors=[field_error("Tus-Resumable", "must be 1.0.0")])


def expires_header(expires_at: datetime) -> str:
    """Upload-Expires in RFC 9110 date form."""
    return format_datetime(expires_at.astimezone(UTC), usegmt=True)


async def create(db: Db, settings: EvidenceSettings, *, target: Target, filename: str, length: int,
                 principal: Principal) -> dict[str, Any]:
    """Register a new resumable upload of length bytes (its id becomes the file's id)."""
    if length > settings.max_file_bytes:
        raise too_large(settings.max_file_bytes)
    if length <= 0:
        raise Problem(422, "validation", detail=Text(
            "Het bestand is leeg.",
            "The file is empty."), errors=[field_error("Upload-Length", "> 0")])
    upload_id = new_id("file")
    at = now()
    upload = {
        "_id": upload_id, "school_id": target.school_id, "created_by": principal.subject,
        "target": {"kind": target.kind, "student_id": target.student_id, "attempt_id": target.attempt_id,
                   "assignment_id": target.assignment_id, "bank_assignment_id": target.bank_assignment_id,
                   "part_id": target.part_id, "case_id": target.case_id, "roles": target.roles,
                   "replaces": target.replaces},
        "filename": filename, "length": length, "offset": 0, "key": storage_key(target.school_id, target.kind,
                                                                                upload_id),
        "multipart_id": None, "parts": [], "tail_key": None, "tail_size": 0, "head": Binary(b""),
        "state": "open", "holder": None, "held_until": None, "created_at": at,
        "expires_at": at + timedelta(seconds=settings.tus_expiry_s),
    }
    await repo.insert_upload(db, upload)
    return upload


def parse_checksum(header: str | None) -> tuple[Any, bytes] | None:
    """Upload-Checksum `<algorithm> <base64>`: (hasher, expected digest)."""
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() not in CHECKSUMS:
        raise Problem(400, "bad_request", detail=Text(
            "Dit algoritme voor de controlesom wordt niet ondersteund (gebruik sha1, sha256 of md5).",
            "Unsupported checksum algorithm (use sha1, sha256 or md5)."),
                      errors=[field_error("Upload-Checksum", "unsupported algorithm")])
    try:
        expected = base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise Problem(400, "bad_request", detail=Text(
            "Upload-Checksum is geen base64.",
            "Upload-Checksum is not base64."),
                      errors=[field_error("Upload-Checksum", "not base64")]) from exc
    return CHECKSUMS[algorithm.lower()](), expected


async def get_own(db: Db, school_id: str, upload_id: str, principal: Principal, *,
                  completed_too: bool = False) -> dict[str, Any]:
    """The caller's upload while open (with completed_too: also finished, until it expires); 404 or 410 else."""
    upload = await repo.get_upload(db, school_id, upload_id)
    if upload is None or upload["created_by"] != principal.subject:
        raise Problem(404, "not_found", detail=Text("Deze upload bestaat niet.", "No such upload."))
    states = ("open", "completed") if completed_too else ("open",)
    if upload["state"] not in states or upload["expires_at"] < now():
        raise Problem(410, "gone", detail=Text(
            "Deze upload is al voltooid, afgebroken of verlopen.",
            "This upload was completed, terminated or has expired."))
    return upload


async def get_open(db: Db, school_id: str, upload_id: str, principal: Principal) -> dict[str, Any]:
    """An upload of the caller that can still receive bytes (404 unknown, 410 gone)."""
    return await get_own(db, school_id, upload_id, principal)


async def append(db: Db, s3: Minio, settings: EvidenceSettings, *, upload: dict[str, Any],
                 chunk: Chunk) -> tuple[int, dict[str, Any] | None]:
    """Append a PATCH body at its offset; returns the new offset and, once every byte is in, the upload."""
    if chunk.offset != upload["offset"]:
        raise Problem(409, "conflict", detail=Text(
            f"Upload-Offset {chunk.offset} komt niet overeen met de positie van de upload.",
            f"Upload-Offset {chunk.offset} does not match the upload's offset."),
                      headers=tus_headers(**{"Upload-Offset": str(upload["offset"])}), offset=upload["offset"])
    if upload["target"]["kind"] in ("evidence", "assessment_attachment"):  # the attempt's files close together
        refusal = evidence_change_refusal(await repo.get_attempt(db, upload["school_id"],
                                                                 upload["target"]["attempt_id"]))
        if refusal:
            raise Problem(409, "conflict", detail=refusal)
    holder = new_id("hold")
    # The claim is a lease the PATCH renews while it streams: a PATCH whose process died frees the upload
    # within LEASE, and the client (tus clients retry a 409) resumes on any instance.
    claimed = await repo.claim_upload(db, upload["_id"], chunk.offset, holder, lease_until(), now())
    if claimed is None:
        raise Problem(409, "conflict", detail=Text(
            "Een ander verzoek is al bezig met deze upload; ga verder zodra dat klaar is.",
            "Another request is uploading to this upload; resume after it."),
                      headers={"Retry-After": str(int(LEASE.total_seconds()))})
    try:
        async with renewed(lambda until: repo.renew_upload(db, upload["_id"], holder, until)):
            return await _append(db, s3, settings, claimed, chunk, holder)
    finally:
        await repo.release_upload(db, upload["_id"], holder)


async def _append(db: Db, s3: Minio, settings: EvidenceSettings, upload: dict[str, Any], chunk: Chunk,
                  holder: str) -> tuple[int, dict[str, Any] | None]:
    bucket, key, offset, checksum = settings.s3_bucket, upload["key"], chunk.offset, chunk.checksum
    prefix = await read_small(s3, bucket, upload["tail_key"]) if upload["tail_key"] else b""
    created: list[Multipart] = []

    async def start(head: bytes) -> Multipart:
        if upload["multipart_id"]:
            return Multipart(s3, bucket, key, upload["multipart_id"])
        multipart = await Multipart.start(s3, bucket, key, detect_content_type(head))
        created.append(multipart)
        await repo.record_multipart(db, upload["_id"], holder, multipart.upload_id)
        return multipart

    writer = PartWriter(start, buffer_pool(settings.part_bytes, settings.upload_memory_bytes),
                        concurrency=settings.upload_concurrency,
                        first_number=len(upload["parts"]) + 1, prefix=prefix,
                        head=bytes(upload["head"]), hash_all=False)
    received = 0
    interrupted = False
    try:
        try:
            async for data in chunk.chunks:
                received += len(data)
                if offset + received > upload["length"]:
                    raise Problem(413, "payload_too_large", detail=Text(
                        "De inhoud is langer dan de opgegeven Upload-Length.",
                        "The body passes the declared Upload-Length."))
                if checksum is not None:
                    checksum[0].update(data)
                await writer.write(data)
        except Interrupted:
            interrupted = True  # keep what arrived: the client resumes from the new offset
            if checksum is not None:
                raise Problem(400, "bad_request", detail=Text(
                    "Het uploaden is onderbroken; de controlesom kan niet worden nagegaan.",
                    "Interrupted; the checksum cannot be verified.")) from None
        if checksum is not None and checksum[0].digest() != checksum[1]:
            raise Problem(460, "checksum_mismatch", detail=Text(
                "De inhoud komt niet overeen met Upload-Checksum; er is niets opgeslagen.",
                "The body does not match Upload-Checksum; nothing stored."),
                          errors=[field_error("Upload-Checksum", "checksum mismatch")])
        new_offset = offset + received
        done = new_offset == upload["length"]
        tail = await writer.finish(last=done)
    except BaseException:
        await writer.close()
        for multipart in created:  # this PATCH's new multipart holds nothing kept: forget and abort it
            await repo.forget_multipart(db, upload["_id"], holder, multipart.upload_id)
            await multipart.abort()
        raise
    parts = [*upload["parts"], *({"n": n, "etag": e, "size": s} for n, e, s in writer.etags)]
    multipart_id = writer.multipart.upload_id if writer.multipart else upload["multipart_id"]
    tail_key = None
    if tail:
        tail_key = f"{working_prefix(upload)}tail-{new_offset}"
        await put_small(s3, bucket, tail_key, tail)
    changes = {"offset": new_offset, "parts": parts, "multipart_id": multipart_id, "tail_key": tail_key,
               "tail_size": len(tail), "head": Binary(bytes(writer.head))}
    if not await repo.advance_upload(db, upload["_id"], holder, changes):
        raise Problem(409, "conflict", detail=Text(
            "De upload is overgenomen; ga verder vanaf de huidige positie.",
            "The upload was taken over; resume from its current offset."))
    if upload["tail_key"] and upload["tail_key"] != tail_key:
        await remove(s3, bucket, upload["tail_key"])
    if interrupted or not done:
        return new_offset, None
    return new_offset, {**upload, **changes}


async def assemble(s3: Minio, settings: EvidenceSettings, upload: dict[str, Any]) -> Stored:
    """Join the parts, hash the whole object once (hash state cannot move between instances)."""
    multipart = Multipart(s3, settings.s3_bucket, upload["key"], upload["multipart_id"])
    await multipart.complete([(p["n"], p["etag"]) for p in upload["parts"]])
    sha256 = await asyncio.to_thread(_hash_object, s3, settings.s3_bucket, upload["key"])
    return Stored(upload["_id"], upload["key"], upload["filename"],
                  detect_content_type(bytes(upload["head"])[:SNIFF_BYTES]), upload["length"], sha256)


def target_of(upload: dict[str, Any]) -> Target:
    """What the upload was created for (checked again when it is registered)."""
    t = upload["target"]
    return Target(t["kind"], upload["school_id"], student_id=t["student_id"], attempt_id=t["attempt_id"],
                  assignment_id=t["assignment_id"], bank_assignment_id=t.get("bank_assignment_id"),
                  part_id=t.get("part_id"), case_id=t.get("case_id"), roles=t["roles"], replaces=t["replaces"])


async def mark_completed(db: Db, session: AsyncClientSession, upload_id: str) -> None:
    """The upload became a file (in the transaction that registers it)."""
    await repo.set_upload_state(db, upload_id, "completed", {"file_id": upload_id}, session=session)


async def mark_refused(db: Db, upload_id: str) -> None:
    """The finished upload was refused when registered; its bytes are gone."""
    await repo.set_upload_state(db, upload_id, "refused")


def _hash_object(s3: Minio, bucket: str, key: str) -> str:
    response = s3.get_object(bucket, key)
    digest = hashlib.sha256()
    try:
        for chunk in response.stream(READ_CHUNK):
            digest.update(chunk)
    finally:
        response.close()
        response.release_conn()
    return digest.hexdigest()


def working_prefix(upload: dict[str, Any]) -> str:
    """Where an upload's tails live while it is open."""
    return f"schools/{upload['school_id']}/uploads/{upload['_id']}/"


async def clean_working_copies(s3: Minio, bucket: str, upload: dict[str, Any]) -> None:
    """After completion: no multipart of a PATCH that died, no tail of one, remains."""
    await abort_open_multipart_uploads(s3, bucket, upload["key"])
    await remove_prefix(s3, bucket, working_prefix(upload))


async def discard(s3: Minio, bucket: str, upload: dict[str, Any]) -> None:
    """Abort the multipart uploads and remove the tails: nothing of the upload remains."""
    if upload.get("multipart_id"):
        await Multipart(s3, bucket, upload["key"], upload["multipart_id"]).abort()
    await clean_working_copies(s3, bucket, upload)


async def terminate(db: Db, s3: Minio, bucket: str, upload: dict[str, Any]) -> None:
    """tus termination: the client gives up the upload."""
    await repo.set_upload_state(db, upload["_id"], "terminated")
    await discard(s3, bucket, upload)


async def sweep_expired(db: Db, s3: Minio, bucket: str) -> int:
    """Abort the parts of every expired upload (each taken by one instance); returns how many."""
    count = 0
    for candidate in await repo.expired_uploads(db, now()):
        upload = await repo.claim_expired(db, candidate["_id"], now())
        if upload is not None:
            await discard(s3, bucket, upload)
            count += 1
    if count:
        log.info("expired uploads cleaned up", extra={"count": count})
    return count
