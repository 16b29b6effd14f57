"""Access tokens: the claims identity signs, and the verification every service does itself.

Tokens are JWTs signed with RSA-2048 (RS256; its verification is the cheapest of the asymmetric
choices, which matters as every request verifies one) by identity and published as a JWKS. Services verify
them locally with cached keys (refetched when an unknown key id appears, so rotation needs no
restart) and check roles per school from the claims. Resource checks stay in the owning service.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import httpx
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import RSAKey

from kit.errors import Problem, Text

ALGORITHM = "RS256"
ISSUER = "mbo-exam-identity"
AUDIENCE = "mbo-exam"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Role(StrEnum):
    """A role a person (or API client) holds in one school."""

    SCHOOL_ADMIN = "school_admin"
    SCHOOL_SUPERVISOR = "school_supervisor"
    ASSESSOR = "assessor"
    EXAM_BOARD = "exam_board"
    WORKPLACE_TRAINER = "workplace_trainer"
    STUDENT = "student"


STAFF_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or a school's API client, with their roles per school."""

    subject: str
    kind: Literal["user", "client"]
    schools: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    operator: bool = False
    read_only: bool = False
    actor: str | None = None  # set when a supervisor or admin views as the student (RFC 8693 act)
    token_id: str = ""

    def roles_in(self, school_id: str) -> frozenset[Role]:
        """The roles held in a school (empty when not a member)."""
        return self.schools.get(school_id, frozenset())

    def has_any(self, school_id: str, roles: frozenset[Role] | set[Role]) -> bool:
        """True when at least one of the roles is held in the school."""
        return bool(self.roles_in(school_id) & roles)


def access_claims(
    principal: Principal, *, ttl_s: int, now: float | None = None, session_id: str | None = None
) -> dict[str, Any]:
    """The JWT claims for a principal (identity signs these; nothing else builds tokens)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": principal.subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
        "jti": principal.token_id or uuid.uuid4().hex,
        "kind": principal.kind,
        "sch": {school: sorted(roles) for school, roles in principal.schools.items()},
    }
    if principal.operator:
        claims["op"] = True
    if principal.read_only:
        claims["ro"] = True
    if principal.actor:
        claims["act"] = {"sub": principal.actor}
    if session_id:
        claims["sid"] = session_id
    return claims


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The principal a verified token speaks for; unknown roles are ignored."""
    known = {r.value for r in Role}
    schools = {
        str(school): frozenset(Role(r) for r in roles if r in known)
        for school, roles in (claims.get("sch") or {}).items()
    }
    act = claims.get("act")
    return Principal(
        subject=str(claims["sub"]),
        kind="client" if claims.get("kind") == "client" else "user",
        schools=schools,
        operator=bool(claims.get("op")),
        read_only=bool(claims.get("ro")),
        actor=str(act["sub"]) if isinstance(act, dict) and "sub" in act else None,
        token_id=str(claims.get("jti", "")),
    )


def sign(claims: Mapping[str, Any], private_jwk: Mapping[str, Any]) -> str:
    """Sign claims with a private JWK (its kid goes in the header)."""
    key = RSAKey.import_key(dict(private_jwk))
    return jwt.encode({"alg": ALGORITHM, "kid": private_jwk["kid"], "typ": "JWT"}, dict(claims), key)


def generate_signing_key(kid: str | None = None) -> dict[str, Any]:
    """A new RSA-2048 private key as a JWK (identity keeps these; tests make their own)."""
    key = RSAKey.generate_key(2048, parameters={"kid": kid or uuid.uuid4().hex[:16], "alg": ALGORITHM,
                                                "use": "sig"})
    return dict(key.as_dict(private=True))


def public_jwk(private_jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public half of a private JWK, as published in the JWKS."""
    return {k: v for k, v in private_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}


def unauthorized(detail: str | Text) -> Problem:
    """The 401 every verification failure becomes (same shape whatever went wrong)."""
    return Problem(401, "unauthorized", detail=detail, headers={"WWW-Authenticate": "Bearer"})


class TokenVerifier:
    """Verifies access tokens against identity's JWKS, cached and refreshed on unknown key ids."""

    def __init__(self, jwks_source: str, *, leeway_s: int = 10, min_refresh_interval_s: float = 5.0) -> None:
        self.jwks_source = jwks_source
        self.leeway_s = leeway_s
        self.min_refresh_interval_s = min_refresh_interval_s
        self._keys: dict[str, RSAKey] = {}
        self._claims = jwt.JWTClaimsRegistry(
            leeway=leeway_s,
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
        )
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises a 401 Problem otherwise."""
        kid = _key_id(token)
        if kid is None:
            raise unauthorized(Text(nl="Het toegangstoken noemt geen sleutel.", en="The access token names no key."))
        if kid not in self._keys:
            await self.refresh(force=False)
        key = self._keys.get(kid)
        if key is None:
            raise unauthorized(Text(nl="Het toegangstoken is met een onbekende sleutel ondertekend.",
                                    en="The access token was signed with an unknown key."))
        return self.verify_with(token, key)

    def verify_with(self, token: str, key: RSAKey) -> Principal:
        """Check signature, issuer, audience and lifetime with a known key (the hot path)."""
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM]).claims
            self._claims.validate(claims)
        except ExpiredTokenError as exc:
            raise unauthorized(Text(nl="Het toegangstoken is verlopen.", en="The access token has expired.")) from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise unauthorized(Text(nl="Het toegangstoken is ongeldig.", en="The access token is not valid.")) from exc
        return principal_from_claims(claims)

    async def refresh(self, *, force: bool = True) -> None:
        """Fetch the key set again (at most every min_refresh_interval_s unless forced)."""
        async with self._lock:
            if not force and time.monotonic() - self._fetched_at < self.min_refresh_interval_s:
                return
            self._fetched_at = time.monotonic()
            try:
                document = await self._fetch()
            except (OSError, httpx.HTTPError, ValueError):
                return  # keep the keys we have; identity may be restarting
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kid") and jwk.get("kty") == "RSA" and "d" not in jwk:
                    keys[jwk["kid"]] = RSAKey.import_key(jwk)
            self._keys = keys

    async def _fetch(self) -> dict[str, Any]:
        if self.jwks_source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(self.jwks_source)
                response.raise_for_status()
                document: dict[str, Any] = response.json()
                return document
        path = Path(self.jwks_source.removeprefix("file://"))
        loaded: dict[str, Any] = json.loads(await asyncio.to_thread(path.read_text))
        return loaded


def _key_id(token: str) -> str | None:
    """The kid of a compact JWS header, read before the signature is checked (to pick the key)."""
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


_bearer = HTTPBearer(auto_error=False, description="Access token from the identity service")


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """FastAPI dependency: the verified caller; read-only tokens may not change anything."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized(Text(nl="Een toegangstoken is nodig.", en="An access token is required."))
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    if principal.read_only and request.method not in SAFE_METHODS:
        raise Problem(403, "forbidden", detail=Text(
            nl="Dit token mag alleen lezen (meekijken als de student).",
            en="This token is read-only (viewing as the student)."))
    request.state.principal = principal
    return principal


def require_roles(*roles: Role) -> Callable[..., Any]:
    """Dependency for /v1/schools/{school_id}/...: the caller must hold one of the roles there."""
    wanted = frozenset(roles)

    async def dependency(school_id: str, principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.has_any(school_id, wanted):
            raise Problem(403, "forbidden", detail=Text(
                nl="Uw rollen in deze school staan dit niet toe.", en="Your roles in this school do not allow this."))
        return principal

    return dependency


async def require_operator(principal: Principal = Depends(current_principal)) -> Principal:
    """Dependency: only the platform operator."""
    if not principal.operator:
        raise Problem(403, "forbidden", detail=Text(
            nl="Alleen de beheerder van het platform mag dit.", en="Only the platform operator may do this."))
    return principal
