"""The enrollment service's HTTP API application."""

from fastapi import FastAPI

from enrollment.settings import EnrollmentSettings
from kit.app import create_service_app


def create_app(settings: EnrollmentSettings | None = None) -> FastAPI:
    """Build the enrollment API (uvicorn --factory enrollment.app:create_app)."""
    settings = settings or EnrollmentSettings()
    return create_service_app(
        settings,
        title="Enrollment",
        description="Programmes enabled per school, students, groups, person-student links, import and export.",
    )
