"""Token signing keys: kept encrypted in Mongo, rotated without logging anyone out, published as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identity import repository as repo
from identity.settings import IdentitySettings
from kit.auth import generate_signing_key, public_jwk
from kit.clock import now
from kit.mongo import Db

log = logging.getLogger(__name__)

# A new key is published this long before it signs anything, so every verifier has fetched it first.
PUBLISH_AHEAD = timedelta(seconds=10)
CACHE_S = 5.0


class SigningKeys:
    """The key that signs now, and the public keys verifiers must know."""

    def __init__(self, db: Db, settings: IdentitySettings, publish_ahead: timedelta = PUBLISH_AHEAD) -> None:
        self.db = db
        self.settings = settings
        self.publish_ahead = publish_ahead
        secret = settings.signing_keys_secret.get_secret_value() if settings.signing_keys_secret else None
        if secret is None:
            if settings.environment == "production":
                raise RuntimeError("SIGNING_KEYS_SECRET is required outside local mode")
            secret = base64.b64encode(os.urandom(32)).decode()  # local only: keys do not survive a restart
        self._aead = AESGCM(hashlib.sha256(secret.encode()).digest())
        self._cache: tuple[float, dict[str, Any], list[dict[str, Any]]] | None = None

    async def ensure(self) -> None:
        """Make the first key when none can be used (first start, or a lost local secret)."""
        if await self._usable() is None:
            await self.rotate(publish_ahead=timedelta(0))

    async def rotate(self, publish_ahead: timedelta | None = None) -> str:
        """Add a new key; older ones stay published until the tokens they signed have expired."""
        ahead = self.publish_ahead if publish_ahead is None else publish_ahead
        current = now()
        retire_at = current + ahead + timedelta(seconds=self.settings.access_ttl_s + 60)
        await repo.retire_signing_keys(self.db, retire_at)
        private = generate_signing_key()
        await repo.insert_signing_key(self.db, {
            "_id": private["kid"],
            "sealed": self._seal(private),
            "public": public_jwk(private),
            "created_at": current,
            "signing_from": current + ahead,
            "retire_at": None,
        })
        self._cache = None
        log.info("signing key rotated")
        return str(private["kid"])

    async def signing_key(self) -> dict[str, Any]:
        """The private JWK to sign with now."""
        return (await self._load())[1]

    async def jwks(self) -> dict[str, Any]:
        """The public keys a verifier may meet: the signing key, the next one and the retiring ones."""
        return {"keys": (await self._load())[2]}

    async def _load(self) -> tuple[float, dict[str, Any], list[dict[str, Any]]]:
        if self._cache is not None and time.monotonic() - self._cache[0] < CACHE_S:
            return self._cache
        usable = await self._usable()
        if usable is None:
            await self.ensure()
            usable = await self._usable()
            assert usable is not None
        published = await repo.published_signing_keys(self.db)
        self._cache = (time.monotonic(), usable, [doc["public"] for doc in published])
        return self._cache

    async def _usable(self) -> dict[str, Any] | None:
        """The newest key whose signing time has come and that this secret can open."""
        for doc in await repo.signing_keys_in_use(self.db):
            try:
                return self._open(doc["sealed"])
            except InvalidTag:
                log.warning("a signing key cannot be opened with the configured secret")
                return None
        return None

    def _seal(self, jwk: dict[str, Any]) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, json.dumps(jwk).encode(), b"signing-key")

    def _open(self, sealed: bytes) -> dict[str, Any]:
        opened: dict[str, Any] = json.loads(self._aead.decrypt(sealed[:12], sealed[12:], b"signing-key"))
        return opened
