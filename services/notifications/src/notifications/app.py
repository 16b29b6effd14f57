"""The notifications service's HTTP API application."""

from fastapi import FastAPI

from kit.app import create_service_app
from notifications import api, api_messages, repository
from notifications.settings import NotificationsSettings


async def _indexes(app: FastAPI) -> None:
    await repository.ensure_indexes(app.state.db)


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    """Build the notifications API (uvicorn --factory notifications.app:create_app)."""
    settings = settings or NotificationsSettings()
    return create_service_app(
        settings,
        title="Notifications",
        description="E-mail, in-app notifications and messages between people.",
        routers=[api.router, api_messages.router],
        startup=[_indexes],
    )
