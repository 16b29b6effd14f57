"""Settings of the enrollment service, read from the environment."""

from pydantic import Field

from kit.settings import KitSettings


class EnrollmentSettings(KitSettings):
    """Endpoints and limits of the enrollment service."""

    service: str = "enrollment"
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="Largest import file accepted")
    import_lease_s: float = Field(default=60.0, gt=0,
                                  description="How long a stopped import commit blocks its resumption")
