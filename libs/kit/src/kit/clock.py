"""The one clock every service reads: timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time in UTC, timezone-aware (Mongo stores it to the millisecond)."""
    return datetime.now(UTC)
