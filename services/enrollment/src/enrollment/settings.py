"""Settings of the enrollment service, read from the environment."""

from kit.settings import KitSettings


class EnrollmentSettings(KitSettings):
    """Endpoints and limits of the enrollment service."""

    service: str = "enrollment"
