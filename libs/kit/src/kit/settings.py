"""Settings every process reads from its environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KitSettings(BaseSettings):
    """Endpoints and limits shared by every service; services subclass it."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service: str = Field(default="service", description="Service name, used in logs, traces and topics")
    environment: Literal["local", "test", "production"] = "local"
    # Secret: a production URI carries the database user's password.
    mongo_uri: SecretStr = SecretStr("mongodb://127.0.0.1:27017/?replicaSet=secantus&retryWrites=false")
    mongo_db: str = ""
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication: int = Field(default=1, ge=1)
    kafka_session_timeout_ms: int = Field(
        default=10_000, ge=1000,
        description="How long the broker waits for a silent consumer before moving its partitions")
    kafka_group_instance_id: str = Field(
        default="", max_length=200,
        description="Stable name of this worker instance for static group membership (e.g. the pod name); "
                    "empty: the host name plus a slot number held by this process")
    outbox_batch_size: int = Field(default=500, ge=1, description="Outbox rows published per round")
    outbox_lease_s: float = Field(default=10.0, gt=0, description="How long a dead relay blocks its successor")
    max_request_bytes: int = Field(default=1_048_576, ge=1024, description="Largest JSON body accepted")
    readiness_timeout_s: float = Field(default=2.0, gt=0)
    auth_jwks_url: str = Field(
        default="http://127.0.0.1:8101/.well-known/jwks.json",
        description="Identity's JWKS (http(s) URL, or a file path in tests)",
    )
    log_level: str = "INFO"

    @property
    def database(self) -> str:
        """The Mongo database this service owns."""
        return self.mongo_db or self.service
