"""Settings of the identity service, read from the environment."""

from kit.settings import KitSettings


class IdentitySettings(KitSettings):
    """Endpoints and limits of the identity service."""

    service: str = "identity"
