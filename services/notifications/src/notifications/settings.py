"""Settings of the notifications service, read from the environment."""

from pydantic import Field, SecretStr

from kit.settings import KitSettings


class NotificationsSettings(KitSettings):
    """Endpoints and limits of the notifications service."""

    service: str = "notifications"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    mail_from: str = Field(default="MBO Examenomgeving <no-reply@mbo-exam.local>",
                           description="The From address of every e-mail")
    public_url: str = Field(default="http://127.0.0.1:8080", description="The gateway URL links in e-mails point at")
    delivery_max_attempts: int = Field(default=6, ge=1, description="SMTP attempts before a delivery is failed")
    delivery_backoff_s: float = Field(default=2.0, gt=0, description="First retry delay; doubles per attempt")
    delivery_backoff_max_s: float = Field(default=600.0, gt=0)
    delivery_poll_s: float = Field(default=5.0, gt=0,
                                   description="How often the sender looks for due retries (new e-mails wake it)")
    delivery_lease_s: float = Field(default=120.0, gt=0, description="After this a crashed send is tried again")
    delivery_concurrency: int = Field(default=8, ge=1, description="E-mails handed to SMTP at once")
