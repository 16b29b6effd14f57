"""The exams service's HTTP API application."""

from fastapi import FastAPI

from exams.settings import ExamsSettings
from kit.app import create_service_app


def create_app(settings: ExamsSettings | None = None) -> FastAPI:
    """Build the exams API (uvicorn --factory exams.app:create_app)."""
    settings = settings or ExamsSettings()
    return create_service_app(
        settings,
        title="Exams",
        description="Assignments, approval, adoption, scheduling, assessment, results, retakes, exam-board cases.",
    )
