"""Settings of the identity service, read from the environment."""

import ipaddress

from pydantic import Field, SecretStr, field_validator

from kit.settings import KitSettings


class IdentitySettings(KitSettings):
    """Endpoints, token lifetimes, login protection and the operator bootstrap."""

    service: str = "identity"
    public_url: str = Field(default="http://127.0.0.1:8080", description="Gateway URL used in e-mailed links")
    access_ttl_s: int = Field(default=900, ge=60, le=900, description="Access token lifetime (at most 15 min)")
    refresh_ttl_days: int = Field(default=30, ge=1, le=365)
    view_as_ttl_s: int = Field(default=900, ge=60, le=900)
    invitation_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    lockout_threshold: int = Field(default=5, ge=3, description="Failed logins before an account is locked")
    lockout_minutes: int = Field(default=15, ge=1)
    address_failures_per_window: int = Field(default=30, ge=5, description="Failed logins per client address")
    address_window_s: int = Field(default=600, ge=60)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=8_192, description="OWASP's argon2id profile: 19 MiB, t=2")
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hash_threads: int = Field(
        default=2, ge=1, le=32, description="Password hashes computed at once (each takes argon2_memory_kib)")
    key_publish_ahead_s: float = Field(default=10.0, ge=0, description="A new signing key is published this long "
                                       "before it signs, so verifiers know it first")
    operator_email: str | None = Field(default=None, description="The platform operator account, made at first start")
    operator_password: SecretStr | None = None
    signing_keys_secret: SecretStr | None = Field(
        default=None, description="Encrypts the token signing keys at rest; required outside local mode"
    )
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1"],
        description="Addresses or CIDR ranges of the proxies (the gateway) whose X-Forwarded-For is believed",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # raises ValueError naming the bad entry
        return value
