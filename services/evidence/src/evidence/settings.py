"""Settings of the evidence service, read from the environment."""

from pydantic import Field, SecretStr

from kit.settings import KitSettings


class EvidenceSettings(KitSettings):
    """Endpoints and limits of the evidence service."""

    service: str = "evidence"
    s3_endpoint: str = "127.0.0.1:8333"
    s3_secure: bool = False
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    # Not "evidence": the gateway routes /evidence to this service and /<bucket> to S3 for presigned URLs.
    s3_bucket: str = "evidence-files"
    s3_region: str = "us-east-1"
    s3_public_url: str = Field(
        default="", description="Where browsers reach S3 (the gateway), for presigned URLs; empty: s3_endpoint"
    )
    max_file_bytes: int = Field(default=537_000_000, ge=1, description="Largest file (SI: 537 MB = 537,000,000 B)")
    part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024, description="S3 multipart part size")
    upload_concurrency: int = Field(default=3, ge=1, le=8, description="Parts of one upload sent to S3 at once")
    upload_memory_bytes: int = Field(
        default=48 * 1024 * 1024, ge=10 * 1024 * 1024,
        description="Part buffers of all uploads of one instance together (uploads wait for a free one)")
    presign_ttl_s: int = Field(default=300, ge=10, le=3600, description="Lifetime of a presigned download URL")
    tus_expiry_s: int = Field(default=24 * 3600, ge=60, description="An unfinished resumable upload expires after")
    sweep_interval_s: float = Field(
        default=60.0, gt=0, description="How often the worker cleans up expired uploads and those of dead processes")
