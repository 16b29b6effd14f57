"""The S3 bucket the evidence bytes live in: the one module that talks to the minio SDK.

The SDK is synchronous, so every call runs in a thread. Its low-level multipart calls are what let
a request body stream into S3 part by part, without the whole file in memory or on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from minio import Minio
from minio.commonconfig import GOVERNANCE
from minio.datatypes import Part
from minio.error import S3Error
from minio.retention import Retention

from evidence.settings import EvidenceSettings

log = logging.getLogger(__name__)

MIN_PART_BYTES = 5 * 1024 * 1024  # S3: every part but the last must be at least 5 MiB
READ_CHUNK = 1024 * 1024


def create_s3(settings: EvidenceSettings) -> Minio:
    """A minio SDK client for the configured S3 endpoint."""
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def create_public_s3(settings: EvidenceSettings) -> Minio:
    """A client that only presigns, for the host people reach S3 through (the gateway).

    The signature covers the Host header, so it must be made for the host the browser will send;
    the gateway passes that host on to S3 unchanged.
    """
    url = urlsplit(settings.s3_public_url or f"http://{settings.s3_endpoint}")
    return Minio(
        url.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=url.scheme == "https",
        region=settings.s3_region,  # known region: presigning makes no network call
    )


async def ensure_bucket(s3: Minio, bucket: str) -> None:
    """Create the evidence bucket (with object lock, where the server supports it) when missing."""
    if await asyncio.to_thread(s3.bucket_exists, bucket):
        return
    try:
        await asyncio.to_thread(s3.make_bucket, bucket, None, True)
    except S3Error as exc:
        if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return
        log.warning("bucket with object lock refused, creating without", extra={"code": exc.code})
        await asyncio.to_thread(s3.make_bucket, bucket)


async def check_bucket(s3: Minio, bucket: str) -> None:
    """Readiness: the S3 server answers and the bucket exists."""
    if not await asyncio.to_thread(s3.bucket_exists, bucket):
        raise LookupError("bucket missing")


class Multipart:
    """One S3 multipart upload: parts go up one by one, then complete or abort."""

    def __init__(self, s3: Minio, bucket: str, key: str, upload_id: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id

    @classmethod
    async def start(cls, s3: Minio, bucket: str, key: str, content_type: str) -> Multipart:
        """Begin a multipart upload of key."""
        upload_id = await asyncio.to_thread(
            s3._create_multipart_upload, bucket, key, {"Content-Type": content_type}
        )
        return cls(s3, bucket, key, upload_id)

    def upload_part_sync(self, number: int, data: bytes | bytearray) -> str:
        """Upload one part (call from a worker thread); returns its ETag.

        A bytearray is sent as it is (the SDK hashes and sends any buffer), sparing a copy of the part.
        """
        return self.s3._upload_part(self.bucket, self.key, data, None, self.upload_id, number)  # type: ignore[arg-type]

    async def upload_part(self, number: int, data: bytes) -> str:
        """Upload one part; returns its ETag."""
        return await asyncio.to_thread(self.upload_part_sync, number, data)

    async def complete(self, etags: list[tuple[int, str]]) -> None:
        """Join the parts into the object."""
        parts = [Part(number, etag) for number, etag in etags]
        await asyncio.to_thread(self.s3._complete_multipart_upload, self.bucket, self.key, self.upload_id, parts)

    async def abort(self) -> None:
        """Drop every uploaded part: nothing of this upload remains in the bucket."""
        try:
            await asyncio.to_thread(self.s3._abort_multipart_upload, self.bucket, self.key, self.upload_id)
        except S3Error as exc:
            if exc.code != "NoSuchUpload":
                raise


async def put_small(s3: Minio, bucket: str, key: str, data: bytes) -> None:
    """Store a small object (at most one part) in one request."""
    import io

    await asyncio.to_thread(s3.put_object, bucket, key, io.BytesIO(data), len(data))


async def read_small(s3: Minio, bucket: str, key: str, length: int = 0) -> bytes:
    """Read a small object (or its first length bytes) whole."""

    def read() -> bytes:
        response = s3.get_object(bucket, key, 0, length)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    return await asyncio.to_thread(read)


async def remove(s3: Minio, bucket: str, key: str) -> None:
    """Remove a working object (never evidence: that is kept)."""
    await asyncio.to_thread(s3.remove_object, bucket, key)


async def stream(s3: Minio, bucket: str, key: str, offset: int, length: int) -> AsyncIterator[bytes]:
    """The bytes [offset, offset+length) of an object, chunk by chunk."""
    response = await asyncio.to_thread(s3.get_object, bucket, key, offset, length)
    try:
        while True:
            chunk = await asyncio.to_thread(response.read, READ_CHUNK)
            if not chunk:
                break
            yield bytes(chunk)
    finally:
        response.close()
        response.release_conn()


def presign(public: Minio, bucket: str, key: str, ttl: timedelta, filename_header: str, content_type: str) -> str:
    """A short-lived GET URL for the object, answered with the stored name and type."""
    return public.presigned_get_object(
        bucket, key, expires=ttl,
        response_headers={"response-content-disposition": filename_header, "response-content-type": content_type},
    )


async def lock_object(s3: Minio, bucket: str, key: str, until: datetime) -> bool:
    """Governance-mode retention on an object; False when the bucket or server does not support it."""
    try:
        await asyncio.to_thread(s3.set_object_retention, bucket, key, Retention(GOVERNANCE, until))
    except S3Error as exc:
        log.warning("object lock not applied", extra={"code": exc.code})
        return False
    return True


async def object_names(s3: Minio, bucket: str, prefix: str) -> list[str]:
    """Names of the objects under a prefix (for checks and cleanup)."""
    def names() -> list[str]:
        return [o.object_name or "" for o in s3.list_objects(bucket, prefix=prefix, recursive=True)]

    return await asyncio.to_thread(names)


async def open_multipart_uploads(s3: Minio, bucket: str, prefix: str) -> list[str]:
    """Upload ids of multipart uploads still open under a prefix."""
    result = await asyncio.to_thread(s3._list_multipart_uploads, bucket, None, None, None, None, prefix)
    return [u.upload_id or "" for u in result.uploads]


async def abort_open_multipart_uploads(s3: Minio, bucket: str, key: str, keep: str | None = None) -> int:
    """Abort every multipart upload still open for exactly this key (but keep); returns how many."""

    def abort() -> int:
        result = s3._list_multipart_uploads(bucket, None, None, None, None, key)
        aborted = 0
        for upload in result.uploads:
            if upload.object_name != key or upload.upload_id == keep:
                continue
            try:
                s3._abort_multipart_upload(bucket, key, upload.upload_id or "")
                aborted += 1
            except S3Error as exc:
                if exc.code != "NoSuchUpload":
                    raise
        return aborted

    return await asyncio.to_thread(abort)


async def remove_prefix(s3: Minio, bucket: str, prefix: str) -> None:
    """Remove every working object under a prefix (never evidence: that is kept)."""
    for name in await object_names(s3, bucket, prefix):
        await remove(s3, bucket, name)
