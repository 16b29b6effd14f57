"""Signing test tokens the way identity does, with a key set the service under test reads from a file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from kit.auth import Principal, Role, access_claims, generate_signing_key, public_jwk, sign


class TestIssuer:
    """Issues access tokens with a throwaway key; `jwks_path` goes into the service's AUTH_JWKS_URL."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path) -> None:
        self.key = generate_signing_key()
        self.jwks_path = directory / f"jwks-{uuid.uuid4().hex[:8]}.json"
        self.jwks_path.write_text(json.dumps({"keys": [public_jwk(self.key)]}))

    def token(
        self,
        subject: str | None = None,
        schools: dict[str, set[Role] | frozenset[Role] | list[Role]] | None = None,
        *,
        operator: bool = False,
        read_only: bool = False,
        actor: str | None = None,
        kind: str = "user",
        ttl_s: int = 900,
    ) -> str:
        """A signed access token for the given memberships."""
        principal = Principal(
            subject=subject or uuid.uuid4().hex,
            kind="client" if kind == "client" else "user",
            schools={s: frozenset(r) for s, r in (schools or {}).items()},
            operator=operator,
            read_only=read_only,
            actor=actor,
        )
        return sign(access_claims(principal, ttl_s=ttl_s), self.key)

    def headers(self, *args: object, **kwargs: object) -> dict[str, str]:
        """Authorization headers for token(*args, **kwargs)."""
        return {"Authorization": f"Bearer {self.token(*args, **kwargs)}"}  # type: ignore[arg-type]
