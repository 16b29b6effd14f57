"""Identity's rules, free of I/O: e-mail addresses, passwords, roles, tokens, retention."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from urllib.parse import quote

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from contracts.values import normalise_email as normalise_email
from kit.auth import Role

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
ROLE_VALUES = frozenset(r.value for r in Role)
# An API client acts for the school's systems: staff roles only, never a student's.
CLIENT_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.SCHOOL_SUPERVISOR, Role.ASSESSOR, Role.EXAM_BOARD})
RETENTION_CLASSES = ("personal_data", "results", "evidence", "videos", "audit")


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


def aware(value: datetime) -> datetime:
    """A datetime from Mongo made timezone-aware (UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def default_retention() -> dict[str, int]:
    """Retention in years per record class (DOMAIN.md: 10 years by default, configurable per school)."""
    return dict.fromkeys(RETENTION_CLASSES, 10)


def membership_id(school_id: str, user_id: str) -> str:
    """A membership's id: one per person per school."""
    return f"{school_id}:{user_id}"


def search_fields(display_name: str, email: str) -> dict[str, str]:
    """The denormalised fields a school's member list sorts and searches on."""
    return {"email": email, "display_name": display_name, "sort_key": display_name.lower(),
            "search": f"{display_name} {email}".lower()}


def set_password_link(public_url: str, kind: str, token: str) -> str:
    """The link an invitation or reset e-mail carries: the web app's page, the token in the query."""
    return f"{public_url.rstrip('/')}/set-password?kind={kind}&token={quote(token)}"
