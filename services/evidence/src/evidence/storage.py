"""The S3 bucket the evidence bytes live in."""

import asyncio

from minio import Minio

from evidence.settings import EvidenceSettings


def create_s3(settings: EvidenceSettings) -> Minio:
    """A minio SDK client for the configured S3 endpoint."""
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


async def ensure_bucket(s3: Minio, bucket: str) -> None:
    """Create the evidence bucket when it does not exist yet."""
    if not await asyncio.to_thread(s3.bucket_exists, bucket):
        await asyncio.to_thread(s3.make_bucket, bucket)


async def check_bucket(s3: Minio, bucket: str) -> None:
    """Readiness: the S3 server answers and the bucket exists."""
    if not await asyncio.to_thread(s3.bucket_exists, bucket):
        raise LookupError("bucket missing")
