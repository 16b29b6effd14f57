"""The exams service's HTTP API application."""

from fastapi import FastAPI

from kit.app import create_service_app
from exams.settings import ExamsSettings


def create_app(settings: ExamsSettings | None = None) -> FastAPI:
    """Build the exams API (uvicorn --factory exams.app:create_app)."""
    settings = settings or ExamsSettings()
    return create_service_app(
        settings,
        title="Exams",
        description="Catalog copies, assignments, approvals and adoption, scheduling, assessment, results, retakes and exam-board procedures.",
    )
