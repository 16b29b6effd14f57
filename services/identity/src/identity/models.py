"""Identity's rules, free of I/O: e-mail addresses, passwords, roles, tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from contracts.values import normalise_email as normalise_email
from kit.auth import Role

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
ROLE_VALUES = frozenset(r.value for r in Role)


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why a new password is refused (None when it is acceptable)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return "is a commonly used password"
    if email and lowered == email.lower():
        return "may not be your e-mail address"
    return None


def new_secret() -> str:
    """A random, URL-safe secret (refresh tokens, one-time links, client secrets)."""
    return secrets.token_urlsafe(32)


def secret_hash(value: str) -> str:
    """How high-entropy secrets are stored: their SHA-256 (never the secret itself)."""
    return hashlib.sha256(value.encode()).hexdigest()


def account_key(email: str) -> str:
    """The throttling counter of an address (hashed: it may belong to no account at all)."""
    return "acct:" + secret_hash(email)


def new_id(prefix: str) -> str:
    """A readable random id such as usr_3f9c..."""
    return f"{prefix}_{secrets.token_hex(8)}"


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A datetime from Mongo made timezone-aware (UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
