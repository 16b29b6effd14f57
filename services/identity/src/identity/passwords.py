"""argon2id password hashing, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identity.settings import IdentitySettings


class Passwords:
    """Hashes and verifies passwords; unknown accounts cost the same time as known ones."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verifying against this when the account does not exist keeps the timing equal.
        self._dummy = self.hasher.hash("no account has this password")

    async def hash(self, password: str) -> str:
        """The argon2id hash of a password."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; always does the full work."""
        target = stored_hash or self._dummy

        def check() -> bool:
            try:
                return self.hasher.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check) and stored_hash is not None
