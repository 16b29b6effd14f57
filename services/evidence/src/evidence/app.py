"""The evidence service's HTTP API application."""

from fastapi import FastAPI

from evidence.settings import EvidenceSettings
from evidence.storage import check_bucket, create_s3, ensure_bucket
from kit.app import create_service_app


def create_app(settings: EvidenceSettings | None = None) -> FastAPI:
    """Build the evidence API (uvicorn --factory evidence.app:create_app)."""
    settings = settings or EvidenceSettings()
    s3 = create_s3(settings)

    async def bucket(app: FastAPI) -> None:
        await ensure_bucket(s3, settings.s3_bucket)

    app = create_service_app(
        settings,
        title="Evidence",
        description=(
            "Streaming upload and download of evidence and library files. "
            f"A file may be at most {settings.max_file_bytes:,} bytes (SI megabytes: 537 MB)."
        ),
        startup=[bucket],
        extra_checks=lambda app: {"s3": lambda: check_bucket(s3, settings.s3_bucket)},
    )
    app.state.s3 = s3
    return app
