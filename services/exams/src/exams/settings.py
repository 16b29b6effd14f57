"""Settings of the exams service, read from the environment."""

from kit.settings import KitSettings


class ExamsSettings(KitSettings):
    """Endpoints and limits of the exams service."""

    service: str = "exams"
