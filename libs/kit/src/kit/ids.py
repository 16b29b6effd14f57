"""The one id scheme: a readable prefix naming the kind of thing, and 64 random bits."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """A new id such as `stu_3f9c0a1b2c3d4e5f` (prefix: a short lowercase word for the kind)."""
    return f"{prefix}_{secrets.token_hex(8)}"
