"""The identity service's HTTP API application."""

from fastapi import FastAPI

from identity.settings import IdentitySettings
from kit.app import create_service_app


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    """Build the identity API (uvicorn --factory identity.app:create_app)."""
    settings = settings or IdentitySettings()
    return create_service_app(
        settings,
        title="Identity",
        description="Schools (tenants), users, memberships and roles, login and tokens.",
    )
