"""The evidence service's HTTP API application."""

from fastapi import FastAPI

from evidence import api, api_library, api_tus
from evidence.repository import ensure_indexes
from evidence.settings import EvidenceSettings
from evidence.storage import check_bucket, create_public_s3, create_s3, ensure_bucket
from kit.app import create_service_app


def create_app(settings: EvidenceSettings | None = None) -> FastAPI:
    """Build the evidence API (uvicorn --factory evidence.app:create_app)."""
    settings = settings or EvidenceSettings()
    s3 = create_s3(settings)

    async def bucket(app: FastAPI) -> None:
        await ensure_bucket(s3, settings.s3_bucket)

    async def indexes(app: FastAPI) -> None:
        await ensure_indexes(app.state.db)

    app = create_service_app(
        settings,
        title="Evidence",
        description=(
            "Streaming upload and download of evidence, assignment attachments and library files, "
            "plain or resumable (tus 1.0). "
            f"A file may be at most {settings.max_file_bytes:,} bytes (`max_file_bytes`; SI megabytes: 537 MB, "
            "which also admits every 512 MiB file). A larger declared Content-Length is refused with 413 before "
            "reading; a body of unknown length is refused the moment it passes the limit, and nothing is kept. "
            "An exam attempt is *in execution* from its first scheduled part until its assessment is finalized: "
            "only then may its student add evidence; finalization locks the evidence for good."
        ),
        routers=[api.router, api_library.router, api_tus.router],
        startup=[bucket, indexes],
        extra_checks=lambda app: {"s3": lambda: check_bucket(s3, settings.s3_bucket)},
        body_limit_exempt=api.streamed_upload,
    )
    app.state.s3 = s3
    app.state.public_s3 = create_public_s3(settings)
    return app
