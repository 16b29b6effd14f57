"""Settings of the notifications service, read from the environment."""

from kit.settings import KitSettings


class NotificationsSettings(KitSettings):
    """Endpoints and limits of the notifications service."""

    service: str = "notifications"
