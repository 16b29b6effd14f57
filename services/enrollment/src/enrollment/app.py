"""The enrollment service's HTTP API application."""

from fastapi import FastAPI

from enrollment import api, api_groups, api_imports, api_programmes
from enrollment.repository import prepare
from enrollment.settings import EnrollmentSettings
from kit.app import create_service_app


async def _prepare(app: FastAPI) -> None:
    await prepare(app.state.db)


def create_app(settings: EnrollmentSettings | None = None) -> FastAPI:
    """Build the enrollment API (uvicorn --factory enrollment.app:create_app)."""
    settings = settings or EnrollmentSettings()
    return create_service_app(
        settings,
        title="Enrollment",
        description="Programmes enabled per school, students, groups, person-student links, import and export.",
        # The import routes come first: /students/{id} must not swallow their paths.
        routers=[api_imports.router, api.router, api_groups.router, api_programmes.router],
        startup=[_prepare],
        body_limit_exempt=api_imports.is_upload,
    )
