"""Settings of the evidence service, read from the environment."""

from pydantic import Field

from kit.settings import KitSettings


class EvidenceSettings(KitSettings):
    """Endpoints and limits of the evidence service."""

    service: str = "evidence"
    s3_endpoint: str = "127.0.0.1:8333"
    s3_secure: bool = False
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "evidence"
    s3_region: str = "us-east-1"
    max_file_bytes: int = Field(default=537_000_000, description="Largest evidence file (SI: 537 MB)")
