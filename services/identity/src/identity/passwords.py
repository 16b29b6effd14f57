"""argon2id password hashing, off the event loop, on a few threads of its own.

Each hash takes argon2_memory_kib of memory for its run: on threads of their own, at most
password_hash_threads run at once (more would not finish sooner on a machine with that many cores), so a
burst of logins costs at most that many times the hash's memory rather than one per thread of the loop's
default pool, each of which would keep its own malloc arena at that size afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identity.settings import IdentitySettings

T = TypeVar("T")


class Passwords:
    """Hashes and verifies passwords; unknown accounts cost the same time as known ones."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._threads = ThreadPoolExecutor(settings.password_hash_threads, thread_name_prefix="argon2")
        # Verifying against this when the account does not exist keeps the timing equal.
        self._dummy = self.hasher.hash("no account has this password")

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work)

    async def hash(self, password: str) -> str:
        """The argon2id hash of a password."""
        return await self._run(lambda: self.hasher.hash(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when the password matches; always does the full work."""
        target = stored_hash or self._dummy

        def check() -> bool:
            try:
                return self.hasher.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await self._run(check) and stored_hash is not None
