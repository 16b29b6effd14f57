"""The notifications service's HTTP API application."""

from fastapi import FastAPI

from kit.app import create_service_app
from notifications.settings import NotificationsSettings


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    """Build the notifications API (uvicorn --factory notifications.app:create_app)."""
    settings = settings or NotificationsSettings()
    return create_service_app(
        settings,
        title="Notifications",
        description="E-mail, in-app notifications and messages between people.",
    )
