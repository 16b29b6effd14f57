"""Settings of the web app, read from the environment."""

from __future__ import annotations

import secrets

from pydantic import Field, SecretStr, model_validator

from kit.settings import KitSettings


class WebSettings(KitSettings):
    """Where the APIs are, and how the session cookie is kept."""

    service: str = "web"
    identity_url: str = Field(default="http://127.0.0.1:8101", description="Identity API (internal address)")
    enrollment_url: str = Field(default="http://127.0.0.1:8102", description="Enrollment API (internal address)")
    exams_url: str = Field(default="http://127.0.0.1:8103", description="Exams API (internal address)")
    evidence_url: str = Field(default="http://127.0.0.1:8104", description="Evidence API (internal address)")
    notifications_url: str = Field(default="http://127.0.0.1:8105",
                                   description="Notifications API (internal address)")
    session_secret: SecretStr | None = Field(
        default=None, description="Encrypts the session cookie; required outside local mode (32+ characters)")
    session_idle_minutes: int = Field(default=120, ge=5, le=24 * 60,
                                      description="A session unused this long ends")
    api_timeout_s: float = Field(default=30.0, gt=0)
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="Largest import file passed on")
    max_file_bytes: int = Field(default=537_000_000, ge=1, description="Largest upload the pages accept")

    @model_validator(mode="after")
    def _secret(self) -> WebSettings:
        if self.session_secret is None:
            if self.environment == "production":
                raise ValueError("SESSION_SECRET is required outside local mode")
            # Local and test runs: one secret per process; sessions end when the process restarts.
            self.session_secret = SecretStr(secrets.token_urlsafe(32))
        elif len(self.session_secret.get_secret_value()) < 32:
            raise ValueError("SESSION_SECRET must be at least 32 characters")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure (HTTPS only) everywhere except on this machine."""
        return self.environment == "production"
